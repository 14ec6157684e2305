"""Routes: `POST /search` and `GET /search/{page-token}`."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field
from werkzeug.wrappers import Response

from twelvelabs_emulator import media, search, vectors
from twelvelabs_emulator.api_embed import IMAGE_MAX_BYTES, TEXT_TOKEN
from twelvelabs_emulator.bodies import Body, SearchForm
from twelvelabs_emulator.downloads import download
from twelvelabs_emulator.errors import ApiError, MediaProblem, invalid, not_found, not_provided
from twelvelabs_emulator.httpkit import (
    EmulatorRequest,
    adopt_upload,
    form_model,
    json_response,
    query_bool,
    require_multipart,
)
from twelvelabs_emulator.services import Services

QUERY_TOKEN_LIMIT = 77
CURRENT_QUERY_TOKEN_LIMIT = 500  # Marengo 3.0
MAX_QUERY_IMAGES = 10


class CurrentSearchForm(Body):
    """The search form as SDK 1.3.6 sends it (multipart; lists are repeated fields)."""

    index_id: str = Field(min_length=1)
    search_options: list[Literal["visual", "audio", "transcription"]] = Field(min_length=1)
    transcription_options: list[Literal["lexical", "semantic"]] | None = None
    query_text: str | None = None
    query_media_type: Literal["image"] | None = None
    query_media_url: list[str] = Field(default_factory=list)
    operator: Literal["or", "and"] = "or"
    group_by: Literal["clip", "video"] = "clip"
    page_limit: int = Field(default=10, ge=1, le=50)
    filter: str | None = None
    include_user_metadata: bool = False


def _query_vector(s: Services, request: EmulatorRequest, form: SearchForm) -> tuple[list[float], bool]:
    has_media = form.query_media_url is not None or "query_media_file" in request.files
    if form.query_text is not None and has_media:
        raise invalid(
            "query_text", "give either query_text or a media query (query_media_url/query_media_file), not both."
        )
    if form.query_text is not None:
        if len(TEXT_TOKEN.findall(form.query_text)) > QUERY_TOKEN_LIMIT:
            raise invalid("query_text", f"it is longer than {QUERY_TOKEN_LIMIT} tokens.")
        return vectors.embed_text(form.query_text), False
    if not has_media:
        raise not_provided("query_text or query_media_url/query_media_file")
    if form.query_media_type is None:
        raise not_provided("query_media_type")
    with tempfile.TemporaryDirectory(dir=s.rt.upload_dir) as scratch:
        if form.query_media_url:
            path, _, _ = download(
                form.query_media_url,
                "query_media_url",
                Path(scratch),
                IMAGE_MAX_BYTES,
                s.rt.config.download_timeout_seconds,
                too_large_code="parameter_invalid",
            )
            field = "query_media_url"
        else:
            path, field = Path(scratch) / "query", "query_media_file"
            if adopt_upload(request.files["query_media_file"], path) > IMAGE_MAX_BYTES:
                raise invalid(field, f"the image is larger than {IMAGE_MAX_BYTES} bytes.")
        try:
            tokens = media.image_file_tokens(path, field)
        except MediaProblem as problem:
            raise ApiError(400, "parameter_invalid", problem.message) from problem
    return vectors.embed_tokens(vectors.expand(tokens)), True


def _image_vector(s: Services, path: Path, field: str) -> list[float]:
    try:
        tokens = media.image_file_tokens(path, field)
    except MediaProblem as problem:
        raise ApiError(400, "parameter_invalid", problem.message) from problem
    return vectors.embed_tokens(vectors.expand(tokens))


def _current_query_vector(s: Services, request: EmulatorRequest, form: CurrentSearchForm) -> tuple[list[float], bool]:
    """Text, up to 10 images, or both (composed): the normalised sum of their vectors."""
    files = [f for f in request.files.getlist("query_media_file") if f.filename]
    media_count = len(form.query_media_url) + len(files)
    if form.query_text is None and media_count == 0:
        raise not_provided("query_text or query_media_url/query_media_file")
    if media_count > MAX_QUERY_IMAGES:
        raise invalid("query_media_url", f"at most {MAX_QUERY_IMAGES} query images are allowed, got {media_count}.")
    if media_count and form.query_media_type is None:
        raise not_provided("query_media_type")
    parts: list[list[float]] = []
    if form.query_text is not None:
        if not form.query_text.strip():
            raise invalid("query_text", "it is empty.")
        if len(TEXT_TOKEN.findall(form.query_text)) > CURRENT_QUERY_TOKEN_LIMIT:
            raise invalid("query_text", f"it is longer than {CURRENT_QUERY_TOKEN_LIMIT} tokens.")
        parts.append(vectors.embed_text(form.query_text))
    with tempfile.TemporaryDirectory(dir=s.rt.upload_dir) as scratch:
        for n, url in enumerate(form.query_media_url):
            path, _, _ = download(
                url,
                "query_media_url",
                Path(scratch),
                IMAGE_MAX_BYTES,
                s.rt.config.download_timeout_seconds,
                too_large_code="parameter_invalid",
            )
            parts.append(_image_vector(s, path, f"query_media_url[{n}]"))
        for n, storage in enumerate(files):
            path = Path(scratch) / f"query-{n}"
            if adopt_upload(storage, path) > IMAGE_MAX_BYTES:
                raise invalid("query_media_file", f"the image is larger than {IMAGE_MAX_BYTES} bytes.")
            parts.append(_image_vector(s, path, f"query_media_file[{n}]"))
    return vectors.mean_vector(parts), media_count > 0


def _check_search_options(s: Services, index_id: str, options: Sequence[str], *, current: bool) -> None:
    """The index exists, has Marengo, and every search option is enabled by its model options."""
    with s.rt.store.read() as st:
        index = st.indexes.get(index_id)
        if index is None:
            raise not_found(index_id, "indexes")
        if not index.has_family("marengo"):
            raise ApiError(
                400,
                "index_not_supported_for_search",
                f"The index {index.id} has no Marengo model, so it cannot be searched.",
            )
        enabled = set(index.options("marengo"))
    # Marengo 3.0 indexes have the model options visual and audio only (SDK 1.3.6); spoken words are "extracted
    # from the audio track" (docs: concepts/modalities), so the audio model option enables the transcription
    # search option too (INFERRED: no transcription model option exists to enable it otherwise).
    if current and "audio" in enabled:
        enabled.add("transcription")
    for option in options:
        if option not in enabled:
            raise ApiError(
                400,
                "search_option_not_supported",
                f"The search_options value {option!r} is not enabled on index {index_id} "
                f"(enabled: {', '.join(sorted(enabled))}).",
            )


def _first_page(s: Services, query: search.SearchQuery, include_user_metadata: bool) -> Response:
    """Rank, keep the hits for the page tokens, answer the first page (both surfaces)."""
    with s.rt.store.read() as st:
        hits, inner = search.rank(st, query)
        pool = search.search_pool(st, query.index_id)
        session, page = s.searches.create(
            query.index_id, hits, query.page_limit, pool, inner, query.group_by == "video"
        )
        return json_response(search.render_page(st, session, page, include_user_metadata, with_prev=False))


def _create_current_search(s: Services, request: EmulatorRequest) -> Response:
    require_multipart(request)
    # threshold / adjust_confidence_level / sort_option are ignored, as SDK 1.3.6 documents ("Deprecated:
    # ignored by the API. Use the `rank` field"): hits are ranked by relevance and carry no score/confidence.
    form = form_model(
        request.form, CurrentSearchForm, lists=("search_options", "transcription_options", "query_media_url")
    )
    if form.transcription_options and "transcription" not in form.search_options:
        raise invalid("transcription_options", "it is only valid when search_options includes transcription.")
    _check_search_options(s, form.index_id, form.search_options, current=True)
    flt = search.parse_filter(form.filter)
    vector, media_query = _current_query_vector(s, request, form)
    if media_query and form.query_text is None and "visual" not in form.search_options:
        raise ApiError(400, "search_option_combination_not_supported", "An image query needs the visual search option.")
    options: list[str] = list(dict.fromkeys(form.search_options))
    if media_query and form.query_text is None:
        options = ["visual"]
    query = search.SearchQuery(
        index_id=form.index_id,
        options=options,
        vector=vector,
        media_query=media_query,
        operator=form.operator,
        group_by=form.group_by,
        page_limit=form.page_limit,
        filter=flt,
        surface="current",
    )
    return _first_page(s, query, form.include_user_metadata)


def create_search(s: Services, request: EmulatorRequest) -> Response:
    if s.rt.config.surface == "current":
        return _create_current_search(s, request)
    require_multipart(request)
    form = form_model(request.form, SearchForm, lists=("search_options",))
    _check_search_options(s, form.index_id, form.search_options, current=False)
    if form.sort_option == "clip_count" and form.group_by != "video":
        raise invalid("sort_option", "clip_count needs group_by=video.")
    flt = search.parse_filter(form.filter)
    vector, media_query = _query_vector(s, request, form)
    if media_query and "visual" not in form.search_options:
        raise ApiError(400, "search_option_combination_not_supported", "An image query needs the visual search option.")
    options: list[str] = ["visual"] if media_query else list(dict.fromkeys(form.search_options))
    query = search.SearchQuery(
        index_id=form.index_id,
        options=options,
        vector=vector,
        media_query=media_query,
        operator=form.operator,
        group_by=form.group_by,
        threshold=form.threshold,
        adjust_confidence_level=form.adjust_confidence_level,
        sort_option=form.sort_option,
        page_limit=form.page_limit,
        filter=flt,
    )
    return _first_page(s, query, form.include_user_metadata)


def search_page(s: Services, request: EmulatorRequest, page_token: str) -> Response:
    include = query_bool(request.args, "include_user_metadata")
    session, page = s.searches.lookup(page_token)
    with s.rt.store.read() as st:
        if session.index_id not in st.indexes:
            raise ApiError(
                400,
                "search_page_token_expired",
                f"The page token {page_token} is no longer valid: its index was deleted.",
            )
        return json_response(search.render_page(st, session, page, include, with_prev=True))
