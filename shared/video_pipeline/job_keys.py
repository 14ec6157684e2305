"""Job keys: the content identity of an S3 object version, also the Step Functions execution name."""

from __future__ import annotations

import hashlib
import re

from video_pipeline.errors import InvalidEventError
from video_pipeline.models.events import S3ObjectRef

JOB_KEY_PATTERN = re.compile(r"^[0-9a-f]{40}$")


def job_key_for(obj: S3ObjectRef) -> str:
    """sha256(bucket \\n key \\n etag)[:40]: the same bytes re-uploaded give the same key; a changed object a new one.

    Without an etag (never the case for `Object Created`) the version id stands in for it.
    """
    identity = obj.etag or (f"version:{obj.version_id}" if obj.version_id else None)
    if not identity:
        raise InvalidEventError(f"{obj.s3_uri}: the event carries neither an etag nor a version id")
    return hashlib.sha256(f"{obj.bucket}\n{obj.key}\n{identity}".encode()).hexdigest()[:40]


def execution_name(job_key: str, run: int) -> str:
    """Execution name of a job's `run`-th execution (a re-run happens only after FAILED or DELETED)."""
    return job_key if run <= 1 else f"{job_key}-r{run}"


def job_key_from_execution_name(name: str) -> str:
    """Inverse of `execution_name`; raises InvalidEventError for names this pipeline did not make."""
    job_key = name.split("-r", 1)[0]
    if not JOB_KEY_PATTERN.match(job_key):
        raise InvalidEventError(f"execution name {name!r} is not a job key")
    return job_key
