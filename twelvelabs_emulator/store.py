"""In-memory state behind one lock, persisted as JSON when a state dir is configured."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twelvelabs_emulator.models import State


class Store:
    def __init__(self, state_file: Path | None) -> None:
        self._lock = threading.RLock()
        self._state_file = state_file
        self.state = self._load()

    def _load(self) -> State:
        if self._state_file is not None and self._state_file.exists():
            return State.model_validate_json(self._state_file.read_text(encoding="utf-8"))
        return State()

    @contextmanager
    def read(self) -> Iterator[State]:
        with self._lock:
            yield self.state

    @contextmanager
    def mutate(self) -> Iterator[State]:
        """Change state under the lock; persisted when the block exits without an exception."""
        with self._lock:
            yield self.state
            self._save()

    def reset(self) -> None:
        with self._lock:
            self.state = State()
            self._save()

    def _save(self) -> None:
        if self._state_file is None:
            return
        # Write-then-rename so a crash never leaves half a file behind.
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(self.state.model_dump_json(), encoding="utf-8")
        os.replace(tmp, self._state_file)
