"""Batch: load a sequence file (validated whole, as `kmor check` does), see its jobs with their
status, the progress and the time left; start, pause, resume, abort; resume an interrupted run
from its folder (queue.json), as `kmor run --resume DIR` does."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from kmor.config.loader import ConfigError
from kmor.gui.forms import ERROR_STYLE
from kmor.gui.panels.base import Panel, RunButtons
from kmor.gui.session import RunReport, Session
from kmor.sequences import events as ev
from kmor.sequences.batch import format_duration
from kmor.sequences.events import Event
from kmor.sequences.queue import QueueState
from kmor.sequences.runner import check_batch
from kmor.storage.errors import StorageError

log = logging.getLogger("kmor.gui")
COLUMNS = ("job", "step", "kind", "what", "estimate", "status", "scan")


class BatchPanel(Panel):
    """The Batch tab."""

    title = "Batch"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("sequence file (TOML), e.g. config/sequences/demo.toml")
        self.browse_button = QPushButton("Browse…")
        self.load_button = QPushButton("Load")
        self.resume_button = QPushButton("Resume interrupted run…")
        self.resume_button.setToolTip("choose a run folder (with queue.json) to continue where it stopped")
        self.browse_button.clicked.connect(self._browse)
        self.load_button.clicked.connect(lambda: self.load(self.path_edit.text()))
        self.path_edit.returnPressed.connect(lambda: self.load(self.path_edit.text()))
        self.resume_button.clicked.connect(self._choose_resume)
        self.message = QLabel("Load a sequence file to see its steps.")
        self.message.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.buttons = RunButtons(session, self.start)
        self.progress = QProgressBar()
        self.progress.setFormat("%p %")
        self.remaining = QLabel("")

        top = QHBoxLayout()
        top.addWidget(QLabel("Sequence file:"))
        top.addWidget(self.path_edit, 1)
        for b in (self.browse_button, self.load_button, self.resume_button):
            top.addWidget(b)
        bottom = QHBoxLayout()
        bottom.addWidget(self.buttons)
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.remaining)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self.batch_path: Path | None = None
        self.resume_dir: Path | None = None
        self.run_dir: Path | None = None
        self._rows: dict[str, int] = {}
        self._total_s: float | None = None
        self._started_here = False
        self._wall0: tuple[float, float] | None = None
        session.run_ended.connect(self._run_ended)

    # ------------------------------------------------------------------ loading
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Sequence file", "", "TOML (*.toml);;all files (*)")
        if path:
            self.path_edit.setText(path)
            self.load(path)

    def load(self, path: str | Path) -> bool:
        """Validate the batch file and list its jobs; False (message shown) if it is not valid."""
        path = Path(str(path).strip())
        self.batch_path = None
        self.resume_dir = None
        try:
            batch = check_batch(path, self.session.loaded)
        except ConfigError as exc:
            self._message(str(exc), error=True)
            self.table.setRowCount(0)
            self.summary.setText("")
            return False
        self.path_edit.setText(str(path))
        self.batch_path = path
        self._fill([dict(j.as_dict(), status="pending", scans=[]) for j in batch.jobs])
        self.summary.setText(batch.summary())
        self._total_s = batch.estimate_s
        self._message(f"{path.name}: valid, {len(batch.jobs)} jobs; Start runs it.")
        return True

    def _choose_resume(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder to resume", str(self.session.data_dir))
        if folder:
            self.load_resume(folder)

    def load_resume(self, run_dir: str | Path) -> bool:
        """Show the queue of an interrupted run; Start then resumes it."""
        run_dir = Path(run_dir)
        try:
            queue = QueueState.load(run_dir)
        except (StorageError, OSError, ValueError) as exc:
            self._message(f"{run_dir}: cannot resume: {exc}", error=True)
            return False
        self.batch_path = None
        self.resume_dir = run_dir
        self._fill(queue.jobs)
        left = [j for j in queue.jobs if j["status"] != "done"]
        self._total_s = sum(j["estimate_s"] for j in left)
        self.summary.setText(f"run {run_dir.name} (batch '{queue.data.get('name', '')}'), last status "
                             f"{queue.data.get('status')}: {len(left)} of {len(queue.jobs)} jobs left, "
                             f"about {format_duration(self._total_s)} of lab time")
        self._message("Start resumes this run in its folder." if left else "Every job of this run is done.")
        return True

    def _fill(self, jobs: list[dict[str, Any]]) -> None:
        self.table.setRowCount(len(jobs))
        self._rows = {}
        for i, job in enumerate(jobs):
            scans = job.get("scans") or []
            values = (job["id"], str(job["step"]), job["kind"], job["label"],
                      format_duration(job["estimate_s"]), job.get("status", "pending"),
                      scans[-1] if scans else "")
            for c, value in enumerate(values):
                self.table.setItem(i, c, QTableWidgetItem(value))
            self._rows[job["id"]] = i

    def job_status(self, job_id: str) -> str:
        """Status shown for a job (for tests and the user alike)."""
        item = self.table.item(self._rows[job_id], COLUMNS.index("status"))
        return item.text() if item is not None else ""

    def _set(self, job_id: str, column: str, value: str) -> None:
        row = self._rows.get(job_id)
        if row is not None:
            self.table.setItem(row, COLUMNS.index(column), QTableWidgetItem(value))

    # ------------------------------------------------------------------ running
    def start(self) -> bool:
        if self.resume_dir is None and self.batch_path is None:
            if not self.load(self.path_edit.text()):
                return False
        try:
            if self.resume_dir is not None:
                self.session.start_batch(resume_dir=self.resume_dir)
            else:
                self.session.start_batch(self.batch_path)
        except RuntimeError as exc:
            self._message(str(exc), error=True)
            return False
        self._started_here = True
        self._wall0 = None
        self.progress.setValue(0)
        self._message("running ..." if self.resume_dir is None else f"resuming {self.resume_dir.name} ...")
        return True

    def on_events(self, events: list[Event]) -> None:
        if not self._started_here:
            return
        latest = None
        for e in events:
            job = e.info.get("job") if e.info else None
            if e.kind == ev.STEP_STARTED and job:
                self._set(job, "status", "running")
            elif e.kind == ev.STEP_FINISHED and job:
                self._set(job, "status", "done")
            elif e.kind == ev.SCAN_STARTED:
                self.run_dir = Path(e.scan).parent
            if e.remaining_s is not None and e.kind in (ev.POINT, ev.STEP_STARTED, ev.STEP_FINISHED):
                latest = e.remaining_s
            if e.kind in (ev.SUSPENDED, ev.RESUMED, ev.PAUSED, ev.UNPAUSED, ev.ERROR):
                self._message(f"{e.kind}: {e.message}", error=e.kind in (ev.SUSPENDED, ev.ERROR))
        if latest is not None:
            self._progress(latest)

    def _progress(self, remaining_s: float) -> None:
        total = self._total_s or remaining_s
        if remaining_s > total:
            total = self._total_s = remaining_s
        if total > 0:
            self.progress.setValue(int(round(100 * (1 - remaining_s / total))))
        text = f"left: {format_duration(remaining_s)} of lab time"
        speed = self.session.sim_speed()
        if speed is not None and speed > 0:
            text += f" (~{format_duration(remaining_s / speed)} here)"
        else:
            if self._wall0 is None:
                self._wall0 = (time.monotonic(), remaining_s)
            wall0, lab0 = self._wall0
            elapsed, done = time.monotonic() - wall0, lab0 - remaining_s
            if elapsed > 1.0 and done > 0:
                text += f" (~{format_duration(remaining_s * elapsed / done)} here)"
        self.remaining.setText(text)

    def _run_ended(self, report: RunReport) -> None:
        if not self._started_here or report.what != "batch":
            return
        self._started_here = False
        run_dir = report.run_dir or self.run_dir
        if run_dir is not None and (run_dir / "queue.json").exists():
            try:
                self._fill(QueueState.load(run_dir).jobs)
            except (StorageError, OSError, ValueError) as exc:
                log.warning("cannot re-read %s: %s", run_dir / "queue.json", exc)
            self.run_dir = run_dir
        if report.status == "complete":
            self.progress.setValue(100)
            self.remaining.setText("done")
        elif run_dir is not None and (run_dir / "queue.json").exists():
            self.load_resume(run_dir)  # Start now continues this run
        self._message(f"run {report.status}" + (f": {report.message}" if report.message else "")
                      + (f" — {run_dir}" if run_dir else "")
                      + ("; Start resumes it" if report.status != "complete" and self.resume_dir else ""),
                      error=report.status == "failed")

    def _message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def on_state(self, state: str, what: str | None) -> None:
        self.buttons.on_state(state, what)
        idle = state in ("idle", "locked", "locking")
        for b in (self.browse_button, self.load_button, self.resume_button):
            b.setEnabled(idle)
