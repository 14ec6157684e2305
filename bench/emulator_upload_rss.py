"""Peak memory of the TwelveLabs emulator while it receives a large multipart upload.

Starts the emulator as a subprocess, streams a generated junk file (1 GiB by default, never held in memory
by the uploader either) as `video_file` in a multipart `POST /v1.3/tasks`, then prints the emulator's peak
RSS (VmHWM from /proc/<pid>/status) and the upload time. Target: peak RSS < 200 MB.

    .venv/bin/python bench/emulator_upload_rss.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
API_KEY = "bench-key"
BLOCK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def junk(total: int) -> Iterator[bytes]:
    """`total` bytes of generated junk, one 1 MiB block at a time (each block differs)."""
    seed = hashlib.sha256(b"bench").digest()
    base = (seed * (BLOCK // len(seed) + 1))[:BLOCK]
    sent = 0
    n = 0
    while sent < total:
        block = n.to_bytes(8, "big") + base[8:]
        chunk = block[: min(BLOCK, total - sent)]
        sent += len(chunk)
        n += 1
        yield chunk


def multipart(index_id: str, size: int) -> tuple[str, int, Iterator[bytes]]:
    """(content type, exact content length, body iterator) of the multipart request."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="index_id"\r\n\r\n{index_id}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="video_file"; filename="junk.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from junk(size)
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), body()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as state_dir:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twelvelabs_emulator",
                "--port",
                str(port),
                "--api-key",
                API_KEY,
                "--processing-seconds",
                "0.5",
                "--state-dir",
                state_dir,
                "--log-level",
                "WARNING",
                "--surface",
                "classic",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        try:
            assert proc.stdout is not None
            proc.stdout.readline()  # the "serving" line: the socket is bound
            headers = {"x-api-key": API_KEY}
            index_id = httpx.post(
                f"{base}/v1.3/indexes",
                headers=headers,
                json={"index_name": "bench", "models": [{"model_name": "marengo2.7", "model_options": ["visual"]}]},
            ).json()["_id"]
            rss_before = proc_status_kb(proc.pid, "VmRSS")
            content_type, length, body = multipart(index_id, size)
            started = time.monotonic()
            response = httpx.post(
                f"{base}/v1.3/tasks",
                content=body,
                timeout=600,
                headers=headers | {"Content-Type": content_type, "Content-Length": str(length)},
            )
            elapsed = time.monotonic() - started
            response.raise_for_status()
            task_id = response.json()["_id"]
            deadline = time.monotonic() + 120
            status = ""
            while time.monotonic() < deadline and status not in ("ready", "failed"):
                time.sleep(0.2)
                task = httpx.get(f"{base}/v1.3/tasks/{task_id}", headers=headers).json()
                status = task["status"]
            peak = proc_status_kb(proc.pid, "VmHWM")
            error = task.get("error", {}).get("code", "-")
            print(f"upload size        : {size / 1024 / 1024:.0f} MiB ({length} bytes on the wire)")
            print(f"upload time        : {elapsed:.2f} s ({size / 1024 / 1024 / elapsed:.0f} MiB/s, incl. hashing)")
            print(f"emulator RSS before: {rss_before / 1024:.1f} MB")
            print(
                f"emulator peak RSS  : {peak / 1024:.1f} MB (VmHWM; target < 200 MB) -> "
                f"{'OK' if peak / 1024 < 200 else 'OVER TARGET'}"
            )
            print(f"task               : {task_id} {status} ({error})")
            httpx.delete(f"{base}/v1.3/tasks/{task_id}", headers=headers)
            return 0 if peak / 1024 < 200 else 1
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
