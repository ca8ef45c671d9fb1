"""``shipspec load``: a bounded open-loop load test against a Triton endpoint.

Requests are sent on a fixed schedule (``rate`` per second for ``duration``)
whatever the server's speed, and each latency is measured from the moment the
request was *due*, not from when a free worker sent it; a slow server
therefore cannot hide its queueing (no coordinated omission). The run is
bounded: at most ``rate * duration`` requests, each with a timeout, and at
most ``max_in_flight`` outstanding; a request that would exceed that bound is
counted as an error instead of being queued.

The result is written as evidence (docs/evidence.md) for ``shipspec gate
check``. tritonclient is imported only here, on this command's path.

Where Triton's own ``perf_analyzer`` is installed (on ``PATH``, in
``$SHIPSPEC_PERF_ANALYZER`` or named by ``--perf-analyzer``), ``--engine auto``
(the default) drives it instead at the same constant request rate, and reads
the requests of the windows it measured from its profile export; a profile
export of an earlier run is accepted as evidence too (``--from-perf-analyzer``).
The built-in generator stays the fallback. perf_analyzer measures a request
from when it was sent, not from when it was due (its sending threads can fall
behind), so its percentiles can be lower than the built-in ones under overload.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import serialize, units
from compiler.errors import UsageError
from compiler.fsutil import write_atomic


@dataclass(frozen=True, slots=True)
class Settings:
    """The command line's quantities of ``shipspec load``, parsed (seconds, requests per second)."""

    rate: float
    duration: float
    timeout: float
    percentile: float
    threshold_ms: float | None


def _quantity(text: str, parse: Callable[[str], tuple[float | None, str | None]], what: str) -> float:
    value, error = parse(text)
    if value is None:
        raise UsageError(f"{what} {text!r}: {error}")
    return value


def settings(rate: str, duration: str, percentile: str, timeout: str, threshold: str | None) -> Settings:
    """Parse the quantities as the command line gives them (``300rps``, ``10m``, ``p99``); raises UsageError."""
    rate_rps = _quantity(rate, units.rate, "--rate")
    duration_s = _quantity(duration, units.duration, "--duration")
    timeout_s = _quantity(timeout, units.duration, "--timeout")
    threshold_s = _quantity(threshold, units.duration, "--threshold") if threshold else None
    try:
        pct = float(percentile.removeprefix("p"))
    except ValueError:
        raise UsageError(f"--percentile {percentile!r}: write it like 99 or p99") from None
    if not 0 < pct <= 100:
        raise UsageError(f"--percentile {percentile!r}: must be within (0, 100]")
    threshold_ms = threshold_s * 1000 if threshold_s is not None else None
    return Settings(rate_rps, duration_s, timeout_s, pct, threshold_ms)


class LoadError(UsageError):
    """The endpoint or model cannot be load-tested (unreachable, not ready)."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    model: str
    url: str
    percentile: float
    latency_ms: float
    p50_ms: float
    max_ms: float
    target_rate: float
    rate_rps: float
    duration_s: float
    requests: int
    errors: int
    engine: str = "builtin"  # or "perf_analyzer"

    def evidence(self) -> dict[str, Any]:
        """The evidence document ``gate check`` reads."""
        load: dict[str, float] = {
            "percentile": self.percentile,
            "rate_rps": round(self.rate_rps, 3),
            "duration_s": round(self.duration_s, 3),
            "requests": self.requests,
            "errors": self.errors,
        }
        if math.isfinite(self.latency_ms):  # no request succeeded: there is no latency to report
            load["latency_ms"] = round(self.latency_ms, 3)
        return {"model": self.model, "load": load}


def percentile_of(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in (0, 100]) of ``values``; inf when empty."""
    if not values:
        return math.inf
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _client_factory(url: str, timeout: float) -> tuple[Any, Any]:
    """(module, factory) for the URL: ``grpc://host:port`` or ``[http://]host:port``."""
    if url.startswith("grpc://"):
        import tritonclient.grpc as mod

        target = url.removeprefix("grpc://")
        return mod, lambda: mod.InferenceServerClient(target)
    import tritonclient.http as mod

    target = url.removeprefix("http://")
    if target.startswith("https://"):
        target = target.removeprefix("https://")
        return mod, lambda: mod.InferenceServerClient(target, ssl=True, network_timeout=timeout)
    return mod, lambda: mod.InferenceServerClient(target, network_timeout=timeout, connection_timeout=timeout)


def _inputs(mod: Any, client: Any, model: str, version: str) -> list[Any]:
    """One request's inputs, shaped from the model's own metadata (batch of 1)."""
    import numpy as np
    from tritonclient.utils import triton_to_np_dtype

    meta = client.get_model_metadata(model, version)
    tensors = (
        meta["inputs"]
        if isinstance(meta, dict)
        else [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in meta.inputs]
    )
    out = []
    for t in tensors:
        shape = [1 if int(d) < 0 else int(d) for d in t["shape"]]
        if t["datatype"] == "BYTES":
            data = np.full(shape, b"shipspec", dtype=np.object_)
        else:
            data = np.zeros(shape, dtype=triton_to_np_dtype(t["datatype"]))
        item = mod.InferInput(t["name"], shape, t["datatype"])
        item.set_data_from_numpy(data)
        out.append(item)
    return out


