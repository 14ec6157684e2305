"""Routes: `/embed` (text, image, audio) and `/embed/tasks` (video).

Classic surface: Marengo-retrieval-2.7, 1024-d, 77-token texts with `text_truncate`. Current surface (SDK 1.3.6):
`marengo3.0` only, 512-d vectors, texts auto-truncated at 500 tokens (`text_truncate` ignored), video options
named `visual` / `audio`."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path, PurePosixPath

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from twelvelabs_emulator import media, vectors
from twelvelabs_emulator.api_tasks import receive_video
from twelvelabs_emulator.bodies import EmbedForm, EmbedTaskForm
from twelvelabs_emulator.downloads import download
from twelvelabs_emulator.errors import ApiError, MediaProblem, invalid, not_found, not_provided
from twelvelabs_emulator.httpkit import (
    EmulatorRequest,
    adopt_upload,
    form_model,
    json_response,
    paginate,
    query_time,
    require_multipart,
)
from twelvelabs_emulator.models import EMBED_MODEL_NAME
from twelvelabs_emulator.services import Services
from twelvelabs_emulator.wire import embed_task_json

TEXT_TOKEN_LIMIT = 77
CURRENT_MODEL = "marengo3.0"
CURRENT_TEXT_TOKEN_LIMIT = 500
CURRENT_OPTION_NAMES = {"visual-text": "visual", "audio": "audio"}
TEXT_TOKEN = re.compile(r"\w+|[^\w\s]")
IMAGE_MAX_BYTES = 5 * 1024 * 1024
AUDIO_MAX_BYTES = 10 * 1024 * 1024
ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")


def _check_model(s: Services, name: str) -> str:
    wanted = CURRENT_MODEL if s.rt.config.surface == "current" else EMBED_MODEL_NAME
    if name != wanted:
        raise invalid("model_name", f"{name!r} is not supported; use {wanted}.")
    return wanted


def _out(s: Services, vector: list[float]) -> list[float]:
    """A vector as the surface's model answers it: 1024-d (Marengo 2.7) or 512-d (Marengo 3.0)."""
    return vectors.marengo3(vector) if s.rt.config.surface == "current" else vectors.rounded(vector)


def _current_segments(body: dict[str, object]) -> dict[str, object]:
    """Marengo 3.0 shape of a stored task's segments: 512-d, options `visual` / `audio`."""
    video = body.get("video_embedding")
    segments = video.get("segments") if isinstance(video, dict) else None
    for seg in segments if isinstance(segments, list) else []:
        seg["float"] = vectors.marengo3(seg["float"])
        seg["embedding_option"] = CURRENT_OPTION_NAMES.get(seg["embedding_option"], seg["embedding_option"])
    return body


def truncate_text(text: str, mode: str) -> str:
    """Apply the 77-token rule: `none` rejects longer texts, `end`/`start` drop tokens from that end."""
    spans = [(m.start(), m.end()) for m in TEXT_TOKEN.finditer(text)]
    if len(spans) <= TEXT_TOKEN_LIMIT:
        return text
    if mode == "none":
        raise invalid("text", f"it has {len(spans)} tokens, more than {TEXT_TOKEN_LIMIT}, and text_truncate is none.")
    if mode == "end":
        return text[: spans[TEXT_TOKEN_LIMIT - 1][1]]
    return text[spans[-TEXT_TOKEN_LIMIT][0] :]


def _media_input(
    s: Services, request: EmulatorRequest, url: str | None, file_field: str, url_field: str, limit: int, scratch: Path
) -> tuple[Path, dict[str, str]] | None:
    """The image/audio input as a local file plus its `metadata` block, or None when not given."""
    if url:
        path, _, _ = download(
            url, url_field, scratch, limit, s.rt.config.download_timeout_seconds, too_large_code="parameter_invalid"
        )
        return path, {"input_url": url}
    storage: FileStorage | None = request.files.get(file_field)
    if storage is None:
        return None
    filename = PurePosixPath(storage.filename or file_field).name
    target = scratch / f"{file_field}{PurePosixPath(filename).suffix[:10]}"
    if adopt_upload(storage, target) > limit:
        raise invalid(file_field, f"the file is larger than {limit} bytes.")
    return target, {"input_filename": filename}


