"""Guard: fails loudly when a moto upgrade moves an internal that local_stack/moto_patches.py patches."""

from __future__ import annotations

import inspect
import logging

import moto
import pytest

from local_stack import moto_patches


def params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_moto_is_the_pinned_version() -> None:
    assert moto.__version__ == moto_patches.PINNED_MOTO_VERSION, (
        f"moto {moto.__version__} is installed but local_stack patches {moto_patches.PINNED_MOTO_VERSION}: "
        "re-check every patch in local_stack/moto_patches.py, then update PINNED_MOTO_VERSION"
    )


def test_lambda_hook_point() -> None:
    from moto.awslambda.models import LambdaBackend, LambdaFunction

    assert params(LambdaFunction.__dict__["_invoke_lambda"]) == ["self", "event"]
    assert "_invoke_lambda(event=body)" in inspect.getsource(LambdaFunction.invoke)
    init = inspect.getsource(LambdaFunction.__init__)
    for attr in (
        "self.code =",
        "self.handler =",
        "self.environment_vars =",
        "self.timeout =",
        "self.memory_size =",
        "self.function_arn",
    ):
        assert attr in init, attr
    assert "code_bytes" in inspect.getsource(LambdaFunction)
    # SQS event source mappings reach the hook through these:
    assert params(LambdaBackend.send_sqs_batch) == ["self", "function_arn", "messages", "queue_arn"]
    assert "x-amz-function-error" in inspect.getsource(LambdaBackend._send_sqs_message)
    assert params(LambdaBackend.create_function_url_config) == ["self", "name_or_arn", "config"]


def test_step_functions_internals() -> None:
    from moto.core.config import default_user_config
    from moto.stepfunctions import responses
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.parser.asl.utils import boto_client
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend, stepfunctions_parser_backends

    assert isinstance(default_user_config, dict)
    assert "execute_state_machine" in inspect.getsource(responses.get_backend)
    assert "moto_server_port()" in inspect.getsource(boto_client.boto_client_for)
    assert params(StepFunctionsParserBackend.start_execution)[:3] == ["self", "state_machine_arn", "name"]
    create = params(StepFunctionsParserBackend.create_state_machine)
    assert create[:4] == ["self", "name", "definition", "roleArn"] and "tags" in create and "sm_type" in create
    assert "create_from_cloudformation_json" in StateMachine.__dict__
    assert params(BaseExecutionWorkerCommunication.__dict__["terminated"]) == ["self"]
    assert params(Execution.__dict__["stop"]) == ["self", "stop_date", "error", "cause"]
    source = inspect.getsource(Execution)
    for attr in (
        "exec_status",
        "exec_arn",
        "state_machine_arn",
        "start_date",
        "stop_date",
        "input_data",
        "output",
        "error",
        "cause",
        "account_id",
        "region_name",
        "name",
    ):
        assert f"self.{attr}" in source, attr
    assert stepfunctions_parser_backends is not None


def test_sfn_failure_log_internals() -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import LOG, EvalComponent

    assert params(EvalComponent.__dict__["_log_failure_event_exception"]) == ["self", "failure_event_exception"]
    assert params(EvalComponent.__dict__["_log_exception"]) == ["self", "exception"]
    assert "failure_event.error_name" in inspect.getsource(EvalComponent.__dict__["_log_failure_event_exception"])
    evaluate = inspect.getsource(EvalComponent.eval)
    assert "self._log_failure_event_exception(" in evaluate and "self._log_exception(" in evaluate
    assert LOG.name == "moto.stepfunctions.parser.asl.component.eval_component"


def test_sfn_failure_logs_are_quiet_until_undone(caplog: pytest.LogCaptureFixture) -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    class Component:
        def __repr__(self) -> str:
            return "a very long state repr " * 100

    undo: list[moto_patches.Undo] = []
    moto_patches.patch_sfn_failure_logs(moto_patches.PatchContext(None, None, ""), undo)  # type: ignore[arg-type]
    try:
        with caplog.at_level(logging.INFO):
            EvalComponent._log_exception(Component(), ValueError("boom"))  # type: ignore[arg-type]
        assert caplog.records == []
    finally:
        for step in reversed(undo):
            step()
    with caplog.at_level(logging.INFO):
        EvalComponent._log_exception(Component(), ValueError("boom"))  # type: ignore[arg-type]
    assert len(caplog.records) == 1 and "a very long state repr" in caplog.records[0].getMessage()


