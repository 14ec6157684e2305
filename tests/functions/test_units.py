"""Pure logic: settings, job keys, media sniffing/probing, failure descriptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from video_pipeline.errors import ConfigurationError
from video_pipeline.failures import describe_caught
from video_pipeline.job_keys import execution_name, job_key_for, job_key_from_execution_name
from video_pipeline.media_probe import BytesReader, probe_iso_bmff
from video_pipeline.media_sniff import image_dimensions, sniff
from video_pipeline.models.events import S3ObjectRef, parse_s3_message_body
from video_pipeline.models.payloads import CaughtError
from video_pipeline.settings import CheckEmbeddingsSettings, IngestSettings, StartEmbeddingsSettings, load_settings

INGEST_ENV = {
    "TWELVELABS_BASE_URL": "https://api.twelvelabs.io/v1.3",
    "TWELVELABS_INDEX_ID": "idx",
    "JOBS_TABLE": "jobs",
    "RESULTS_BUCKET": "results",
    "NOTIFICATIONS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:sm",
    "TWELVELABS_SURFACE": "current",
    "ANALYSES": '[{"name": "gist", "kind": "gist"}, {"name": "summary", "kind": "summary"}]',
    "IGNORE_PREFIXES": "results/, _internal/",
    "KEY_SUFFIXES": "",
    "EMBED_CLIP_LENGTH": "6",
    "EMBED_SCOPES": "clip,video",
}


def test_settings_name_every_missing_or_invalid_variable() -> None:
    with pytest.raises(ConfigurationError) as missing:
        load_settings(IngestSettings, {"TWELVELABS_BASE_URL": "https://x"})
    required = (
        "JOBS_TABLE",
        "STATE_MACHINE_ARN",
        "TWELVELABS_INDEX_ID",
        "TWELVELABS_SURFACE",
        "ANALYSES",
        "EMBED_SCOPES",
    )
    for name in required:
        assert f"{name}: missing" in str(missing.value)
    with pytest.raises(ConfigurationError, match="ANALYSES"):
        load_settings(IngestSettings, {**INGEST_ENV, "ANALYSES": '[{"name": "x", "kind": "analyze"}]'})  # no prompt
    with pytest.raises(ConfigurationError, match="EMBED_CLIP_LENGTH"):
        load_settings(IngestSettings, {**INGEST_ENV, "EMBED_CLIP_LENGTH": "30"})
    with pytest.raises(ConfigurationError, match="TWELVELABS_SURFACE"):
        load_settings(IngestSettings, {**INGEST_ENV, "TWELVELABS_SURFACE": "v2"})
    with pytest.raises(ConfigurationError, match="EMBED_POLL_MAX_SECONDS"):
        load_settings(
            CheckEmbeddingsSettings,
            {
                "TWELVELABS_BASE_URL": "https://x",
                "EMBED_POLL_FIRST_SECONDS": "30",
                "EMBED_POLL_MAX_SECONDS": "10",
                "EMBED_POLL_MAX_ATTEMPTS": "5",
            },
        )
    settings = load_settings(IngestSettings, INGEST_ENV)
    assert settings.ignore_prefixes == ["results/", "_internal/"]
    assert settings.key_suffixes == []  # empty = every key
    assert load_settings(IngestSettings, {**INGEST_ENV, "KEY_SUFFIXES": ".mp4, .MOV"}).key_suffixes == [".mp4", ".MOV"]
    assert [a.name for a in settings.analyses] == ["gist", "summary"]
    assert settings.analyses[0].types == ["title", "topic", "hashtag"]  # a gist without types asks for all three


def test_start_embeddings_reads_the_poll_settings_it_returns() -> None:
    """The first poll state (wait, budget) comes from start_embeddings: EmbedPollFirstSeconds must reach it."""
    env = {"TWELVELABS_BASE_URL": "https://x", "JOBS_TABLE": "jobs"}
    with pytest.raises(ConfigurationError, match="EMBED_POLL_FIRST_SECONDS: missing"):
        load_settings(StartEmbeddingsSettings, env)
    settings = load_settings(
        StartEmbeddingsSettings, {**env, "EMBED_POLL_FIRST_SECONDS": "42", "EMBED_POLL_MAX_ATTEMPTS": "7"}
    )
    assert (settings.embed_poll_first_seconds, settings.embed_poll_max_attempts) == (42, 7)


def test_job_key_is_content_identity() -> None:
    a = S3ObjectRef(bucket="b", key="k.mp4", etag='"abc"', size=1)
    assert job_key_for(a) == job_key_for(S3ObjectRef(bucket="b", key="k.mp4", etag="abc", size=1, sequencer="2"))
    assert job_key_for(a) != job_key_for(S3ObjectRef(bucket="b", key="k.mp4", etag="abd", size=1))
    assert len(job_key_for(a)) == 40
    assert job_key_from_execution_name(execution_name(job_key_for(a), 3)) == job_key_for(a)


def test_eventbridge_keys_are_url_decoded() -> None:
    body = json.loads(
        json.loads((Path(__file__).parents[2] / "events" / "ingest.json").read_text())["Records"][0]["body"]
    )
    body["time"] = 1764151200.5  # moto sends an epoch float
    [obj] = parse_s3_message_body(json.dumps(body)).objects
    assert obj.key == "videos/été 2026/a b.mp4" and obj.version_id and obj.etag


@pytest.mark.parametrize(
    ("head", "family", "fmt"),
    [
        (b"\x00\x00\x00\x18ftypisom" + b"\0" * 8, "video", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  " + b"\0" * 8, "video", "mov"),
        (b"\x00\x00\x00\x18ftypM4A " + b"\0" * 8, "audio", "m4a"),
        (b"\x1a\x45\xdf\xa3\x01\x00\x00\x00webm", "video", "webm"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video", "avi"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio", "wav"),
        ((b"\x47" + b"\0" * 187) * 3, "video", "mpeg-ts"),
        (b"FLV\x01\x05", "video", "flv"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9", "video", "asf"),
        (b"fLaC\x00\x00\x00\x22", "audio", "flac"),
        (b"ID3\x04\x00", "audio", "mp3"),
        (b"\xff\xfb\x90\x64", "audio", "mp3"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "jpeg"),
        (b"hello, I am a text file named .mp4", "unknown", "unknown"),
        (b"", "unknown", "unknown"),
    ],
)
def test_sniff(head: bytes, family: str, fmt: str) -> None:
    found = sniff(head)
    assert (found.family, found.format) == (family, fmt)


def test_probe_reads_duration_and_size_of_the_samples(samples: Path) -> None:
    cases = {
        "videos/ocean-waves.mp4": (8.0, 640, 360),
        "videos/city-traffic.mov": (6.0, 640, 360),
        "videos/forest-walk.mp4": (5.0, 480, 480),
        "bad/tiny-320x240.mp4": (5.0, 320, 240),
        "bad/short-2s.mp4": (2.0, 640, 360),
    }
    for name, (duration, width, height) in cases.items():
        probe = probe_iso_bmff(BytesReader((samples / name).read_bytes()))
        assert probe is not None, name
        assert probe.duration_seconds == pytest.approx(duration, abs=0.1) and (probe.width, probe.height) == (
            width,
            height,
        )
    assert probe_iso_bmff(BytesReader(b"not a box at all")) is None
    assert image_dimensions((samples / "media" / "still.png").read_bytes(), "png") == (256, 256)
    assert image_dimensions((samples / "media" / "still.jpg").read_bytes(), "jpeg") == (256, 256)


def test_probe_skips_mdat_without_reading_it(samples: Path) -> None:
    data = (samples / "videos" / "ocean-waves.mp4").read_bytes()

    class CountingReader(BytesReader):
        def __init__(self, payload: bytes) -> None:
            super().__init__(payload)
            self.bytes_read = 0

        def read(self, offset: int, length: int) -> bytes:
            self.bytes_read += length
            return super().read(offset, length)

    reader = CountingReader(data)
    assert probe_iso_bmff(reader) is not None
    assert reader.bytes_read < len(data) / 2


@pytest.mark.parametrize(
    ("error", "cause", "code"),
    [
        (
            "InvalidParameterError",
            json.dumps({"errorMessage": "video_file_broken: bad (HTTP 400, request r)"}),
            "video_file_broken",
        ),
        ("States.Timeout", None, "timeout"),
        ("KeyError", json.dumps({"errorMessage": "'x'"}), "key_error"),
        (
            "EmbeddingPollLimitExceeded",
            "embedding_poll_limit_exceeded: too many polls",
            "embedding_poll_limit_exceeded",
        ),
    ],
)
def test_describe_caught(error: str, cause: str | None, code: str) -> None:
    assert describe_caught(CaughtError(Error=error, Cause=cause))[0] == code
