"""`kmor watch`: a read-only web page of the runs in a data folder, live while they run.

    server = WatchServer(Path("data"), host="127.0.0.1", port=8765)
    server.serve_forever()

Standard library only (http.server.ThreadingHTTPServer): a handful of GET endpoints returning JSON,
and the page itself (static/index.html, app.js, and uPlot shipped in the package: the lab network
may be offline). docs/decisions/0161 says why.

Endpoints (all GET/HEAD; anything else is 405):
  /                                 the page
  /static/<file>                    the page's scripts and styles
  /api/runs                         the runs in the data folder, newest first
  /api/runs/<run>                   one run: live status, current job, run.log tail, scans, report
  /api/runs/<run>/live              the current scan's points (live-scan.json) and its live fit
  /api/runs/<run>/scans/<file>      a closed scan's points (thinned) and its fit
  /files/<path>                     a report figure or text inside the data folder

Security: bound to 127.0.0.1 by default; on any other address every request needs the token
(query `?token=`, header `Authorization: Bearer`, or the cookie the page sets), compared in
constant time. Nothing can be changed through it, and no path outside the data folder is served
(kmor.watch.paths).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import mimetypes
import os
import secrets
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kmor.storage.errors import StorageError
from kmor.watch import runs
from kmor.watch.livefit import LiveFits
from kmor.watch.paths import NotAllowed, inside, run_dir, split_url_path

log = logging.getLogger("kmor.watch")

STATIC_DIR = Path(__file__).with_name("static")
SERVED_SUFFIXES = {".png", ".svg", ".pdf", ".md", ".json", ".txt", ".log", ".csv"}
"""What /files/ serves (report figures and texts); never scan files or configs elsewhere."""
COOKIE = "kmor_watch_token"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def is_local(host: str) -> bool:
    """True for loopback addresses (no token needed)."""
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


class WatchServer(ThreadingHTTPServer):
    """The HTTP server; `root` is the data folder, `token` None on loopback without one."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 8765,
                 token: str | None = None, default_run: str | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"{root}: no such data folder")
        if token is None and not is_local(host):
            token = new_token()
        self.token = token
        self.default_run = default_run
        self.fits = LiveFits()
        self.replies = ReplyCache()
        self.address_family = _family(host)
        super().__init__((host, port), WatchHandler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        query = f"?token={self.token}" if self.token else ""
        fragment = f"#/run/{self.default_run}" if self.default_run else ""
        return f"http://{shown}:{port}/{query}{fragment}"

    def check_token(self, offered: str | None) -> bool:
        if self.token is None:
            return True
        if not offered:
            return False
        return hmac.compare_digest(offered.encode("utf-8"), self.token.encode("utf-8"))

    def start_background(self) -> threading.Thread:
        """Serve on a daemon thread (tests); stop with shutdown() then server_close()."""
        thread = threading.Thread(target=self.serve_forever, name="kmor-watch", daemon=True)
        thread.start()
        return thread


def _family(host: str) -> int:
    import socket

    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return socket.AF_INET


class WatchHandler(BaseHTTPRequestHandler):
    """GET-only, JSON or static files; every request checked against the token first."""

    server: WatchServer
    server_version = "kmor-watch"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # -- methods -----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def _refuse_method(self) -> None:
        self.close_connection = True   # the request body (if any) is not read
        self._send_json({"error": "read-only: only GET and HEAD"}, HTTPStatus.METHOD_NOT_ALLOWED,
                        extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    # -- routing -------------------------------------------------------------------------------
    def _handle(self, head: bool) -> None:
        self._head = head
        try:
            if not self._authorised():
                self._send_json({"error": "a valid token is required (see the URL kmor watch printed)"},
                                HTTPStatus.UNAUTHORIZED)
                return
            parts = split_url_path(self.path)
            self._route(parts)
        except NotAllowed as exc:
            self._send_json({"error": f"not allowed: {exc}"}, HTTPStatus.FORBIDDEN)
        except (FileNotFoundError, KeyError) as exc:
            self._send_json({"error": f"not found: {exc}"}, HTTPStatus.NOT_FOUND)
        except StorageError as exc:
            self._send_json({"error": str(exc)}, HTTPStatus.CONFLICT)
        except UnicodeDecodeError:
            self._send_json({"error": "bad path encoding"}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):   # the browser went away
            pass
        except Exception as exc:
            log.exception("kmor watch: %s failed", self.path)
            self._send_json({"error": f"{type(exc).__name__}: {exc}"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _authorised(self) -> bool:
        srv = self.server
        if srv.token is None:
            return True
        query = parse_qs(urlsplit(self.path).query)
        offered: str | None = query["token"][0] if query.get("token") else None
        auth = self.headers.get("Authorization", "")
        if offered is None and auth.startswith("Bearer "):
            offered = auth[len("Bearer "):].strip()
        if offered is None:
            offered = _cookie(self.headers.get("Cookie", ""), COOKIE)
        return srv.check_token(offered)

    def _route(self, parts: list[str]) -> None:
        root = self.server.root
        if parts in ([""], []):
            self._send_file(STATIC_DIR / "index.html", set_cookie=True)
        elif parts[0] == "static" and len(parts) == 2:
            names = {p.name for p in STATIC_DIR.iterdir()}
            if parts[1] not in names:
                raise FileNotFoundError(parts[1])
            self._send_file(STATIC_DIR / parts[1])
        elif parts[:2] == ["api", "runs"] and len(parts) == 2:
            self._send_json({"root": str(root), "default_run": self.server.default_run,
                             "runs": runs.list_runs(root)})
        elif parts[:2] == ["api", "runs"] and len(parts) == 3:
            folder = run_dir(root, parts[2])
            self._send_body(self.server.replies.get(("detail", folder), folder,
                                                    lambda: runs.run_detail(folder)))
        elif parts[:2] == ["api", "runs"] and len(parts) == 4 and parts[3] == "live":
            folder = run_dir(root, parts[2])
            self._send_body(self.server.replies.get(("live", folder), folder, lambda: self._live(folder)))
        elif parts[:2] == ["api", "runs"] and len(parts) == 5 and parts[3] == "scans":
            folder = run_dir(root, parts[2])
            inside(folder, parts[4])
            data = runs.read_closed_scan(folder, parts[4])
            data["fit"] = self.server.fits.get((folder.name, parts[4]), data["kind"], data["n_points"],
                                               data["columns"])
            self._send_json(data)
        elif parts[0] == "files" and len(parts) > 1:
            target = inside(root, *parts[1:])
            if target.suffix.lower() not in SERVED_SUFFIXES or not target.is_file():
                raise NotAllowed(f"{'/'.join(parts[1:])} is not a report file")
            self._send_file(target)
        else:
            raise FileNotFoundError(self.path.split("?")[0])

    def _live(self, folder: Path) -> dict[str, Any]:
        status = runs.run_state(folder)
        live = runs.read_json(folder / runs.LIVE_SCAN_FILE)
        if not isinstance(live, dict):
            return {"status": runs.clean(status), "scan": None}
        fit = self.server.fits.get((folder.name, str(live.get("scan"))), str(live.get("kind")),
                                   int(live.get("n_points") or 0), live.get("columns") or {})
        cleaned: dict[str, Any] = runs.clean({"status": status, "scan": live, "fit": fit})
        return cleaned

    # -- responses -------------------------------------------------------------------------
    def _security_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                         "connect-src 'self'; frame-ancestors 'none'")

    def _send_json(self, obj: Any, status: HTTPStatus = HTTPStatus.OK,
                   extra: dict[str, str] | None = None) -> None:
        self._send(encode(obj), "application/json; charset=utf-8", status, extra)

    def _send_body(self, body: bytes) -> None:
        self._send(body, "application/json; charset=utf-8", HTTPStatus.OK, None)

    def _send_file(self, path: Path, set_cookie: bool = False) -> None:
        body = path.read_bytes()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        if path.suffix == ".md":
            ctype = "text/plain; charset=utf-8"
        extra = {}
        if set_cookie and self.server.token:
            extra["Set-Cookie"] = f"{COOKIE}={self.server.token}; HttpOnly; SameSite=Strict; Path=/"
        self._send(body, ctype, HTTPStatus.OK, extra)

    def _send(self, body: bytes, ctype: str, status: HTTPStatus, extra: dict[str, str] | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self._security_headers()
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not getattr(self, "_head", False):
            self.wfile.write(body)


def encode(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=False, default=str).encode("utf-8")


class ReplyCache:
    """Encoded replies per (endpoint, run folder), reused while none of the run folder's files
    changed (names, sizes and modification times): a hundred open pages cost one read and one
    encoding per change of the run, not one per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[tuple[str, Path], tuple[Any, bytes]] = {}

    @staticmethod
    def signature(folder: Path) -> Any:
        """What changes when the run writes anything (the folder and its report folder), and a
        5-second clock (a run's process may die without writing: run_state checks its pid)."""
        entries: list[Any] = [int(time.monotonic() // 5)]
        for place in (folder, folder.parent / f"{folder.name}-report", folder / "report"):
            try:
                with os.scandir(place) as it:
                    for e in it:
                        st = e.stat(follow_symlinks=False)
                        entries.append((place.name, e.name, st.st_size, st.st_mtime_ns))
            except OSError:
                continue
        return tuple(entries[:1] + sorted(entries[1:]))

    def get(self, key: tuple[str, Path], folder: Path, compute: Any) -> bytes:
        sig = self.signature(folder)
        with self._lock:
            cached = self._replies.get(key)
            if cached is not None and cached[0] == sig:
                return cached[1]
        body = encode(compute())
        with self._lock:
            if len(self._replies) > 512:
                self._replies.clear()
            self._replies[key] = (sig, body)
        return body


def _cookie(header: str, name: str) -> str | None:
    for item in header.split(";"):
        key, _, value = item.strip().partition("=")
        if key == name:
            return value
    return None
