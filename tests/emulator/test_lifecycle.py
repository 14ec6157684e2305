"""State persistence across restarts (`state_dir`), the CLI, and clean start/stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from helpers import create_index, index_video, upload, wait_task

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parents[2]


def test_state_dir_survives_a_restart(make_emulator, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    emu = make_emulator(state_dir=str(state))
    with client_for(emu) as api:
        index_id = create_index(api)
        done = index_video(api, index_id, samples / "videos" / "ocean-waves.mp4", '{"k": "v"}')
    emu.stop()
    slow = Emulator(
        EmulatorConfig(api_key="test-key", surface="classic", port=0, processing_seconds=30, state_dir=state)
    ).start()
    with client_for(slow) as api:
        pending = upload(api, index_id, samples / "videos" / "forest-walk.mp4").json()
        assert api.get(f"/tasks/{pending['_id']}").json()["status"] == "validating"
    slow.stop()
    assert (state / "state.json").exists() and list((state / "media").iterdir())

    again = make_emulator(state_dir=str(state))
    with client_for(again) as api:
        assert api.get(f"/indexes/{index_id}").json()["video_count"] >= 1
        video = api.get(f"/indexes/{index_id}/videos/{done['video_id']}").json()
        assert video["user_metadata"] == {"k": "v"} and video["system_metadata"]["duration"] == 8.0
        assert httpx.get(video["hls"]["video_url"]).status_code == 200  # the file is in the state dir
        resumed = wait_task(api, pending["_id"])  # an unfinished task resumes after the restart
        assert resumed["status"] == "ready"
        hits = api.post(
            "/search",
            data={"index_id": index_id, "search_options": ["visual"], "query_text": "blue ocean"},
            files={"_": ("", b"")},
        ).json()["data"]
        assert hits[0]["video_id"] == done["video_id"]


def test_stop_joins_its_threads(samples: Path) -> None:
    before = {t.ident for t in threading.enumerate()}
    # An hour of processing: a stop() that waited for the scheduled job would never return within the bound below.
    emu = Emulator(EmulatorConfig(api_key="test-key", surface="classic", port=0, processing_seconds=3600)).start()
    with client_for(emu) as api:
        upload(api, create_index(api), samples / "videos" / "forest-walk.mp4")  # leaves a scheduled job behind
    data_dir = emu.runtime.data_dir
    stopper = threading.Thread(target=emu.stop)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "stop() waited for a scheduled job"
    assert not data_dir.exists()  # the temp dir is removed
    leftovers = [t for t in threading.enumerate() if t.ident not in before and t.name.startswith("tl-emulator")]
    assert leftovers == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli(tmp_path: Path) -> None:
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "twelvelabs_emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--api-key",
        "KEY",
        "--integration",
        f"local={tmp_path}",
        "--rate-limit",
        "100/MINUTE",
        "--processing-seconds",
        "0.2",
        "--webhook-url",
        "http://127.0.0.1:9/h",
        "--webhook-secret",
        "s",
        "--state-dir",
        str(tmp_path / "state"),
        "--surface",
        "classic",
    ]
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ | {"PYTHONUNBUFFERED": "1"}
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert f"http://127.0.0.1:{port}/v1.3" in line, line
        r = httpx.get(f"http://127.0.0.1:{port}/v1.3/indexes", headers={"x-api-key": "KEY"})
        assert r.status_code == 200 and r.headers["X-Ratelimit-Limit"] == "100"
        r = httpx.get(f"http://127.0.0.1:{port}/v1.3/tasks/transfers/import/local/logs", headers={"x-api-key": "KEY"})
        assert r.json() == {"data": []}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    bad = subprocess.run(
        [sys.executable, "-m", "twelvelabs_emulator", "--api-key", "k", "--rate-limit", "fast"],
        cwd=REPO,
        capture_output=True,
        timeout=30,
    )
    assert bad.returncode == 2 and b"N/MINUTE" in bad.stderr
