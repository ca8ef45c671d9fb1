"""Evidence files: what an evaluation run measured, for ``shipspec gate check``.

The format is documented in docs/evidence.md. A file is YAML or JSON (JSON is
read as JSON, so its syntax errors carry JSON's own line and column); every
problem is an :class:`EvidenceError` with the file, line and column of the
offending value. Several files merge section by section; one key given in two
files is an error, so a load measurement can never silently replace another.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler import limits
from compiler.commands import evidence_yaml

SECTIONS = ("metrics", "drift", "fairness", "load")
TOP_LEVEL = ("model", "version", *SECTIONS, "provenance")
PROVENANCE_FIELDS = ("run", "commit", "datasets")
_DIGEST = re.compile(r"[0-9a-f]{64}")
LOAD_FIELDS = ("percentile", "latency_ms", "rate_rps", "duration_s", "requests", "errors")

Where = tuple[int, int]


class EvidenceError(Exception):
    """A malformed evidence file: ``path:line:col: message``."""

    def __init__(self, path: str, where: Where | None, message: str) -> None:
        self.path, self.where, self.message = path, where, message
        loc = f"{path}:{where[0]}:{where[1]}" if where else path
        super().__init__(f"{loc}: {message}")


@dataclass(frozen=True, slots=True)
class Observation:
    """One measured number and where it was written."""

    value: float
    path: str
    where: Where | None
    dataset: str | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where evaluation numbers come from: the workflow run that measured them, the
    commit it ran at, and the digest of every dataset it read (computed, not copied)."""

    run: str
    commit: str
    datasets: dict[str, str]
    path: str
    where: Where | None


@dataclass(slots=True)
class Evidence:
    """All evidence files merged: section -> name -> observation."""

    files: list[str] = field(default_factory=list)
    model: str | None = None
    version: str | None = None
    sections: dict[str, dict[str, Observation]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    provenance: Provenance | None = None

    def get(self, section: str, name: str) -> Observation | None:
        return self.sections[section].get(name)


def _positions(node: yaml.Node, prefix: tuple[str, ...], out: dict[tuple[str, ...], Where]) -> None:
    out[prefix] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value)
            out[prefix + (name,)] = (value.start_mark.line + 1, value.start_mark.column + 1)
            out[("#key", *prefix, name)] = (key.start_mark.line + 1, key.start_mark.column + 1)
            _positions(value, prefix + (name,), out)


def _parse(path: str, text: str) -> tuple[Any, dict[tuple[str, ...], Where]]:
    positions: dict[tuple[str, ...], Where] = {}
    if path.endswith(".json"):
        deep = evidence_yaml.json_depth_problem(text)
        if deep is not None:
            raise EvidenceError(path, deep.where, deep.message)
        try:  # JSON is YAML: compose it as YAML to learn where each value is (and find repeated keys)
            _, node = evidence_yaml.compose_yaml(text)
            if node is not None:
                _positions(node, (), positions)
        except evidence_yaml.Refused as exc:
            raise EvidenceError(path, exc.where, exc.message) from None
        except yaml.YAMLError:
            pass
        try:
            data = evidence_yaml.load_json(text)
        except json.JSONDecodeError as exc:
            raise EvidenceError(path, (exc.lineno, exc.colno), f"not valid JSON: {exc.msg}") from None
        except evidence_yaml.Refused as exc:
            raise EvidenceError(path, exc.where, exc.message) from None
        return data, positions
    try:
        data, node = evidence_yaml.compose_yaml(text)
    except evidence_yaml.Refused as exc:
        raise EvidenceError(path, exc.where, exc.message) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (mark.line + 1, mark.column + 1) if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise EvidenceError(path, where, f"not valid YAML: {problem}") from None
    if node is not None:
        _positions(node, (), positions)
    return data, positions


