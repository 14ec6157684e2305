"""What every boundary model shares."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Lenient(BaseModel):
    """AWS adds fields over time: accept and ignore what we do not use."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
