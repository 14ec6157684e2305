"""API errors: every failure the emulator answers carries the API's `code` and a message naming the field."""

from __future__ import annotations

from typing import Any, Literal

# flat `{code, message}` (classic endpoints, assets, indexed assets, search, sync analyze);
# wrapped `{"error": {code, message, details?}}` (/embed-v2*, /analyze/tasks*, /analyze/batches*);
# empty: no body at all (429s on /analyze and /search).
ErrorShape = Literal["flat", "wrapped", "empty"]


class ApiError(Exception):
    """An error answered as `{code, message}` with an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        shape: ErrorShape = "flat",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.shape: ErrorShape = shape
        self.details = details


def not_provided(field: str) -> ApiError:
    return ApiError(400, "parameter_not_provided", f"The {field} parameter is required but was not provided.")


def invalid(field: str, why: str) -> ApiError:
    return ApiError(400, "parameter_invalid", f"The {field} parameter is invalid: {why}")


def not_found(resource_id: str, collection: str) -> ApiError:
    return ApiError(404, "resource_not_exist", f"Resource with id {resource_id} does not exist in {collection}.")


class MediaProblem(Exception):
    """A media file breaks a documented requirement; `code` is the API's `video_*` code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
