"""API errors: every failure the emulator answers carries the API's `code` and a message naming the field."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered as `{code, message}` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


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
