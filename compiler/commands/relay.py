"""``shipspec relay``: Alertmanager webhook -> GitHub ``repository_dispatch``.

Alertmanager posts a notification (webhook payload version 4) for each group
of alerts; every *firing* alert that carries a ``retrain_event_type``
annotation (the rules put it on ``-> retrain`` monitor alerts) becomes one
``POST {api}/repos/{owner}/{repo}/dispatches`` with::

    {"event_type": "retrain-<model>",
     "client_payload": {"alertname", "model", "environment", "signal", "statistic", "severity", "summary"}}

which starts the model's generated ``retrain-<model>.yml`` workflow. One
request per event type and environment per notification (a group of several
features' alerts retrains once). The token is read from an environment
variable (rendered from a Secret reference, never written in a file). A
failed dispatch answers 502, so Alertmanager retries the notification.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from compiler.errors import UsageError

API = "https://api.github.com"
TOKEN_ENV = "GITHUB_TOKEN"
EVENT_ANNOTATION = "retrain_event_type"
MAX_BODY = 1 << 20
_PAYLOAD_LABELS = ("alertname", "model", "environment", "signal", "statistic", "severity")


def dispatches(notification: dict[str, Any]) -> list[dict[str, Any]]:
    """The repository_dispatch bodies a notification asks for, in order, once each."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for alert in notification.get("alerts") or []:
        if not isinstance(alert, dict) or alert.get("status") != "firing":
            continue
        labels, annotations = alert.get("labels") or {}, alert.get("annotations") or {}
        event = annotations.get(EVENT_ANNOTATION)
        if not isinstance(event, str) or not event:
            continue
        key = (event, str(labels.get("environment", "")))
        if key in seen:
            continue
        seen.add(key)
        payload = {k: str(labels[k]) for k in _PAYLOAD_LABELS if k in labels}
        if annotations.get("summary"):
            payload["summary"] = str(annotations["summary"])
        out.append({"event_type": event, "client_payload": payload})
    return out


def send(api: str, repository: str, token: str, body: dict[str, Any], timeout: float = 10.0) -> int:
    req = urllib.request.Request(
        f"{api.rstrip('/')}/repos/{repository}/dispatches",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "Content-Type": "application/json",
            "User-Agent": "shipspec-relay",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # the configured API
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()  # an HTTPError holds the response's socket
        return exc.code


def handler(api: str, repository: str, token: str, log: Callable[[str], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:  # http.server's signature
            pass

        def _answer(self, code: int, text: str) -> None:
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(200 if self.path in ("/healthz", "/-/ready") else 404, "ok\n")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413, "too large\n")
                return
            try:
                notification = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._answer(400, "not JSON\n")
                return
            failed = 0
            for body in dispatches(notification if isinstance(notification, dict) else {}):
                try:
                    status = send(api, repository, token, body)
                except OSError as exc:
                    status = 0
                    log(f"relay: {body['event_type']}: {exc}")
                ok = 200 <= status < 300
                failed += not ok
                log(
                    f"relay: dispatched {body['event_type']} "
                    f"({body['client_payload'].get('environment', '?')}): HTTP {status}"
                )
            self._answer(502 if failed else 200, f"{failed} failed\n")

    return Handler


def serve(
    listen: str, repository: str, api: str = API, token_env: str = TOKEN_ENV, ready: threading.Event | None = None
) -> None:
    token = os.environ.get(token_env, "")
    if not token:
        raise UsageError(f"relay: the token variable {token_env} is empty")
    host, _, port = listen.rpartition(":")
    # 0.0.0.0 (no host given): in a pod, reached through its Service
    server = ThreadingHTTPServer(
        (host or "0.0.0.0", int(port)), handler(api, repository, token, lambda m: print(m, file=sys.stderr, flush=True))
    )
    print(f"shipspec relay: listening on {host or '0.0.0.0'}:{server.server_address[1]}", file=sys.stderr, flush=True)
    if ready is not None:
        ready.set()
    try:
        server.serve_forever()
    finally:
        server.server_close()
