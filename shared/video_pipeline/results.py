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
