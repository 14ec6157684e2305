"""Presigned GET URLs that TwelveLabs uses to fetch the media (the bucket stays private)."""

from __future__ import annotations

from typing import Any


def presigned_get_url(s3: Any, bucket: str, key: str, version_id: str | None, expires_in: int) -> str:
    """A GET URL for exactly this object version (when versioned). Note: a URL signed with temporary credentials
    (a Lambda role) stops working when those credentials expire, whatever `expires_in` says; TwelveLabs fetches
    the file within minutes of task creation."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    return str(s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))
