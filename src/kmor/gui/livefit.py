"""Fits while the data come in, off the GUI thread.

`LiveFitter.request(fn, *args)` runs `fn(*args)` (an analysis fit) on its own worker thread and
delivers the result, or the exception, with the `done` signal in the GUI thread. While a fit is
running, newer requests replace each other: only the latest data are fitted next, so a slow fit
can delay the overlay but never queue up work or freeze the window. With `latest_only=False`
every request is run, in order (analysing a list of files).
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class LiveFitter(QObject):
    """One worker thread; `done(token, result_or_exception)` in the GUI thread."""

    done = Signal(object, object)
    _finished = Signal(object, object)

    def __init__(self, parent: QObject | None = None, *, latest_only: bool = True) -> None:
        super().__init__(parent)
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kmor-gui-fit")
        self.latest_only = latest_only
        self._running = False
        self._pending: list[tuple[Any, Callable[..., Any], tuple[Any, ...]]] = []
        self._finished.connect(self._on_finished)
        self.last_duration_s = 0.0
        """Wall time of the last job (panels space their requests by it)."""
        self._due_n = 0
        self._due_at_s = 0.0

    def due(self, n_usable: int, n_seen: int, *, min_points: int, minimum_s: float, force: bool = False) -> bool:
        """Whether a panel should start a live fit now: at least `min_points` usable points, new
        points since the last fit, and (unless `force`, e.g. at the end of a scan) `interval_s`
        passed. Answering yes counts as a request."""
        if n_usable < min_points or n_seen == self._due_n:
            return False
        now = time.monotonic()
        if not force and now - self._due_at_s < self.interval_s(minimum_s):
            return False
        self._due_n, self._due_at_s = n_seen, now
        return True

    def forget(self) -> None:
        """A new scan: the next fit is due as soon as it has enough points."""
        self._due_n = 0

    def interval_s(self, minimum_s: float, budget: float = 0.02) -> float:
        """Time to leave between requests so fits use at most `budget` of the time (the fit
        thread holds the GIL for much of a fit, which the acquisition thread then waits for)."""
        return max(minimum_s, self.last_duration_s / budget)

    @property
    def idle(self) -> bool:
        return not self._running and not self._pending

    def request(self, token: Any, fn: Callable[..., Any], *args: Any) -> None:
        """Fit `fn(*args)` (arguments must be copies the caller will not change)."""
        if self._running:
            if self.latest_only:
                self._pending.clear()
            self._pending.append((token, fn, args))
            return
        self._submit(token, fn, args)

    def _submit(self, token: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._running = True

        def job() -> Any:
            start = time.perf_counter()
            try:
                return fn(*args)
            except Exception as exc:  # noqa: BLE001 - the panel shows why the fit failed
                return exc
            finally:
                self.last_duration_s = time.perf_counter() - start

        future = self._executor.submit(job)
        future.add_done_callback(lambda f: self._finished.emit(token, f.result()))

    def _on_finished(self, token: Any, result: Any) -> None:
        self._running = False
        self.done.emit(token, result)
        if self._pending:
            self._submit(*self._pending.pop(0))

    def shutdown(self) -> None:
        self._pending.clear()
        self._executor.shutdown(wait=True, cancel_futures=True)
