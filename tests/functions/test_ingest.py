"""ingest: screening before money is spent, exactly one execution per object version, images/audio embedded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.functions.conftest import Stack, load_event, s3_event, sqs_batch


def _upload_event(stack: Stack, key: str, data: bytes, **kwargs: Any) -> dict[str, Any]:
    put = stack.put(key, data)
    return s3_event(stack.media_bucket, key, len(data), put["ETag"].strip('"'), **kwargs)


def _ingest(handler: Any, context: Any, *bodies: Any) -> dict[str, Any]:
    return dict(handler("ingest").lambda_handler(sqs_batch(*bodies), context))


def test_video_starts_one_execution_and_records_the_job(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    key = "videos/été 2026/a b.mp4"  # spaces and unicode, URL-encoded in the event
    event = _upload_event(stack, key, (samples / "videos" / "ocean-waves.mp4").read_bytes())
    assert "%C3%A9t%C3%A9+2026" in event["detail"]["object"]["key"]

    assert _ingest(handler, context, event) == {"batchItemFailures": []}

    [job] = stack.jobs()
    assert job["status"] == "RECEIVED" and job["key"] == key and job["kind"] == "video"
    assert job["s3_uri"] == f"s3://{stack.media_bucket}/{key}"
    [execution] = stack.executions()
    assert execution["name"] == job["job_key"] and job["execution_arn"] == execution["executionArn"]
    described = stack.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    payload = json.loads(described["input"])
    assert payload["key"] == key and payload["index_id"] == stack.index_id
    assert [a["name"] for a in payload["analyses"]] == ["gist", "summary", "safety"]
    assert payload["embedding"] == {"clip_length": 6.0, "scopes": ["clip", "video"]}
    assert "version_id" in payload  # every key present: the ASL reads them by path
    assert stack.emulator.posts("/tasks") == []  # indexing is the state machine's job, not ingest's


def test_same_event_twice_and_same_bytes_reuploaded_start_one_execution(
    stack: Stack, handler: Any, context: Any, samples: Path
) -> None:
    data = (samples / "videos" / "ocean-waves.mp4").read_bytes()
    event = _upload_event(stack, "videos/clip.mp4", data)
    _ingest(handler, context, event, event)  # duplicate delivery inside one batch
    _ingest(handler, context, event)  # redelivered later
    reupload = _upload_event(stack, "videos/clip.mp4", data)  # same bytes, new sequencer
    _ingest(handler, context, reupload)
    assert len(stack.executions()) == 1
    assert len(stack.jobs()) == 1

    changed = _upload_event(stack, "videos/clip.mp4", data + b"\0")  # a changed object is a new job
    _ingest(handler, context, changed)
    assert len(stack.executions()) == 2


def test_received_item_without_execution_is_started_on_redelivery(
    stack: Stack, handler: Any, context: Any, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    event = _upload_event(stack, "videos/retry.mp4", (samples / "videos" / "ocean-waves.mp4").read_bytes())
    runtime = handler("ingest").function.runtime()
    real_start = runtime.sfn.start_execution

    def throttled(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")

    monkeypatch.setattr(runtime.sfn, "start_execution", throttled)
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):  # every record failed: SQS redelivers the batch
        _ingest(handler, context, event)
    [job] = stack.jobs()
    assert job["status"] == "RECEIVED" and "execution_arn" not in job

    monkeypatch.setattr(runtime.sfn, "start_execution", real_start)
    assert _ingest(handler, context, event) == {"batchItemFailures": []}
    assert len(stack.executions()) == 1
    assert stack.job(job["job_key"])["execution_arn"] == stack.executions()[0]["executionArn"]


@pytest.mark.parametrize(
    ("sample", "key", "code"),
    [
        ("bad/empty.mp4", "videos/empty.mp4", "empty_object"),
        ("bad/not-a-video.mp4", "videos/notes.mp4", "not_a_video"),
        ("bad/tiny-320x240.mp4", "videos/tiny.mp4", "video_resolution_too_low"),
        ("bad/short-2s.mp4", "videos/short.mp4", "video_duration_too_short"),
    ],
)
def test_bad_files_are_rejected_before_any_twelvelabs_call(
    stack: Stack, handler: Any, context: Any, samples: Path, sample: str, key: str, code: str
) -> None:
    event = _upload_event(stack, key, (samples / sample).read_bytes())
    assert _ingest(handler, context, event) == {"batchItemFailures": []}
    [job] = stack.jobs()
    assert job["status"] == "REJECTED" and job["error_code"] == code and job["error_message"]
    [message] = stack.notifications()
    assert message["event_type"] == "video.rejected" and message["error"]["code"] == code
    assert message["_attributes"]["event_type"] == "video.rejected"
    assert stack.executions() == []
    # The only TwelveLabs request is the fixture's own index creation.
    assert [r["method"] for r in stack.emulator.requests() if not str(r["path"]).endswith("/indexes")] == []
    # The same bad event again: no second item, no second message.
    _ingest(handler, context, event)
    assert stack.notifications() == [] and len(stack.jobs()) == 1


def test_object_over_2_gb_is_rejected_from_the_event_size(stack: Stack, handler: Any, context: Any) -> None:
    event = s3_event(stack.media_bucket, "videos/huge.mp4", 3 * 1024**3, "0" * 32)
    _ingest(handler, context, event)
    [job] = stack.jobs()
    assert job["status"] == "REJECTED" and job["error_code"] == "object_too_large"


def test_own_outputs_are_ignored_silently(stack: Stack, handler: Any, context: Any, samples: Path) -> None:
    event = _upload_event(stack, "results/abc/embeddings.json", b'{"a": 1}')
    assert _ingest(handler, context, event) == {"batchItemFailures": []}
    assert stack.jobs() == [] and stack.notifications() == [] and stack.executions() == []


def test_keys_outside_the_configured_suffixes_are_ignored_silently(
    stack: Stack, handler: Any, context: Any, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_SUFFIXES", ".mov,.MP4")
    video = (samples / "videos" / "forest-walk.mp4").read_bytes()
    skipped = _upload_event(stack, "videos/walk.webm", video)
    taken = _upload_event(stack, "videos/WALK.mp4", video)
    assert _ingest(handler, context, skipped) == {"batchItemFailures": []}
    assert stack.jobs() == [] and stack.executions() == []
    _ingest(handler, context, taken)
    assert [j["key"] for j in stack.jobs()] == ["videos/WALK.mp4"] and len(stack.executions()) == 1


def test_poison_record_fails_alone(stack: Stack, handler: Any, context: Any, samples: Path) -> None:
    good = _upload_event(stack, "videos/good.mp4", (samples / "videos" / "forest-walk.mp4").read_bytes())
    batch = sqs_batch("this is not json", good, {"detail-type": "Object Created", "source": "aws.s3"})
    result = handler("ingest").lambda_handler(batch, context)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {batch["Records"][0]["messageId"], batch["Records"][2]["messageId"]}
    assert len(stack.executions()) == 1


def test_s3_notification_records_shape_is_accepted(stack: Stack, handler: Any, context: Any, samples: Path) -> None:
    data = (samples / "videos" / "city-traffic.mov").read_bytes()
    put = stack.put("videos/city traffic.mov", data)
    body = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": stack.media_bucket},
                    "object": {
                        "key": "videos/city+traffic.mov",
                        "size": len(data),
                        "eTag": put["ETag"].strip('"'),
                        "sequencer": "0A1B",
                    },
                },
            }
        ]
    }
    assert _ingest(handler, context, body, {"Event": "s3:TestEvent"}) == {"batchItemFailures": []}
    [job] = stack.jobs()
    assert job["key"] == "videos/city traffic.mov" and job["media_format"] == "mov"


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        ("media/still.jpg", "image"),
        ("media/still.png", "image"),
        ("media/tone.wav", "audio"),
        ("media/tone.mp3", "audio"),
    ],
)
def test_images_and_audio_are_embedded_directly(
    stack: Stack, handler: Any, context: Any, samples: Path, sample: str, kind: str
) -> None:
    name = Path(sample).name
    event = _upload_event(stack, f"media/{name}", (samples / sample).read_bytes())
    assert _ingest(handler, context, event) == {"batchItemFailures": []}
    [job] = stack.jobs()
    assert job["status"] == "COMPLETED" and job["kind"] == kind
    uri = job["results"]["embeddings"]
    assert uri == f"s3://{stack.results_bucket}/results/{job['job_key']}/embeddings.json"
    stored = json.loads(
        stack.client("s3").get_object(Bucket=stack.results_bucket, Key=uri.split("/", 3)[3])["Body"].read()
    )
    assert len(stored[f"{kind}_embedding"]["segments"][0]["float"]) == 1024
    [message] = stack.notifications()
    assert message["event_type"] == "embedding.completed" and message["results"]["embeddings"] == uri
    assert stack.executions() == []
    [call] = stack.emulator.posts("/embed")
    assert call is not None


def test_sample_event_file_is_a_valid_ingest_event(stack: Stack, handler: Any, context: Any) -> None:
    # events/ingest.json names an object that does not exist here, under neither form of its (URL-encoded) key:
    # recorded as such (REJECTED object_not_found), never dropped silently.
    s3 = stack.client("s3")
    if "media-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="media-bucket")
    assert handler("ingest").lambda_handler(load_event("ingest"), context) == {"batchItemFailures": []}
    assert [(j["status"], j["error_code"]) for j in stack.jobs()] == [("REJECTED", "object_not_found")]
