"""A task store of the current surface kept apart from `state.json` (analyze tasks, embed v2 tasks)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from twelvelabs_emulator.runtime import Runtime

S = TypeVar("S", bound=BaseModel)


class SideStore(Generic[S]):
    """Its own JSON file beside `state.json` (same write-then-rename rule), and emptied by `/_emulator/reset`:
    the reset replaces the shared State object, and the store follows it."""

    def __init__(self, rt: Runtime, filename: str, model: type[S]) -> None:
        self.rt = rt
        self._model = model
        self._lock = threading.RLock()
        self._file = rt.data_dir / filename if rt.config.state_dir is not None else None
        self._store_state = rt.store.state
        self._state = (
            model.model_validate_json(self._file.read_text(encoding="utf-8"))
            if self._file is not None and self._file.exists()
            else model()
        )

    def _save(self) -> None:
        if self._file is None:
            return
        tmp = Path(str(self._file) + ".tmp")
        tmp.write_text(self._state.model_dump_json(), encoding="utf-8")
        os.replace(tmp, self._file)

    @property
    def state(self) -> S:
        with self._lock:
            if self.rt.store.state is not self._store_state:
                self._store_state = self.rt.store.state
                self._state = self._model()
                self._save()
            return self._state

    def reset(self) -> None:
        with self._lock:
            self._state = self._model()
            self._save()
