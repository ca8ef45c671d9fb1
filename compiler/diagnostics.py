"""Diagnostics: what every phase reports, with a stable code and a source span.

Codes are grouped by phase and never reused:
``SS0xx`` reading and parsing, ``SS1xx`` names, ``SS2xx`` types and units,
``SS3xx`` ranges, ``SS4xx`` the promotion graph, ``SS5xx`` tier policy,
``SS6xx`` consistency between declarations, ``SS7xx`` target limits,
``SS8xx`` validation of rendered output, ``SS9xx`` writing output.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING

from compiler.records import Record, TupleRecord, record


class Span(tuple[str, int, int, int, int], metaclass=TupleRecord):
    """A 1-based, end-exclusive source range.

    A tuple of its fields (``records.TupleRecord``), equal, ordered and hashed as the ordered
    record it was: the IR and memo a one-shot compile at 1,000 models loads hold ~63,000
    spans, and a record's ``__init__`` was a Python call for each (issue 16)."""

    __slots__ = ()
    __match_args__ = ("file", "line", "column", "end_line", "end_column")

    if TYPE_CHECKING:

        def __new__(cls, file: str, line: int, column: int, end_line: int, end_column: int) -> Span: ...

        @property
        def file(self) -> str: ...

        @property
        def line(self) -> int: ...

        @property
        def column(self) -> int: ...

        @property
        def end_line(self) -> int: ...

        @property
        def end_column(self) -> int: ...

    @classmethod
    def point(cls, file: str, line: int = 1, column: int = 1) -> Span:
        return cls(file, line, column, line, column + 1)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


