"""What every boundary model shares."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Strict(BaseModel):
    """Our own outputs. The schema is built on first use (`defer_build`): a handler uses a few of these models, so
    its cold start does not pay for the others."""

    model_config = ConfigDict(defer_build=True)


class Lenient(BaseModel):
    """AWS adds fields over time: accept and ignore what we do not use."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)
