"""Cloud-to-cloud imports from a directory and from S3 (a local moto server), and presigned S3 video URLs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import create_index, wait_for

from tests.emulator.conftest import client_for


def _import(api: httpx.Client, integration: str, index_id: str, **extra: object) -> httpx.Response:
    return api.post(f"/tasks/transfers/import/{integration}", json={"index_id": index_id, **extra})


def _status(api: httpx.Client, integration: str, index_id: str) -> dict[str, object]:
    r = api.get(f"/tasks/transfers/import/{integration}/status", params={"index_id": index_id})
    assert r.status_code == 200, r.text
    return r.json()


def test_directory_import(make_emulator, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "bucket"
    (source / "clips").mkdir(parents=True)
    shutil.copy(samples / "videos" / "ocean-waves.mp4", source / "clips" / "ocean-waves.mp4")
    shutil.copy(samples / "videos" / "forest-walk.mp4", source / "forest-walk.mp4")
    shutil.copy(samples / "bad" / "short-2s.mp4", source / "short-2s.mp4")
    shutil.copy(samples / "bad" / "empty.mp4", source / "empty.mp4")
    emu = make_emulator(integrations={"local": str(source)})
    with client_for(emu) as api:
        index_id = create_index(api)
        r = _import(api, "local", index_id, user_metadata={"source": "import"})
        assert r.status_code == 201, r.text
        body = r.json()
        assert sorted(v["filename"] for v in body["videos"]) == ["clips/ocean-waves.mp4", "forest-walk.mp4"]
        assert sorted((f["filename"], f["error_message"]) for f in body["failed_files"]) == [
            ("empty.mp4", "video_file_broken"),
            ("short-2s.mp4", "video_duration_too_short"),
        ]
        again = _import(api, "local", index_id)  # one import at a time
        assert again.status_code == 400 and again.json()["code"] == "parameter_invalid"

        def all_ready() -> bool:
            return len(_status(api, "local", index_id)["ready"]) == 2  # type: ignore[arg-type]

        wait_for(all_ready)
        status = _status(api, "local", index_id)
        assert status["not_imported"] == [] and status["validating"] == []
        assert sorted(f["filename"] for f in status["failed"]) == ["empty.mp4", "short-2s.mp4"]  # type: ignore[union-attr]
        ready = status["ready"][0]  # type: ignore[index]
        assert set(ready) == {"video_id", "filename", "created_at"}
        video = api.get(f"/indexes/{index_id}/videos/{ready['video_id']}").json()  # video_id doubles as task id
        assert video["user_metadata"] == {"source": "import"}
        assert api.get(f"/tasks/{ready['video_id']}").json()["status"] == "ready"

        # Incremental: nothing new; a new file is picked up; failed files are skipped unless retry_failed.
        assert _import(api, "local", index_id).json() == {"videos": [], "failed_files": []}
        shutil.copy(samples / "videos" / "city-traffic.mov", source / "city-traffic.mov")
        assert "city-traffic.mov" in _status(api, "local", index_id)["not_imported"]  # type: ignore[operator]
        third = _import(api, "local", index_id).json()
        assert [v["filename"] for v in third["videos"]] == ["city-traffic.mov"] and third["failed_files"] == []
        wait_for(lambda: len(_status(api, "local", index_id)["ready"]) == 3)  # type: ignore[arg-type]
        retried = _import(api, "local", index_id, retry_failed=True).json()
        assert len(retried["failed_files"]) == 2 and retried["videos"] == []
        full = _import(api, "local", index_id, incremental_import=False).json()
        assert len(full["videos"]) == 3

        logs = api.get("/tasks/transfers/import/local/logs").json()["data"]
        assert len(logs) == 5
        first = logs[0]
        assert first["index_id"] == index_id and first["index_name"] == "idx" and first["ended_at"]
        assert first["video_status"] == {
            "ready": 2,
            "validating": 0,
            "queued": 0,
            "pending": 0,
            "indexing": 0,
            "failed": 0,
        }
        assert len(first["failed_files"]) == 2
        for r in (api.get("/tasks/transfers/import/nope/logs"), _import(api, "nope", index_id)):
            assert r.status_code == 404 and r.json()["code"] == "resource_not_exist"
        assert _import(api, "local", "0" * 24).status_code == 404
        r = api.get("/tasks/transfers/import/local/status")
        assert (
            r.status_code == 400 and r.json()["code"] == "parameter_not_provided" and "index_id" in r.json()["message"]
        )
        r = api.post("/tasks/transfers/import/local", json={})
        assert r.status_code == 400 and "index_id" in r.json()["message"]


@pytest.fixture()
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    yield endpoint
    server.stop()


def test_s3_import_and_presigned_url(make_emulator, moto_s3: str, samples: Path) -> None:  # type: ignore[no-untyped-def]
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="media")
    s3.upload_file(str(samples / "videos" / "forest-walk.mp4"), "media", "in/forest-walk.mp4")
    s3.put_object(Bucket="media", Key="elsewhere/skip.mp4", Body=b"not under the prefix")
    emu = make_emulator(integrations={"s3int": "s3://media/in/"})
    with client_for(emu) as api:
        index_id = create_index(api)
        body = _import(api, "s3int", index_id).json()
        assert body == {
            "videos": [{"video_id": body["videos"][0]["video_id"], "filename": "media/in/forest-walk.mp4"}],
            "failed_files": [],
        }
        wait_for(lambda: len(_status(api, "s3int", index_id)["ready"]) == 1)  # type: ignore[arg-type]
        video = api.get(f"/indexes/{index_id}/videos/{body['videos'][0]['video_id']}").json()
        assert video["system_metadata"]["duration"] == 5.0

        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "media", "Key": "in/forest-walk.mp4"}, ExpiresIn=300
        )
        r = api.post("/tasks", data={"index_id": index_id, "video_url": url}, files={"_": ("", b"")})
        assert r.status_code == 200, r.text
        wait_for(lambda: api.get(f"/tasks/{r.json()['_id']}").json()["status"] == "ready")
        assert api.get(f"/tasks/{r.json()['_id']}").json()["system_metadata"]["filename"] == "forest-walk.mp4"