# code -> (severity, short title). The title documents the code; messages carry
# the specifics.
CODES: dict[str, tuple[Severity, str]] = {
    "SS001": (Severity.ERROR, "file cannot be read"),
    "SS002": (Severity.ERROR, "file is not valid UTF-8 text"),
    "SS003": (Severity.ERROR, "file is too large"),
    "SS004": (Severity.ERROR, "no spec files found"),
    "SS010": (Severity.ERROR, "syntax error"),
    "SS011": (Severity.ERROR, "unexpected character"),
    "SS012": (Severity.ERROR, "unexpected end of file"),
    "SS013": (Severity.ERROR, "invalid string literal"),
    "SS014": (Severity.ERROR, "nesting too deep"),
    # Warning control (issue 13): inline `# shipspec: allow(CODE)` comments.
    "SS020": (Severity.WARNING, "inline allowance suppresses nothing"),
    "SS021": (Severity.WARNING, "inline allowance names no warning"),
    "SS101": (Severity.ERROR, "unknown name"),
    "SS102": (Severity.ERROR, "duplicate definition"),
    "SS103": (Severity.ERROR, "reference to the wrong kind of thing"),
    "SS104": (Severity.ERROR, "unknown keyword value"),
    "SS105": (Severity.ERROR, "invalid name"),
    "SS106": (Severity.ERROR, "statement repeated"),
    "SS107": (Severity.ERROR, "required statement missing"),
    "SS108": (Severity.ERROR, "more than one project"),
    "SS109": (Severity.ERROR, "no project"),
    "SS201": (Severity.ERROR, "wrong unit"),
    "SS202": (Severity.ERROR, "expected a plain number"),
    "SS203": (Severity.ERROR, "expected an integer"),
    "SS204": (Severity.ERROR, "invalid value"),
    "SS205": (Severity.ERROR, "wrong comparison"),
    "SS206": (Severity.ERROR, "GitHub Actions expression in a spec string"),
    "SS301": (Severity.ERROR, "percentage out of range"),
    "SS302": (Severity.ERROR, "range minimum above maximum"),
    "SS303": (Severity.ERROR, "value out of range"),
    "SS304": (Severity.ERROR, "canary steps not increasing"),
    "SS401": (Severity.ERROR, "promotion cycle"),
    "SS402": (Severity.ERROR, "production deployment not reachable through gates"),
    "SS403": (Severity.ERROR, "gate into production without approval"),
    "SS404": (Severity.ERROR, "gate goes down the tier order"),
    "SS405": (Severity.ERROR, "gate endpoint does not serve the model"),
    "SS406": (Severity.ERROR, "duplicate gate"),
    "SS501": (Severity.ERROR, "production needs at least two replicas"),
    "SS502": (Severity.ERROR, "production model without an SLA"),
    "SS503": (Severity.ERROR, "production model without resource limits"),
    "SS504": (Severity.ERROR, "mutable 'latest' reference"),
    "SS505": (Severity.ERROR, "environment of the wrong tier"),
    "SS506": (Severity.WARNING, "GPU model served where no GPU is declared"),
    "SS507": (Severity.ERROR, "secret written as a plain value"),
    "SS508": (Severity.WARNING, "environment has no namespace"),
    "SS601": (Severity.WARNING, "load gate looser than the SLA"),
    "SS602": (Severity.WARNING, "canary without an SLA to analyse"),
    "SS603": (Severity.ERROR, "SLA or monitor for a model not served there"),
    "SS604": (Severity.ERROR, "tensor shape inconsistent with batching"),
    "SS605": (Severity.ERROR, "ensemble step does not map its tensors"),
    "SS606": (Severity.WARNING, "statement has no effect"),
    "SS701": (Severity.WARNING, "the target cannot express this exactly"),
    "SS702": (Severity.ERROR, "the target version does not support this"),
    "SS801": (Severity.ERROR, "no schema for a rendered object"),
    "SS802": (Severity.ERROR, "rendered object fails its schema"),
    "SS803": (Severity.ERROR, "schemas for the pinned version are missing"),
    "SS804": (Severity.ERROR, "rendered file fails its target's own parser"),
    "SS805": (Severity.ERROR, "rendered file is not valid YAML"),
    "SS806": (Severity.ERROR, "rendered object is too large for the cluster to store"),
    "SS807": (Severity.ERROR, "rendered workflow passes a GitHub Actions limit"),
    # Triton (issue 4): SS310-319 ranges, SS610-619 consistency, SS710-729 target, SS810-819 validation.
    "SS310": (Severity.ERROR, "Triton tensor dimension out of range"),
    "SS311": (Severity.WARNING, "model version does not map to a Triton version directory"),
    "SS610": (Severity.ERROR, "ensemble step tensor types or shapes disagree"),
    "SS611": (Severity.ERROR, "ensemble batches more than a member allows"),
    "SS612": (Severity.ERROR, "setting not allowed on a Triton ensemble"),
    "SS613": (Severity.ERROR, "reshape disagrees with the tensor's variable dimensions"),
    "SS614": (Severity.ERROR, "Triton refuses the model config (its load-time rules)"),
    "SS711": (Severity.NOTE, "GPU model runs on CPU in development"),
    "SS712": (Severity.ERROR, "Triton config cannot be expressed exactly in the spec (import fails unless --drop)"),
    "SS713": (Severity.WARNING, "latency SLO of a cached model cannot be measured"),
    "SS714": (Severity.WARNING, "Triton config field dropped on import (--drop)"),
    "SS810": (Severity.ERROR, "rendered config.pbtxt is not a valid Triton ModelConfig"),
    "SS811": (Severity.ERROR, "Triton's ModelConfig protobuf is not installed"),
    "SS812": (Severity.ERROR, "Triton config cannot be read"),
    # Monitoring (issue 5): SS230-239, SS330-339, SS630-639, SS740-749.
    "SS230": (Severity.ERROR, "SLO period is not a whole number of days"),
    "SS330": (Severity.ERROR, "SLO objective so low that a burn-rate alert can never fire"),
    "SS331": (Severity.ERROR, "SLO period shorter than the slowest burn-rate window"),
    "SS332": (Severity.ERROR, "burn-rate windows make no sense for the SLO period"),
    "SS630": (Severity.WARNING, "monitor rule compares in a direction that never alerts on a problem"),
    "SS640": (Severity.WARNING, "environment behind a gate does not pin the version it runs"),
    "SS740": (Severity.WARNING, "latency SLO cannot be measured exactly on this Triton version"),
    # Workflows (issue 12): SS250-259.
    "SS250": (Severity.ERROR, "compiler source that CI cannot install reproducibly"),
    "SS251": (Severity.ERROR, "cloud role CI cannot assume through OIDC"),
    # Kubernetes / Argo CD (issue 3): SS220-229, SS320-329, SS520-539, SS620-629, SS730-739, SS820-829.
    "SS221": (Severity.ERROR, "not a valid Kubernetes label or taint key"),
    "SS222": (Severity.ERROR, "not a valid environment variable name"),
    "SS223": (Severity.ERROR, "secret reference names no store"),
    "SS224": (Severity.ERROR, "not a valid Kubernetes namespace"),
    "SS225": (Severity.ERROR, "two environments share a namespace"),
    "SS226": (Severity.ERROR, "artifact URI cannot be fetched"),
    "SS227": (Severity.WARNING, "training pod cannot fetch and verify its dataset"),
    "SS520": (Severity.WARNING, "production environment without a gateway"),
    "SS522": (Severity.ERROR, "rendered pod breaks the restricted security policy"),
    "SS523": (Severity.ERROR, "rendered production workload lacks a required object or setting"),
    "SS524": (Severity.WARNING, "canary weight Argo Rollouts cannot split by replica counts"),
    "SS525": (Severity.WARNING, "shared checkpoint volume without a storage class"),
    "SS526": (Severity.WARNING, "production image pinned by tag only"),
    "SS527": (Severity.ERROR, "namespace quota cannot admit the pods rendered into it"),
    "SS620": (Severity.WARNING, "shadow traffic mirrors nothing"),
    "SS621": (Severity.WARNING, "SLA monitored on a cluster the monitoring stack is not on"),
    "SS730": (Severity.WARNING, "canary latency analysis uses a stricter quantile"),
    "SS731": (Severity.WARNING, "no Argo CD Applications without a repository"),
    "SS732": (Severity.ERROR, "no Triton container image for the pinned version"),
    "SS733": (Severity.WARNING, "an environment has more objects than one Argo CD Application holds well"),
    "SS820": (Severity.ERROR, "template failed to render"),
    "SS901": (Severity.ERROR, "generated file was edited by hand"),
    "SS902": (Severity.ERROR, "file not owned by shipspec is in the way"),
    "SS903": (Severity.ERROR, "two outputs claim one path"),
    # Hardening (issue 17).
    "SS904": (Severity.ERROR, "ledger entry outside what shipspec writes"),
    "SS905": (Severity.ERROR, "output path leaves the root or passes through a symlink"),
    "SS906": (Severity.ERROR, "another shipspec is writing this output root"),
}


