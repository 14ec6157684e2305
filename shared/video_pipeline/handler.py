"""The one way to write a handler: `LambdaFunction` sets up what every function shares, so that
functions/<name>/app.py holds only its own logic call.

    function = LambdaFunction(FinalizeSettings, calls_twelvelabs=False)   # at import = cold start

    @function.handler(FinalizeInput)
    def lambda_handler(event: FinalizeInput, runtime: Runtime[FinalizeSettings]) -> FinalizeOutput:
        return finalize(event, runtime)

At import it validates the function's settings (a missing/invalid variable fails the cold start, naming it) and,
for functions that call TwelveLabs, the TWELVELABS_* client settings. Each invocation gets the Powertools Logger
(Lambda context, never the event), Metrics (flushed at the end), the X-Ray Tracer when tracing is on (the X-Ray SDK is
imported only then), the invocation deadline the TwelveLabs client honours (`invocation_deadline`), the event parsed
into its model (`InvalidEventError` naming the fields otherwise) and a model result dumped to JSON.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from pydantic import BaseModel, ValidationError

from video_pipeline.clients import Runtime, bind_invocation, get_runtime
from video_pipeline.errors import InvalidEventError
from video_pipeline.settings import FunctionSettings

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
    from aws_lambda_powertools.utilities.typing import LambdaContext

METRICS_NAMESPACE = "TwelveLabsPipeline"
# X-Ray instrumentation of AWS (botocore) and TwelveLabs (httpx) calls, applied at the first invocation: its first
# call imports these modules anyway, while patching them at init would add ~0.1-0.2 s to every traced cold start.
TRACED_MODULES = ("botocore", "httpx")

SettingsT = TypeVar("SettingsT", bound=FunctionSettings)
ModelT = TypeVar("ModelT", bound=BaseModel)
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
LambdaHandler = Callable[[dict[str, Any], "LambdaContext"], Any]


def tracing_enabled() -> bool:
    """Powertools' own rule: traced inside Lambda (not SAM local/Chalice) unless POWERTOOLS_TRACE_DISABLED."""
    if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return False
    in_lambda = bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV))
    return in_lambda and not (os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV))


def parse_event(model: type[ModelT], event: Any) -> ModelT:
    """Validate `event` into `model`; a bad event raises InvalidEventError naming the fields (values omitted)."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        raise InvalidEventError(f"{model.__name__}: {problems}") from exc


@overload
def invocation_deadline(handler: HandlerT) -> HandlerT: ...
@overload
def invocation_deadline(*, reserve_seconds: float = 0.0) -> Callable[[HandlerT], HandlerT]: ...


def invocation_deadline(handler: Any = None, *, reserve_seconds: float = 0.0) -> Any:
    """Decorate `lambda_handler(event, context)` of a function that may call TwelveLabs.

    For the duration of each invocation the TwelveLabs client stops retrying/waiting (DeadlineExceededError, which
    the state machine retries) a safety margin before the Lambda's remaining time runs out (see
    `video_pipeline.clients.bind_invocation`); `reserve_seconds` adds room for work the handler must still do after
    a TwelveLabs failure. `LambdaFunction` applies it; use `@invocation_deadline(reserve_seconds=...)` elsewhere.
    """

    def decorate(fn: HandlerT) -> HandlerT:
        @functools.wraps(fn)
        def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            with bind_invocation(context, reserve_seconds=reserve_seconds):
                return fn(event, context, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate(handler) if handler is not None else decorate


def _jsonable(result: Any) -> Any:
    return result.model_dump(mode="json") if isinstance(result, BaseModel) else result


class LambdaFunction(Generic[SettingsT]):
    """One per functions/<name>/app.py, created at import (see the module docstring)."""

    def __init__(
        self, settings: type[SettingsT], *, calls_twelvelabs: bool = True, reserve_seconds: float = 0.0
    ) -> None:
        self.settings_model = settings
        self.calls_twelvelabs = calls_twelvelabs
        self.reserve_seconds = reserve_seconds
        self.logger = Logger()
        self.metrics = Metrics(namespace=os.getenv(constants.METRICS_NAMESPACE_ENV) or METRICS_NAMESPACE)
        self.tracer: Tracer | None = None
        if tracing_enabled():
            from aws_lambda_powertools import Tracer  # the X-Ray SDK: only when traces are sent

            self.tracer = Tracer(patch_modules=())  # patched at the first invocation (TRACED_MODULES)
        self._patched_at_first_call = False
        # Cold start: the function's settings (and the TwelveLabs client's) fail here, naming each bad variable.
        runtime = self.runtime()
        if calls_twelvelabs:
            _ = runtime.clients.client_settings

    def runtime(self) -> Runtime[SettingsT]:
        """This function's Runtime (settings + the container's clients), cached while the environment is unchanged."""
        return get_runtime(self.settings_model)

    def count(self, name: str, value: float = 1) -> None:
        """Add to a CloudWatch count metric (flushed at the end of the invocation)."""
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def _wrap(self, call: Callable[[dict[str, Any], LambdaContext], Any]) -> LambdaHandler:
        """Observability and the deadline around `call(event, context)`, outermost first."""
        handler: Callable[..., Any] = call
        if self.calls_twelvelabs:
            handler = invocation_deadline(reserve_seconds=self.reserve_seconds)(handler)
        handler = self.metrics.log_metrics(handler)
        if self.tracer is not None:
            handler = self.tracer.capture_lambda_handler(self._patch_before(handler))
        # Never log the event: some carry signatures, and the pointers in the others are in the item anyway.
        return self.logger.inject_lambda_context(log_event=False)(handler)

    def _patch_before(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def patched(event: dict[str, Any], context: LambdaContext) -> Any:
            if self.tracer is not None and not self._patched_at_first_call:
                self.tracer.patch(TRACED_MODULES)
                self._patched_at_first_call = True
            return handler(event, context)

        return patched

    @overload
    def handler(
        self, event_model: type[ModelT]
    ) -> Callable[[Callable[[ModelT, Runtime[SettingsT]], Any]], LambdaHandler]: ...
    @overload
    def handler(
        self, event_model: None = None
    ) -> Callable[[Callable[[dict[str, Any], Runtime[SettingsT]], Any]], LambdaHandler]: ...

    def handler(self, event_model: type[BaseModel] | None = None) -> Callable[[Callable[..., Any]], LambdaHandler]:
        """`fn(event, runtime)` -> `lambda_handler(event, context)`; `event` parsed into `event_model` if given."""

        def decorate(fn: Callable[..., Any]) -> LambdaHandler:
            @functools.wraps(fn)
            def call(event: dict[str, Any], context: LambdaContext) -> Any:
                parsed = parse_event(event_model, event) if event_model is not None else event
                return _jsonable(fn(parsed, self.runtime()))

            return self._wrap(call)

        return decorate

    def sqs_batch(self, fn: Callable[[SqsRecordModel, Runtime[SettingsT]], Any]) -> LambdaHandler:
        """An SQS-triggered `lambda_handler`: `fn(record, runtime)` per record, partial batch failures reported
        (a failing record is retried by SQS, then dead-lettered; the others succeed)."""
        processors: list[Any] = []  # built on the first batch: the batch utility imports asyncio (~30 ms)

        @functools.wraps(fn)
        def call(event: dict[str, Any], context: LambdaContext) -> Any:
            from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
            from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

            if not processors:
                processors.append(BatchProcessor(event_type=EventType.SQS, model=SqsRecordModel))
            runtime = self.runtime()
            return process_partial_response(
                event=event, record_handler=lambda record: fn(record, runtime), processor=processors[0], context=context
            )

        return self._wrap(call)
