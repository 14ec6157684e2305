"""Structure of statemachines/video_pipeline.asl.json: what moto's interpreter runs and what the contract says."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ASL_PATH = Path(__file__).resolve().parents[2] / "statemachines" / "video_pipeline.asl.json"
SUBSTITUTIONS = {
    "StartIndexingFunctionArn",
    "AwaitIndexingFunctionArn",
    "StartEmbeddingsFunctionArn",
    "CheckEmbeddingsFunctionArn",
    "StoreEmbeddingsFunctionArn",
    "RunAnalysisFunctionArn",
    "StartAnalysisFunctionArn",
    "FinalizeFunctionArn",
    "RecordFailureFunctionArn",
}
RETRYABLE = {
    "RateLimitedError",
    "ServerError",
    "APITimeoutError",
    "APIConnectionError",
    "Lambda.ServiceException",
    "Lambda.TooManyRequestsException",
    "DeadlineExceededError",
    "Sandbox.Timedout",
}  # every task is idempotent, so an attempt killed at the Lambda timeout is repeated
AWS_TRANSIENT = {"ClientError", "EndpointConnectionError", "ReadTimeoutError"}  # DynamoDB/SNS hiccups


def _text() -> str:
    return ASL_PATH.read_text()


def _states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in machine["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        if "ItemProcessor" in state:
            yield from _states(state["ItemProcessor"])


def test_substitution_keys_are_exactly_the_documented_ones() -> None:
    assert set(re.findall(r"\$\{(\w+)\}", _text())) == SUBSTITUTIONS


def test_jsonpath_only_and_nothing_moto_cannot_run() -> None:
    machine = json.loads(_text())
    assert machine.get("QueryLanguage", "JSONPath") == "JSONPath"
    for name, state in _states(machine):
        assert "Assign" not in state and state.get("QueryLanguage", "JSONPath") == "JSONPath", name
        assert "states:startExecution" not in state.get("Resource", "") and "aws-sdk:s3" not in state.get(
            "Resource", ""
        )


def test_every_task_retries_transient_errors_and_every_failure_reaches_record_failure() -> None:
    machine = json.loads(_text())
    top = machine["States"]
    for name, state in _states(machine):
        if state["Type"] != "Task":
            continue
        retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        assert retried >= RETRYABLE, name
        long = next(r for r in state["Retry"] if r["ErrorEquals"] == ["RateLimitedError"])
        assert long["MaxAttempts"] >= 5 and long["IntervalSeconds"] >= 10
    for name in (
        "Finalize",
        "RecordFailure",
    ):  # AWS-only, idempotent steps: an SNS/DynamoDB hiccup must not lose the news
        assert {e for r in top[name]["Retry"] for e in r["ErrorEquals"]} >= AWS_TRANSIENT, name
    for name in ("StartIndexing", "AwaitIndexing", "Enrich", "IndexAsset", "EnrichAsset", "Finalize"):
        assert top[name]["Catch"][-1] == {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.error",
            "Next": "RecordFailure",
        }, name
    assert top["RecordFailure"]["Next"] == "PipelineFailed" and top["PipelineFailed"]["Type"] == "Fail"


def test_every_wait_is_bounded() -> None:
    machine = json.loads(_text())
    top = machine["States"]
    assert machine["TimeoutSeconds"] <= 86400
    await_state = top["AwaitIndexing"]
    assert await_state["Resource"].endswith(".waitForTaskToken") and await_state["TimeoutSeconds"] <= 86400
    assert await_state["Catch"][0]["ErrorEquals"] == ["States.Timeout"]
    assert await_state["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    embed = top["Enrich"]["Branches"][0]["States"]
    assert embed["WaitForEmbeddings"]["SecondsPath"] == "$.embedding_poll.wait_seconds"
    limit = [c for c in embed["EmbeddingsReady?"]["Choices"] if "NumericGreaterThanEqualsPath" in c]
    assert limit and embed[limit[0]["Next"]]["Type"] == "Fail"


def test_only_pointers_travel_in_state() -> None:
    machine = json.loads(_text())
    for name, state in _states(machine):
        if state["Type"] == "Task" and "waitForTaskToken" not in state["Resource"]:
            assert "ResultSelector" in state and "ResultPath" in state, name
    assert machine["States"]["Enrich"]["ResultPath"] is None
    analyses = machine["States"]["Enrich"]["Branches"][1]["States"]["RunAnalyses"]
    assert analyses["ItemsPath"] == "$.analyses" and analyses["ResultPath"] is None
    assert set(analyses["ItemSelector"]) == {"job_key.$", "run.$", "video_id.$", "index_id.$", "analysis.$"}


def test_moto_parses_the_definition() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = _text()
    for key in SUBSTITUTIONS:
        definition = definition.replace(f"${{{key}}}", f"arn:aws:lambda:us-east-1:123456789012:function:{key}")
    AmazonStateLanguageParser.parse(definition)


POLICIES_PATH = ASL_PATH.with_name("retry_policies.json")
AWS_ONLY_TASKS = {"Finalize", "RecordFailure"}


def test_every_retry_block_is_one_of_the_canonical_policies() -> None:
    """ASL has no includes: the Retry blocks are declared once in retry_policies.json and each Task carries one
    verbatim (change the policy there, then copy it to every Task this test names)."""
    policies = json.loads(POLICIES_PATH.read_text())
    machine = json.loads(_text())
    tasks = {name: state for name, state in _states(machine) if state["Type"] == "Task"}
    assert len(tasks) == 13  # classic 8, current 5 (state names are unique across the whole machine)
    for name, state in tasks.items():
        expected = "AwsTask" if name in AWS_ONLY_TASKS else "TwelveLabsTask"
        assert state["Retry"] == policies[expected], f"{name}: Retry differs from retry_policies.json {expected}"
    assert "Sandbox.Timedout" in policies["TwelveLabsTask"][1]["ErrorEquals"]
    assert (
        policies["AwsTask"][1]["ErrorEquals"][: len(policies["TwelveLabsTask"][1]["ErrorEquals"])]
        == policies["TwelveLabsTask"][1]["ErrorEquals"]
    )  # the AWS policy only adds botocore errors


def test_the_surface_choice_picks_the_flow_and_defaults_to_classic() -> None:
    machine = json.loads(_text())
    choice = machine["States"][machine["StartAt"]]
    assert choice["Type"] == "Choice" and choice["Default"] == "StartIndexing"
    [rule] = [r for r in choice["Choices"] if r["Next"] == "IndexAsset"]  # the others: entry=indexed (imports)
    assert rule["Next"] == "IndexAsset"
    assert {"Variable": "$.surface", "StringEquals": "current"} in rule["And"]  # no surface (older input): classic


def test_the_current_flow_waits_only_on_task_tokens() -> None:
    """No Wait state and no polling loop on the current path: its transitions do not grow with processing time."""
    machine = json.loads(_text())
    top = machine["States"]
    enrich = top["EnrichAsset"]
    states = dict(_states({"States": {"EnrichAsset": enrich, "IndexAsset": top["IndexAsset"]}}))
    assert not [n for n, s in states.items() if s["Type"] in ("Wait", "Choice")]
    waits = [n for n, s in states.items() if s.get("Resource", "").endswith(".waitForTaskToken")]
    assert sorted(waits) == ["AwaitIndexedAsset", "StartAnalysis"]
    for name in waits:
        assert states[name]["TimeoutSeconds"] <= 86400
        assert states[name]["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    # A task (transition) count per video: Choice + IndexAsset + Parallel + 2 (embeddings) + Map + 2 per analysis
    # task + Finalize, linear in the configured analyses only.
    embed_branch, analyses_branch = enrich["Branches"]
    assert list(embed_branch["States"]) == ["AwaitIndexedAsset", "StoreIndexedEmbeddings"]
    analyze = analyses_branch["States"]["AnalyzeAsset"]
    assert analyze["ItemsPath"] == "$.analysis_tasks" and analyze["ResultPath"] is None
    assert list(analyze["ItemProcessor"]["States"]) == ["StartAnalysis", "StoreAnalysis"]
    assert enrich["Next"] == "Finalize" and enrich["ResultPath"] is None
