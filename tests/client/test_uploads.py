"""Multipart encoding in the API's conventions; files streamed from disk, never read whole."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from twelvelabs_client.encoding import query_params
from twelvelabs_client.uploads import filename_from_url, open_upload

from tests.client.helpers import json_response, multipart_fields

SEARCH_PAGE = {
    "data": [{"score": 1.0, "start": 0, "end": 1, "video_id": "v", "confidence": "high"}],
    "page_info": {"limit_per_page": 10},
}


def test_create_task_streams_a_file_path(make_client, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x01" * 100_000)
    client, recorder = make_client(lambda r: json_response(200, {"_id": "t", "video_id": "v"}))
    client.create_task("idx", video_file=video, user_metadata={"a": 1, "b": True}, enable_video_stream=False)
    request = recorder.requests[0]
    assert request.headers["content-type"].startswith("multipart/form-data")
    # The body is a lazy stream with a known length, not one pre-built bytes blob.
    assert isinstance(request.stream, httpx.SyncByteStream) and "content-length" in request.headers
    fields = multipart_fields(request)
    assert fields["index_id"] == ["idx"] and fields["enable_video_stream"] == ["false"]
    assert json.loads(fields["user_metadata"][0]) == {"a": 1, "b": True}
    assert fields["video_file"] == [("clip.mp4", video.read_bytes())]


def test_create_task_from_file_object_and_url(make_client, samples: Path) -> None:
    client, recorder = make_client(lambda r: json_response(200, {"_id": "t", "video_id": "v"}))
    path = samples / "videos" / "ocean-waves.mp4"
    with path.open("rb") as handle:
        client.create_task("idx", video_file=handle)
        assert not handle.closed  # the caller's file stays the caller's
    assert multipart_fields(recorder.requests[0])["video_file"][0] == ("ocean-waves.mp4", path.read_bytes())
    url = "https://bucket.s3.eu-west-1.amazonaws.com/in/a%20b.mp4?X-Amz-Algorithm=AWS4&X-Amz-Signature=abc&x=1"
    client.create_task("idx", video_url=url)
    fields = multipart_fields(recorder.requests[1])
    assert fields["video_url"] == [url] and "video_file" not in fields
    with pytest.raises(ValueError):
        client.create_task("idx")
    with pytest.raises(TypeError):
        client.create_task("idx", video_file=io.StringIO("text"))  # type: ignore[arg-type]


def test_search_multipart_repeats_options_and_stringifies_filter(make_client, samples: Path) -> None:
    client, recorder = make_client(lambda r: json_response(200, SEARCH_PAGE))
    page = client.search(
        "idx",
        search_options=["visual", "audio"],
        query_text="goal",
        operator="or",
        filter={"duration": {"gte": 5}, "category": "sports"},
        page_limit=5,
        include_user_metadata=True,
        threshold="medium",
    )
    assert page.data[0].video_id == "v"
    fields = multipart_fields(recorder.requests[0])
    assert fields["search_options"] == ["visual", "audio"]
    assert json.loads(fields["filter"][0]) == {"duration": {"gte": 5}, "category": "sports"}
    assert fields["include_user_metadata"] == ["true"] and fields["page_limit"] == ["5"]
    client.search("idx", search_options=["visual"], query_media_file=samples / "media" / "still.jpg")
    fields = multipart_fields(recorder.requests[1])
    assert fields["query_media_type"] == ["image"] and fields["query_media_file"][0][0] == "still.jpg"
    with pytest.raises(ValueError):
        client.search("idx", search_options=["visual"])


def test_search_without_a_file_is_still_multipart(make_client) -> None:
    client, recorder = make_client(lambda r: json_response(200, SEARCH_PAGE))
    client.search("idx", search_options=["visual"], query_text="x")
    assert recorder.requests[0].headers["content-type"].startswith("multipart/form-data")


def test_embed_text_image_audio(make_client, samples: Path) -> None:
    body = {
        "model_name": "Marengo-retrieval-2.7",
        "text_embedding": {"segments": [{"float": [0.1]}]},
        "audio_embedding": {
            "segments": [{"float": [0.2], "start_offset_sec": 0, "end_offset_sec": 10}],
            "metadata": {"input_filename": "tone.wav"},
        },
    }
    client, recorder = make_client(lambda r: json_response(200, body))
    result = client.create_embedding(
        text="a goal",
        text_truncate="end",
        image_file=(samples / "media" / "still.png").read_bytes(),
        audio_file=samples / "media" / "tone.wav",
        audio_start_offset_sec=1.5,
    )
    assert result.audio_embedding is not None and result.audio_embedding.segments[0].end_offset_sec == 10
    fields = multipart_fields(recorder.requests[0])
    assert fields["model_name"] == ["Marengo-retrieval-2.7"] and fields["audio_start_offset_sec"] == ["1.5"]
    assert fields["audio_file"][0][0] == "tone.wav" and fields["image_file"][0][0] == "image.jpg"
    with pytest.raises(ValueError):
        client.create_embedding()


def test_query_params_encoding() -> None:
    assert query_params(
        {
            "status": ["ready", "indexing"],
            "duration": {"gte": 10, "lte": 60},
            "x": None,
            "user_metadata": {"category": "news"},
            "flag": False,
        }
    ) == [
        ("status", "ready"),
        ("status", "indexing"),
        ("duration[gte]", "10"),
        ("duration[lte]", "60"),
        ("user_metadata[category]", "news"),
        ("flag", "false"),
    ]


def test_list_filters_on_the_wire(make_client) -> None:
    empty = {"data": [], "page_info": {"page": 1, "total_page": 0}}
    client, recorder = make_client(lambda r: json_response(200, empty if r.url.path.endswith("s") else {"_id": "x"}))
    client.list_videos("idx", user_metadata={"job_key": "k"}, width={"gte": 360}, page_limit=50)
    client.list_indexes(model_options=["visual", "audio"], model_family="marengo")
    client.get_video("idx", "vid", embedding_option=["visual-text", "audio"], transcription=True)
    client.get_embedding_task("e", embedding_option="audio")
    q = [r.url.params for r in recorder.requests]
    assert q[0].multi_items() == [("user_metadata[job_key]", "k"), ("width[gte]", "360"), ("page_limit", "50")]
    assert q[1]["model_options"] == "visual,audio"
    assert q[2].get_list("embedding_option") == ["visual-text", "audio"] and q[2]["transcription"] == "true"
    assert q[3]["embedding_option"] == "audio"


def test_filename_from_url() -> None:
    assert filename_from_url("https://b.s3.amazonaws.com/dir/my%20clip.mp4?X-Amz-Signature=1") == "my clip.mp4"
    assert filename_from_url("https://example.com/") is None


def test_open_upload_forms(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    with open_upload(path) as upload:
        handle = upload.file
        assert upload.filename == "x.bin" and upload.resendable
    assert handle.closed  # we opened it, we closed it
    with open_upload(b"raw", "still.jpg") as upload:
        assert upload.part()[0] == "still.jpg" and upload.part()[2] == "image/jpeg"
    with pytest.raises(TypeError), open_upload(42):  # type: ignore[arg-type]
        pass
