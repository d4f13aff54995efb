"""Data browser: the run folders under the data folder and their scans; plot any scan (columns
chosen by name, with units), see its parameters; run the analysis of a run
(kmor.analysis.report.analyze, on a worker thread) and look at the report's figures.

Reports go to data_dir/reports/<run name>/ (analyze refuses to write inside a run folder).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QPlainTextEdit, QPushButton, QScrollArea, QSplitter, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from kmor.analysis.constants import K39_HFS_REFERENCE_HZ
from kmor.gui.forms import ERROR_STYLE, display_units
from kmor.gui.livefit import LiveFitter
from kmor.gui.panels.base import Panel, scan_kind
from kmor.gui.plots import DOWN_COLOR, GREY, UP_COLOR, make_curve, make_plot, set_curve
from kmor.gui.session import RunReport, Session
from kmor.sequences.queue import QueueState
from kmor.storage import StorageError, list_scans, read_scan

REPORTS_FOLDER = "reports"
DEFAULT_AXES = {"bscan": ("field_uG", "x_V"), "rfscan": ("freq_set_hz", "transmission_V"),
                "lockpoint": ("piezo_pct", "amplitude_V"), "zeroing": ("field_set_uG", "x_V")}


def run_folders(data_dir: Path) -> list[Path]:
    """Run folders (with scans or a queue.json) under `data_dir`, newest first."""
    if not data_dir.is_dir():
        return []
    runs = [p for p in data_dir.iterdir() if p.is_dir() and ((p / "queue.json").exists() or any(p.glob("*.h5")))]
    return sorted(runs, key=lambda p: p.name, reverse=True)


def run_analysis(run_dir: str, out_dir: str) -> Any:
    """kmor.analysis.report.analyze on one run folder (worker thread)."""
    from kmor.analysis.report import analyze
    return analyze([run_dir], out_dir)


class BrowserPanel(Panel):
    """The Data browser tab."""

    title = "Data browser"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.folder_edit = QLineEdit(str(session.data_dir))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_tree)
        self.folder_edit.returnPressed.connect(self.refresh_tree)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["run / scan", "kind", "status", "points"])
        self.tree.setColumnWidth(0, 260)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.analyse_button = QPushButton("Analyse run")
        self.analyse_button.setToolTip("fit every scan of the selected run and write the report "
                                       "(data_dir/reports/<run>/): numbers, summary.json, figures")
        self.analyse_button.clicked.connect(self.analyse_selected)
        self.x_combo = QComboBox()
        self.y_combo = QComboBox()
        self.x_combo.currentIndexChanged.connect(self._draw)
        self.y_combo.currentIndexChanged.connect(self._draw)
        self.plot = make_plot("scan", "", "", "", "")
        self.plot.addLegend(offset=(10, 10))
        self.curves = {"down": make_curve(self.plot, DOWN_COLOR, "down"),
                       "up": make_curve(self.plot, UP_COLOR, "up"),
                       "": make_curve(self.plot, GREY, None)}
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.report_text = QPlainTextEdit()
        self.report_text.setReadOnly(True)
        self.figure_list = QListWidget()
        self.figure_list.currentRowChanged.connect(self._show_figure)
        self.figure = QLabel("figures of the report appear here")
        self.figure.setAlignment(Qt.AlignmentFlag.AlignCenter)
        figure_scroll = QScrollArea()
        figure_scroll.setWidget(self.figure)
        figure_scroll.setWidgetResizable(True)
        self.figure_scroll = figure_scroll
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.analyser = LiveFitter(self, latest_only=False)
        self.analyser.done.connect(self._analysed)
        self.scan: Any = None
        self.figures: list[Path] = []
        self.summary: Any = None
        session.run_ended.connect(self._run_ended)

        top = QHBoxLayout()
        top.addWidget(QLabel("Data folder:"))
        top.addWidget(self.folder_edit, 1)
        top.addWidget(choose)
        top.addWidget(refresh)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.tree, 1)
        ll.addWidget(self.analyse_button)
        ll.addWidget(self.message)
        axes = QHBoxLayout()
        axes.addWidget(QLabel("x:"))
        axes.addWidget(self.x_combo, 1)
        axes.addWidget(QLabel("y:"))
        axes.addWidget(self.y_combo, 1)
        scan_view = QWidget()
        sl = QVBoxLayout(scan_view)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addLayout(axes)
        sl.addWidget(self.plot, 3)
        sl.addWidget(self.details, 1)
        report_view = QSplitter(Qt.Orientation.Horizontal)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.figure_list)
        side.addWidget(self.report_text)
        report_view.addWidget(side)
        report_view.addWidget(figure_scroll)
        report_view.setSizes([300, 700])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(scan_view)
        right.addWidget(report_view)
        right.setSizes([430, 430])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([420, 900])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.refresh_tree()

    # ------------------------------------------------------------------ tree
    def data_dir(self) -> Path:
        return Path(self.folder_edit.text().strip() or ".")

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", str(self.data_dir()))
        if folder:
            self.folder_edit.setText(folder)
            self.refresh_tree()

    def refresh_tree(self) -> None:
        """Re-read the run folders (keeps nothing open)."""
        self.tree.clear()
        for run in run_folders(self.data_dir()):
            status = ""
            try:
                status = QueueState.load(run).data.get("status", "") if (run / "queue.json").exists() else ""
            except (StorageError, OSError, ValueError, KeyError):
                status = "queue unreadable"
            scans = list_scans(run)
            item = QTreeWidgetItem([run.name, "run", status, str(len(scans)) + " scans"])
            item.setData(0, Qt.ItemDataRole.UserRole, str(run))
            for path in scans:
                child = QTreeWidgetItem([path.name, scan_kind(str(path)), "", ""])
                child.setData(0, Qt.ItemDataRole.UserRole, str(path))
                item.addChild(child)
            self.tree.addTopLevelItem(item)

    def _run_ended(self, report: RunReport) -> None:
        if report.run_dir is not None:
            self.refresh_tree()

    def select(self, path: str | Path) -> bool:
        """Select the tree item of a run folder or scan file (as a click would)."""
        target = str(path)
        for i in range(self.tree.topLevelItemCount()):
            run = self.tree.topLevelItem(i)
            if run is None:
                continue
            for item in [run] + [run.child(k) for k in range(run.childCount())]:
                if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == target:
                    self.tree.setCurrentItem(item)
                    return True
        return False

    def _selected_path(self) -> Path | None:
        item = self.tree.currentItem()
        return Path(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else None

    def _selected(self) -> None:
        path = self._selected_path()
        if path is None or path.is_dir():
            return
        self.open_scan(path)

    # ------------------------------------------------------------------ one scan
    def open_scan(self, path: str | Path) -> bool:
        """Read a scan file, plot its default columns, show its parameters."""
        try:
            scan = read_scan(path)
        except StorageError as exc:
            self._message(str(exc), error=True)
            return False
        self.scan = scan
        item = self.tree.currentItem()
        if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == str(path):
            item.setText(2, scan.status)
            item.setText(3, str(scan.n_points))
        numeric = [n for n, c in scan.columns.items() if c.dtype.kind in "biuf"]
        x_default, y_default = DEFAULT_AXES.get(scan.kind, ("index", numeric[-1] if numeric else ""))
        for combo, default in ((self.x_combo, x_default), (self.y_combo, y_default)):
            combo.blockSignals(True)
            combo.clear()
            for name in numeric:
                units = scan.columns[name].units
                combo.addItem(f"{name} ({display_units(units)})" if units else name, name)
            index = combo.findData(default)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        params = json.dumps(scan.parameters, indent=1, default=str)
        susp = "\n".join(f"  {s.start_s:.1f}-{s.end_s:.1f} s: {s.reason}" for s in scan.suspensions) or "  none"
        self.details.setPlainText(f"{scan.path}\nkind {scan.kind}, status {scan.status}"
                                  f"{': ' + scan.message if scan.message else ''}, {scan.n_points} points, "
                                  f"started {scan.start_time_iso}\nsuspended intervals:\n{susp}\n"
                                  f"parameters:\n{params}")
        self._draw()
        self._message(f"{Path(path).name}: {scan.kind}, {scan.status}, {scan.n_points} points")
        return True

    def _draw(self) -> None:
        scan = self.scan
        if scan is None or self.x_combo.count() == 0:
            return
        xname, yname = self.x_combo.currentData(), self.y_combo.currentData()
        x = np.asarray(scan.columns[xname], dtype=float)
        y = np.asarray(scan.columns[yname], dtype=float)
        xunits = scan.columns[xname].units
        xlabel = xname
        if xunits == "Hz" and x.size and np.nanmedian(np.abs(x)) > 1e8:
            x = x - K39_HFS_REFERENCE_HZ
            xlabel = f"{xname} − 461,719,720.1 Hz"
        item = self.plot.getPlotItem()
        item.setTitle(f"{Path(scan.path).name} ({scan.kind}, {scan.status})")
        item.setLabel("bottom", xlabel, units=display_units(xunits))
        item.setLabel("left", yname, units=display_units(scan.columns[yname].units))
        item.getAxis("left").enableAutoSIPrefix(scan.columns[yname].units == "V")
        sweep = scan.columns.get("sweep")
        for key, curve in self.curves.items():
            if sweep is not None and key:
                sel = np.asarray(sweep) == key
                set_curve(curve, x[sel], y[sel])
            elif sweep is None and not key:
                set_curve(curve, x, y)
            else:
                curve.setData([], [])

    # ------------------------------------------------------------------ analysis
    def analyse_selected(self) -> bool:
        """Analyse the selected run (or the run of the selected scan) on the worker thread."""
        path = self._selected_path()
        if path is None:
            self._message("select a run (or one of its scans) first", error=True)
            return False
        run = path if path.is_dir() else path.parent
        return self.analyse(run)

    def analyse(self, run_dir: str | Path) -> bool:
        run_dir = Path(run_dir)
        out = self.data_dir() / REPORTS_FOLDER / run_dir.name
        self.analyse_button.setEnabled(False)
        self._message(f"analysing {run_dir.name} ... (report in {out})")
        self.analyser.request(str(run_dir), run_analysis, str(run_dir), str(out))
        return True

    def busy(self) -> bool:
        return not self.analyser.idle

    def _analysed(self, run_dir: str, result: Any) -> None:
        self.analyse_button.setEnabled(True)
        if isinstance(result, Exception):
            self._message(f"analysis of {Path(run_dir).name} failed: {result}", error=True)
            return
        self.summary = result
        self.report_text.setPlainText("\n".join(result.headline()))
        self.figures = [Path(p) for p in result.figures]
        self.figure_list.clear()
        for p in self.figures:
            self.figure_list.addItem(p.name)
        if self.figures:
            self.figure_list.setCurrentRow(0)
        self._message(f"report: {result.report_path} ({len(self.figures)} figures)")

    def _show_figure(self, row: int) -> None:
        if 0 <= row < len(self.figures):
            pixmap = QPixmap(str(self.figures[row]))
            room = self.figure_scroll.viewport().size()
            if room.width() > 50 and room.height() > 50:
                pixmap = pixmap.scaled(room, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
            self.figure.setPixmap(pixmap)

    def _message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def shutdown(self) -> None:
        self.analyser.shutdown()
