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
"""

from __future__ import annotations

import math
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
        f"load {r.model} at {r.url}: {r.requests} requests in {r.duration_s:.1f}s "
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
