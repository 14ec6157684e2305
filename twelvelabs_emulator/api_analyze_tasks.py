"""Async analysis (/analyze/tasks) of the current surface."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.wrappers import Response

# (path under /v1.3, methods, handler(services, request, **path_args)); served in the current surface only.
ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = []
