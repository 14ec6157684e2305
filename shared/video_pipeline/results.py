"""Payloads (embeddings, analyses) go to S3; only their URIs travel in items, state and messages."""

from __future__ import annotations

import json
from typing import Any

from video_pipeline.errors import ConfigurationError


class ResultsWriter:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def uri_for(self, job_key: str, name: str) -> str:
        return f"s3://{self._bucket}/{self.key_for(job_key, name)}"

    @staticmethod
    def key_for(job_key: str, name: str) -> str:
        return f"results/{job_key}/{name}.json"

    def put_json(self, job_key: str, name: str, payload: Any) -> str:
        """Write `payload` as `results/<job_key>/<name>.json` and return its s3:// URI (a rewrite is idempotent)."""
        if not self._bucket:
            raise ConfigurationError("missing environment variable(s): RESULTS_BUCKET")
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        self._s3.put_object(
            Bucket=self._bucket,
            Key=self.key_for(job_key, name),
            Body=body,
            ContentType="application/json",
        )
        return self.uri_for(job_key, name)

    def delete_uri(self, uri: str) -> None:
        """Delete a document this writer wrote (`s3://<bucket>/results/...`); one that is gone already is fine."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if bucket != self._bucket or not key.startswith("results/"):
            raise ValueError(f"{uri} is not a result document of s3://{self._bucket}/results/")
        self._s3.delete_object(Bucket=bucket, Key=key)


def record_results(
    runtime: Any, job_key: str, run: int, uris: dict[str, str], set_fields: dict[str, Any] | None = None
) -> bool:
    """Record this run's result documents (and `set_fields`) on the item while the run is active. A run retired or
    superseded since the documents were written gets nothing: the documents are deleted again, so no result is
    left in S3 that no item records. True when recorded."""
    from video_pipeline.store import ACTIVE_STATUSES

    recorded = runtime.store.require_jobs().update(
        job_key, run=run, set_fields=set_fields or {}, results=uris, only_if_status_in=ACTIVE_STATUSES
    )
    if recorded is None:
        for uri in uris.values():
            runtime.results.delete_uri(uri)
        return False
    return True
