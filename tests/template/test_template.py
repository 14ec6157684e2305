"""The SAM template is valid before and after translation, and its IAM stays least-privilege."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


def _load_template() -> dict[str, Any]:
    from cfnlint.decode import decode_str

    template, errors = decode_str(TEMPLATE.read_text())
    assert not errors, errors
    return json.loads(json.dumps(template, default=str))


def _translate(template: dict[str, Any]) -> dict[str, Any]:
    """Offline SAM transform, the way `sam package` + CloudFormation would see it (code in S3)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.translator.transform import transform

    class BundledPolicies:
        def load(self) -> dict[str, str]:
            return get_bundled_managed_policy_map("aws")

    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://code-bucket/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://code-bucket/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine":
            props["DefinitionUri"] = {"Bucket": "code-bucket", "Key": f"{name}.asl.json"}
    return transform(template, {}, BundledPolicies())


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sam") / "translated.json"
    out.write_text(json.dumps(_translate(_load_template()), indent=1))
    return out


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(path)], capture_output=True, text=True, timeout=120
    )


def test_template_passes_cfn_lint() -> None:
    result = _cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_translated_template_passes_cfn_lint(translated: Path) -> None:
    # cfn-lint no longer runs the SAM transform itself: bad GetAtts inside SAM properties only show here.
    result = _cfn_lint(translated)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_has_its_own_role_without_wildcards_or_full_access(translated: Path) -> None:
    resources = json.loads(translated.read_text())["Resources"]
    functions = {n: r for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert len(functions) >= 13
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles), "two functions share a role"
    for name, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            managed = json.dumps(resource["Properties"].get("ManagedPolicyArns", []))
            assert "FullAccess" not in managed, f"{name} uses a *FullAccess policy"
            documents = [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":  # our shared snippets, attached by Ref
            documents = [resource["Properties"]["PolicyDocument"]]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                if statement.get("Resource") == "*" or "*" in (statement.get("Resource") or []):
                    # Step Functions log delivery and X-Ray are only authorised on "*" by AWS.
                    allowed = {"logs:", "xray:"}
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    assert all(a.startswith(tuple(allowed)) for a in actions), f"{name}: {statement}"


def test_every_work_queue_has_a_dead_letter_queue_and_an_alarm() -> None:
    resources = _load_template()["Resources"]
    queues = {n: r for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    dlqs = {
        r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for r in queues.values()
        if "RedrivePolicy" in r["Properties"]
    }
    dlqs.add("ExecutionEventsDLQ")  # the dead letters of the execution-status rule
    assert dlqs and all(n in dlqs or "RedrivePolicy" in r["Properties"] for n, r in queues.items())
    alarmed = {
        json.dumps(r["Properties"]["Dimensions"]) for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    for dlq in dlqs:
        assert any(dlq in a for a in alarmed), f"no alarm on {dlq}"


def test_buckets_are_encrypted_private_and_tls_only() -> None:
    resources = _load_template()["Resources"]
    buckets = [n for n, r in resources.items() if r["Type"] == "AWS::S3::Bucket"]
    policies = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    for name in buckets:
        props = resources[name]["Properties"]
        assert props["BucketEncryption"] and all(props["PublicAccessBlockConfiguration"].values())
        assert any(
            p["Bucket"] == {"Ref": name}
            and any(
                s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s)
                for s in p["PolicyDocument"]["Statement"]
            )
            for p in policies
        ), f"{name} has no TLS-only policy"
    assert resources["MediaBucket"]["Properties"]["NotificationConfiguration"]["EventBridgeConfiguration"][
        "EventBridgeEnabled"
    ]


def test_alarms_can_publish_to_their_topic() -> None:
    # CloudWatch cannot publish to a topic encrypted with the AWS-managed key alias/aws/sns.
    resources = _load_template()["Resources"]
    targets = {
        action["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        for action in r["Properties"]["AlarmActions"]
    }
    assert targets
    for topic in targets:
        assert resources[topic]["Properties"].get("KmsMasterKeyId") != "alias/aws/sns", topic


def test_failed_execution_events_are_retried_and_dead_lettered() -> None:
    event = _load_template()["Resources"]["RecordFailureFunction"]["Properties"]["Events"]["ExecutionEnded"][
        "Properties"
    ]
    assert event["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 3600
    assert event["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ExecutionEventsDLQ", "Arn"]}


def test_shared_policy_snippets_are_each_attached_to_several_functions(translated: Path) -> None:
    """A statement several functions need is one AWS::IAM::ManagedPolicy, attached by Ref (said once)."""
    resources = json.loads(translated.read_text())["Resources"]
    shared = {n for n, r in resources.items() if r["Type"] == "AWS::IAM::ManagedPolicy"}
    assert shared
    for policy in shared:
        users = [
            n
            for n, r in resources.items()
            if r["Type"] == "AWS::IAM::Role" and {"Ref": policy} in r["Properties"].get("ManagedPolicyArns", [])
        ]
        assert len(users) >= 2, f"{policy} is used by {users}: inline it where it is used"
    inline = [
        json.dumps(s, sort_keys=True)
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Role"
        for p in r["Properties"].get("Policies", [])
        for s in p["PolicyDocument"]["Statement"]
    ]
    repeated = {s for s in inline if inline.count(s) > 1 and "secretsmanager" not in s and "lambda:Invoke" not in s}
    assert not repeated, f"inline statements repeated across roles (make them a shared policy): {repeated}"


def test_the_surface_parameter_reaches_ingest_and_the_index_resource() -> None:
    template = _load_template()
    parameter = template["Parameters"]["TwelveLabsSurface"]
    assert parameter["Default"] == "current" and sorted(parameter["AllowedValues"]) == ["classic", "current"]
    env = template["Resources"]["IngestFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TWELVELABS_SURFACE"] == {"Ref": "TwelveLabsSurface"}
    index = template["Resources"]["TwelveLabsIndex"]["Properties"]
    # A property (not only an environment variable): changing the surface updates the custom resource.
    assert index["Surface"] == {"Ref": "TwelveLabsSurface"} and "Models" not in index
    # The state machine can invoke the current flow's own function.
    machine = template["Resources"]["VideoPipeline"]["Properties"]
    assert machine["DefinitionSubstitutions"]["StartAnalysisFunctionArn"] == {
        "Fn::GetAtt": ["StartAnalysisFunction", "Arn"]
    }
    assert {"LambdaInvokePolicy": {"FunctionName": {"Ref": "StartAnalysisFunction"}}} in machine["Policies"]
