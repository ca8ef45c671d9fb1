"""A real ``tritonserver`` (from the nvidia-pytriton wheel) on loopback ports, for tests.

Usage::

    if (why := triton_missing()):
        pytest.skip(why)
    with TritonServer(repo) as server:
        client = tritonclient.http.InferenceServerClient(server.http_url)

The server runs with ``--model-control-mode=explicit`` so a model that fails to
load is reported for that model (with the server log's tail), not as a server
that never starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from tests.support.procs import free_ports, stop

START_TIMEOUT = 30.0  # seconds until /v2/health/live must answer
LOAD_TIMEOUT = 60.0  # seconds per model load request
STOP_TIMEOUT = 15.0  # seconds after SIGTERM before SIGKILL


def _pytriton_dir() -> Path | None:
    try:
        import pytriton
    except ImportError:
        return None
    return Path(pytriton.__file__).parent / "tritonserver"


def triton_missing() -> str | None:
    """Why a real tritonserver cannot run here (for ``pytest.skip``), or None."""
    root = _pytriton_dir()
    if root is None:
        return "nvidia-pytriton is not installed (pip install nvidia-pytriton)"
    binary = root / "bin" / "tritonserver"
    if not os.access(binary, os.X_OK):
        return f"no tritonserver binary at {binary}"
    stub = root / "backends" / "python" / "triton_python_backend_stub"
    if not stub.exists():
        return (
            f"python backend stub missing: copy python_backend_stubs/"
            f"{sys.version_info.major}.{sys.version_info.minor}/triton_python_backend_stub to {stub.parent}"
        )
    try:
        import tritonclient.http  # noqa: F401
    except ImportError:
        return "tritonclient is not installed (pip install 'tritonclient[all]')"
    return None


_ENSEMBLE = re.compile(r'^\s*platform\s*:\s*"ensemble"', re.MULTILINE)
_STEP_MODEL = re.compile(r'model_name\s*:\s*"([^"]+)"')


def _is_ensemble(model_dir: Path) -> bool:
    cfg = model_dir / "config.pbtxt"
    return cfg.exists() and bool(_ENSEMBLE.search(cfg.read_text()))


def load_order(repository: Path, models: Sequence[str] | None = None) -> list[str]:
    """Models to load: plain models first, then ensembles after the models they use."""
    names = (
        list(models)
        if models is not None
        else sorted(p.name for p in repository.iterdir() if p.is_dir() and (p / "config.pbtxt").exists())
    )
    deps: dict[str, set[str]] = {}
    for name in names:
        cfg = repository / name / "config.pbtxt"
        text = cfg.read_text() if cfg.exists() else ""
        deps[name] = set(_STEP_MODEL.findall(text)) if _ENSEMBLE.search(text) else set()
    ordered: list[str] = []
    pending = list(names)
    while pending:
        ready = [n for n in pending if not (deps[n] & set(pending))]
        if not ready:  # a cycle: let the server report it
            ready = pending[:1]
        for n in ready:
            ordered.append(n)
            pending.remove(n)
    return ordered


class TritonServer:
    """A tritonserver process serving ``repository`` on free 127.0.0.1 ports (context manager)."""

    def __init__(
        self,
        repository: Path,
        *,
        models: Sequence[str] | None = None,
        log_path: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.repository = Path(repository)
        self.models = models
        self.extra_args = tuple(extra_args)
        self._own_log = log_path is None
        self.log_path = Path(log_path) if log_path else Path(tempfile.mkstemp(prefix="triton-", suffix=".log")[1])
        self.http_url = ""
        self.grpc_url = ""
        self.metrics_url = ""
        self.pid = 0
        self.start_seconds = 0.0  # time until the server answered live
        self.load_seconds = 0.0  # time to load every requested model
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> TritonServer:
        why = triton_missing()
        if why:
            raise RuntimeError(why)
        try:
            self._start()
            began = time.monotonic()
            self._load_all(load_order(self.repository, self.models))
            self.load_seconds = time.monotonic() - began
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
        if self._own_log and exc is None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def _start(self) -> None:
        root = _pytriton_dir()
        assert root is not None
        http, grpc, metrics = free_ports(3)
        self.http_url = f"127.0.0.1:{http}"
        self.grpc_url = f"127.0.0.1:{grpc}"
        self.metrics_url = f"http://127.0.0.1:{metrics}/metrics"
        env = dict(os.environ)
        # The python backend stub ignores PYTHONPATH: it finds numpy through PATH.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        libs = root.parent.parent / "nvidia_pytriton.libs"
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(libs), env.get("LD_LIBRARY_PATH", "")) if p)
        cmd = [
            str(root / "bin" / "tritonserver"),
            f"--model-repository={self.repository}",
            f"--backend-directory={root / 'backends'}",
            f"--cache-directory={root / 'caches'}",
            "--model-control-mode=explicit",
            "--http-address=127.0.0.1", f"--http-port={http}",
            "--grpc-address=127.0.0.1", f"--grpc-port={grpc}",
            "--metrics-address=127.0.0.1", f"--metrics-port={metrics}",
            "--allow-gpu-metrics=false",
            "--metrics-config=summary_latencies=true",
            "--exit-timeout-secs=0",  # tests need no graceful drain: 0.4 s to stop instead of ~4 s
            *self.extra_args,
        ]  # fmt: skip
        began = time.monotonic()
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.pid = self._proc.pid
        deadline = began + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"tritonserver exited with {self._proc.returncode}:\n{self.log_tail()}")
            if self._get("/v2/health/live")[0] == 200:
                self.start_seconds = time.monotonic() - began
                return
            time.sleep(0.05)
        raise RuntimeError(f"tritonserver not live after {START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            # Python backend stubs run in the server's process group: none may outlive it.
            stop(proc, STOP_TIMEOUT)

    # -- requests --------------------------------------------------------------------
    def _get(self, path: str, body: bytes | None = None, timeout: float = 2.0) -> tuple[int, str]:
        req = urllib.request.Request(f"http://{self.http_url}{path}", data=body, method="POST" if body else "GET")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace")
        except (OSError, TimeoutError):
            return 0, ""

    def _load_all(self, ordered: list[str]) -> None:
        """Load plain models concurrently (Triton loads in parallel), then ensembles in order."""
        plain = [n for n in ordered if not _is_ensemble(self.repository / n)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            for future in [pool.submit(self.load, n) for n in plain]:
                future.result()
        for name in ordered:
            if name not in plain:
                self.load(name)

    def load(self, name: str) -> None:
        """Load one model; RuntimeError with the server's message and log tail if it fails."""
        status, text = self._get(f"/v2/repository/models/{name}/load", body=b"{}", timeout=LOAD_TIMEOUT)
        if status != 200:
            try:
                message = json.loads(text).get("error", text)
            except ValueError:
                message = text
            raise RuntimeError(f"loading {name!r} failed ({status}): {message}\n{self.log_tail()}")

    def unload(self, name: str) -> None:
        """Unload one model and wait (bounded) until the server no longer serves it."""
        self._get(f"/v2/repository/models/{name}/unload", body=b"{}", timeout=LOAD_TIMEOUT)
        deadline = time.monotonic() + LOAD_TIMEOUT
        while self.ready(name) and time.monotonic() < deadline:
            time.sleep(0.05)

    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self._proc is not None and self._proc.poll() is None

    def ready(self, name: str) -> bool:
        return self._get(f"/v2/models/{name}/ready")[0] == 200

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
