"""Evaluate a promotion gate against evidence: ``shipspec gate check``.

Every condition of the gate gets a result with what it requires and what the
evidence shows. A condition whose number is missing from the evidence fails
and says where it was expected. Canary and approval are not evidence: the
rollout and the GitHub environment's reviewers enforce them, and the report
lists them as notes.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from compiler.commands.evidence import Evidence, EvidenceError, Observation, read_all
from compiler.errors import InputError, UsageError
from compiler.ir import Condition, Gate, LoadTest, Spec
from compiler.units import format_duration as fmt_seconds

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
}  # fmt: skip

# A load test may run slightly under its declared rate (scheduling jitter,
# a slow first second) and still count; below this share it does not.
RATE_TOLERANCE = 0.95


def fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


@dataclass(frozen=True, slots=True)
class Result:
    """One condition: ``status`` is pass, fail or note (not counted)."""

    condition: str
    kind: str
    required: str
    observed: str | None
    status: str
    message: str
    source: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def find_gate(spec: Spec, text: str, model: str) -> Gate | None:
    src, _, dst = (part.strip() for part in text.partition("->"))
    return next(
        (g for g in spec.gates if (g.source.name, g.target.name, g.model.name) == (src, dst, model)),
        None,
    )


def _at(o: Observation) -> str:
    return f"{o.path}:{o.where[0]}:{o.where[1]}" if o.where else o.path


def _condition(c: Condition, ev: Evidence) -> Result:
    section = "metrics" if c.kind == "metric" else c.kind
    text = f"{c.kind} {c.metric} {c.op} {fmt_number(c.threshold)}" + (f" on {c.dataset.name}" if c.dataset else "")
    required = f"{c.op} {fmt_number(c.threshold)}"
    source = f"{c.span.file}:{c.span.line}:{c.span.column}"
    o = ev.get(section, c.metric)
    if o is None:
        return Result(
            text, c.kind, required, None, "fail", f"missing: the evidence has no {section}.{c.metric}", source
        )
    observed = fmt_number(o.value)
    if c.dataset is not None and o.dataset is not None and o.dataset != c.dataset.name:
        return Result(
            text,
            c.kind,
            required,
            observed,
            "fail",
            f"measured on {o.dataset} ({_at(o)}), the gate requires {c.dataset.name}",
            source,
        )
    ok = OPS[c.op](o.value, c.threshold)
    verdict = "meets" if ok else "does not meet"
    return Result(
        text,
        c.kind,
        required,
        observed,
        "pass" if ok else "fail",
        f"{observed} {verdict} {required} ({_at(o)})",
        source,
    )


def _load(lt: LoadTest, ev: Evidence) -> Result:
    threshold_ms = lt.threshold * 1000
    text = (
        f"load p{fmt_number(lt.percentile)} < {fmt_seconds(lt.threshold)} at {fmt_number(lt.rate)}rps "
        f"for {fmt_seconds(lt.duration)}"
    )
    required = f"p{fmt_number(lt.percentile)} < {fmt_number(threshold_ms)}ms"
    source = f"{lt.span.file}:{lt.span.line}:{lt.span.column}"
    latency = ev.get("load", "latency_ms")
    if latency is None:
        sent, failed = ev.get("load", "requests"), ev.get("load", "errors")
        if sent is not None and failed is not None and sent.value > 0 and failed.value >= sent.value:
            why = f"no request succeeded: {fmt_number(failed.value)} of {fmt_number(sent.value)} failed ({_at(sent)})"
        else:
            why = "missing: the evidence has no load.latency_ms (run: shipspec load … --out FILE)"
        return Result(text, "load", required, None, "fail", why, source)
    observed = f"{fmt_number(round(latency.value, 3))}ms"
    problems = []
    pct = ev.get("load", "percentile")
    if pct is None or pct.value != lt.percentile:
        got = f"p{fmt_number(pct.value)}" if pct else "no load.percentile"
        problems.append(f"measured {got}, the gate needs p{fmt_number(lt.percentile)}")
    rate = ev.get("load", "rate_rps")
    if rate is None or rate.value < lt.rate * RATE_TOLERANCE:
        got = f"{fmt_number(round(rate.value, 1))}rps" if rate else "no load.rate_rps"
        problems.append(f"ran at {got}, the gate needs {fmt_number(lt.rate)}rps")
    duration = ev.get("load", "duration_s")
    if duration is None or duration.value < lt.duration:
        got = fmt_seconds(round(duration.value)) if duration and duration.value >= 1 else "no load.duration_s"
        problems.append(f"ran for {got}, the gate needs {fmt_seconds(lt.duration)}")
    if not latency.value < threshold_ms:
        problems.insert(0, f"{observed} is not below {fmt_number(threshold_ms)}ms")
    if problems:
        return Result(text, "load", required, observed, "fail", "; ".join(problems) + f" ({_at(latency)})", source)
    return Result(text, "load", required, observed, "pass", f"{observed} < {fmt_number(threshold_ms)}ms", source)


@dataclass(frozen=True, slots=True)
class Origin:
    """What the evidence's provenance must say: the workflow run and commit that
    produced it (None: not required), and the sha256 the spec declares per dataset."""

    run: str | None = None
    commit: str | None = None
    digests: dict[str, str] | None = None

    @property
    def required(self) -> bool:
        return self.run is not None or self.commit is not None


def _provenance(gate: Gate, ev: Evidence, origin: Origin, here: str) -> list[Result]:
    out: list[Result] = []
    p = ev.provenance
    at = (f"{p.path}:{p.where[0]}:{p.where[1]}" if p.where else p.path) if p is not None else here
    if p is None:
        if origin.required:
            out.append(Result("provenance", "provenance", "evidence produced by this workflow run", None, "fail",
                              "missing: the evidence has no provenance (docs/evidence.md)", here))  # fmt: skip
        return out
    for key, wanted in (("run", origin.run), ("commit", origin.commit)):
        if wanted is None:
            continue
        got = getattr(p, key)
        ok = got == wanted
        out.append(Result(f"provenance {key}", "provenance", wanted, got, "pass" if ok else "fail",
                          f"measured by {key} {got}" + ("" if ok else f", not {wanted}"), at))  # fmt: skip
    for c in gate.conditions:
        if c.dataset is None or origin.digests is None or c.dataset.name not in origin.digests:
            continue
        want = origin.digests[c.dataset.name]
        got = p.datasets.get(c.dataset.name)
        ok = got == want
        message = (f"dataset {c.dataset.name} read with the declared sha256" if ok else
                   f"missing: the provenance has no digest of dataset {c.dataset.name}" if got is None else
                   f"dataset {c.dataset.name} read with sha256 {got}, the spec declares {want}")  # fmt: skip
        out.append(Result(f"provenance dataset {c.dataset.name}", "provenance", want, got, "pass" if ok else "fail",
                          message, at))  # fmt: skip
    return out


def evaluate(gate: Gate, ev: Evidence, version: str | None = None, origin: Origin | None = None) -> list[Result]:
    """Every condition of ``gate`` against ``ev``, in the order the spec declares them.

    With ``version``, evidence that names another version fails: numbers from
    evaluating one release never promote another. With ``origin``, the
    evidence's provenance must name that run and commit and, for each
    condition measured on a dataset, the dataset's declared sha256.
    """
    out: list[Result] = []
    here = f"{gate.span.file}:{gate.span.line}:{gate.span.column}"
    if ev.model is not None and ev.model != gate.model.name:
        out.append(
            Result(
                f"model {gate.model.name}",
                "model",
                gate.model.name,
                ev.model,
                "fail",
                f"the evidence is for model {ev.model}",
                here,
            )
        )
    if version is not None:
        if ev.version is None:
            out.append(
                Result(
                    f"version {version}",
                    "version",
                    version,
                    None,
                    "fail",
                    "missing: the evidence names no version",
                    here,
                )
            )
        elif ev.version != version:
            out.append(
                Result(
                    f"version {version}",
                    "version",
                    version,
                    ev.version,
                    "fail",
                    f"the evidence is for version {ev.version}",
                    here,
                )
            )
        else:
            out.append(
                Result(
                    f"version {version}",
                    "version",
                    version,
                    ev.version,
                    "pass",
                    f"the evidence is for version {version}",
                    here,
                )
            )
    if origin is not None:
        out.extend(_provenance(gate, ev, origin, here))
    out.extend(_condition(c, ev) for c in gate.conditions)
    if gate.load is not None:
        out.append(_load(gate.load, ev))
    if gate.canary:
        steps = ", ".join(f"{fmt_number(s.weight * 100)}% for {fmt_seconds(s.duration)}" for s in gate.canary)
        out.append(
            Result(f"canary {steps}", "canary", steps, None, "note", f"run by the rollout in {gate.target.name}", here)
        )
    if gate.approval:
        who = " ".join(gate.approval)
        out.append(
            Result(
                f"approval {who}",
                "approval",
                who,
                None,
                "note",
                f"required reviewers of the GitHub environment {gate.target.name}",
                here,
            )
        )
    return out


def title(gate: Gate) -> str:
    return f"gate {gate.source.name} -> {gate.target.name} for {gate.model.name}"


def summary(results: list[Result]) -> str:
    counted = [r for r in results if r.status != "note"]
    failed = sum(r.failed for r in counted)
    if failed:
        return f"FAIL: {failed} of {len(counted)} conditions failed"
    return f"PASS: {len(counted)} of {len(counted)} conditions passed"


def as_text(gate: Gate, results: list[Result]) -> str:
    width = max((len(r.condition) for r in results), default=0)
    lines = [title(gate)]
    for r in results:
        lines.append(f"  {r.status.upper():4}  {r.condition:<{width}}  {r.message}")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def as_markdown(gate: Gate, results: list[Result]) -> str:
    def cell(s: str | None) -> str:
        return (s or "—").replace("|", "\\|")

    lines = [f"### {title(gate)}", "", "| | condition | required | observed | detail |", "|---|---|---|---|---|"]
    mark = {"pass": "✅", "fail": "❌", "note": "ℹ️"}
    for r in results:
        lines.append(
            f"| {mark[r.status]} | {cell(r.condition)} | {cell(r.required)} | {cell(r.observed)} | {cell(r.message)} |"
        )
    lines += ["", f"**{summary(results)}**"]
    return "\n".join(lines) + "\n"


def as_json(gate: Gate, results: list[Result], evidence: list[str]) -> str:
    doc = {
        "gate": {"source": gate.source.name, "target": gate.target.name, "model": gate.model.name},
        "passed": not any(r.failed for r in results),
        "evidence": evidence,
        "conditions": [asdict(r) for r in results],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class GateCheck:
    """What ``shipspec gate check`` found: the report in the asked format, and whether every condition passed."""

    text: str
    passed: bool


def run_check(
    spec: Spec, gate_text: str, model: str, evidence: list[str], fmt: str, version: str | None = None,
    run: str | None = None, commit: str | None = None,
) -> GateCheck:  # fmt: skip
    """``shipspec gate check``: every condition of the gate against the evidence.

    Raises UsageError when no such gate exists and InputError when the
    evidence is malformed.
    """
    gate = find_gate(spec, gate_text, model)
    if gate is None:
        known = sorted(f"{g.source.name}->{g.target.name}" for g in spec.gates if g.model.name == model)
        hint = f"; gates for {model}: {', '.join(known)}" if known else f"; no gate is declared for {model}"
        raise UsageError(f"no gate {gate_text.strip()} for model {model}{hint}")
    try:
        ev = read_all([Path(p) for p in evidence])
    except EvidenceError as exc:
        raise InputError(f"malformed evidence: {exc}") from None
    digests = {d.name: d.sha256 for d in spec.datasets if d.sha256}
    results = evaluate(gate, ev, version, Origin(run, commit, digests))
    if fmt == "json":
        text = as_json(gate, results, ev.files)
    elif fmt == "markdown":
        text = as_markdown(gate, results)
    else:
        text = as_text(gate, results)
    return GateCheck(text, passed=not any(r.failed for r in results))
