"""What every boundary model shares."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

# The items' timestamp format: fixed width, so comparing two as strings (the by-status index) is chronological.
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime(ISO_FORMAT)


def iso_at(epoch: float) -> str:
    """`epoch` (seconds) in the items' own timestamp format."""
    return datetime.fromtimestamp(epoch, UTC).strftime(ISO_FORMAT)


class Strict(BaseModel):
    """Our own outputs. The schema is built on first use (`defer_build`): a handler uses a few of these models, so
    its cold start does not pay for the others."""

    model_config = ConfigDict(defer_build=True)


class Lenient(BaseModel):
    """AWS adds fields over time: accept and ignore what we do not use."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)
