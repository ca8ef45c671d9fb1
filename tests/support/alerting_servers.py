"""Real Pushgateway, Alertmanager and Prometheus processes for the alerting
tests: each on a free 127.0.0.1 port, ready within a bounded wait, stopped by
PID (tests/procs.py). ``Prometheus`` here takes a whole configuration (scrape
jobs with honor_labels, an Alertmanager to send to), unlike
tests/prometheus_server.py, which scrapes Triton targets only."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.procs import free_ports, stop

READY_TIMEOUT, STOP_TIMEOUT = 30.0, 10.0
ALERTMANAGER, PUSHGATEWAY = "prometheus-alertmanager", "prometheus-pushgateway"


def missing(*tools: str) -> str | None:
    for tool in tools:
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/bootstrap installs it)"
    return None


class Loopback:
    """A server process started from ``argv(port, workdir)``; ready when ``ready_path`` answers 200."""

    name = "server"
    ready_path = "/-/ready"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.url = ""
        self.port = 0
        self.pid = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def argv(self, port: int) -> list[str]:
        raise NotImplementedError

    def __enter__(self) -> Loopback:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        (self.port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{self.port}"
        with (self.dir / "log").open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv(self.port), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid = self._proc.pid
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url + self.ready_path, timeout=1) as r:
                    if r.status == 200:
                        return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {READY_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop(proc, STOP_TIMEOUT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def get_json(self, path: str, **params: str) -> Any:
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())

    def log_tail(self, lines: int = 30) -> str:
        path = self.dir / "log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


class Pushgateway(Loopback):
    name = "pushgateway"

    def argv(self, port: int) -> list[str]:
        return [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]


class Alertmanager(Loopback):
    name = "alertmanager"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        (self.dir / "alertmanager.yml").write_text(json.dumps(config))

    def argv(self, port: int) -> list[str]:
        (cluster,) = free_ports(1)
        return [
            ALERTMANAGER,
            f"--config.file={self.dir / 'alertmanager.yml'}",
            f"--storage.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--cluster.listen-address=127.0.0.1:{cluster}",
            "--cluster.advertise-address=127.0.0.1:0",
            "--log.level=warn",
        ]

    def alerts(self) -> list[dict[str, Any]]:
        return list(self.get_json("/api/v2/alerts"))


class Prometheus(Loopback):
    name = "prometheus"

    def __init__(
        self,
        *,
        scrape: Sequence[dict[str, Any]],
        rule_files: Sequence[Path] = (),
        alertmanager: str | None = None,
        interval: str = "1s",
    ) -> None:
        super().__init__()
        doc: dict[str, Any] = {
            "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": list(scrape),
        }
        if alertmanager:
            doc["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        (self.dir / "prometheus.yml").write_text(json.dumps(doc))

    def argv(self, port: int) -> list[str]:
        return [
            "prometheus",
            f"--config.file={self.dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]

    def query(self, expr: str) -> list[dict[str, Any]]:
        body = self.get_json("/api/v1/query", query=expr)
        return list(body["data"]["result"])

    def firing(self, alertname: str) -> list[dict[str, Any]]:
        body = self.get_json("/api/v1/alerts")
        return [
            a for a in body["data"]["alerts"] if a["labels"].get("alertname") == alertname and a["state"] == "firing"
        ]


def eventually(probe: Callable[[], Any], wait: float, every: float = 0.25) -> Any:
    """The probe's first truthy answer within a bounded wait, else its last answer."""
    deadline = time.monotonic() + wait
    while True:
        got = probe()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(every)