def create_embedding(s: Services, request: EmulatorRequest) -> Response:
    require_multipart(request)
    form = form_model(request.form, EmbedForm)
    _check_model(s, form.model_name)
    current = s.rt.config.surface == "current"
    body: dict[str, object] = {"model_name": form.model_name}
    with tempfile.TemporaryDirectory(dir=s.rt.upload_dir) as scratch_dir:
        scratch = Path(scratch_dir)
        image = _media_input(s, request, form.image_url, "image_file", "image_url", IMAGE_MAX_BYTES, scratch)
        audio = _media_input(s, request, form.audio_url, "audio_file", "audio_url", AUDIO_MAX_BYTES, scratch)
        if form.text is None and image is None and audio is None:
            raise not_provided("text, image_url, image_file, audio_url or audio_file")
        try:
            if form.text is not None:
                if current:  # Marengo 3.0 ignores text_truncate and keeps the first 500 tokens
                    spans = [m.end() for m in TEXT_TOKEN.finditer(form.text)]
                    cut = len(spans) > CURRENT_TEXT_TOKEN_LIMIT
                    text = form.text[: spans[CURRENT_TEXT_TOKEN_LIMIT - 1]] if cut else form.text
                else:
                    text = truncate_text(form.text, form.text_truncate)
                body["text_embedding"] = {"segments": [{"float": _out(s, vectors.embed_text(text))}]}
            if image is not None:
                field = "image_url" if "input_url" in image[1] else "image_file"
                tokens = vectors.expand(media.image_file_tokens(image[0], field))
                body["image_embedding"] = {
                    "segments": [{"float": _out(s, vectors.embed_tokens(tokens))}],
                    "metadata": image[1],
                }
            if audio is not None:
                field = "audio_url" if "input_url" in audio[1] else "audio_file"
                tokens, start, end = media.audio_file_tokens(audio[0], field, form.audio_start_offset_sec)
                vec = vectors.embed_tokens(vectors.expand(tokens))
                body["audio_embedding"] = {
                    "segments": [{"float": _out(s, vec), "start_offset_sec": start, "end_offset_sec": end}],
                    "metadata": audio[1],
                }
        except MediaProblem as problem:
            raise ApiError(400, "parameter_invalid", problem.message) from problem
    return json_response(body)


def create_embed_task(s: Services, request: EmulatorRequest) -> Response:
    require_multipart(request)
    form = form_model(request.form, EmbedTaskForm, lists=("video_embedding_scope",))
    model_name = _check_model(s, form.model_name)
    start, end = form.video_start_offset_sec, form.video_end_offset_sec
    if end is not None and end <= (start or 0.0):
        raise invalid("video_end_offset_sec", "it must be greater than video_start_offset_sec.")
    if end is not None and end - (start or 0.0) < form.video_clip_length:
        raise invalid("video_end_offset_sec", "it must be at least video_start_offset_sec + video_clip_length.")
    path, filename, digest, url = receive_video(s, request, form.video_url)
    task = s.embed_tasks.create(
        file_path=path,
        content_hash=digest,
        input_url=url,
        input_filename=None if url else filename,
        clip_length=form.video_clip_length,
        scopes=list(dict.fromkeys(form.video_embedding_scope)),
        start=start,
        end=end,
        model_name=model_name,
    )
    return json_response({"_id": task.id})


def list_embed_tasks(s: Services, request: EmulatorRequest) -> Response:
    args = request.args
    started, ended = query_time(args, "started_at"), query_time(args, "ended_at")
    status = args.get("status")
    if status and status not in ("processing", "ready", "failed"):
        raise invalid("status", f"{status!r} is not one of processing, ready, failed.")
    with s.rt.store.read() as st:
        items = [
            t
            for t in st.embed_tasks.values()
            if (status in (None, "") or t.status == status)
            and (started is None or t.created_at >= started)
            and (ended is None or t.created_at <= ended)
        ]
        items.sort(key=lambda t: (t.created_at, t.seq), reverse=True)
        page, info = paginate(items, args)
        return json_response(
            {"data": [embed_task_json(t, segments=False, lenient=s.rt.config.lenient) for t in page], "page_info": info}
        )


def _embed_task_id(task_id: str) -> None:
    if not ID_PATTERN.match(task_id):
        raise invalid("task_id", f"{task_id!r} is not a valid task id.")


def embed_task_status(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    _embed_task_id(task_id)
    with s.rt.store.read() as st:
        task = st.embed_tasks.get(task_id)
        if task is None:
            raise not_found(task_id, "embed tasks")
        body = embed_task_json(task, segments=False, lenient=s.rt.config.lenient)
        body.pop("created_at", None)
        return json_response(body)


def retrieve_embed_task(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    current = s.rt.config.surface == "current"
    allowed = ("visual", "audio", "transcription", "visual-text") if current else ("visual-text", "audio")
    options = [o for o in request.args.getlist("embedding_option") if o]
    for option in options:
        if option not in allowed:
            raise invalid("embedding_option", f"{option!r} is not one of {', '.join(allowed)}.")
    # stored segments are named visual-text/audio; the media carry no speech, so transcription selects nothing
    stored = ["visual-text" if o == "visual" else o for o in options]
    with s.rt.store.read() as st:
        task = st.embed_tasks.get(task_id)
        if task is None:
            raise not_found(task_id, "embed tasks")
        body = embed_task_json(task, segments=True, options=stored or None, lenient=s.rt.config.lenient)
    return json_response(_current_segments(body) if current else body)
