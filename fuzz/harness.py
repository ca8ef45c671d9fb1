"""The fuzzing harness (issue 17): mutated inputs through shipspec, in process.

Three targets, chosen in turn:

* ``spec``: a seed (``tests/corpus/*.ship``, the golden specs, ``specs/``) mutated
  token by token (grammar-aware) or byte by byte, then read (as a file: UTF-8,
  BOM, size), parsed, formatted (``fmt`` twice must agree), lowered and checked
  (``validate``); a mutant without errors is exported (the JSON must be strict:
  no ``Infinity``/``NaN``) and, every ``--compile-every``-th time, compiled,
  validated, emitted into a scratch root and checked (the plan must then be empty);
* ``evidence``: evidence YAML/JSON mutated and read (only ``EvidenceError`` is allowed);
* ``triton``: ``config.pbtxt`` files mutated and imported; what ``import triton``
  prints must parse as spec text (a string that escapes its quotes is a finding).

A *finding* is an exception other than the diagnostics path, a hang (past
``--timeout`` seconds), or a broken property. Each distinct site (target, kind,
innermost ``compiler/`` frame) is kept once, with the smallest reproducer the
minimiser finds, under ``--out``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fuzz import mutate

ROOT = Path(__file__).resolve().parent.parent


class Hang(Exception):
    pass


class Broken(Exception):
    """A property that must hold did not (the message says which)."""


@dataclass
class Finding:
    site: str
    target: str
    message: str
    reproducer: bytes
    count: int = 1


@dataclass
class Stats:
    inputs: int = 0
    by_target: dict[str, int] = field(default_factory=dict)
    compiled: int = 0
    clean: int = 0
    seconds: float = 0.0
    findings: dict[str, Finding] = field(default_factory=dict)

    def rate(self) -> float:
        return self.inputs / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "by_target": self.by_target,
            "clean_spec_mutants": self.clean,
            "compiled": self.compiled,
            "seconds": round(self.seconds, 1),
            "inputs_per_second": round(self.rate(), 1),
            "findings": [
                {
                    "site": f.site,
                    "target": f.target,
                    "message": f.message[:500],
                    "count": f.count,
                    "reproducer_bytes": len(f.reproducer),
                }
                for f in self.findings.values()
            ],
        }


# ---- seeds ------------------------------------------------------------------
def spec_seeds() -> list[bytes]:
    seeds = [p.read_bytes() for p in sorted((ROOT / "tests" / "corpus").glob("*.ship"))]
    for specs in sorted(ROOT.glob("golden/*/specs")) + [ROOT / "specs"]:
        files = sorted(specs.rglob("*.ship"))
        if files:
            seeds.append(b"\n".join(p.read_bytes() for p in files))
    return seeds


EVIDENCE_SEED = """model: fraud_detector
version: "1.4.2"
metrics:
  auc: {value: 0.934, dataset: transactions_holdout}
drift:
  psi: 0.11
fairness:
  demographic_parity_difference: 0.031
load:
  percentile: 99
  latency_ms: 41.5
  rate_rps: 299.2
  duration_s: 600
  requests: 179520
  errors: 0
