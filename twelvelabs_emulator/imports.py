"""Cloud-to-cloud imports from configured integrations: a local directory or `s3://bucket/prefix` (boto3)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from twelvelabs_emulator import media
from twelvelabs_emulator.clock import new_id, rfc3339, utcnow
from twelvelabs_emulator.downloads import hash_file
from twelvelabs_emulator.errors import MediaProblem, invalid, not_found
from twelvelabs_emulator.indexing import Indexer
from twelvelabs_emulator.models import TERMINAL, ImportFailure, ImportRecord, MetadataValue, State, TaskRecord
from twelvelabs_emulator.requirements import check_video
from twelvelabs_emulator.runtime import Runtime

STATUS_LISTS = ("validating", "pending", "queued", "indexing", "ready")


@dataclass(frozen=True)
class SourceFile:
    name: str  # as reported to clients: relative path (directory) or bucket/key (S3)
    size: int
    content_key: str  # sha256 of the bytes (directory) or the object's ETag (S3): the duplicate check


class Integration:
    def __init__(self, integration_id: str, location: str) -> None:
        self.id = integration_id
        self.location = location

    @property
    def is_s3(self) -> bool:
        return self.location.startswith("s3://")

    def _s3(self) -> tuple[object, str, str]:
        import boto3  # imported lazily: only S3 integrations need it

        bucket, _, prefix = self.location[len("s3://") :].partition("/")
        return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None), bucket, prefix

    def list_files(self) -> list[SourceFile]:
        if self.is_s3:
            client, bucket, prefix = self._s3()
            files: list[SourceFile] = []
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):  # type: ignore[attr-defined]
                for obj in page.get("Contents", []):
                    if not obj["Key"].endswith("/"):
                        files.append(
                            SourceFile(f"{bucket}/{obj['Key']}", int(obj["Size"]), "etag:" + obj["ETag"].strip('"'))
                        )
            return sorted(files, key=lambda f: f.name)
        root = Path(self.location)
        if not root.is_dir():
            raise invalid("integration-id", f"integration {self.id} points at {root}, which is not a directory.")
        return [
            SourceFile(p.relative_to(root).as_posix(), p.stat().st_size, hash_file(p))
            for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        ]

    def materialise(self, source: SourceFile, target_dir: Path) -> tuple[Path, bool]:
        """A local path for the file and whether the emulator owns it (S3 objects are downloaded)."""
        if not self.is_s3:
            return Path(self.location) / source.name, False
        client, bucket, _ = self._s3()
        key = source.name[len(bucket) + 1 :]
        fd, name = tempfile.mkstemp(dir=target_dir, prefix="import-")
        with os.fdopen(fd, "wb") as out:
            client.download_fileobj(bucket, key, out)  # type: ignore[attr-defined]
        return Path(name), True


class Importer:
    def __init__(self, rt: Runtime, indexer: Indexer) -> None:
        self.rt = rt
        self.indexer = indexer

    def integration(self, integration_id: str) -> Integration:
        location = self.rt.config.integrations.get(integration_id)
        if location is None:
            raise not_found(integration_id, "integrations")
        return Integration(integration_id, location)

    def start(
        self,
        integration_id: str,
        index_id: str,
        incremental: bool,
        retry_failed: bool,
        user_metadata: dict[str, MetadataValue],
    ) -> dict[str, object]:
        integration = self.integration(integration_id)
        if not self.rt.import_lock.acquire(blocking=False):
            raise invalid("integration-id", "another import is being started; only one import runs at a time.")
        try:
            return self._start(integration, index_id, incremental, retry_failed, user_metadata)
        finally:
            self.rt.import_lock.release()

    def _start(
        self,
        integration: Integration,
        index_id: str,
        incremental: bool,
        retry_failed: bool,
        user_metadata: dict[str, MetadataValue],
    ) -> dict[str, object]:
        with self.rt.store.read() as st:
            index = st.indexes.get(index_id)
            if index is None:
                raise not_found(index_id, "indexes")
            running = [imp for imp in st.imports if _is_running(st, imp)]
            if running:
                raise invalid(
                    "integration-id",
                    f"import {running[0].id} from integration {running[0].integration_id} "
                    "is still running; only one import runs at a time.",
                )
            done_keys, failed_keys = _known_keys(st, index_id, integration.id)
            models, index_name = index.model_names(), index.index_name
        files = integration.list_files()
        now = utcnow()
        record = ImportRecord(
            id=new_id(), seq=0, integration_id=integration.id, index_id=index_id, index_name=index_name, created_at=now
        )
        videos: list[dict[str, str]] = []
        for source in files:
            if incremental and source.content_key in done_keys:
                continue
            if incremental and source.content_key in failed_keys and not retry_failed:
                continue
            problem = self._prerequisites(integration, source, models)
            if isinstance(problem, MediaProblem):
                record.failed_files.append(
                    ImportFailure(
                        filename=source.name, error_message=problem.code, created_at=now, content_key=source.content_key
                    )
                )
                continue
            path, owned = problem
            task = self.indexer.create_task(
                index_id=index_id,
                file_path=path,
                filename=source.name,
                content_hash=source.content_key,
                owns_file=owned,
                user_metadata=dict(user_metadata),
                import_id=record.id,
                video_id_is_task_id=True,
            )
            record.task_ids.append(task.id)
            videos.append({"video_id": task.video_id, "filename": source.name})
        with self.rt.store.mutate() as st:
            record.seq = st.next_seq()
            st.imports.append(record)
        return {
            "videos": videos,
            "failed_files": [{"filename": f.filename, "error_message": f.error_message} for f in record.failed_files],
        }

    def _prerequisites(
        self, integration: Integration, source: SourceFile, models: list[str]
    ) -> MediaProblem | tuple[Path, bool]:
        """Files that break a requirement are reported at once (`failed_files`); the rest become tasks."""
        if source.size == 0:
            return MediaProblem("video_file_broken", f"{source.name} is empty.")
        if source.size > self.rt.config.max_video_bytes:
            return MediaProblem("video_filesize_too_large", f"{source.name} is {source.size} bytes.")
        path, owned = integration.materialise(source, self.rt.media_dir)
        try:
            check_video(media.probe_video(path, source.name), models, self.rt.config.max_video_bytes)
        except MediaProblem as problem:
            self.rt.remove_file(str(path), owned)
            return problem
        return path, owned

    def status(self, integration_id: str, index_id: str) -> dict[str, object]:
        integration = self.integration(integration_id)
        with self.rt.store.read() as st:
            if index_id not in st.indexes:
                raise not_found(index_id, "indexes")
            tasks = _import_tasks(st, integration_id, index_id)
            prereq = [
                f
                for imp in st.imports
                if imp.integration_id == integration_id and imp.index_id == index_id
                for f in imp.failed_files
            ]
        latest: dict[str, TaskRecord] = {}
        for task in tasks:
            latest[task.filename] = task
        result: dict[str, list[object]] = {name: [] for name in STATUS_LISTS}
        failed: list[dict[str, str]] = []
        for task in latest.values():
            if task.status == "failed":
                failed.append(
                    {
                        "filename": task.filename,
                        "created_at": rfc3339(task.created_at),
                        "error_message": task.error.code if task.error else "failed",
                    }
                )
            elif task.status in result:
                result[task.status].append(
                    {"video_id": task.video_id, "filename": task.filename, "created_at": rfc3339(task.created_at)}
                )
        seen = set(latest)
        for failure in prereq:
            if failure.filename not in seen:
                seen.add(failure.filename)
                failed.append(
                    {
                        "filename": failure.filename,
                        "created_at": rfc3339(failure.created_at),
                        "error_message": failure.error_message,
                    }
                )
        not_imported = [f.name for f in integration.list_files() if f.name not in seen]
        return {"not_imported": not_imported, **result, "failed": failed}

    def logs(self, integration_id: str) -> dict[str, object]:
        self.integration(integration_id)
        with self.rt.store.read() as st:
            data = [
                _log_entry(st, imp)
                for imp in sorted(st.imports, key=lambda i: i.seq)
                if imp.integration_id == integration_id
            ]
        return {"data": data}


def _is_running(st: State, record: ImportRecord) -> bool:
    return any(st.tasks[t].status not in TERMINAL for t in record.task_ids if t in st.tasks)


def _known_keys(st: State, index_id: str, integration_id: str) -> tuple[set[str], set[str]]:
    """Content keys already imported (or importing) into the index, and keys whose last attempt failed."""
    done: set[str] = set()
    failed: set[str] = set()
    for task in sorted(st.tasks.values(), key=lambda t: t.seq):
        if task.index_id != index_id:
            continue
        if task.status == "failed":
            failed.add(task.content_hash)
        elif not task.video_deleted:
            done.add(task.content_hash)
            failed.discard(task.content_hash)
    for imp in st.imports:
        if imp.index_id == index_id and imp.integration_id == integration_id:
            failed.update(f.content_key for f in imp.failed_files)
    return done, failed


def _import_tasks(st: State, integration_id: str, index_id: str) -> list[TaskRecord]:
    ids = [
        t
        for imp in sorted(st.imports, key=lambda i: i.seq)
        if imp.integration_id == integration_id and imp.index_id == index_id
        for t in imp.task_ids
    ]
    return [st.tasks[t] for t in ids if t in st.tasks]


def _log_entry(st: State, record: ImportRecord) -> dict[str, object]:
    tasks = [st.tasks[t] for t in record.task_ids if t in st.tasks]
    counts = {name: 0 for name in ("ready", "validating", "queued", "pending", "indexing", "failed")}
    for task in tasks:
        if task.status in counts:
            counts[task.status] += 1
    running = any(t.status not in TERMINAL for t in tasks)
    ended: datetime | None = None if running else max([t.updated_at for t in tasks], default=record.created_at)
    failed_files = [{"filename": f.filename, "error_message": f.error_message} for f in record.failed_files]
    failed_files += [
        {"filename": t.filename, "error_message": t.error.code if t.error else "failed"}
        for t in tasks
        if t.status == "failed"
    ]
    return {
        "index_id": record.index_id,
        "index_name": record.index_name,
        "created_at": rfc3339(record.created_at),
        "ended_at": rfc3339(ended) if ended else None,
        "video_status": counts,
        "failed_files": failed_files,
    }
