"""Every change this project makes to moto 5.2.5, in one place.

moto is pinned (requirements.txt) because these patches touch its internals;
tests/local_stack/test_moto_internals.py fails loudly when an upgrade moves one of them.

Two kinds of fixes:
* runtime patches, applied inside the moto server process by `install(ctx)` (each `patch_*` below
  documents the moto gap it fills), and
* `fix_translated_template()`, a rewrite of the SAM-translated template before `create_stack`
  for gaps that are simpler to fix in the template than in moto.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import moto

if TYPE_CHECKING:
    from local_stack.function_url import FunctionUrlGateway
    from local_stack.lambda_runtime import LambdaRuntime

PINNED_MOTO_VERSION = "5.2.5"
ACCOUNT_ID = "123456789012"
log = logging.getLogger("local_stack.moto_patches")

Undo = Callable[[], None]


@dataclass
class PatchContext:
    runtime: LambdaRuntime
    gateway: FunctionUrlGateway
    moto_url: str


def _replace(owner: Any, name: str, new: Any, undo: list[Undo]) -> None:
    old = owner.__dict__[name]
    setattr(owner, name, new)
    undo.append(lambda: setattr(owner, name, old))


def _function_spec(fn: Any) -> Any:
    """moto LambdaFunction -> FunctionSpec (log name from packaging's S3 key `code/<name>/<sha>.zip`)."""
    from local_stack.lambda_runtime import FunctionSpec

    s3_key = str((fn.code or {}).get("S3Key", ""))
    parts = s3_key.split("/")
    log_name = parts[1] if len(parts) == 3 and parts[0] == "code" else fn.function_name
    return FunctionSpec(
        function_name=fn.function_name,
        function_arn=fn.function_arn,
        handler=fn.handler,
        code_bytes=fn.code_bytes,
        environment=dict(fn.environment_vars or {}),
        timeout=float(fn.timeout or 3),
        memory_size=int(fn.memory_size or 128),
        log_name=log_name,
    )


# --------------------------------------------------------------------------------------------
# Lambda
# --------------------------------------------------------------------------------------------
def patch_lambda_runtime(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: moto runs Lambda code only in Docker (absent here). Every moto path that runs a function
    (Invoke API, SFN tasks, SQS event source mappings, SNS, S3, EventBridge) ends in
    `LambdaFunction._invoke_lambda(event) -> (payload, errored, logs)`: run the real handler there,
    on the warm worker pool of lambda_runtime.py."""
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        result = ctx.runtime.invoke(_function_spec(self), {} if event is None else event)
        return json.dumps(result.payload), result.errored, result.logs

    _replace(LambdaFunction, "_invoke_lambda", _invoke_lambda, undo)


# --------------------------------------------------------------------------------------------
# Step Functions
# --------------------------------------------------------------------------------------------
def patch_sfn_executing_backend(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: by default moto's Step Functions only fakes executions. The config key
    `stepfunctions.execute_state_machine` selects the real ASL interpreter (parser backend)."""
    from moto.core.config import default_user_config

    previous = default_user_config.get("stepfunctions")
    default_user_config["stepfunctions"] = {"execute_state_machine": True}

    def restore() -> None:
        if previous is None:
            default_user_config.pop("stepfunctions", None)
        else:
            default_user_config["stepfunctions"] = previous

    undo.append(restore)


def patch_sfn_unnamed_executions(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap (bug): the executing backend stores `name=None` for unnamed StartExecution, so the ARN ends
    in `:None` and a second unnamed start returns the first execution. AWS names them with a uuid."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.__dict__["start_execution"]

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    _replace(StepFunctionsParserBackend, "start_execution", start_execution, undo)


def patch_sfn_cloudformation(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: `AWS::StepFunctions::StateMachine` ignores `DefinitionSubstitutions` and is created in the
    non-executing backend, where executions cannot find it. Substitute `${Name}` in the (already
    resolved) DefinitionString and create the machine in the parser backend. (Never Fn::Sub: moto's
    string.Template turns ASL's `$$.Execution.Name` into `$.Execution.Name`.)"""
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends
    from moto.utilities.tagging_service import TaggingService

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        properties = cloudformation_json["Properties"]
        definition = properties.get("DefinitionString", "")
        if not definition and "Definition" in properties:
            definition = json.dumps(properties["Definition"])
        for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        name = properties.get("StateMachineName", resource_name)
        tags = [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags", [])]
        if isinstance(properties.get("Tags"), dict):  # SAM passes a map
            tags = TaggingService.convert_dict_to_tags_input(properties["Tags"])  # type: ignore[assignment]
        backend = stepfunctions_parser_backends[account_id][region_name]
        return backend.create_state_machine(
            name,
            definition,
            properties.get("RoleArn", ""),
            tags=tags or None,
            sm_type=properties.get("StateMachineType"),
        )

    _replace(StateMachine, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json), undo)


def _status_change_event(execution: Any) -> dict[str, Any]:
    def ms(value: Any) -> int | None:
        return int(value.timestamp() * 1000) if value is not None else None

    status = execution.exec_status.value
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": execution.account_id,
        "time": time.time(),  # moto's convention (epoch float); converted at delivery
        "region": execution.region_name,
        "resources": [execution.exec_arn],
        "detail": {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": status,
            "startDate": ms(execution.start_date),
            "stopDate": ms(execution.stop_date),
            "input": json.dumps(execution.input_data),
            "output": json.dumps(execution.output) if status == "SUCCEEDED" else None,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if status == "SUCCEEDED" else None,
            "error": execution.error,
            "cause": execution.cause,
        },
    }


def patch_sfn_status_events(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: moto's Step Functions emits no EventBridge events. When an execution ends, put a
    "Step Functions Execution Status Change" event on the default bus, as AWS does, so rules on
    FAILED / TIMED_OUT / ABORTED reach their targets."""
    from moto.events.models import events_backends
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.__dict__["terminated"]

    def terminated(self: Any) -> None:
        original(self)
        if getattr(self.execution, "_local_stack_announced", False):
            return  # stopped earlier: its ABORTED event went out then (see patch_sfn_stop_is_immediate)
        _announce_execution_end(self.execution, events_backends)

    _replace(BaseExecutionWorkerCommunication, "terminated", terminated, undo)


def _announce_execution_end(execution: Any, events_backends: Any) -> None:
    execution._local_stack_announced = True
    event = _status_change_event(execution)
    if event["detail"]["status"] != "SUCCEEDED":
        log.warning(
            "execution %s %s: %s: %s",
            execution.name,
            event["detail"]["status"],
            execution.error,
            _short(execution.cause, 200),
        )
    backend = events_backends[execution.account_id][execution.region_name]
    bus = backend.event_buses.get("default")
    for rule in list(bus.rules.values()) if bus else []:
        try:
            rule.send_to_targets(event)
        except Exception:
            # An execution's end must not be turned into a worker crash; log it loudly instead.
            log.exception("delivering the status-change event of %s to rule %s failed", execution.exec_arn, rule.name)


def patch_sfn_stop_is_immediate(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: moto's StopExecution only asks the interpreter to stop; the execution stays RUNNING until its current
    state returns, and a state waiting for a task token may never return. On AWS the execution is ABORTED at once
    (and its status-change event sent). Do that; the interpreter's own end later changes nothing."""
    from moto.events.models import events_backends
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import Execution

    original = Execution.__dict__["stop"]

    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        original(self, stop_date=stop_date, error=error, cause=cause)
        if self.exec_status == ExecutionStatus.RUNNING:
            self.exec_status = ExecutionStatus.ABORTED
            self.stop_date = stop_date
            self.error, self.cause = error, cause
            _announce_execution_end(self, events_backends)

    _replace(Execution, "stop", stop, undo)


def _short(text: Any, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def patch_sfn_failure_logs(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: moto's ASL interpreter logs every task error at ERROR level once per component it crosses, each
    line carrying the repr of the whole state (kilobytes), including errors that a Retry or Catch handles.
    Log those at DEBUG, and one concise line per execution that ends FAILED / TIMED_OUT / ABORTED (in
    `patch_sfn_status_events`)."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    component_log = logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component")

    def _log_failure_event_exception(self: Any, failure_event_exception: Any) -> None:
        if component_log.isEnabledFor(logging.DEBUG):
            error = failure_event_exception.failure_event.error_name
            component_log.debug("%s in %s", error.error_name if error else "failure", type(self).__name__)

    def _log_exception(self: Any, exception: Exception) -> None:
        component_log.debug("%s in %s: %s", type(exception).__name__, type(self).__name__, _short(exception))

    _replace(EvalComponent, "_log_failure_event_exception", _log_failure_event_exception, undo)
    _replace(EvalComponent, "_log_exception", _log_exception, undo)


# --------------------------------------------------------------------------------------------
# EventBridge
# --------------------------------------------------------------------------------------------
def _iso(event: dict[str, Any]) -> dict[str, Any]:
    if isinstance(event.get("time"), (int, float)):
        event = dict(event)
        event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(event["time"])))
    return event


def patch_eventbridge_targets(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gaps in `Rule.send_to_targets`: (1) Lambda and Step Functions targets raise
    NotImplementedError (and S3's EventBridge delivery swallows it, skipping later rules);
    (2) schedule rules have no pattern, and moto matches an empty pattern against EVERY event;
    (3) DISABLED rules still deliver. Lambda targets are invoked asynchronously (like AWS) with
    an ISO-8601 `time`; the target's `Input` replaces the event as on AWS."""
    from moto.awslambda.utils import get_backend as get_lambda_backend
    from moto.events.models import Rule
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends
    from moto.utilities.arns import parse_arn

    original = Rule.__dict__["send_to_targets"]

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if self.state == "DISABLED" or not self.event_pattern.get_pattern():
            return
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if parse_arn(t["Arn"]).service in ("lambda", "states")]
        others = [t for t in self.targets if t not in ours]
        if others:
            saved = self.targets
            self.targets = others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved
        for target in ours:
            payload: Any = _iso(original_event)
            if "Input" in target:
                payload = json.loads(target["Input"])
            elif transform_input and target.get("InputTransformer"):
                from moto.events.utils import EventTemplateParser

                transformer = target["InputTransformer"]
                payload = EventTemplateParser.parse(
                    input_template=transformer.get("InputTemplate"),
                    input_paths_map=transformer.get("InputPathsMap", {}),
                    event=payload,
                )
            arn = parse_arn(target["Arn"])
            if arn.service == "lambda":
                fn = get_lambda_backend(arn.account, arn.region).get_function(target["Arn"])
                threading.Thread(
                    target=fn._invoke_lambda, args=(json.dumps(payload),), name=f"eb-{self.name}", daemon=True
                ).start()
            else:
                stepfunctions_parser_backends[arn.account][arn.region].start_execution(
                    target["Arn"], str(uuid.uuid4()), json.dumps(payload)
                )

    _replace(Rule, "send_to_targets", send_to_targets, undo)


# --------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------
_sequencer_lock = threading.Lock()
_last_sequencer = 0


def _next_sequencer() -> str:
    """S3 sequencers are hex strings that grow with each event on a key (AWS: compare as equal-length hex)."""
    global _last_sequencer
    with _sequencer_lock:
        _last_sequencer = max(_last_sequencer + 1, time.time_ns())
        return f"{_last_sequencer:020X}"


def patch_s3_eventbridge_detail(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: moto's S3 -> EventBridge event differs from AWS's: the object's etag is sent as `eTag`
    (AWS: `etag`), every event carries the same constant `sequencer` (AWS: one per event, growing),
    and `version-id` is sent for unversioned buckets.
    Handlers keying jobs on etag/sequencer would see every upload of a key as the same one."""
    import copy

    from moto.events.models import events_backends
    from moto.events.utils import _BASE_EVENT_MESSAGE
    from moto.s3 import notifications

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        event = copy.deepcopy(_BASE_EVENT_MESSAGE)
        event["detail-type"] = notifications._detail_type(event_name)
        event["source"] = "aws.s3"
        event["account"] = account_id
        event["time"] = time.time()  # moto's internal form: its targets render it (SQS) or _iso() does (Lambda)
        event["region"] = bucket.region_name
        event["resources"] = [bucket.arn]
        obj: dict[str, Any] = {"key": key.name, "sequencer": _next_sequencer()}
        if event["detail-type"] == "Object Created":
            obj.update(size=key.size, etag=key.etag.replace('"', ""))
        if getattr(bucket, "is_versioned", False) and key.version_id:
            obj["version-id"] = key.version_id
        event["detail"] = {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": event_name.split(":")[1],
        }
        if event["detail-type"] == "Object Deleted":
            marker = event_name.endswith("DeleteMarkerCreated")
            event["detail"]["deletion-type"] = "Delete Marker Created" if marker else "Permanently Deleted"
            event["detail"]["reason"] = "DeleteObject"
        backend = events_backends[account_id][bucket.region_name]
        for event_bus in backend.event_buses.values():
            for rule in event_bus.rules.values():
                try:
                    rule.send_to_targets(event, transform_input=False)
                except Exception:  # one broken rule must not starve the others (AWS delivers independently)
                    log.exception("delivering the S3 event of %s to rule %s failed", key.name, rule.name)

    _replace(notifications, "_send_event_bridge_message", send_event_bridge_message, undo)


def patch_s3_versioned_delete_events(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: in a versioned bucket moto sends no event when DeleteObject creates a delete marker (AWS: `Object
    Deleted`, deletion-type `Delete Marker Created`, the marker's version id), and sends one for a permanently
    deleted version only when it was the key's last (AWS: one per deleted version). Send both the AWS way (to
    EventBridge, the only S3 notification the template configures)."""
    from moto.s3 import notifications
    from moto.s3.models import S3Backend

    original = S3Backend.delete_object

    def delete_object(
        self: Any, bucket_name: str, key_name: str, version_id: str | None = None, bypass: bool = False
    ) -> tuple[bool, dict[str, Any]]:
        bucket = self.get_bucket(bucket_name)
        versioned = bool(getattr(bucket, "is_versioned", False))
        target = None
        if versioned and version_id is not None:
            target = next((k for k in bucket.keys.getlist(key_name, []) if str(k.version_id) == str(version_id)), None)
        deleted, meta = original(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
        if deleted and versioned and bucket.notification_configuration is not None:
            if bucket.notification_configuration.event_bridge is None:
                return deleted, meta
            if version_id is None:
                marker = bucket.keys.get(key_name)
                event = notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT
                notifications._send_event_bridge_message(self.account_id, bucket, event, marker)
            elif target is not None and key_name in bucket.keys:  # moto itself sent nothing (versions remain)
                event = notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_EVENT
                notifications._send_event_bridge_message(self.account_id, bucket, event, target)
        return deleted, meta

    _replace(S3Backend, "delete_object", delete_object, undo)


def _s3_filter(cfn_filter: dict[str, Any] | None) -> dict[str, Any] | None:
    if not cfn_filter:
        return None
    rules = cfn_filter.get("S3Key", {}).get("Rules", [])
    return {"S3Key": {"FilterRule": [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]}}


def cfn_notification_to_api(cfg: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation `NotificationConfiguration` -> moto's put_bucket_notification_configuration dict."""
    out: dict[str, Any] = {}
    for cfn_key, api_key, target_key in (
        ("LambdaConfigurations", "CloudFunctionConfiguration", "Function"),
        ("QueueConfigurations", "QueueConfiguration", "Queue"),
        ("TopicConfigurations", "TopicConfiguration", "Topic"),
    ):
        items = []
        for item in cfg.get(cfn_key, []):
            entry: dict[str, Any] = {api_key.replace("Configuration", ""): item[target_key], "Event": [item["Event"]]}
            if api_key == "CloudFunctionConfiguration":
                entry = {"CloudFunction": item[target_key], "Event": [item["Event"]]}
            api_filter = _s3_filter(item.get("Filter"))
            if api_filter:
                entry["Filter"] = api_filter
            items.append(entry)
        if items:
            out[api_key] = items
    eb = cfg.get("EventBridgeConfiguration") or {}
    if str(eb.get("EventBridgeEnabled", "false")).lower() == "true":
        out["EventBridgeConfiguration"] = {}
    return out


def patch_s3_bucket_notifications(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: `AWS::S3::Bucket` ignores `NotificationConfiguration` (EventBridge on, Lambda/SQS/SNS
    configurations) and `VersioningConfiguration`. Apply them after creating the bucket (versioning first: the
    events of a versioned bucket carry `version-id`). `LifecycleConfiguration` is not applied: moto never expires
    anything, so it would change nothing."""
    from moto.s3.models import FakeBucket, s3_backends
    from moto.utilities.utils import get_partition

    original = FakeBucket.__dict__["create_from_cloudformation_json"]

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        bucket = original.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json.get("Properties", {})
        backend = s3_backends[account_id][get_partition(region_name)]
        versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
        if versioning in ("Enabled", "Suspended"):
            backend.put_bucket_versioning(bucket.name, versioning)
        cfg = properties.get("NotificationConfiguration")
        if cfg:
            backend.put_bucket_notification_configuration(bucket.name, cfn_notification_to_api(cfg))
        return bucket

    _replace(FakeBucket, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json), undo)


# --------------------------------------------------------------------------------------------
# CloudFormation resource types moto does not know
# --------------------------------------------------------------------------------------------
_MODEL_REFS: list[type] = []  # CloudFormationModel.__subclasses__() holds weak references


def _register_models(models: list[type]) -> None:
    """Registration lasts for the process (the moto server process is ours alone)."""
    from moto.cloudformation import parsing

    _MODEL_REFS.extend(models)
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


def _build_models(ctx: PatchContext) -> list[type]:
    from moto.awslambda.utils import get_backend as get_lambda_backend
    from moto.core.common_models import CloudFormationModel
    from moto.sns.models import sns_backends

    class SnsSubscription(CloudFormationModel):
        """`AWS::SNS::Subscription` (moto: "No Moto CloudFormation support")."""

        __module__ = "moto.sns.models"

        def __init__(self, arn: str) -> None:
            self.arn = arn

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::Subscription"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> SnsSubscription:
            props = cloudformation_json["Properties"]
            topic_arn = props["TopicArn"]
            backend = sns_backends[account_id][topic_arn.split(":")[3]]
            sub = backend.subscribe(topic_arn, props["Endpoint"], props["Protocol"])
            for attr in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy"):
                if attr in props:
                    value = props[attr]
                    value = (
                        json.dumps(value)
                        if isinstance(value, dict)
                        else str(value).lower()
                        if isinstance(value, bool)
                        else str(value)
                    )
                    backend.set_subscription_attributes(sub.arn, attr, value)
            return cls(sub.arn)

    class LambdaUrl(CloudFormationModel):
        """`AWS::Lambda::Url`: moto has the API but no CloudFormation model, and its URLs are not
        served. Register the URL config and serve it on a local HTTP listener (function_url.py)."""

        __module__ = "moto.awslambda.models"

        def __init__(self, function_arn: str, url: str) -> None:
            self.function_arn = function_arn
            self.url = url

        @property
        def physical_resource_id(self) -> str:
            return self.function_arn

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Url"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in ("FunctionUrl", "FunctionArn")

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            return self.url if attribute_name == "FunctionUrl" else self.function_arn

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> LambdaUrl:
            props = cloudformation_json["Properties"]
            backend = get_lambda_backend(account_id, region_name)
            fn = backend.get_function(props["TargetFunctionArn"])
            url = ctx.gateway.register(fn.function_name)
            config = {k: v for k, v in props.items() if k in ("AuthType", "Cors", "InvokeMode")}
            backend.create_function_url_config(fn.function_name, config)
            fn.url_config.config["FunctionUrl"] = url  # what GetFunctionUrlConfig answers
            return cls(fn.function_arn, url)

    def accepted(cfn_type: str, service_module: str, attrs: tuple[str, ...] = ()) -> type:
        """Types that only need to deploy locally (no behaviour moto could check)."""

        class Accepted(CloudFormationModel):
            __module__ = service_module

            def __init__(self, name: str) -> None:
                self.name = name

            @property
            def physical_resource_id(self) -> str:
                return self.name

            @staticmethod
            def cloudformation_name_type() -> str:
                return ""

            @staticmethod
            def cloudformation_type() -> str:
                return cfn_type

            @classmethod
            def has_cfn_attr(cls, attr: str) -> bool:
                return attr in attrs

            def get_cfn_attribute(self, attribute_name: str) -> Any:
                return f"arn:aws:local:{attribute_name}:{self.name}"

            @classmethod
            def create_from_cloudformation_json(  # type: ignore[override]
                cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
            ) -> Any:
                return cls(resource_name)

        Accepted.__name__ = Accepted.__qualname__ = cfn_type.replace("::", "")
        return Accepted

    return [
        SnsSubscription,
        LambdaUrl,
        # moto does not enforce IAM: queue/topic policies have nothing to do.
        accepted("AWS::SQS::QueuePolicy", "moto.sqs.models"),
        accepted("AWS::SNS::TopicPolicy", "moto.sns.models"),
        accepted("AWS::S3::BucketPolicy", "moto.s3.models"),
        # Alarms need metrics moto does not produce; deploying them is enough locally.
        accepted("AWS::CloudWatch::Alarm", "moto.cloudwatch.models", ("Arn",)),
    ]


def patch_cloudformation_models(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gaps: no CloudFormation model for AWS::SNS::Subscription, AWS::Lambda::Url,
    AWS::SQS::QueuePolicy, AWS::SNS::TopicPolicy, AWS::S3::BucketPolicy, AWS::CloudWatch::Alarm (an Output GetAtt on an
    unknown type even crashes moto's output validation). Register models for them."""
    if any(m.cloudformation_type() == "AWS::Lambda::Url" for m in _MODEL_REFS):
        return  # already registered in this process
    _register_models(_build_models(ctx))


def patch_cfn_parameter_defaults(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: moto converts CommaDelimitedList / List<...> / Number parameters only when they are passed;
    a *default* stays a plain string (`!Ref` of a CommaDelimitedList default gives "a,b", not ["a", "b"]).
    Treat unpassed defaults of those types as if they were passed."""
    from moto.cloudformation.parsing import ResourceMap

    original = ResourceMap.__dict__["load_parameters"]

    def load_parameters(self: Any) -> None:
        for name, slot in (self._template.get("Parameters") or {}).items():
            value_type = slot.get("Type", "String")
            typed = value_type in ("CommaDelimitedList", "Number") or value_type.startswith("List")
            if typed and name not in self.input_parameters and slot.get("Default") is not None:
                self.input_parameters[name] = str(slot["Default"])
        original(self)

    _replace(ResourceMap, "load_parameters", load_parameters, undo)


def patch_custom_resources(ctx: PatchContext, undo: list[Undo]) -> None:
    """Gap: moto invokes a custom resource's Lambda in a background thread with a ResponseURL on
    host.docker.internal, and `Fn::GetAtt` on it is resolved before any answer. Invoke it
    synchronously during the deploy with a CloudFormation-style Create event whose ResponseURL is
    served locally (function_url.py), and feed the response's `Data` to Fn::GetAtt. A FAILED
    response or a handler error fails the deploy with the reason and the log to read."""
    from moto.awslambda.utils import get_backend as get_lambda_backend
    from moto.cloudformation.custom_model import CustomModel
    from moto.cloudformation.exceptions import ValidationError

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        logical_id, stack_id = kwargs["LogicalId"], kwargs["StackId"]
        properties = cloudformation_json["Properties"]
        fn = get_lambda_backend(account_id, region_name).get_function(properties["ServiceToken"])
        request_id = str(uuid.uuid4())
        resource = CustomModel(region_name, request_id, logical_id, resource_name)
        response_url = ctx.gateway.expect_cfn_response(request_id)
        event = {
            "RequestType": "Create",
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": response_url,
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": kwargs["ResourceType"],
            "ResourceProperties": properties,
        }
        spec = _function_spec(fn)
        payload, errored, _logs = fn._invoke_lambda(json.dumps(event))
        response = ctx.gateway.pop_cfn_response(request_id)
        where = f"see {ctx.runtime.settings.logs_dir / (spec.log_name + '.log')}"
        if response is None:
            returned = json.loads(payload) if payload else None
            if errored:
                raise ValidationError(message=f"Custom resource {logical_id}: handler failed: {payload} ({where})")
            if isinstance(returned, dict) and ("Data" in returned or "Status" in returned):
                response = returned  # handler returned the response instead of PUTting it
            else:
                raise ValidationError(
                    message=f"Custom resource {logical_id}: no response was sent to the ResponseURL ({where})"
                )
        if response.get("Status", "SUCCESS") != "SUCCESS":
            raise ValidationError(message=f"Custom resource {logical_id} FAILED: {response.get('Reason')} ({where})")
        resource.resource_name = response.get("PhysicalResourceId") or resource_name
        resource.set_data(response.get("Data") or {})
        return resource

    _replace(CustomModel, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json), undo)


ALL_PATCHES: tuple[Callable[[PatchContext, list[Undo]], None], ...] = (
    patch_lambda_runtime,
    patch_sfn_executing_backend,
    patch_sfn_unnamed_executions,
    patch_sfn_cloudformation,
    patch_sfn_status_events,
    patch_sfn_stop_is_immediate,
    patch_sfn_failure_logs,
    patch_eventbridge_targets,
    patch_s3_bucket_notifications,
    patch_s3_eventbridge_detail,
    patch_s3_versioned_delete_events,
    patch_cloudformation_models,
    patch_cfn_parameter_defaults,
    patch_custom_resources,
)


def install(ctx: PatchContext) -> Undo:
    """Apply every patch; returns a function that undoes them (in reverse order)."""
    if moto.__version__ != PINNED_MOTO_VERSION:
        raise RuntimeError(f"local_stack patches moto {PINNED_MOTO_VERSION} internals; found moto {moto.__version__}")
    undo: list[Undo] = []
    for patch in ALL_PATCHES:
        patch(ctx, undo)

    def uninstall() -> None:
        for step in reversed(undo):
            step()

    return uninstall


# --------------------------------------------------------------------------------------------
# Template-level fixes (applied client-side to the translated template)
# --------------------------------------------------------------------------------------------
def fix_translated_template(template: dict[str, Any]) -> dict[str, Any]:
    """Gap: `Layers` on functions (public ARNs such as Powertools', or our own layer) make moto's
    CreateFunction fail or are ignored; the local runtime puts shared/ on PYTHONPATH instead
    (it stands for /opt/python). Strip them. The layer resources themselves still deploy."""
    out = json.loads(json.dumps(template))
    for resource in out.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Lambda::Function":
            resource.get("Properties", {}).pop("Layers", None)
    return out