def run(
    url: str,
    model: str,
    *,
    rate: float,
    duration: float,
    percentile: float,
    version: str = "",
    timeout: float = 10.0,
    max_in_flight: int = 64,
) -> LoadResult:
    """Drive ``rate`` requests per second for ``duration`` seconds; measure the percentile."""
    if rate <= 0 or duration <= 0:
        raise LoadError("rate and duration must be positive")
    mod, factory = _client_factory(url, timeout)
    probe = factory()
    try:
        if not probe.is_model_ready(model, version):
            raise LoadError(f"model {model} is not ready at {url}")
        inputs = _inputs(mod, probe, model, version)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - tritonclient raises many kinds for an unreachable server
        raise LoadError(f"cannot reach {model} at {url}: {exc}") from None

    local = threading.local()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    in_flight = threading.BoundedSemaphore(max_in_flight)

    def one(due: float) -> None:
        nonlocal errors
        try:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = factory()
            client.infer(model, inputs, model_version=version)
            took = time.perf_counter() - due
            with lock:
                latencies.append(took)
        except Exception:  # noqa: BLE001 - every failed request counts, whatever failed
            with lock:
                errors += 1
        finally:
            in_flight.release()

    total = max(1, int(round(rate * duration)))
    futures: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="shipspec-load") as pool:
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            if not in_flight.acquire(blocking=False):
                with lock:
                    errors += 1  # over the in-flight bound: refuse rather than queue
                continue
            futures.append(pool.submit(one, due))
        sent_for = max(time.perf_counter() - start, total / rate)
        for f in futures:
            f.result(timeout=timeout + 5)
    ms = [v * 1000 for v in latencies]
    return LoadResult(
        model=model,
        url=url,
        percentile=percentile,
        latency_ms=percentile_of(ms, percentile),
        p50_ms=percentile_of(ms, 50),
        max_ms=max(ms) if ms else math.inf,
        target_rate=rate,
        rate_rps=total / sent_for,
        duration_s=sent_for,
        requests=total,
        errors=errors,
    )


def describe(r: LoadResult, threshold_ms: float | None) -> str:
    """One human line per result, and the verdict when a threshold was given."""
    line = (
        f"load {r.model} at {r.url} ({r.engine}): {r.requests} requests in {r.duration_s:.1f}s "
        f"({r.rate_rps:.1f}rps of {r.target_rate:g}rps), {r.errors} errors; "
        f"p{r.percentile:g} {r.latency_ms:.2f}ms, p50 {r.p50_ms:.2f}ms, max {r.max_ms:.2f}ms"
    )
    if threshold_ms is not None:
        ok = r.latency_ms < threshold_ms
        verdict, op = ("PASS", "<") if ok else ("FAIL", ">=")
        line += f"\n{verdict}: p{r.percentile:g} {r.latency_ms:.2f}ms {op} {threshold_ms:g}ms"
    return line + "\n"


def passed(r: LoadResult, threshold_ms: float | None) -> bool:
    """Whether the run meets the threshold (always, without one)."""
    return threshold_ms is None or r.latency_ms < threshold_ms


def save(r: LoadResult, path: Path) -> None:
    """Write the result as the evidence JSON ``gate check`` reads."""
    write_atomic(path, serialize.to_json(r.evidence(), sort_keys=True).encode())


# ---- perf_analyzer --------------------------------------------------------------------------------

PERF_ANALYZER_ENV = "SHIPSPEC_PERF_ANALYZER"


def find_perf_analyzer(explicit: str | None = None) -> str | None:
    """The perf_analyzer to drive: ``explicit``, else ``$SHIPSPEC_PERF_ANALYZER``, else ``PATH``'s; or None."""
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise UsageError(f"--perf-analyzer {explicit!r}: not an executable file")
        return explicit
    found = os.environ.get(PERF_ANALYZER_ENV) or shutil.which("perf_analyzer")
    return found if found and os.path.isfile(found) and os.access(found, os.X_OK) else None


def _shapes(client: Any, model: str, version: str) -> list[str]:
    """``--shape NAME:DIMS`` for inputs with variable dimensions (as 1), without the batch dimension."""
    meta = client.get_model_metadata(model, version)
    config = client.get_model_config(model, version)
    max_batch = int((config.get("max_batch_size") if isinstance(config, dict) else config.config.max_batch_size) or 0)
    tensors = (
        meta["inputs"] if isinstance(meta, dict) else [{"name": t.name, "shape": list(t.shape)} for t in meta.inputs]
    )
    out = []
    for t in tensors:
        dims = [int(d) for d in t["shape"]][1 if max_batch else 0 :]
        if any(d < 0 for d in dims):
            out += ["--shape", f"{t['name']}:{','.join(str(1 if d < 0 else d) for d in dims)}"]
    return out


