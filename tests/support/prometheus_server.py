"""A real ``prometheus`` server on a free 127.0.0.1 port, for tests.

Usage::

    if (why := prometheus_missing()):
        pytest.skip(why)
    with PrometheusServer(targets=["127.0.0.1:8002"], rule_files=[rules], labels={"namespace": "ml-prod"}) as prom:
        prom.query('up')

Scrape and evaluation run every second so recording rules have values within
seconds. The process is stopped by its id (SIGTERM, then SIGKILL), every wait
is bounded.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.procs import free_ports, stop

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def prometheus_missing() -> str | None:
    """Why a real prometheus cannot run here (for ``pytest.skip``), or None."""
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install prometheus)"
    return None


def _config(targets: Sequence[str], rule_files: Sequence[Path], labels: Mapping[str, str]) -> str:
    # JSON is YAML: no quoting questions for paths or label values.
    doc = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {
                "job_name": "triton",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": list(targets), "labels": dict(labels)}],
            }
        ],
    }
    return json.dumps(doc, indent=2)


class PrometheusServer:
    """A prometheus process scraping ``targets`` with ``rule_files`` loaded (context manager)."""

    def __init__(
        self, *, targets: Sequence[str], rule_files: Sequence[Path] = (), labels: Mapping[str, str] | None = None
    ) -> None:
        self.targets, self.rule_files, self.labels = list(targets), list(rule_files), dict(labels or {})
        self._dir = Path(tempfile.mkdtemp(prefix="prometheus-"))
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.pid = 0
        self.ready_seconds = 0.0

    def __enter__(self) -> PrometheusServer:
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _start(self) -> None:
        config = self._dir / "prometheus.yml"
        config.write_text(_config(self.targets, self.rule_files, self.labels))
        (port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{port}"
        cmd = [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={self._dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        began = time.monotonic()
        log = (self._dir / "prometheus.log").open("wb")
        with log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self._proc.pid
        while time.monotonic() - began < READY_TIMEOUT:
            if self._proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self._proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        self.ready_seconds = time.monotonic() - began
                        return
            time.sleep(0.1)
        raise RuntimeError(f"prometheus not ready after {READY_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop(proc, STOP_TIMEOUT)
        shutil.rmtree(self._dir, ignore_errors=True)

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.loads(r.read())
        if body.get("status") != "success":
            raise RuntimeError(f"prometheus {path}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; the result vector."""
        return list(self.api("query", query=expr)["result"])

    def rule_health(self) -> list[tuple[str, str, str]]:
        """(rule name, health, last error) for every loaded rule."""
        out = []
        for group in self.api("rules")["groups"]:
            for rule in group["rules"]:
                out.append((rule["name"], rule.get("health", ""), rule.get("lastError", "")))
        return out

    def log_tail(self, lines: int = 30) -> str:
        path = self._dir / "prometheus.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
