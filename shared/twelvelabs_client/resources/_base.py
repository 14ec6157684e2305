"""Shared plumbing of the resource mixins: send through the transport, validate into models."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ..errors import ResponseValidationError, request_id_from
from ..http import Params, Transport, parse_json

M = TypeVar("M", bound=BaseModel)

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
