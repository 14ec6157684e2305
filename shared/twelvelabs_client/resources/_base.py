"""Shared plumbing of the resource mixins: send through the transport, validate into models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ..errors import (
    DeadlineExceededError,
    ProcessingFailedError,
    ResponseValidationError,
    WaitTimeoutError,
    request_id_from,
)
from ..http import Params, Transport, parse_json

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

# Default bounds of the wait_for_* helpers: first poll after 1 s, growing x1.5 up to 15 s between polls.
WAIT_INITIAL_INTERVAL = 1.0
WAIT_MAX_INTERVAL = 15.0
WAIT_FACTOR = 1.5

# Server clocks and ours differ; widen "created since the attempt" windows by this much.
CLOCK_SKEW_SECONDS = 300.0
LOOKUP_PAGE_LIMIT = 50
LOOKUP_MAX_PAGES = 3


class ResourceBase:
    _transport: Transport

    def _parse(self, model: type[M], response: httpx.Response) -> M:
        return self._validate(model, parse_json(response), response)

    def _validate(self, model: type[M], data: Any, response: httpx.Response) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ResponseValidationError(
                f"{response.request.method} {response.request.url.path} answered a body that is not a "
                f"{model.__name__}: {exc.errors(include_url=False)[:3]}",
                status_code=response.status_code,
                request_id=request_id_from(response.headers),
                body=data,
            ) from exc

    def _get(self, path: str, model: type[M], params: Params = None) -> M:
        return self._parse(model, self._transport.request("GET", path, params=params))

    def _send_no_content(self, method: str, path: str, json: Any = None) -> None:
        # PUT/PATCH/DELETE answer 200/204 with an empty or `{}` body; nothing to parse.
        self._transport.request(method, path, json=json)

    def _parse_created(self, model: type[M], response: httpx.Response, **extra: Any) -> M:
        """A create answer (201/202) plus fields taken from headers (e.g. `location`)."""
        data = parse_json(response)
        if isinstance(data, dict):
            data = {**data, **{k: v for k, v in extra.items() if v is not None}}
        return self._validate(model, data, response)

    def _wait(
        self,
        fetch: Callable[[], R],
        *,
        status: Callable[[R], str | None],
        terminal: frozenset[str],
        failed: frozenset[str],
        what: str,
        timeout: float,
        initial_interval: float = WAIT_INITIAL_INTERVAL,
        max_interval: float = WAIT_MAX_INTERVAL,
        factor: float = WAIT_FACTOR,
        reason: Callable[[R], str | None] = lambda _: None,
    ) -> R:
        """Poll until a terminal status: bounded by `timeout` (injected clock) and the client deadline.

        Waits grow from `initial_interval` by `factor` up to `max_interval`; the last wait is cut to
        what is left. A `failed` terminal status raises ProcessingFailedError with the last object.
        """
        if timeout <= 0 or initial_interval <= 0 or factor < 1 or max_interval < initial_interval:
            raise ValueError("wait bounds: timeout > 0, initial_interval > 0, factor >= 1, max_interval >= initial")
        clock, sleep = self._transport.clock, self._transport.sleep
        started = clock()
        interval = initial_interval
        while True:
            item = fetch()
            current = status(item)
            if current in terminal:
                if current in failed:
                    raise ProcessingFailedError(
                        f"{what} ended {current}" + (f": {reason(item)}" if reason(item) else ""),
                        code=f"{current}",
                        resource=item,
                    )
                return item
            left = timeout - (clock() - started)
            if left <= 0:
                raise WaitTimeoutError(f"{what} still {current!r} after {timeout:g} s")
            pause = min(interval, left)
            remaining = self._transport.remaining()
            if remaining is not None and pause >= remaining:
                raise DeadlineExceededError(f"deadline reached while waiting for {what} (status {current!r})")
            sleep(pause)
            interval = min(interval * factor, max_interval)
