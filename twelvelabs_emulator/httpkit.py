"""Request parsing and response helpers shared by the route handlers."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.wrappers import Request, Response

from twelvelabs_emulator.clock import parse_rfc3339
from twelvelabs_emulator.errors import ApiError, invalid, not_provided

M = TypeVar("M", bound=BaseModel)
JSON_BODY_LIMIT = 4 * 1024 * 1024


class EmulatorRequest(Request):
    """Multipart file parts are streamed by werkzeug's parser into files under the upload dir, never into memory."""

    max_form_memory_size = 1024 * 1024  # text fields only
    max_form_parts = 1000
    upload_dir: Path = Path(tempfile.gettempdir())

    def __init__(self, environ: dict[str, Any], upload_dir: Path) -> None:
        super().__init__(environ)
        self.upload_dir = upload_dir
        self.spooled: list[Path] = []

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        handle = tempfile.NamedTemporaryFile(dir=self.upload_dir, prefix="upload-", delete=False)  # noqa: SIM115
        self.spooled.append(Path(handle.name))
        return handle  # type: ignore[return-value]

    def cleanup(self) -> None:
        """Remove spooled uploads that no handler adopted (adopted ones were moved away)."""
        for storage in self.files.values() if self._parsed_form() else ():
            storage.stream.close()
        for path in self.spooled:
            path.unlink(missing_ok=True)

    def _parsed_form(self) -> bool:
        return "files" in self.__dict__


def adopt_upload(storage: FileStorage, target: Path) -> int:
    """Move a spooled upload to `target` (a rename, no copy); returns its size."""
    stream = storage.stream
    stream.flush()
    source = Path(stream.name)  # type: ignore[union-attr]
    stream.close()
    source.replace(target)
    return target.stat().st_size


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json", headers=headers)


def empty_response() -> Response:
    return Response(status=204)


def error_response(error: ApiError) -> Response:
    if error.shape == "empty":
        return Response(b"", status=error.status, headers=error.headers)
    if error.shape == "wrapped":
        inner: dict[str, object] = {"code": error.code, "message": error.message}
        if error.details is not None:
            inner["details"] = error.details
        return json_response({"error": inner}, error.status, error.headers)
    return json_response({"code": error.code, "message": error.message}, error.status, error.headers)


def validation_error(exc: ValidationError, prefix: str = "") -> ApiError:
    first = exc.errors()[0]
    field = prefix + ".".join(str(p) for p in first["loc"]) if first["loc"] else prefix.rstrip(".") or "body"
    if first["type"] == "missing":
        return not_provided(field)
    if first["type"] == "extra_forbidden":
        return ApiError(400, "parameter_unknown", f"The {field} parameter is not a known parameter.")
    return invalid(field, first["msg"] + ".")


