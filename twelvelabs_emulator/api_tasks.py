"""Routes: `/tasks` (video indexing tasks) and `/tasks/transfers/import/{integration-id}`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from werkzeug.wrappers import Response

from twelvelabs_emulator.bodies import ImportBody, TaskForm, parse_user_metadata
from twelvelabs_emulator.clock import new_id
from twelvelabs_emulator.downloads import download, hash_file, url_filename
from twelvelabs_emulator.errors import ApiError, invalid, not_found, not_provided
from twelvelabs_emulator.httpkit import (
    EmulatorRequest,
    adopt_upload,
    empty_response,
    form_model,
    json_response,
    metadata_filter_matches,
    number_filters,
    paginate,
    parse_json_body,
    require_multipart,
    sort_records,
    time_filter,
)
from twelvelabs_emulator.models import TASK_STATUSES
from twelvelabs_emulator.services import Services
from twelvelabs_emulator.wire import task_json

UPLOAD_OVERHEAD = 1024 * 1024  # multipart framing and text fields on top of the file itself


def too_large(max_bytes: int, what: str) -> ApiError:
    return ApiError(
        400,
        "video_filesize_too_large",
        f"The {what} is larger than the maximum of {max_bytes} bytes.",
        headers={"Connection": "close"},
    )


def receive_video(
    s: Services, request: EmulatorRequest, url: str | None, field_url: str = "video_url", field_file: str = "video_file"
) -> tuple[Path, str, str, str | None]:
    """The video of a multipart request, from its URL (wins if both) or its file part, as a file in media_dir.

    Returns (path, filename, sha256, url)."""
    max_bytes = s.rt.config.max_video_bytes
    if url:
        path, digest, _ = download(url, field_url, s.rt.media_dir, max_bytes, s.rt.config.download_timeout_seconds)
        return path, url_filename(url), digest, url
    storage = request.files.get(field_file)
    if storage is None:
        raise not_provided(f"{field_url} or {field_file}")
    filename = PurePosixPath(storage.filename or "video.mp4").name or "video.mp4"
    target = s.rt.media_dir / f"upload-{new_id()}{PurePosixPath(filename).suffix[:10]}"
    size = adopt_upload(storage, target)
    if size > max_bytes:
        target.unlink(missing_ok=True)
        raise too_large(max_bytes, f"{field_file} ({size} bytes)")
    return target, filename, hash_file(target), None


def create_task(s: Services, request: EmulatorRequest) -> Response:
    require_multipart(request)
    declared = request.content_length
    if declared is not None and declared > s.rt.config.max_video_bytes + UPLOAD_OVERHEAD:
        # Refused before reading the body; `Connection: close` because the unread body cannot be reused.
        raise too_large(s.rt.config.max_video_bytes, f"request body ({declared} bytes)")
    form = form_model(request.form, TaskForm)
    metadata = parse_user_metadata(form.user_metadata)
    with s.rt.store.read() as st:
        if form.index_id not in st.indexes:
            raise not_found(form.index_id, "indexes")
    path, filename, digest, _ = receive_video(s, request, form.video_url)
    upload_asset_id = (
        _upload_asset(s, path, filename, digest, form.video_url) if s.rt.config.surface == "current" else None
    )
    try:
        task = s.indexer.create_task(
            index_id=form.index_id,
            file_path=path,
            filename=filename,
            content_hash=digest,
            owns_file=True,
            user_metadata=metadata,
            enable_video_stream=form.enable_video_stream,
            upload_asset_id=upload_asset_id,
        )
    except ApiError:
        path.unlink(missing_ok=True)
        raise
    return json_response({"_id": task.id, "video_id": task.video_id})


def _upload_asset(s: Services, path: Path, filename: str, digest: str, url: str | None) -> str:
    """Current surface: a `/tasks` upload also becomes an asset (its video carries `asset_id`, per the migration
    guide). The asset gets its own hard link to the file, so either side may delete without affecting the other."""
    target = s.rt.media_dir / f"asset-{new_id()}{PurePosixPath(filename).suffix[:10]}"
    try:
        os.link(path, target)
    except OSError:
        shutil.copyfile(path, target)
    asset = s.assets.create(
        method="url" if url else "direct",
        path=target,
        filename=filename,
        content_hash=digest,
        enable_hls=False,
        enable_thumbnail=False,
        user_metadata=None,
    )
    return asset.id


def list_tasks(s: Services, request: EmulatorRequest) -> Response:
    args = request.args
    statuses = [v for v in args.getlist("status") if v]
    for status in statuses:
        if status not in TASK_STATUSES:
            raise invalid("status", f"{status!r} is not one of {', '.join(TASK_STATUSES)}.")
    numeric = number_filters(args, ("duration", "width", "height"))
    created, updated = time_filter(args, "created_at"), time_filter(args, "updated_at")
    # Lenient-only extension: `user_metadata[key]=value` finds a task by the metadata it was created with
    # (undocumented, so a strict emulator ignores it like any unknown query parameter).
    lenient = s.rt.config.lenient
    wanted = {
        k[len("user_metadata[") : -1]: args.get(k, "")
        for k in args
        if lenient and k.startswith("user_metadata[") and k.endswith("]")
    }
    with s.rt.store.read() as st:
        items = []
        for task in st.tasks.values():
            if task.asset_id is not None:  # indexed assets are not /tasks tasks
                continue
            values: dict[str, object] = task.media.model_dump() if task.media else {}
            if args.get("index_id") and task.index_id != args.get("index_id"):
                continue
            if (statuses and task.status not in statuses) or (
                args.get("filename") and task.filename != args.get("filename")
            ):
                continue
            if not all(check(values) for check in numeric):
                continue
            if (created and not created(task.created_at)) or (updated and not updated(task.updated_at)):
                continue
            if not metadata_filter_matches(task.user_metadata, wanted):
                continue
            items.append(task)
        page, info = paginate(sort_records(items, args), args)
        return json_response(
            {"data": [task_json(t, s.rt.public_url, detail=False, lenient=lenient) for t in page], "page_info": info}
        )


def retrieve_task(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    with s.rt.store.read() as st:
        task = st.tasks.get(task_id)
        if task is None or task.asset_id is not None:
            raise not_found(task_id, "tasks")
        return json_response(task_json(task, s.rt.public_url, detail=True, lenient=s.rt.config.lenient))


def delete_task(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    with s.rt.store.mutate() as st:
        task = st.tasks.get(task_id)
        if task is None or task.asset_id is not None:
            raise not_found(task_id, "tasks")
        if task.status not in ("ready", "failed"):
            raise ApiError(
                400,
                "task_cannot_be_deleted",
                f"The task {task_id} is {task.status}; only ready or failed tasks can be deleted.",
            )
        if task.status == "ready" and task.video_id in st.videos:
            raise ApiError(
                400,
                "task_cannot_be_deleted",
                f"The task {task_id} has a video ({task.video_id}); delete the video first.",
            )
        s.rt.remove_file(task.file_path, task.owns_file)
        del st.tasks[task_id]
    return empty_response()


def start_import(s: Services, request: EmulatorRequest, integration_id: str) -> Response:
    body = parse_json_body(request, ImportBody)
    result = s.importer.start(
        integration_id, body.index_id, body.incremental_import, body.retry_failed, body.user_metadata or {}
    )
    return json_response(result, 201)


def import_status(s: Services, request: EmulatorRequest, integration_id: str) -> Response:
    index_id = request.args.get("index_id")
    if not index_id:
        raise not_provided("index_id")
    return json_response(s.importer.status(integration_id, index_id))


def import_logs(s: Services, request: EmulatorRequest, integration_id: str) -> Response:
    return json_response(s.importer.logs(integration_id))
