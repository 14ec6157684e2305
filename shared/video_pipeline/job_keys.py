"""Job keys: the content identity of an S3 object version, also the Step Functions execution name."""

from __future__ import annotations

import hashlib
import re

from video_pipeline.errors import InvalidEventError
from video_pipeline.models.events import S3ObjectRef

JOB_KEY_PATTERN = re.compile(r"^[0-9a-f]{40}$")


def job_key_for(obj: S3ObjectRef) -> str:
    """sha256(bucket \\n key \\n version:<version id>)[:40] in a versioned bucket: every upload is its own version,
    and so its own job (a newer one supersedes it). Unversioned (no version id, or "null"): the etag, so the same
    bytes re-uploaded give the same key and a changed object a new one."""
    version = obj.version_id if obj.version_id and obj.version_id != "null" else None
    identity = f"version:{version}" if version else obj.etag
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
