"""Small helpers the thin handlers share: event parsing with a clear error."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from video_pipeline.errors import InvalidEventError

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_event(model: type[ModelT], event: Any) -> ModelT:
    """Validate `event` into `model`; a bad event raises InvalidEventError naming the fields (values omitted)."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidEventError(f"{model.__name__}: {problems}") from exc
