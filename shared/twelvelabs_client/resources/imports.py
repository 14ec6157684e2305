"""Cloud-to-cloud imports. Starting one is a creating call: a lost answer is resolved from the
import logs/status (only one import runs at a time) before another start is attempted."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ..models.common import MetadataValue
from ..models.imports import CreateImportRequest, ImportLog, ImportLogs, ImportResult, ImportStatus
from ..timeutil import parse_time
from ._base import CLOCK_SKEW_SECONDS, ResourceBase


class ImportsMixin(ResourceBase):
    def create_import(
        self,
        integration_id: str,
        index_id: str,
        incremental_import: bool | None = None,
        retry_failed: bool | None = None,
        user_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> ImportResult:
        body = CreateImportRequest(
            index_id=index_id,
            incremental_import=incremental_import,
            retry_failed=retry_failed,
            user_metadata=dict(user_metadata) if user_metadata is not None else None,
        ).to_body()
        path = f"/tasks/transfers/import/{integration_id}"

        def recover(since: float) -> ImportResult | None:
            window = since - CLOCK_SKEW_SECONDS
            started = [
                log
                for log in self.get_import_logs(integration_id)
                if log.index_id == index_id and (parse_time(log.created_at) or 0.0) >= window
            ]
            if not started:
                return None
            status = self.get_import_status(integration_id, index_id)
            videos = [
                v
                for group in (status.validating, status.pending, status.queued, status.indexing, status.ready)
                for v in group
                if (parse_time(v.created_at) or window) >= window
            ]
            failed = [f for f in status.failed if (parse_time(f.created_at) or window) >= window]
            return ImportResult(videos=videos, failed_files=failed, recovered=True)

        result = self._transport.create("POST", path, json=body, recover=recover)
        if isinstance(result, ImportResult):
            return result
        assert isinstance(result, httpx.Response)
        return self._parse(ImportResult, result)

    def get_import_status(self, integration_id: str, index_id: str) -> ImportStatus:
        return self._get(f"/tasks/transfers/import/{integration_id}/status", ImportStatus, {"index_id": index_id})

    def get_import_logs(self, integration_id: str) -> list[ImportLog]:
        """Oldest first, as the API returns them."""
        return self._get(f"/tasks/transfers/import/{integration_id}/logs", ImportLogs).data
