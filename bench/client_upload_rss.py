"""Peak RSS of uploading a large file through `TwelveLabsClient.create_task` to a loopback sink.

The sink runs in a *separate process* (so its memory is not counted) and discards the bytes,
answering like POST /tasks. RSS is sampled every 5 ms from /proc/self/status during the upload.

    .venv/bin/python bench/client_upload_rss.py            # 1 GiB sparse file
    .venv/bin/python bench/client_upload_rss.py --mib 256
Target: peak - baseline < 100 MB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "shared"))

SINK = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        remaining = int(self.headers.get("content-length", "0"))
        received = 0
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            received += len(chunk)
            remaining -= len(chunk)
        body = json.dumps({"_id": "6298d673f1090f1100476d4c", "video_id": "6298d673f1090f1100476d4d",
                           "received": received}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1024)")
    args = parser.parse_args()

    from twelvelabs_client import ClientSettings, TwelveLabsClient

    sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline())
        client = TwelveLabsClient(
            api_key="bench",
            settings=ClientSettings(base_url=f"http://127.0.0.1:{port}/v1.3", max_retries=0, upload_read_timeout=600),
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.mp4"
            with path.open("wb") as handle:  # sparse: costs no disk, reads as zeros
                handle.truncate(args.mib * 1024 * 1024)
            baseline = rss_kib()
            peak = baseline
            stop = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, rss_kib())
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            created = client.create_task("6298d673f1090f1100476d4e", video_file=path)
            seconds = time.perf_counter() - started
            stop.set()
            sampler.join()
            peak = max(peak, rss_kib())
        received = getattr(created, "received", None)
        print(f"file        {args.mib} MiB (sink received {received} bytes incl. multipart framing)")
        print(f"baseline    {baseline / 1024:.1f} MiB RSS")
        print(f"peak        {peak / 1024:.1f} MiB RSS")
        print(f"delta       {(peak - baseline) / 1024:.1f} MiB (target < 100)")
        print(f"seconds     {seconds:.2f} ({args.mib / seconds:.0f} MiB/s)")
        if received is None or received < args.mib * 1024 * 1024:
            raise SystemExit("the sink did not receive the whole file")
        if (peak - baseline) / 1024 >= 100:
            raise SystemExit("peak RSS delta over 100 MiB")
    finally:
        sink.terminate()
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