"""


def evidence_seeds() -> list[tuple[str, bytes]]:
    import yaml

    as_json = json.dumps(yaml.safe_load(EVIDENCE_SEED), indent=1)
    return [("ev.yaml", EVIDENCE_SEED.encode()), ("ev.json", as_json.encode())]


def triton_seeds() -> list[bytes]:
    found = sorted((ROOT.parent / "shared" / "triton-configs").rglob("*.pbtxt"))
    found += sorted(ROOT.glob("golden/*/expected/deploy/*/triton/*/config.pbtxt"))[:20]
    return [p.read_bytes() for p in found] or [b'name: "m"\nplatform: "onnxruntime_onnx"\n']


EVIDENCE_TOKENS = [
    b"&a ",
    b"*a",
    b"[",
    b"{",
    b"]",
    b"}",
    b"1" * 5000,
    b"1.0e+999999999",
    b"-1",
    b".nan",
    b".inf",
    b"<<: *a",
    b"!!python/object:os.system",
    b"\n  auc: 1\n  auc: 2\n",
    b"[" * 5000,
    b"?",
    b"- ",
    b"\t",
]
TRITON_TOKENS = [
    b'"a\\"\\n  env X = \\"y"',
    b"data_type: 99",
    b"kind: 7",
    b"dims: [ -5 ]",
    b"max_batch_size: -1",
    b'default_model_filename: "\\"\\n}"',
    b"{",
    b"}",
    b'parameters { key: "\\n" value: { string_value: "\\"" } }',
    b"9" * 400,
    b'name: "a b"',
    b"timeout_action: 9",
]


# ---- targets ----------------------------------------------------------------
class Targets:
    def __init__(self, scratch: Path, compile_every: int) -> None:
        from compiler.backends.render import Templates

        self.scratch = scratch
        self.spec_path = scratch / "fuzz.ship"
        self.templates = Templates.load(None)
        self.compile_every = compile_every
        self.clean = 0
        self.compiled = 0

    def spec(self, data: bytes) -> None:
        from compiler import emit, serialize
        from compiler.commands.export import export
        from compiler.diagnostics import Sink
        from compiler.lower import lower_file
        from compiler.parse.printer import format_source
        from compiler.parse.sources import Loaded, merge
        from compiler.parse.syntax import parse_text, read_source
        from compiler.pipeline import check_loaded

        self.spec_path.write_bytes(data)
        text, _ = read_source(self.spec_path, "fuzz.ship")
        if text is None:
            return
        source, errors = parse_text(text, "fuzz.ship")
        if source.tree is None:
            return
        once = format_source(source)
        again_source, again_errors = parse_text(once, "fuzz.ship")
        if again_errors or again_source.tree is None:
            raise Broken(f"fmt output does not parse: {[d.code for d in again_errors]}")
        if format_source(again_source) != once:
            raise Broken("fmt is not idempotent")
        sink = Sink()
        nodes = lower_file(source.tree, "fuzz.ship", sink)
        loaded = Loaded(merge(nodes, ("fuzz.ship",)), (source,), tuple(sink.sorted()))
        checked = check_loaded(loaded)
        for d in checked.diagnostics:  # printed by validate
            f"{d.message} {d.hint or ''}".encode()
        once.encode("utf-8")  # printed or written by fmt
        if checked.has_errors:
            return
        self.clean += 1
        doc = serialize.to_json(export(checked.spec))
        json.loads(doc, parse_constant=lambda c: (_ for _ in ()).throw(Broken(f"export wrote {c}")))
        if self.compile_every <= 0 or self.clean % self.compile_every:
            return
        self.compiled += 1
        from compiler import validate as output_validation
        from compiler.pipeline import render

        files, rsink = render(checked, self.templates)
        if rsink.has_errors:
            return
        from compiler.backends import file_validators

        output_validation.validate_files(files, checked.resolved.project.kubernetes_version, rsink, file_validators())
        if rsink.has_errors:
            return
        out = Path(tempfile.mkdtemp(dir=self.scratch))
        try:
            psink = Sink()
            plan = emit.plan(files, out, psink)
            if psink.has_errors:
                return
            emit.apply(plan)
            again = emit.plan(files, out, Sink())
            if again.write or again.delete or emit.diff(again):
                raise Broken("check after compile is not clean")
        finally:
            import shutil

            shutil.rmtree(out, ignore_errors=True)

    def evidence(self, data: bytes, name: str) -> None:
        from compiler.commands.evidence import EvidenceError, read

        path = self.scratch / name
        path.write_bytes(data)
        try:
            ev = read(path)
        except EvidenceError as exc:
            str(exc).encode("utf-8")  # the message is printed
            return
        # What gate check prints must be UTF-8 text.
        for text in [ev.model or "", ev.version or "", *(k for sec in ev.sections.values() for k in sec)]:
            text.encode("utf-8")

    def triton(self, data: bytes) -> None:
        from compiler.commands.import_triton import import_path
        from compiler.parse.sources import load_text

        model = self.scratch / "repo" / "m"
        model.mkdir(parents=True, exist_ok=True)
        (model / "config.pbtxt").write_bytes(data)
        result = import_path(model)
        for d in result.diagnostics:  # printed by the command
            d.message.encode("utf-8")
        result.text.encode("utf-8")
        if any(d.severity.value == "error" for d in result.diagnostics) or not result.text:
            return
        loaded = load_text(result.text, "imported.ship")
        bad = [d for d in loaded.diagnostics if d.code < "SS100"]
        if bad:
            raise Broken(f"import wrote spec text that does not parse: {bad[0].code} {bad[0].message[:80]}")


# ---- running ----------------------------------------------------------------
def _site(target: str, exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/compiler/" in f.filename.replace(os.sep, "/")]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    loc = f"{Path(where.filename).name}:{where.lineno} {where.name}" if where else "?"
    kind = "hang" if isinstance(exc, Hang) else "property" if isinstance(exc, Broken) else type(exc).__name__
    return f"{target} {kind} at {loc}"


def _alarm(_signum: int, _frame: object) -> None:
    raise Hang("no result within the time limit")


def _call(fn: Callable[[], None], timeout: float) -> BaseException | None:
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        fn()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - every escape is a finding
        return exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def minimise(data: bytes, still_fails: Callable[[bytes], bool], budget: int = 200) -> bytes:
    """Delta debugging, bounded: drop chunks (lines first, then bytes) while the site repeats."""
    tries = 0
    chunk = max(1, len(data) // 2)
    while chunk >= 1 and tries < budget:
        i = 0
        shrunk = False
        while i < len(data) and tries < budget:
            candidate = data[:i] + data[i + chunk :]
            tries += 1
            if candidate and still_fails(candidate):
                data = candidate
                shrunk = True
            else:
                i += chunk
        if not shrunk:
            chunk //= 2
    return data


def run(inputs: int | None = None, seconds: float | None = None, seed: int = 0, out: Path | None = None,
        timeout: float = 10.0, compile_every: int = 25, report_every: float = 60.0,
        log: Callable[[str], None] | None = None) -> Stats:  # fmt: skip
    """Fuzz until ``inputs`` inputs or ``seconds`` seconds; returns the statistics."""
    rng = random.Random(seed)
    specs = spec_seeds()
    first_clean = len(list((ROOT / "tests" / "corpus").glob("*.ship")))
    spec_texts = [s.decode("utf-8", "replace") for s in specs]
    evidence = evidence_seeds()
    tritons = triton_seeds()
    stats = Stats()
    start = last = time.monotonic()
    old = signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory(prefix="shipspec-fuzz-") as tmp:
        targets = Targets(Path(tmp), compile_every)
        try:
            while (inputs is None or stats.inputs < inputs) and (seconds is None or time.monotonic() - start < seconds):
                n = stats.inputs
                pick = n % 10
                if pick < 7:
                    target = "spec"
                    # Half the time a seed that checks clean, so mutants reach export and compile.
                    base = rng.randrange(len(specs)) if rng.random() < 0.5 else rng.randrange(first_clean, len(specs))
                    if base >= first_clean and rng.random() < 0.5:
                        data = spec_texts[base]
                        for _ in range(rng.randint(1, 3)):
                            data = mutate.gentle_mutation(data, rng, spec_texts[first_clean:])
                        data = data.encode("utf-8", "surrogatepass")
                    elif rng.random() < 0.6:
                        data = mutate.mutate_text(spec_texts[base], rng, spec_texts, rng.randint(1, 4)).encode(
                            "utf-8", "surrogatepass"
                        )
                    else:
                        data = specs[base]
                        for _ in range(rng.randint(1, 4)):
                            data = mutate.byte_mutation(data, rng, specs)

                    def go(d: bytes) -> None:
                        targets.spec(d)
                elif pick < 9:
                    target = "evidence"
                    name, data = rng.choice(evidence)
                    for _ in range(rng.randint(1, 3)):
                        if rng.random() < 0.5:
                            i = rng.randrange(len(data) + 1)
                            data = data[:i] + rng.choice(EVIDENCE_TOKENS) + data[i:]
                        else:
                            data = mutate.byte_mutation(data, rng, [e for _, e in evidence])

                    def go(d: bytes, name: str = name) -> None:
                        targets.evidence(d, name)
                else:
                    target = "triton"
                    data = rng.choice(tritons)
                    for _ in range(rng.randint(1, 3)):
                        if rng.random() < 0.5:
                            i = rng.randrange(len(data) + 1)
                            data = data[:i] + rng.choice(TRITON_TOKENS) + data[i:]
                        else:
                            data = mutate.byte_mutation(data, rng, tritons)

                    def go(d: bytes) -> None:
                        targets.triton(d)

                exc = _call(lambda go=go, data=data: go(data), timeout)
                stats.inputs += 1
                stats.by_target[target] = stats.by_target.get(target, 0) + 1
                if exc is not None:
                    site = _site(target, exc)
                    if site in stats.findings:
                        stats.findings[site].count += 1
                    else:

                        def same(
                            d: bytes, site: str = site, go: Callable[[bytes], None] = go, target: str = target
                        ) -> bool:
                            e = _call(lambda: go(d), timeout)
                            return e is not None and _site(target, e) == site

                        small = minimise(data, same, budget=60 if isinstance(exc, Hang) else 300)
                        stats.findings[site] = Finding(site, target, f"{type(exc).__name__}: {exc}", small)
                        if log:
                            log(f"NEW {site}: {type(exc).__name__}: {str(exc)[:200]} ({len(small)} bytes)")
                        if out is not None:
                            _save(out, stats.findings[site])
                now = time.monotonic()
                if log and now - last >= report_every:
                    last = now
                    stats.seconds = now - start
                    log(f"{stats.inputs} inputs, {stats.rate():.1f}/s, {len(stats.findings)} sites")
                    if out is not None:
                        _write_report(out, stats, targets)
        finally:
            signal.signal(signal.SIGALRM, old)
            stats.seconds = time.monotonic() - start
            stats.clean, stats.compiled = targets.clean, targets.compiled
    if out is not None:
        _write_report(out, stats, targets)
    return stats


def _save(out: Path, f: Finding) -> None:
    out.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() else "-" for c in f.site)[:120]
    (out / f"{safe}.input").write_bytes(f.reproducer)


def _write_report(out: Path, stats: Stats, targets: Targets) -> None:
    stats.clean, stats.compiled = targets.clean, targets.compiled
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(stats.to_dict(), indent=2) + "\n")
