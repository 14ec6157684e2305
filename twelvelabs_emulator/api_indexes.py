"""Routes: `/indexes` and `/indexes/{index-id}/videos`."""

from __future__ import annotations

from werkzeug.wrappers import Response

from twelvelabs_emulator import api_indexed_assets
from twelvelabs_emulator.bodies import CreateIndexBody, UpdateIndexBody, UpdateVideoBody
from twelvelabs_emulator.clock import new_id, utcnow
from twelvelabs_emulator.errors import ApiError, invalid, not_found
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
from twelvelabs_emulator.models import IndexModel, IndexRecord, State
from twelvelabs_emulator.services import Services
from twelvelabs_emulator.wire import index_json, video_json

MODEL_NAMES = ("marengo2.7", "pegasus1.2")  # classic surface
CURRENT_MODEL_NAMES = ("marengo3.0",)  # SDK 1.3.2+: Marengo 2.7 and Pegasus 1.2 indexes can no longer be created
MODEL_OPTIONS = ("visual", "audio")
ADDONS = ("thumbnail",)
VIDEO_LIST_PARAMS = {
    "page",
    "page_limit",
    "sort_by",
    "sort_option",
    "filename",
    "duration",
    "fps",
    "width",
    "height",
    "size",
    "created_at",
    "updated_at",
}


def _validate_models(body: CreateIndexBody, surface: str) -> list[IndexModel]:
    names = CURRENT_MODEL_NAMES if surface == "current" else MODEL_NAMES
    seen: set[str] = set()
    for n, model in enumerate(body.models):
        if model.model_name not in names:
            raise invalid(f"models[{n}].model_name", f"{model.model_name!r} is not one of {', '.join(names)}.")
        if model.model_name in seen:
            raise invalid(f"models[{n}].model_name", f"{model.model_name} is listed twice.")
        seen.add(model.model_name)
        if not model.model_options:
            raise invalid(f"models[{n}].model_options", "at least one of visual, audio is required.")
        for option in model.model_options:
            if option not in MODEL_OPTIONS:
                raise invalid(f"models[{n}].model_options", f"{option!r} is not one of visual, audio.")
        if len(set(model.model_options)) != len(model.model_options):
            raise invalid(f"models[{n}].model_options", "an option is listed twice.")
    for addon in body.addons or []:
        if addon not in ADDONS:
            raise invalid("addons", f"{addon!r} is not one of {', '.join(ADDONS)}.")
        if not any(name.startswith("marengo") for name in seen):
            raise invalid("addons", "the thumbnail addon needs a Marengo model.")
    return [IndexModel(model_name=m.model_name, model_options=list(m.model_options)) for m in body.models]


def _name_taken(st: State, name: str, except_id: str | None = None) -> bool:
    return any(i.index_name == name and i.id != except_id for i in st.indexes.values())


def _index(st: State, index_id: str) -> IndexRecord:
    index = st.indexes.get(index_id)
    if index is None:
        raise not_found(index_id, "indexes")
    return index


def create_index(s: Services, request: EmulatorRequest) -> Response:
    body = parse_json_body(request, CreateIndexBody)
    models = _validate_models(body, s.rt.config.surface)
    now = utcnow()
    with s.rt.store.mutate() as st:
        if _name_taken(st, body.index_name):
            raise ApiError(400, "index_name_already_exists", f"An index named {body.index_name!r} already exists.")
        index = IndexRecord(
            id=new_id(),
            seq=st.next_seq(),
            index_name=body.index_name,
            models=models,
            addons=list(body.addons or []),
            created_at=now,
            updated_at=now,
        )
        st.indexes[index.id] = index
    return json_response({"_id": index.id}, 201)


def list_indexes(s: Services, request: EmulatorRequest) -> Response:
    args = request.args
    family = args.get("model_family")
    if family is not None and family not in ("marengo", "pegasus"):
        raise invalid("model_family", f"{family!r} is not one of marengo, pegasus.")
    options = [o.strip() for o in args.get("model_options", "").split(",") if o.strip()]
    for option in options:
        if option not in MODEL_OPTIONS:
            raise invalid("model_options", f"{option!r} is not one of visual, audio.")
    created, updated = time_filter(args, "created_at"), time_filter(args, "updated_at")
    with s.rt.store.read() as st:
        items = [
            i
            for i in st.indexes.values()
            if (args.get("index_name") in (None, "") or i.index_name == args.get("index_name"))
            and (family is None or i.has_family(family))
            and set(options) <= i.options()
            and (created is None or created(i.created_at))
            and (updated is None or updated(i.updated_at))
        ]
        page, info = paginate(sort_records(items, args), args)
        return json_response({"data": [index_json(st, i) for i in page], "page_info": info})


def retrieve_index(s: Services, request: EmulatorRequest, index_id: str) -> Response:
    with s.rt.store.read() as st:
        return json_response(index_json(st, _index(st, index_id)))


