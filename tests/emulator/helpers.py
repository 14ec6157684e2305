"""Shared helpers for the emulator tests (real HTTP against a real emulator)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import httpx

BOTH = [
    {"model_name": "marengo2.7", "model_options": ["visual", "audio"]},
    {"model_name": "pegasus1.2", "model_options": ["visual", "audio"]},
]
MARENGO_ONLY = [{"model_name": "marengo2.7", "model_options": ["visual", "audio"]}]
PEGASUS_ONLY = [{"model_name": "pegasus1.2", "model_options": ["visual", "audio"]}]


def create_index(api: httpx.Client, name: str = "idx", models: list[dict[str, object]] | None = None) -> str:
    r = api.post("/indexes", json={"index_name": name, "models": models or BOTH})
    assert r.status_code == 201, r.text
    return r.json()["_id"]


def upload(api: httpx.Client, index_id: str, path: Path, user_metadata: str | None = None) -> httpx.Response:
    data = {"index_id": index_id}
    if user_metadata is not None:
        data["user_metadata"] = user_metadata
    with path.open("rb") as fh:
        return api.post("/tasks", data=data, files={"video_file": (path.name, fh, "video/mp4")})


def wait_task(api: httpx.Client, task_id: str, timeout: float = 60.0) -> dict[str, object]:
    # Generous: it returns as soon as the task ends; only a loaded CI machine (two suites on two cores) nears it.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/tasks/{task_id}").json()
        if task["status"] in ("ready", "failed"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


def wait_embed_task(api: httpx.Client, task_id: str, timeout: float = 15.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/embed/tasks/{task_id}/status").json()
        if task["status"] in ("ready", "failed"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"embed task {task_id} did not finish in {timeout} s")


def index_video(api: httpx.Client, index_id: str, path: Path, user_metadata: str | None = None) -> dict[str, object]:
    r = upload(api, index_id, path, user_metadata)
    assert r.status_code == 200, r.text
    task = wait_task(api, r.json()["_id"])
    assert task["status"] == "ready", task
    return task


def solid_video(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    fps: Fraction = Fraction(1),
    rgb: tuple[int, int, int] = (30, 60, 200),
) -> Path:
    """A real H.264 video of one solid colour; low fps keeps even long or huge videos quick to encode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = 1 / fps
        rgb_frame = av.VideoFrame(width, height, "rgb24")
        plane = rgb_frame.planes[0]
        row = bytes(rgb) * width + b"\x00" * (plane.line_size - width * 3)
        plane.update(row * height)
        frame = rgb_frame.reformat(format="yuv420p")
        frames = max(1, round(seconds * fps))
        for i in range(frames + 1):
            frame.pts = i
            frame.time_base = 1 / fps
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@contextmanager
def file_server(root: Path) -> Iterator[str]:
    """A loopback HTTP server for `root` on a free port; yields its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Receiver:
    """A webhook receiver that records requests and answers the queued statuses (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")


SDK136_DIR = Path(__file__).resolve().parents[2] / "build" / "sdk-1.3.6"
SDK136_MODULE = "twelvelabs_sdk136"


def sdk136():  # type: ignore[no-untyped-def]
    """The official SDK 1.3.6 (installed by `make sdk136` into build/sdk-1.3.6), imported as `twelvelabs_sdk136`.

    .venv keeps SDK 1.0.2 as `twelvelabs`; all of 1.3.6's intra-package imports are relative, so loading it under
    another top-level name lets both live in one process. The side dir is appended to sys.path only for its
    `httpx_sse` dependency (appended, so `import twelvelabs` still finds 1.0.2)."""
    import importlib.util
    import sys

    loaded = sys.modules.get(SDK136_MODULE)
    if loaded is not None:
        return loaded
    package = SDK136_DIR / "twelvelabs"
    if not (package / "__init__.py").exists():  # pytest run without `make`: install it like `make sdk136` does
        import subprocess

        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--upgrade",
                "--target",
                str(SDK136_DIR),
                "twelvelabs==1.3.6",
                "httpx-sse==0.4.0",
            ],
            check=True,
        )
    if str(SDK136_DIR) not in sys.path:
        sys.path.append(str(SDK136_DIR))
    spec = importlib.util.spec_from_file_location(
        SDK136_MODULE, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[SDK136_MODULE] = module
    spec.loader.exec_module(module)
    return module


MARENGO3 = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]


def wait_status(
    api: httpx.Client, path: str, timeout: float = 15.0, terminal: tuple[str, ...] = ("ready", "failed")
) -> dict[str, object]:
    """Poll `GET path` until its `status` is terminal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in terminal:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {terminal} in {timeout} s")


def post_asset(api: httpx.Client, path: Path, **fields: str) -> httpx.Response:
    with path.open("rb") as fh:
        return api.post("/assets", data={"method": "direct", **fields}, files={"file": (path.name, fh)})


def ready_asset(api: httpx.Client, path: Path, **fields: str) -> dict[str, object]:
    r = post_asset(api, path, **fields)
    assert r.status_code == 201, r.text
    asset = wait_status(api, f"/assets/{r.json()['_id']}")
    assert asset["status"] == "ready", asset
    return asset


def create_current_index(api: httpx.Client, name: str = "idx") -> str:
    r = api.post("/indexes", json={"index_name": name, "models": MARENGO3})
    assert r.status_code == 201, r.text
    return str(r.json()["_id"])