@record
class Diagnostic(Record):
    code: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def check_tuple(self) -> tuple[str, int, int]:
        """Compact form for tests: (code, line, column)."""
        return (self.code, self.span.line, self.span.column)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end": {"line": self.span.end_line, "column": self.span.end_column},
            "message": self.message,
            "hint": self.hint,
        }


_SEVERITY = attrgetter("severity")


def any_error(diagnostics: Iterable[Diagnostic]) -> bool:
    """Whether one of ``diagnostics`` is an error. A watching step asks this of its 2,000
    diagnostics (1,000 models) ten times; a generator over them was ~2 ms of a step, this
    search runs in C (a Severity equals only itself)."""
    return Severity.ERROR in map(_SEVERITY, diagnostics)


# The dataclass's own methods are written out (init, repr, eq): dataclass compiled them from
# source in every cold start (issue 16). It stays a dataclass (fields, slots, match args).
@dataclass(slots=True, init=False, repr=False, eq=False)
class Sink:
    """Collects diagnostics; phases keep going after a problem."""

    items: list[Diagnostic] = field(default_factory=list)

    def __init__(self, items: list[Diagnostic] | None = None) -> None:
        self.items = [] if items is None else items

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}(items={self.items!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            assert isinstance(other, Sink)
            return self.items == other.items
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as dataclass's eq leaves it: mutable, unhashable

    def report(
        self,
        code: str,
        message: str,
        span: Span,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        default, _ = CODES[code]
        self.items.append(Diagnostic(code, severity or default, message, span, hint))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any_error(self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self.items), key=Diagnostic.sort_key)


# Did-you-mean is bounded (issue 17): 200 unknown names against 200 long defined
# ones once took 230 s. Only names of a similar length are compared, at most
# HINT_CANDIDATES of them, and only their first HINT_CHARS characters.
HINT_CANDIDATES = 50
HINT_CHARS = 40  # no valid name is longer (checks/names.py MAX_NAME)


def hint_candidates(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates worth comparing with ``word``: similar length, nearest first, bounded."""
    slack = max(2, len(word[:HINT_CHARS]) // 2)
    near = [c for c in set(candidates) if abs(len(c[:HINT_CHARS]) - len(word[:HINT_CHARS])) <= slack]
    near.sort(key=lambda c: (abs(len(c) - len(word)), c))
    return near[:HINT_CANDIDATES]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, if one is close enough."""
    pool = hint_candidates(word, candidates)
    short = {c[:HINT_CHARS]: c for c in sorted(pool, reverse=True)}
    import difflib  # only for a misspelt name: not on every run's import path

    matches = difflib.get_close_matches(word[:HINT_CHARS], sorted(short), n=1, cutoff=0.6)
    return f"did you mean '{short[matches[0]]}'?" if matches else None