def _number(value: Any, path: str, where: Where | None, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        shown = json.dumps(value, default=str)
        raise EvidenceError(path, where, f"{what} must be a finite number, not {shown[:80]}")
    if abs(value) > limits.MAX_NUMBER:
        raise EvidenceError(path, where, f"{what} is larger than {limits.MAX_NUMBER:.0e}")
    return float(value)


def read(path: Path, into: Evidence | None = None) -> Evidence:
    """Read one evidence file, merged into ``into`` when given."""
    ev = into if into is not None else Evidence()
    name = str(path)
    try:
        text = limits.read_bounded(path, limits.EVIDENCE_BYTES).decode("utf-8")
    except limits.TooLarge as exc:
        raise EvidenceError(name, None, f"larger than {exc.limit} bytes; evidence files are small") from None
    except UnicodeDecodeError:
        raise EvidenceError(name, None, "not UTF-8 text") from None
    except OSError as exc:
        raise EvidenceError(name, None, f"cannot read: {exc.strerror or exc}") from None
    data, pos = _parse(name, text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EvidenceError(name, pos.get(()), f"the evidence must be a mapping with {', '.join(SECTIONS)}")
    ev.files.append(name)
    for key, value in data.items():
        where = pos.get((str(key),))
        if key not in TOP_LEVEL:
            raise EvidenceError(
                name, pos.get(("#key", str(key))), f"unknown key '{key}'; expected one of {', '.join(TOP_LEVEL)}"
            )
        if key in ("model", "version"):
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise EvidenceError(name, where, f"'{key}' must be a string")
            old = getattr(ev, key)
            if old is not None and old != str(value):
                raise EvidenceError(name, where, f"'{key}' is {value!r} here but {old!r} in another evidence file")
            setattr(ev, key, str(value))
            continue
        if value is None:
            continue
        if key == "provenance":
            _provenance(ev, name, value, pos)
            continue
        if not isinstance(value, dict):
            raise EvidenceError(name, where, f"'{key}' must be a mapping of names to numbers")
        _section(ev, name, str(key), value, pos)
    return ev


def _section(ev: Evidence, name: str, key: str, value: dict[Any, Any], pos: dict[tuple[str, ...], Where]) -> None:
    target = ev.sections[key]
    for metric, raw in value.items():
        where = pos.get((key, str(metric)))
        label = f"{key}.{metric}"
        if key == "load" and metric not in LOAD_FIELDS:
            raise EvidenceError(
                name,
                pos.get(("#key", key, str(metric))),
                f"unknown load field '{metric}'; expected one of {', '.join(LOAD_FIELDS)}",
            )
        dataset = None
        if isinstance(raw, dict) and key != "load":
            if "value" not in raw:
                raise EvidenceError(name, where, f"{label} needs a 'value'")
            extra = set(raw) - {"value", "dataset"}
            if extra:
                raise EvidenceError(name, where, f"{label}: unknown key '{sorted(map(str, extra))[0]}'")
            dataset = raw.get("dataset")
            if dataset is not None and not isinstance(dataset, str):
                raise EvidenceError(name, pos.get((key, str(metric), "dataset")), f"{label}.dataset must be a name")
            number = _number(raw["value"], name, pos.get((key, str(metric), "value")), f"{label}.value")
        else:
            number = _number(raw, name, where, label)
            if key == "load":
                _load_field(str(metric), raw, number, name, where, label)
        if str(metric) in target:
            first = target[str(metric)]
            at = f"{first.path}:{first.where[0]}:{first.where[1]}" if first.where else first.path
            raise EvidenceError(name, where, f"{label} is already given at {at}")
        target[str(metric)] = Observation(number, name, where, dataset)


def _provenance(ev: Evidence, name: str, value: Any, pos: dict[tuple[str, ...], Where]) -> None:
    where = pos.get(("provenance",))
    if ev.provenance is not None:
        first = ev.provenance
        at = f"{first.path}:{first.where[0]}:{first.where[1]}" if first.where else first.path
        raise EvidenceError(name, where, f"provenance is already given at {at}")
    if not isinstance(value, dict):
        raise EvidenceError(name, where, "'provenance' must be a mapping with run, commit, datasets")
    for key in value:
        if key not in PROVENANCE_FIELDS:
            expected = ", ".join(PROVENANCE_FIELDS)
            raise EvidenceError(name, pos.get(("#key", "provenance", str(key))),
                                f"unknown provenance field '{key}'; expected one of {expected}")  # fmt: skip
    for key in ("run", "commit"):
        if not isinstance(value.get(key), str):
            raise EvidenceError(name, pos.get(("provenance", key), where), f"provenance.{key} must be a string")
    datasets = value.get("datasets") or {}
    if not isinstance(datasets, dict):
        raise EvidenceError(name, pos.get(("provenance", "datasets")), "provenance.datasets must map names to sha256")
    for ds, digest in datasets.items():
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise EvidenceError(name, pos.get(("provenance", "datasets", str(ds))),
                                f"provenance.datasets.{ds} must be a sha256 (64 lower-case hex digits)")  # fmt: skip
    ev.provenance = Provenance(value["run"], value["commit"], {str(k): v for k, v in datasets.items()}, name, where)


def dataset_digest(directory: Path) -> str:
    """A dataset's digest, as the rendered workflows compute it: sha256 over the
    ``sha256sum`` lines (``<hex>  ./path``) of its files, sorted by path bytes."""
    if not directory.is_dir():
        raise EvidenceError(str(directory), None, "the dataset is not a directory")
    entries = []
    for root, _, files in os.walk(directory):
        for f in files:
            full = Path(root, f)
            rel = "./" + full.relative_to(directory).as_posix()
            entries.append((rel.encode(), f"{hashlib.sha256(full.read_bytes()).hexdigest()}  {rel}\n"))
    return hashlib.sha256("".join(line for _, line in sorted(entries)).encode()).hexdigest()


def stamp(path: Path, run: str, commit: str, datasets: dict[str, Path]) -> dict[str, str]:
    """Add provenance to an evaluation's evidence file; returns the dataset digests."""
    ev = read(path)  # only well-formed evidence is stamped
    if ev.provenance is not None:
        raise EvidenceError(str(path), ev.provenance.where, "the evidence already has provenance")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    digests = {name: dataset_digest(d) for name, d in sorted(datasets.items())}
    data["provenance"] = {"run": run, "commit": commit, "datasets": digests}
    if str(path).endswith(".json"):
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return digests


def _load_field(metric: str, raw: Any, number: float, name: str, where: Where | None, label: str) -> None:
    """Load measurements are durations, rates and counts: none is negative (issue 17)."""
    if metric == "percentile" and not 0 < number < 100:
        raise EvidenceError(name, where, f"{label} must be between 0 and 100, not {number:g}")
    if number < 0:
        raise EvidenceError(name, where, f"{label} cannot be negative ({number:g})")
    if metric in ("requests", "errors") and not (isinstance(raw, int) or float(raw).is_integer()):
        raise EvidenceError(name, where, f"{label} is a count: a whole number, not {number:g}")


def read_all(paths: list[Path]) -> Evidence:
    ev = Evidence()
    for p in paths:
        read(p, ev)
    return ev
