"""Routes: `/indexes/{index-id}/indexed-assets` (index a ready asset) of the current surface.

An indexed asset is an indexing task without an upload (TaskRecord with `asset_id`, never listed under `/tasks`):
it runs the same `validating -> pending -> queued -> indexing -> ready | failed` lifecycle and the same
`index.task.*` webhooks (`data.id` = the indexed-asset id), and once ready it is also the video with the same id,
so `/indexes/{id}/videos`, search and analysis keep working with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from werkzeug.wrappers import Response

from twelvelabs_emulator import vectors
from twelvelabs_emulator.api_assets import check_metadata_value
from twelvelabs_emulator.clock import rfc3339, utcnow
from twelvelabs_emulator.errors import invalid, not_found
from twelvelabs_emulator.httpkit import (
    EmulatorRequest,
    empty_response,
    json_response,
    metadata_filter_matches,
    metadata_filters,
    number_filters,
    paginate,
    parse_json_body,
    query_bool,
    sort_records,
    time_filter,
)
from twelvelabs_emulator.models import (
    TASK_STATUSES,
    IndexRecord,
    Segment,
    State,
    StoredMetadataValue,
    TaskRecord,
    VideoRecord,
)
from twelvelabs_emulator.services import Services
from twelvelabs_emulator.wire import hls_json

INDEXED_ASSET_STATUSES = tuple(s for s in TASK_STATUSES if s != "uploading")
LIST_PARAMS = {
    "page",
    "page_limit",
    "sort_by",
    "sort_option",
    "status",
    "filename",
    "duration",
    "fps",
    "width",
    "height",
    "size",
    "created_at",
    "updated_at",
}
# requested option -> stored segment option
EMBEDDING_OPTIONS = {"visual": "visual-text", "visual-text": "visual-text", "audio": "audio", "transcription": None}


class CreateIndexedAssetBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    asset_id: str
    enable_video_stream: bool = True
    user_metadata: dict[str, object] | None = None


class PatchIndexedAssetBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_metadata: dict[str, object]


def marengo3_segment_json(seg: Segment, option_name: str) -> dict[str, object]:
    return {
        "float": vectors.marengo3(seg.vector),
        "start_offset_sec": seg.start_offset_sec,
        "end_offset_sec": seg.end_offset_sec,
        "embedding_option": option_name,
        "embedding_scope": seg.embedding_scope,
    }


def _index(st: State, index_id: str) -> IndexRecord:
    index = st.indexes.get(index_id)
    if index is None:
        raise not_found(index_id, "indexes")
    return index


def _indexed_asset(st: State, index_id: str, indexed_asset_id: str) -> TaskRecord:
    _index(st, index_id)
    task = st.tasks.get(indexed_asset_id)
    if task is None or task.asset_id is None or task.index_id != index_id or task.video_deleted:
        raise not_found(indexed_asset_id, "indexed assets")
    return task


def indexed_asset_json(st: State, task: TaskRecord) -> dict[str, object]:
    """`IndexedAsset`: exactly the documented fields (`indexed_at` once ready)."""
    asset = st.current.assets.get(task.asset_id or "")
    info = task.media or (asset.media if asset is not None else None)
    meta: dict[str, object] = {"filename": task.filename}
    if info is not None:
        meta |= {
            "duration": info.duration,
            "fps": info.fps,
            "width": info.width,
            "height": info.height,
            "size": info.size,
        }
    body: dict[str, object] = {
        "_id": task.id,
        "asset_id": task.asset_id,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
        "status": task.status,
        "system_metadata": meta,
    }
    video = st.videos.get(task.video_id)
    if video is not None:
        body["indexed_at"] = rfc3339(video.indexed_at)
    return body


def create_indexed_asset(s: Services, request: EmulatorRequest, index_id: str) -> Response:
    body = parse_json_body(request, CreateIndexedAssetBody)
    metadata: dict[str, StoredMetadataValue] = {}
    for key, value in (body.user_metadata or {}).items():
        check_metadata_value(f"user_metadata.{key}", value, allow_null=True)
        if value not in (None, "", []):
            metadata[key] = value  # type: ignore[assignment]
    with s.rt.store.read() as st:
        index = _index(st, index_id)
        if not index.has_family("marengo"):
            raise invalid("index_id", f"the index {index_id} has no Marengo model; assets are indexed with Marengo.")
        asset = st.current.assets.get(body.asset_id)
        if asset is None:
            raise not_found(body.asset_id, "assets")
        if asset.status != "ready" or asset.file_path is None:
            raise invalid(
                "asset_id", f"the asset {body.asset_id} is not ready (status {asset.status}); wait until it is ready."
            )
        if asset.kind != "video":
            raise invalid("asset_id", f"the asset {body.asset_id} is {asset.kind}; only video assets can be indexed.")
        path, filename, content_hash = Path(asset.file_path), asset.filename, asset.content_hash
    task = s.indexer.create_task(
        index_id=index_id,
        file_path=path,
        filename=filename,
        content_hash=content_hash,
        owns_file=False,
        user_metadata=metadata,
        enable_video_stream=body.enable_video_stream,
        video_id_is_task_id=True,
        asset_id=body.asset_id,
    )
    location = f"/v1.3/indexes/{index_id}/indexed-assets/{task.id}"
    return json_response({"_id": task.id, "asset_id": body.asset_id}, 202, {"Location": location})


def list_indexed_assets(s: Services, request: EmulatorRequest, index_id: str) -> Response:
    args = request.args
    numeric = number_filters(args, ("duration", "fps", "width", "height", "size"))
    created, updated = time_filter(args, "created_at"), time_filter(args, "updated_at")
    statuses = [v for v in args.getlist("status") if v]
    for status in statuses:
        if status not in INDEXED_ASSET_STATUSES:
            raise invalid("status", f"{status!r} is not one of {', '.join(INDEXED_ASSET_STATUSES)}.")
    wanted_meta = metadata_filters(args, LIST_PARAMS)
    filename = args.get("filename")
    with s.rt.store.read() as st:
        _index(st, index_id)
        items: list[TaskRecord] = []
        for task in st.tasks.values():
            if task.asset_id is None or task.index_id != index_id or task.video_deleted:
                continue
            if (statuses and task.status not in statuses) or (filename and task.filename != filename):
                continue
            asset = st.current.assets.get(task.asset_id)
            info = task.media or (asset.media if asset is not None else None)
            if numeric and (info is None or not all(check(info.model_dump()) for check in numeric)):
                continue
            if (created and not created(task.created_at)) or (updated and not updated(task.updated_at)):
                continue
            if not metadata_filter_matches(task.user_metadata, wanted_meta):
                continue
            items.append(task)
        page, info_page = paginate(sort_records(items, args), args)
        data = [indexed_asset_json(st, t) for t in page]
    return json_response({"data": data, "page_info": info_page})


def embedding_options(request: EmulatorRequest) -> list[str]:
    """`embedding_option` (repeat) as SDK 1.3.6 sends it on indexed assets and videos."""
    options = [o for o in request.args.getlist("embedding_option") if o]
    for option in options:
        if option not in EMBEDDING_OPTIONS:
            raise invalid("embedding_option", f"{option!r} is not one of visual, audio, transcription.")
    # The emulator has no speech recognition: `transcription=true` is accepted and returns no transcription.
    query_bool(request.args, "transcription")
    return options


def marengo3_embedding(index: IndexRecord, video: VideoRecord | None, options: list[str]) -> dict[str, object]:
    """The `embedding` object of a Marengo 3.0 index (512-d segments, named as requested)."""
    for option in options:
        stored = EMBEDDING_OPTIONS[option]
        needed = "audio" if stored == "audio" else "visual"
        if stored is not None and needed not in index.options("marengo"):
            raise invalid("embedding_option", f"{option} needs the {needed} option of the index's Marengo model.")
    segments = [
        marengo3_segment_json(seg, option)
        for option in options
        for seg in (video.segments if video is not None else [])
        if seg.embedding_option == EMBEDDING_OPTIONS[option]
    ]
    model = next((m.model_name for m in index.models if m.model_name.startswith("marengo")), "marengo3.0")
    return {"model_name": model, "video_embedding": {"segments": segments}}


def retrieve_indexed_asset(s: Services, request: EmulatorRequest, index_id: str, indexed_asset_id: str) -> Response:
    options = embedding_options(request)
    with s.rt.store.read() as st:
        index = _index(st, index_id)
        task = _indexed_asset(st, index_id, indexed_asset_id)
        video = st.videos.get(task.video_id)
        embedding = marengo3_embedding(index, video, options) if options else None
        body = indexed_asset_json(st, task)
        user_metadata = video.user_metadata if video is not None else task.user_metadata
        body["user_metadata"] = dict(user_metadata)
        if video is not None and video.enable_video_stream:
            body["hls"] = hls_json(s.rt.public_url, video.id, True, rfc3339(video.indexed_at))
        if embedding is not None and video is not None:
            body["embedding"] = embedding
    return json_response(body)


def update_indexed_asset(s: Services, request: EmulatorRequest, index_id: str, indexed_asset_id: str) -> Response:
    """Merge: a value sets, `null` deletes the key, `""` / `[]` are omitted (SDK 1.3.6: "A key set to an empty
    string, an empty array, or null is omitted"; as on an asset's PATCH)."""
    body = parse_json_body(request, PatchIndexedAssetBody)
    for key, value in body.user_metadata.items():
        check_metadata_value(f"user_metadata.{key}", value, allow_null=True)
    with s.rt.store.mutate() as st:
        task = _indexed_asset(st, index_id, indexed_asset_id)
        video = st.videos.get(task.video_id)
        now = utcnow()
        for target in (task.user_metadata, video.user_metadata if video is not None else None):
            if target is None:
                continue
            for key, value in body.user_metadata.items():
                if value is None:
                    target.pop(key, None)
                elif value not in ("", []):
                    target[key] = value  # type: ignore[assignment]
        task.updated_at = now
        if video is not None:
            video.updated_at = now
    return empty_response()


def delete_indexed_asset(s: Services, request: EmulatorRequest, index_id: str, indexed_asset_id: str) -> Response:
    """Removes the indexed asset (and its video); the asset and its file stay. Unfinished indexing stops."""
    with s.rt.store.mutate() as st:
        task = _indexed_asset(st, index_id, indexed_asset_id)
        st.videos.pop(task.video_id, None)
        del st.tasks[task.id]
        st.indexes[index_id].updated_at = utcnow()
    return empty_response()


ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = [
    ("/indexes/<index_id>/indexed-assets", ["POST"], create_indexed_asset),
    ("/indexes/<index_id>/indexed-assets", ["GET"], list_indexed_assets),
    ("/indexes/<index_id>/indexed-assets/<indexed_asset_id>", ["GET"], retrieve_indexed_asset),
    ("/indexes/<index_id>/indexed-assets/<indexed_asset_id>", ["PATCH"], update_indexed_asset),
    ("/indexes/<index_id>/indexed-assets/<indexed_asset_id>", ["DELETE"], delete_indexed_asset),
]
