"""kmor watch in a real browser (headless Chromium over the DevTools protocol): the page follows a
simulated run in progress in another process, new points appear without a reload, the plot is
drawn, the numbers are there; a finished run shows its analysis report. Skipped without
/usr/bin/chromium (Debian packages chromium; CI installs it).

KMOR_REQUIRE_CHROMIUM=1 turns the skip into a failure (for CI). KMOR_SAVE_SCREENSHOTS=1 also
writes the screenshots to docs/images/ (for docs/watch.md)."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cdp_browser import HeadlessChromium, chromium_available
from watch_helpers import config_with, write_batch

from kmor.analysis import analyze
from kmor.config.files import load_config
from kmor.sequences.runner import run_batch
from kmor.watch import WatchServer

REQUIRED = bool(os.environ.get("KMOR_REQUIRE_CHROMIUM"))
"""CI sets KMOR_REQUIRE_CHROMIUM=1: a missing browser is then a failure, not a skip."""
if not REQUIRED:
    pytest.importorskip("websockets")
pytestmark = pytest.mark.skipif(not chromium_available() and not REQUIRED,
                                reason="needs /usr/bin/chromium (apt-get install chromium)")

REPO = Path(__file__).resolve().parents[2]
DOWN_RGB, UP_RGB = (0x1F, 0x6F, 0xD1), (0xE8, 0x73, 0x1A)


def _save(name: str, png: bytes, tmp_path: Path) -> Path:
    path = tmp_path / name
    path.write_bytes(png)
    if os.environ.get("KMOR_SAVE_SCREENSHOTS"):
        (REPO / "docs" / "images" / name).write_bytes(png)
    return path


def _pixels_near(png: bytes, rgb: tuple[int, int, int], tol: int = 40) -> int:
    import matplotlib.image as mpimg

    image = (mpimg.imread(io.BytesIO(png), format="png")[..., :3] * 255).astype(int)
    return int((np.abs(image - np.array(rgb)).max(axis=-1) < tol).sum())


def _wait_run_dir(data: Path, timeout_s: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = [p for p in data.glob("*-watch-test") if (p / "status.json").exists()]
        if runs:
            return runs[0]
        time.sleep(0.2)
    raise TimeoutError("the run did not start")


CANVAS_INK = """(() => {
  const c = document.querySelector('#scan-plot canvas');
  if (!c) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) ink++;
  return ink;
})()"""
CANVAS_COLOR = """(() => {
  const c = document.querySelector('#scan-plot canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 200 && Math.abs(d[i] - %d) < 30 && Math.abs(d[i + 1] - %d) < 30 && Math.abs(d[i + 2] - %d) < 30) n++;
  return n;
})()"""
POINTS = "(() => { const m = (document.getElementById('points').textContent || '').match(/^(\\d+) points/); return m ? +m[1] : 0; })()"


def test_the_page_follows_a_run_in_progress(tmp_path):
    data = tmp_path / "data"
    config = config_with(tmp_path, speed=10.0)          # ~27 s of wall time
    run = subprocess.Popen([sys.executable, "-m", "kmor", "run", str(write_batch(tmp_path)), "--config", str(config),
                            "--data-dir", str(data)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    server = None
    try:
        run_dir = _wait_run_dir(data)
        server = WatchServer(data, host="127.0.0.1", port=0)
        server.start_background()
        url = f"http://127.0.0.1:{server.server_address[1]}/#/run/{run_dir.name}"
        with HeadlessChromium() as browser:
            browser.navigate(url)
            browser.wait_for("document.getElementById('state').textContent === 'running'")
            browser.evaluate("window.__kmorNoReload = 42")
            browser.wait_for("/bscan/.test(document.getElementById('scan-name').textContent)", timeout_s=60)
            first = browser.wait_for(f"{POINTS} >= 130 && {POINTS}", timeout_s=60)   # into the up sweep
            later = browser.wait_for(f"{POINTS} >= {first + 20} && {POINTS}", timeout_s=60)
            assert later > first
            assert browser.evaluate("window.__kmorNoReload") == 42, "the page reloaded"
            browser.wait_for("document.getElementById('fit-width').textContent.includes('uG')", timeout_s=30)
            step = browser.evaluate("document.getElementById('step').textContent")
            assert re.match(r"step 4 of 4: bscan (3|10) uW", step), step
            assert "light_power_uW=" in browser.evaluate("document.getElementById('params').textContent")
            width = browser.evaluate("document.getElementById('fit-width').textContent")
            assert 1.0 < float(width.split()[0]) < 200.0, width
            assert re.match(r"point \d+ of 242", browser.evaluate("document.getElementById('progress-text').textContent"))
            assert "lab time" in browser.evaluate("document.getElementById('remaining').textContent")
            assert browser.evaluate("document.getElementById('lock-state').textContent") == "locked"
            assert "job" in browser.evaluate("document.getElementById('log').textContent")
            assert browser.evaluate(CANVAS_INK) > 500, "the scan plot has nothing drawn"
            assert browser.evaluate(CANVAS_COLOR % DOWN_RGB) > 100, "down sweep drawn in its colour"
            assert browser.evaluate(CANVAS_COLOR % UP_RGB) > 100, "up sweep drawn in its colour"
            assert browser.evaluate("document.querySelectorAll('#lock-plot canvas').length") == 1
            browser.wait_for("document.querySelectorAll('#small-plots canvas').length >= 1", timeout_s=30)
            png = browser.screenshot()
            _save("watch-live.png", png, tmp_path)
            assert _pixels_near(png, DOWN_RGB) > 200 and _pixels_near(png, UP_RGB) > 200, "down and up sweeps drawn"

            run.send_signal(signal.SIGTERM)        # stops after the current point, everything saved
            run.wait(60)
            browser.wait_for("document.getElementById('state').textContent === 'aborted'", timeout_s=30)
            resume = browser.evaluate("document.getElementById('resume-command').textContent")
            assert resume == f"kmor run --resume {run_dir}"
            assert not browser.evaluate("document.getElementById('resume').hidden")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(10)
        if server is not None:
            server.shutdown()
            server.server_close()


def test_a_finished_run_shows_its_report(tmp_path):
    result = run_batch(write_batch(tmp_path), load_config(), data_dir=tmp_path / "data")
    analyze([result.run_dir], result.run_dir.parent / f"{result.run_dir.name}-report")
    server = WatchServer(tmp_path / "data", host="127.0.0.1", port=0)
    server.start_background()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with HeadlessChromium() as browser:
            browser.navigate(base)
            browser.wait_for("document.querySelectorAll('#runs tbody a').length === 1")
            assert browser.evaluate("document.querySelector('#runs tbody .badge').textContent") == "complete"
            browser.evaluate("document.querySelector('#runs tbody a').click()")
            browser.wait_for("document.getElementById('state').textContent === 'finished'")
            browser.wait_for("!document.getElementById('report-card').hidden")
            browser.wait_for("document.querySelectorAll('#report-figures img').length > 0 && "
                             "[...document.querySelectorAll('#report-figures img')].every(i => i.complete && i.naturalWidth > 0)",
                             timeout_s=30)
            numbers = browser.evaluate("[...document.querySelectorAll('#report-numbers tbody tr')].map(r => r.textContent)")
            assert any("width" in n and "uG" in n for n in numbers), numbers
            browser.wait_for("document.querySelectorAll('#small-plots canvas').length >= 3", timeout_s=30)
            assert browser.evaluate("document.getElementById('resume').hidden")
            png = browser.screenshot()
            _save("watch-report.png", png, tmp_path)
            assert _pixels_near(png, DOWN_RGB) > 50
    finally:
        server.shutdown()
        server.server_close()
