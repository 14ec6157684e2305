"""A small scheduler: delayed jobs run on a bounded worker pool; stop() joins everything."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, workers: int = 4) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tl-emulator-job")
        self._thread = threading.Thread(target=self._run, name="tl-emulator-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call_later(self, delay: float, job: Callable[[], None]) -> None:
        with self._cond:
            if self._stopping:
                return
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay), next(self._counter), job))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout=min(timeout, 1.0) if timeout is not None else 1.0)
                if self._stopping:
                    return
                _, _, job = heapq.heappop(self._heap)
            self._pool.submit(self._guard, job)

    @staticmethod
    def _guard(job: Callable[[], None]) -> None:
        # A failing background job is a bug in the emulator: log it with its traceback, keep the others running.
        try:
            job()
        except Exception:
            log.exception("background job failed")

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