def parse_json_body(request: Request, model: type[M]) -> M:
    if request.content_length is not None and request.content_length > JSON_BODY_LIMIT:
        raise invalid("body", f"the JSON body is larger than {JSON_BODY_LIMIT} bytes.")
    raw = request.get_data(cache=False)
    if not raw.strip():
        data: object = {}
    else:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise invalid("body", f"the request body is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise invalid("body", "the request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


def require_multipart(request: Request) -> None:
    if request.mimetype != "multipart/form-data":
        raise invalid("Content-Type", f"this endpoint takes multipart/form-data, not {request.mimetype or 'nothing'}.")


def form_model(form: MultiDict[str, str], model: type[M], lists: Iterable[str] = ()) -> M:
    """Validate multipart text fields; blank values count as absent; `lists` are repeated fields."""
    data: dict[str, object] = {}
    for key in form:
        if key in lists:
            data[key] = [v for v in form.getlist(key) if v != ""]
        elif form.get(key, "") != "":
            data[key] = form.get(key)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


def query_int(args: MultiDict[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid(name, f"{raw!r} is not an integer.") from exc
    if value < low or (high is not None and value > high):
        raise invalid(name, f"must be between {low} and {high}." if high is not None else f"must be at least {low}.")
    return value


def query_choice(args: MultiDict[str, str], name: str, default: str, choices: Iterable[str]) -> str:
    allowed = list(choices)
    value = args.get(name) or default
    if value not in allowed:
        raise invalid(name, f"{value!r} is not one of {', '.join(allowed)}.")
    return value


def query_bool(args: MultiDict[str, str], name: str, default: bool = False) -> bool:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(name, f"{raw!r} is not a boolean.")


def parse_bool_text(raw: str, name: str) -> bool:
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(name, f"{raw!r} is not a boolean.")


def number_filters(args: MultiDict[str, str], fields: Iterable[str]) -> list[Callable[[dict[str, object]], bool]]:
    """`field=v` (exact) and `field[gte|lte|gt|lt]=v` range filters over numeric fields."""
    checks: list[Callable[[dict[str, object]], bool]] = []
    ops: dict[str, Callable[[float, float], bool]] = {
        "": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6),
        "gte": lambda a, b: a >= b,
        "lte": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "lt": lambda a, b: a < b,
    }
    for name in fields:
        for op, compare in ops.items():
            key = f"{name}[{op}]" if op else name
            raw = args.get(key)
            if raw is None or raw == "":
                continue
            try:
                bound = float(raw)
            except ValueError as exc:
                raise invalid(key, f"{raw!r} is not a number.") from exc

            def check(
                values: dict[str, object],
                name: str = name,
                bound: float = bound,
                compare: Callable[[float, float], bool] = compare,
            ) -> bool:
                value = values.get(name)
                return isinstance(value, (int, float)) and compare(float(value), bound)

            checks.append(check)
    return checks


def query_time(args: MultiDict[str, str], name: str) -> datetime | None:
    """An RFC 3339 query parameter (absent or empty: None)."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_rfc3339(raw)
    except ValueError as exc:
        raise invalid(name, f"{raw!r} is not an RFC 3339 timestamp.") from exc


def time_filter(args: MultiDict[str, str], name: str) -> Callable[[object], bool] | None:
    bound = query_time(args, name)
    if bound is None:
        return None
    return lambda value: value >= bound  # type: ignore[operator]


def paginate(items: list[Any], args: MultiDict[str, str]) -> tuple[list[Any], dict[str, int]]:
    page = query_int(args, "page", 1, 1)
    limit = query_int(args, "page_limit", 10, 1, 50)
    total = len(items)
    chunk = items[(page - 1) * limit : page * limit]
    return chunk, {
        "page": page,
        "limit_per_page": limit,
        "total_page": max(1, math.ceil(total / limit)),
        "total_results": total,
    }


def sort_records(items: list[Any], args: MultiDict[str, str]) -> list[Any]:
    sort_by = query_choice(args, "sort_by", "created_at", ("created_at", "updated_at"))
    option = query_choice(args, "sort_option", "desc", ("asc", "desc"))
    return sorted(items, key=lambda r: (getattr(r, sort_by), r.seq), reverse=option == "desc")


def metadata_filters(args: MultiDict[str, str], list_params: Collection[str]) -> dict[str, str]:
    """User-metadata filters of a list query: `user_metadata[key]=v` (the generated SDK's form) or a bare key
    that is no list parameter (the documented form)."""
    wanted: dict[str, str] = {}
    for key in args:
        if key.startswith("user_metadata[") and key.endswith("]"):
            wanted[key[len("user_metadata[") : -1]] = args.get(key, "")
        elif key not in list_params and "[" not in key:
            wanted[key] = args.get(key, "")
    return wanted


def metadata_filter_matches(metadata: Mapping[str, object], wanted: Mapping[str, str]) -> bool:
    return all(k in metadata and metadata_matches(metadata[k], v) for k, v in wanted.items())


def metadata_matches(stored: object, wanted: str) -> bool:
    """Compare a query-string value with a typed user-metadata value."""
    if isinstance(stored, bool):
        return wanted.lower() == str(stored).lower()
    if isinstance(stored, (int, float)):
        try:
            return math.isclose(float(wanted), float(stored))
        except ValueError:
            return False
    return stored == wanted