def perf_analyzer_command(
    binary: str,
    url: str,
    model: str,
    *,
    rate: float,
    duration: float,
    percentile: float,
    version: str,
    shapes: list[str],
    profile: Path,
) -> list[str]:
    """perf_analyzer at a constant ``rate``: one warm-up window, then the three it measures, of duration/3 each."""
    protocol, target = (
        ("grpc", url.removeprefix("grpc://")) if url.startswith("grpc://") else ("http", url.removeprefix("http://"))
    )
    window_ms = max(100, int(round(duration * 1000 / 3)))
    rate_text = f"{rate:g}"
    cmd = [
        binary, "-m", model, "-u", target, "-i", protocol,
        "--request-rate-range", f"{rate_text}:{rate_text}:1", "--request-distribution", "constant",
        "--measurement-mode", "time_windows", "--measurement-interval", str(window_ms),
        # Three windows are always "stable" at 999 %: the run is bounded by the duration asked for.
        "--max-trials", "4", "--stability-percentage", "999",
        "--percentile", f"{percentile:g}", "--input-data", "zero", "--profile-export-file", str(profile),
        *shapes,
    ]  # fmt: skip
    return cmd + (["-x", version] if version else [])


def from_profile_export(doc: dict[str, Any], model: str, url: str, percentile: float) -> LoadResult:
    """A perf_analyzer profile export (``--profile-export-file``) as a load result.

    perf_analyzer reports the last three measurement windows (earlier ones are its warm-up); the
    same requests are read here, and each latency is last response minus send time. A request
    without a response counts as an error.
    """
    try:
        experiment = doc["experiments"][-1]
        requests = experiment["requests"]
        bounds = [int(b) for b in experiment.get("window_boundaries") or []]
        mode, value = experiment["experiment"]["mode"], float(experiment["experiment"]["value"])
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise UsageError(f"not a perf_analyzer profile export: {err!r}") from None
    if mode != "request_rate":
        raise UsageError(f"perf_analyzer ran in {mode} mode; shipspec load reads request_rate runs")
    stamps = [int(r["timestamp"]) for r in requests]
    if not stamps:
        raise UsageError("the perf_analyzer profile export holds no requests")
    low, high = (bounds[-4], bounds[-1]) if len(bounds) >= 4 else (min(stamps), max(stamps) + 1)
    measured = [r for r in requests if low <= int(r["timestamp"]) < high]
    answered = [r for r in measured if r.get("response_timestamps")]
    ms = [(int(r["response_timestamps"][-1]) - int(r["timestamp"])) / 1e6 for r in answered]
    span = max((high - low) / 1e9, 1e-9)
    return LoadResult(
        model=model,
        url=url,
        percentile=percentile,
        latency_ms=percentile_of(ms, percentile),
        p50_ms=percentile_of(ms, 50),
        max_ms=max(ms) if ms else math.inf,
        target_rate=value,
        rate_rps=len(measured) / span,
        duration_s=span,
        requests=len(measured),
        errors=len(measured) - len(ms),
        engine="perf_analyzer",
    )


def read_profile_export(path: Path, model: str, url: str, percentile: float) -> LoadResult:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read the perf_analyzer profile export {path}: {err}") from None
    return from_profile_export(doc, model, url, percentile)


def run_perf_analyzer(
    binary: str,
    url: str,
    model: str,
    *,
    rate: float,
    duration: float,
    percentile: float,
    version: str = "",
    timeout: float = 10.0,
) -> LoadResult:
    """Drive perf_analyzer at ``rate`` for about ``duration`` (plus one warm-up window); bounded in time."""
    if rate <= 0 or duration <= 0:
        raise LoadError("rate and duration must be positive")
    _mod, factory = _client_factory(url, timeout)
    probe = factory()
    try:
        if not probe.is_model_ready(model, version):
            raise LoadError(f"model {model} is not ready at {url}")
        shapes = _shapes(probe, model, version)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - tritonclient raises many kinds for an unreachable server
        raise LoadError(f"cannot reach {model} at {url}: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="shipspec-perf-") as tmp:
        profile = Path(tmp) / "profile.json"
        cmd = perf_analyzer_command(
            binary,
            url,
            model,
            rate=rate,
            duration=duration,
            percentile=percentile,
            version=version,
            shapes=shapes,
            profile=profile,
        )
        # Four windows of duration/3, plus start-up and each request's timeout.
        limit = duration * 4 / 3 + timeout + 60
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            raise LoadError(f"perf_analyzer did not finish within {limit:.0f}s") from None
        if proc.returncode != 0 or not profile.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            raise LoadError(f"perf_analyzer failed (exit {proc.returncode}): {tail}")
        return read_profile_export(profile, model, url, percentile)
