"""What the race tests read from the running stack: the jobs of a key by object version, their one terminal
message, what TwelveLabs created for them (the emulator's request log) and what is still in the index."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.pipeline.conftest import PROCESSING_SECONDS, Pipeline

# Terminal job statuses (PURGING is not: the purge of a retired run still has to finish).
FINAL = {"COMPLETED", "FAILED", "REJECTED", "DELETED", "SUPERSEDED"}
RETIRED_EVENT = {"DELETED": "video.deleted", "SUPERSEDED": "video.superseded", "COMPLETED": "video.completed"}
# The current surface's creating calls, as the emulator logs them (method, path, status).
_CREATES = {
    "asset": re.compile(r"^/v1\.3/assets$"),
    "indexed_asset": re.compile(r"^/v1\.3/indexes/[^/]+/indexed-assets$"),
    "analyze_task": re.compile(r"^/v1\.3/analyze/tasks$"),
}


def put_version(pipeline: Pipeline, key: str, data: bytes) -> str:
    """PutObject into the versioned media bucket; the new version's id."""
    answer = pipeline.stack.client("s3").put_object(Bucket=pipeline.bucket, Key=key, Body=data)
    version = answer.get("VersionId")
    assert version and version != "null", f"the media bucket is not versioned: {answer}"
    return str(version)


def delete_key(pipeline: Pipeline, key: str) -> None:
    """DeleteObject without a version: a delete marker becomes the key's current version."""
    answer = pipeline.stack.client("s3").delete_object(Bucket=pipeline.bucket, Key=key)
    assert answer.get("DeleteMarker"), f"no delete marker for {key}: {answer}"


def current_version(pipeline: Pipeline, key: str) -> str | None:
    """HeadObject's VersionId; None when the key holds nothing (a delete marker is a 404)."""
    from botocore.exceptions import ClientError

    try:
        head = pipeline.stack.client("s3").head_object(Bucket=pipeline.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return None
        raise
    return str(head["VersionId"])


def job_by_version(items: list[dict[str, Any]], version_id: str) -> dict[str, Any] | None:
    found = [i for i in items if i.get("version_id") == version_id]
    assert len(found) <= 1, f"two jobs for version {version_id}: {found}"
    return found[0] if found else None


def wait_until(
    what: str,
    probe: Callable[[], Any],
    timeout: float,
    diagnose: Callable[[], object] | None = None,
    interval: float = 0.5,
) -> Any:
    """The first truthy value of `probe()` within `timeout` seconds (bounded), else AssertionError with `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s; {diagnose() if diagnose else ''}")
        time.sleep(interval)


def wait_version(
    pipeline: Pipeline,
    key: str,
    version_id: str,
    accept: Callable[[dict[str, Any]], bool],
    timeout: float,
    interval: float = 0.5,
) -> dict[str, Any]:
    """The job item of `key`'s `version_id` once `accept(item)` holds."""

    def probe() -> dict[str, Any] | None:
        item = job_by_version(pipeline.items_for(key), version_id)
        return item if item is not None and accept(item) else None

    return dict(
        wait_until(
            f"{key}@{version_id}",
            probe,
            timeout,
            lambda: {"items": pipeline.items_for(key), "logs": function_logs(pipeline)},
            interval,
        )
    )


def function_logs(pipeline: Pipeline, tail: int = 2500) -> dict[str, str]:
    names = ("ingest", "object_removed", "start_indexing", "sweeper", "webhook", "record_failure")
    return {name: pipeline.stack.function_log(name)[-tail:] for name in names}


@contextmanager
def slow_processing(pipeline: Pipeline, seconds: float) -> Iterator[None]:
    """TwelveLabs takes `seconds` to index (and to analyse) while inside; the suite's pace again afterwards."""
    pipeline.set_processing_seconds(seconds)
    try:
        yield
    finally:
        pipeline.set_processing_seconds(PROCESSING_SECONDS)


# -------------------------------------------------------------------- TwelveLabs, as the emulator saw it


def clear_request_log(pipeline: Pipeline) -> None:
    httpx.delete(f"{pipeline.stack.emulator_admin_url}/requests", timeout=10).raise_for_status()


def created(requests: list[dict[str, Any]]) -> Counter[str]:
    """How many assets, indexed assets and analyze tasks were created (successful POSTs) in `requests`."""
    counts: Counter[str] = Counter()
    for request in requests:
        if request["method"] != "POST" or not 200 <= int(request["status"]) < 300:
            continue
        for kind, pattern in _CREATES.items():
            if pattern.match(str(request["path"])):
                counts[kind] += 1
    return counts


def deleted_ok(requests: list[dict[str, Any]], path: str) -> bool:
    """A DELETE of `path` (under /v1.3) answered 2xx (or 404: an earlier attempt took it)."""
    return any(
        r["method"] == "DELETE"
        and r["path"] == f"/v1.3{path}"
        and (200 <= int(r["status"]) < 300 or r["status"] == 404)
        for r in requests
    )


def _all_pages(pipeline: Pipeline, path: str, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = pipeline.api("GET", path, params={"page": page, "page_limit": 50, **params})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["data"]
        if page >= body["page_info"]["total_page"]:
            return found
        page += 1


def indexed_assets_by_job(pipeline: Pipeline, job_keys: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The indexed assets in the stack's index whose user_metadata names each job (the pipeline tags them)."""
    path = f"/indexes/{pipeline.stack.outputs['IndexId']}/indexed-assets"
    return {job_key: _all_pages(pipeline, path, **{"user_metadata[job_key]": job_key}) for job_key in job_keys}


def indexed_assets_named(pipeline: Pipeline, filename: str) -> list[dict[str, Any]]:
    """The indexed assets in the stack's index made from an asset uploaded under `filename`, whatever their tags."""
    return _all_pages(pipeline, f"/indexes/{pipeline.stack.outputs['IndexId']}/indexed-assets", filename=filename)


def assets_named(pipeline: Pipeline, filename: str) -> list[dict[str, Any]]:
    """Every asset (of any job) uploaded under `filename` (the key's basename)."""
    return [a for a in _all_pages(pipeline, "/assets") if a.get("filename") == filename]


def analyze_task_status(pipeline: Pipeline, task_id: str) -> str:
    answer = pipeline.api("GET", f"/analyze/tasks/{task_id}")
    if answer.status_code == 404:
        return "gone"
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def sample_bytes(samples: Path, name: str) -> bytes:
    return (samples / "videos" / name).read_bytes()