def update_index(s: Services, request: EmulatorRequest, index_id: str) -> Response:
    body = parse_json_body(request, UpdateIndexBody)
    with s.rt.store.mutate() as st:
        index = _index(st, index_id)
        if _name_taken(st, body.index_name, except_id=index_id):
            raise ApiError(400, "index_name_already_exists", f"An index named {body.index_name!r} already exists.")
        index.index_name = body.index_name
        index.updated_at = utcnow()
    return empty_response()


def delete_index(s: Services, request: EmulatorRequest, index_id: str) -> Response:
    """Deletes the index, its videos, and the tasks that indexed into it."""
    with s.rt.store.mutate() as st:
        _index(st, index_id)
        del st.indexes[index_id]
        for video in [v for v in st.videos.values() if v.index_id == index_id]:
            del st.videos[video.id]
        for task in [t for t in st.tasks.values() if t.index_id == index_id]:
            s.rt.remove_file(task.file_path, task.owns_file)
            del st.tasks[task.id]
    return empty_response()


def list_videos(s: Services, request: EmulatorRequest, index_id: str) -> Response:
    args = request.args
    numeric = number_filters(args, ("duration", "fps", "width", "height", "size"))
    created, updated = time_filter(args, "created_at"), time_filter(args, "updated_at")
    wanted_meta = metadata_filters(args, VIDEO_LIST_PARAMS)
    filename = args.get("filename")
    with s.rt.store.read() as st:
        _index(st, index_id)
        items = []
        for video in st.videos.values():
            values = video.media.model_dump()
            if video.index_id != index_id or (filename and video.media.filename != filename):
                continue
            if not all(check(values) for check in numeric):
                continue
            if (created and not created(video.created_at)) or (updated and not updated(video.updated_at)):
                continue
            if not metadata_filter_matches(video.user_metadata, wanted_meta):
                continue
            items.append(video)
        page, info = paginate(sort_records(items, args), args)
        return json_response({"data": [video_json(v, s.rt.public_url, detail=False) for v in page], "page_info": info})


def retrieve_video(s: Services, request: EmulatorRequest, index_id: str, video_id: str) -> Response:
    current = s.rt.config.surface == "current"
    if current:  # SDK 1.3.6: visual, audio, transcription (and visual-text), as on indexed assets
        options = api_indexed_assets.embedding_options(request)
    else:
        options = [o for o in request.args.getlist("embedding_option") if o]
        # transcription is accepted; the emulator has no speech recognition, so no transcription field is returned.
        query_bool(request.args, "transcription")
    with s.rt.store.read() as st:
        index = _index(st, index_id)
        video = st.videos.get(video_id)
        if video is None or video.index_id != index_id:
            raise not_found(video_id, "videos")
        if current:  # Marengo 3.0: 512-d vectors, the same answer as the indexed asset's
            body = video_json(video, s.rt.public_url, detail=True)
            if options:
                body["embedding"] = api_indexed_assets.marengo3_embedding(index, video, options)
            return json_response(body)
        available = {"visual-text": "visual", "audio": "audio"}
        for option in options:
            if option not in available:
                raise invalid("embedding_option", f"{option!r} is not one of visual-text, audio.")
            if not index.has_family("marengo") or available[option] not in index.options("marengo"):
                raise invalid(
                    "embedding_option",
                    f"{option} needs the {available[option]} option of a Marengo model on this index.",
                )
        body = video_json(video, s.rt.public_url, detail=True, embedding_options=options or None)
        return json_response(body)


def update_video(s: Services, request: EmulatorRequest, index_id: str, video_id: str) -> Response:
    """PATCH merges keys and removes keys set to null; PUT is accepted with the same (merge) semantics."""
    body = parse_json_body(request, UpdateVideoBody)
    with s.rt.store.mutate() as st:
        _index(st, index_id)
        video = st.videos.get(video_id)
        if video is None or video.index_id != index_id:
            raise not_found(video_id, "videos")
        for key, value in body.user_metadata.items():
            if value is None:
                video.user_metadata.pop(key, None)
            else:
                video.user_metadata[key] = value
        video.updated_at = utcnow()
    return empty_response()


def delete_video(s: Services, request: EmulatorRequest, index_id: str, video_id: str) -> Response:
    with s.rt.store.mutate() as st:
        _index(st, index_id)
        video = st.videos.get(video_id)
        if video is None or video.index_id != index_id:
            raise not_found(video_id, "videos")
        del st.videos[video_id]
        task = st.tasks.get(video.task_id)
        owned = task.owns_file if task else True
        if task is not None:
            task.video_deleted = True
            if owned:
                task.file_path = None
        s.rt.remove_file(video.file_path, owned)
        st.indexes[index_id].updated_at = utcnow()
    return empty_response()
