"""Query-string and multipart form encoding in the API's conventions (§1)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_params(filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Encode list filters: lists repeat the key, dicts become deep-object keys, None is dropped.

    `{"status": ["ready", "indexing"]}` -> status=ready&status=indexing;
    `{"duration": {"gte": 10}}` -> duration[gte]=10; `{"user_metadata": {"k": "v"}}` -> user_metadata[k]=v.
    """
    out: list[tuple[str, str]] = []
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            for sub, subvalue in value.items():
                if subvalue is not None:
                    out.append((f"{key}[{sub}]", _scalar(subvalue)))
        elif isinstance(value, (list, tuple, set, frozenset)):
            out.extend((key, _scalar(item)) for item in value)
        else:
            out.append((key, _scalar(value)))
    return out


def form_fields(fields: Mapping[str, Any]) -> list[tuple[str, tuple[None, str]]]:
    """Multipart text parts (httpx `files=` entries with no filename), so the body is always multipart.

    Lists repeat the field; dicts are sent as stringified JSON (user_metadata, filter); None is dropped.
    """
    out: list[tuple[str, tuple[None, str]]] = []
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            out.append((key, (None, json.dumps(value, separators=(",", ":")))))
        elif isinstance(value, (list, tuple)):
            out.extend((key, (None, _scalar(item))) for item in value)
        else:
            out.append((key, (None, _scalar(value))))
    return out
