"""A loopback stand-in for GitHub's issue-comments API: keeps comments in memory,
answers GET (paged, 100 a page), POST and PATCH as the REST API does, and
records every request."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlparse


class CommentsStandIn:
    def __init__(self, existing: list[str] | None = None) -> None:
        self.comments: list[dict[str, Any]] = [{"id": 100 + i, "body": b} for i, b in enumerate(existing or [])]
        self.requests: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:
                pass

            def _answer(self, code: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = parse_qs(url.query)
                per, page = int(q.get("per_page", ["30"])[0]), int(q.get("page", ["1"])[0])
                with owner._lock:
                    owner.requests.append(("GET", self.path, None))
                    items = owner.comments[(page - 1) * per : page * per]
                self._answer(200, items)

            def _read_only(self) -> bool:
                # A fork's pull request gets a read-only token: GitHub answers 403 to writes.
                if self.headers.get("Authorization", "").endswith("read-only"):
                    self._answer(403, {"message": "Resource not accessible by integration"})
                    return True
                return False

            def do_POST(self) -> None:
                body = self._body()
                if self._read_only():
                    return
                with owner._lock:
                    owner.requests.append(("POST", self.path, body))
                    item = {"id": 1000 + len(owner.comments), "body": body["body"]}
                    owner.comments.append(item)
                self._answer(201, item)

            def do_PATCH(self) -> None:
                body = self._body()
                if self._read_only():
                    return
                cid = int(self.path.rsplit("/", 1)[1])
                with owner._lock:
                    owner.requests.append(("PATCH", self.path, body))
                    item = next(c for c in owner.comments if c["id"] == cid)
                    item["body"] = body["body"]
                self._answer(200, item)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CommentsStandIn:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
