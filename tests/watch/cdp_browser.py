"""A headless Chromium driven over the Chrome DevTools Protocol (its websocket), for the kmor watch
browser test: navigate, evaluate JavaScript, take a screenshot. Needs /usr/bin/chromium (Debian
packages chromium) and the `websockets` package.

    with HeadlessChromium() as browser:
        browser.navigate("http://127.0.0.1:8765/")
        browser.wait_for("document.querySelector('canvas') !== null")
        png = browser.screenshot()
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Self

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


class HeadlessChromium:
    """One headless browser with a fresh profile and one page."""

    def __init__(self, width: int = 1280, height: int = 1400) -> None:
        self.width, self.height = width, height
        self._profile = tempfile.mkdtemp(prefix="kmor-chromium-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._next_id = 0

    def __enter__(self) -> Self:
        from websockets.sync.client import connect

        self._proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-port=0",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        port = self._devtools_port()
        targets = self._json(f"http://127.0.0.1:{port}/json/list")
        page = next(t for t in targets if t.get("type") == "page")
        self._ws_cm = connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20, open_timeout=20)
        self._ws = self._ws_cm.__enter__()
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ws is not None:
            self._ws_cm.__exit__(None, None, None)
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _devtools_port(self, timeout_s: float = 30.0) -> int:
        path = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if path.exists():
                lines = path.read_text().splitlines()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._proc.returncode}")
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its DevTools port")

    @staticmethod
    def _json(url: str) -> Any:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return json.loads(reply.read())

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and wait for its reply (events in between are skipped)."""
        self._next_id += 1
        my_id = self._next_id
        self._ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')} "
                               f"{result['exceptionDetails'].get('exception', {}).get('description', '')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 30.0, poll_s: float = 0.25) -> Any:
        """Evaluate `expression` until it is truthy (an exception counts as not yet: the page may
        still be loading); its value, or TimeoutError."""
        deadline = time.monotonic() + timeout_s
        value: Any = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError as exc:
                value = exc
            else:
                if value:
                    return value
            time.sleep(poll_s)
        raise TimeoutError(f"waited {timeout_s} s for {expression!r} (last value {value!r})")

    def screenshot(self) -> bytes:
        """A PNG of the whole page."""
        height = int(self.evaluate("document.documentElement.scrollHeight") or self.height)
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=max(height, 400),
                  deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        return base64.b64decode(data)
