"""Small helpers the thin handlers share: event parsing with a clear error, the per-invocation deadline."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from video_pipeline.clients import bind_invocation
from video_pipeline.errors import InvalidEventError

ModelT = TypeVar("ModelT", bound=BaseModel)
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


@overload
def invocation_deadline(handler: HandlerT) -> HandlerT: ...
@overload
def invocation_deadline(*, reserve_seconds: float = 0.0) -> Callable[[HandlerT], HandlerT]: ...


def invocation_deadline(handler: Any = None, *, reserve_seconds: float = 0.0) -> Any:
    """Decorate `lambda_handler(event, context)` of every function that may call TwelveLabs.

    For the duration of each invocation the TwelveLabs client stops retrying/waiting (DeadlineExceededError, which
    the state machine retries) a safety margin before the Lambda's remaining time runs out (see
    `video_pipeline.clients.bind_invocation`); `reserve_seconds` adds room for work the handler must still do after
    a TwelveLabs failure. Use `@invocation_deadline` or `@invocation_deadline(reserve_seconds=...)`.
    """

    def decorate(fn: HandlerT) -> HandlerT:
        @functools.wraps(fn)
        def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            with bind_invocation(context, reserve_seconds=reserve_seconds):
                return fn(event, context, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate(handler) if handler is not None else decorate


def parse_event(model: type[ModelT], event: Any) -> ModelT:
    """Validate `event` into `model`; a bad event raises InvalidEventError naming the fields (values omitted)."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidEventError(f"{model.__name__}: {problems}") from exc