def test_eventbridge_internals() -> None:
    from moto.events.models import EventPattern, Rule, events_backends
    from moto.events.utils import EventTemplateParser
    from moto.s3 import notifications

    assert params(Rule.__dict__["send_to_targets"]) == ["self", "original_event", "transform_input"]
    init = inspect.getsource(Rule.__init__)
    for attr in ("self.state", "self.event_pattern", "self.targets", "self.scheduled_expression", "self.name"):
        assert attr in init, attr
    assert hasattr(EventPattern, "get_pattern") and hasattr(EventPattern, "matches_event")
    assert "input_paths_map" in params(EventTemplateParser.parse)
    # S3's EventBridge delivery walks every rule of every bus through send_to_targets:
    bridge = inspect.getsource(notifications._send_event_bridge_message)
    assert "send_to_targets" in bridge and "event_buses" in bridge
    assert events_backends is not None


def test_s3_internals() -> None:
    from moto.s3 import notifications
    from moto.s3.models import FakeBucket, S3Backend

    assert "create_from_cloudformation_json" in FakeBucket.__dict__
    assert params(S3Backend.put_bucket_notification_configuration) == ["self", "bucket_name", "notification_config"]
    assert params(S3Backend.put_bucket_versioning) == ["self", "bucket_name", "status"]
    assert params(S3Backend.delete_object) == ["self", "bucket_name", "key_name", "version_id", "bypass"]
    assert "def _send_event_bridge_message" in inspect.getsource(notifications)
    source = inspect.getsource(FakeBucket.set_notification_configuration)
    for key in ("TopicConfiguration", "QueueConfiguration", "CloudFunctionConfiguration", "EventBridgeConfiguration"):
        assert key in source, key


def test_cloudformation_internals() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.custom_model import CustomModel
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.common_models import CloudFormationModel

    for name in ("get_model_list", "get_model_map", "get_name_type_map"):
        assert hasattr(getattr(parsing, name), "cache_clear"), name
    assert "__subclasses__" in inspect.getsource(parsing.get_model_list)
    assert "create_from_cloudformation_json" in CustomModel.__dict__
    assert params(CustomModel.__init__) == ["self", "region_name", "request_id", "logical_id", "resource_name"]
    assert hasattr(CustomModel, "set_data")
    abstract = set(getattr(CloudFormationModel, "__abstractmethods__", ()))
    assert abstract <= {
        "cloudformation_name_type",
        "cloudformation_type",
        "has_cfn_attr",
        "create_from_cloudformation_json",
        "update_from_cloudformation_json",
        "delete_from_cloudformation_json",
    }
    assert "message" in params(ValidationError.__init__)
    load = inspect.getsource(parsing.ResourceMap.load_parameters)
    assert "self.input_parameters" in load and "self._template" in load and 'value.split(",")' in load
    kwargs = inspect.getsource(parsing.parse_and_create_resource)
    assert '"LogicalId"' in kwargs and '"StackId"' in kwargs and '"ResourceType"' in kwargs


def test_sns_and_server_internals() -> None:
    from moto import settings
    from moto.moto_server import werkzeug_app
    from moto.sns.models import SNSBackend

    assert params(SNSBackend.subscribe) == ["self", "topic_arn", "endpoint", "protocol"]
    assert params(SNSBackend.set_subscription_attributes) == ["self", "arn", "name", "value"]
    assert "MOTO_PORT" in inspect.getsource(settings.moto_server_port)
    for name in ("DomainDispatcherApplication", "create_backend_app", "MotoRequestHandler"):
        assert hasattr(werkzeug_app, name), name


@pytest.mark.parametrize("patch", moto_patches.ALL_PATCHES, ids=lambda p: p.__name__)
def test_every_patch_documents_its_gap(patch: object) -> None:
    assert patch.__doc__ and "Gap" in patch.__doc__  # type: ignore[attr-defined]


def test_s3_eventbridge_message_internals() -> None:
    from moto.events.utils import _BASE_EVENT_MESSAGE
    from moto.s3 import notifications
    from moto.s3.models import FakeBucket

    assert params(notifications._send_event_bridge_message) == ["account_id", "bucket", "event_name", "key"]
    assert "_send_event_bridge_message(account_id, bucket, event_name, key)" in inspect.getsource(
        notifications.send_event
    )
    assert notifications._detail_type("s3:ObjectCreated:Put") == "Object Created"
    assert isinstance(_BASE_EVENT_MESSAGE, dict)
    assert "is_versioned" in inspect.getsource(FakeBucket)
