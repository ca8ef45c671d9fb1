"""``shipspec drift``: the producer of the drift and data-quality metrics that
``monitor`` rules alert on.

A reference sample (the model's ``trained_on`` dataset, or ``--reference``) is
compared with recent feature logs, feature by feature:

* **PSI** (population stability index) over bins fixed by the reference: the
  deciles of a numeric feature (ties merged), one bin per category otherwise;
  ``sum((cur - ref) * ln(cur / ref))`` with each share floored at ``EPSILON``
  so an empty bin does not make it infinite.
* **KS**, the Kolmogorov-Smirnov distance (numeric features).
* the **missing-feature ratio**: the share of feature values the logs lack
  (an absent column or an empty / NaN cell) over every reference feature.

Files are CSV (header row) or Parquet (``pyarrow``, the ``drift`` extra); a
path may be a file or a directory of them, a local path, ``file://`` or an
object-store URI pyarrow's filesystems open (``s3://``, ``gs://``). The
results are written in Prometheus' text format and pushed to a Pushgateway
(``PUT /metrics/job/shipspec-drift/model/<m>/environment/<env>``, so each run
replaces the model's previous values), or written to a file.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.errors import UsageError

EPSILON = 1e-4
BINS = 10
JOB = "shipspec-drift"
DRIFT_METRIC = "shipspec_model_feature_drift"  # the names the monitoring rules read (slo_signals)
MISSING_METRIC = "shipspec_model_missing_features_ratio"
ROWS_METRIC = "shipspec_model_drift_rows"


class DriftError(UsageError):
    """Unreadable input (exit 2, through the CLI's one error mapping)."""


Column = list[str | float | None]
Table = dict[str, Column]


# ---- reading ----------------------------------------------------------------


def _is_missing(v: object) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


def _read_csv(data: bytes) -> Table:
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = next(rows, None)
    if not header:
        return {}
    table: Table = {name: [] for name in header}
    for row in rows:
        for name, value in zip(header, row + [""] * (len(header) - len(row)), strict=False):
            table[name].append(value)
    return table


def _read_parquet(data: bytes) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - the drift extra is installed in tests
        raise DriftError("reading Parquet needs pyarrow: pip install 'shipspec[drift]'") from exc
    t = pq.read_table(io.BytesIO(data))
    return {name: t.column(name).to_pylist() for name in t.column_names}


def _files(location: str) -> list[tuple[str, bytes]]:
    """(name, bytes) of every CSV / Parquet file at a path or URI."""
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # a Windows drive letter is a path
        path = Path(urllib.parse.unquote(parsed.path) if parsed.scheme == "file" else location)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".parquet") and p.is_file())
            return [(str(p), p.read_bytes()) for p in found]
        if not path.exists():
            raise DriftError(f"{location}: no such file or directory")
        return [(str(path), path.read_bytes())]
    try:
        from pyarrow import fs
    except ImportError as exc:
        raise DriftError(
            f"{location}: reading {parsed.scheme}:// needs pyarrow: pip install 'shipspec[drift]'"
        ) from exc
    try:
        filesystem, root = fs.FileSystem.from_uri(location)
        info = filesystem.get_file_info(root)
        if info.type == fs.FileType.Directory:
            names = sorted(
                i.path
                for i in filesystem.get_file_info(fs.FileSelector(root, recursive=True))
                if i.type == fs.FileType.File and i.path.lower().endswith((".csv", ".parquet"))
            )
        elif info.type == fs.FileType.File:
            names = [root]
        else:
            raise DriftError(f"{location}: not found")
        out = []
        for name in names:
            with filesystem.open_input_stream(name) as stream:
                out.append((name, stream.read()))
        return out
    except (OSError, ValueError) as exc:
        raise DriftError(f"{location}: {exc}") from exc


def read_table(locations: Iterable[str]) -> Table:
    """Every file at the locations, concatenated by column name (a column a
    file lacks is missing in its rows)."""
    table: Table = {}
    rows = 0
    for location in locations:
        files = _files(location)
        if not files:
            raise DriftError(f"{location}: no .csv or .parquet file there")
        for name, data in files:
            part = _read_parquet(data) if name.lower().endswith(".parquet") else _read_csv(data)
            n = max((len(c) for c in part.values()), default=0)
            for col in set(table) | set(part):
                table.setdefault(col, [None] * rows).extend(part.get(col, [None] * n))
            rows += n
    return table


# ---- statistics ---------------------------------------------------------------


def _numbers(column: Column) -> list[float] | None:
    """The present values as floats, or None when any is not a number."""
    out = []
    for v in column:
        if _is_missing(v):
            continue
        try:
            out.append(float(v))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
    return out


def quantile_edges(values: Sequence[float], bins: int = BINS) -> list[float]:
    """Inner bin edges at the reference's quantiles (ties merged): a value v
    falls in bin ``bisect_right(edges, v)``."""
    s = sorted(values)
    if not s:
        return []
    edges = {s[min(len(s) - 1, (len(s) * i) // bins)] for i in range(1, bins)}
    return sorted(e for e in edges if e > s[0])


def shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [max(c / total, EPSILON) if total else EPSILON for c in counts]


def psi_from_counts(reference: Sequence[int], current: Sequence[int]) -> float:
    ref, cur = shares(reference), shares(current)
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur, strict=True))


def binned(ref_col: Column, cur_col: Column, bins: int = BINS) -> tuple[list[int], list[int]]:
    """Counts per bin of the reference and current values (missing ones left out)."""
    ref_num, cur_num = _numbers(ref_col), _numbers(cur_col)
    if ref_num is not None and cur_num is not None:
        edges = quantile_edges(ref_num, bins)
        r, c = [0] * (len(edges) + 1), [0] * (len(edges) + 1)
        for x in ref_num:
            r[bisect.bisect_right(edges, x)] += 1
        for x in cur_num:
            c[bisect.bisect_right(edges, x)] += 1
        return r, c
    cats = sorted({str(v) for v in ref_col if not _is_missing(v)})
    index = {k: i for i, k in enumerate(cats)}
    r, c = [0] * (len(cats) + 1), [0] * (len(cats) + 1)  # the last bin: categories the reference never saw
    for v in ref_col:
        if not _is_missing(v):
            r[index[str(v)]] += 1
    for v in cur_col:
        if not _is_missing(v):
            c[index.get(str(v), len(cats))] += 1
    return r, c


def ks_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """The largest gap between the two empirical distribution functions."""
    if not a or not b:
        return 0.0
    xs, ys = sorted(a), sorted(b)
    i = j = 0
    best = 0.0
    while i < len(xs) and j < len(ys):
        v = min(xs[i], ys[j])
        while i < len(xs) and xs[i] == v:
            i += 1
        while j < len(ys) and ys[j] == v:
            j += 1
        best = max(best, abs(i / len(xs) - j / len(ys)))
    return best


@dataclass
class Result:
    model: str
    environment: str
    namespace: str
    rows: int
    missing_ratio: float
    drift: dict[str, dict[str, float]] = field(default_factory=dict)  # feature -> statistic -> value

    def exposition(self) -> str:
        """Prometheus text format, labels as the monitoring rules select them."""
        base = f'namespace="{_esc(self.namespace)}", model="{_esc(self.model)}", environment="{_esc(self.environment)}"'
        lines = [
            f"# HELP {DRIFT_METRIC} Drift of a feature between the training data and recent requests.",
            f"# TYPE {DRIFT_METRIC} gauge",
        ]
        for feature in sorted(self.drift):
            for stat, value in sorted(self.drift[feature].items()):
                lines.append(f'{DRIFT_METRIC}{{{base}, feature="{_esc(feature)}", statistic="{stat}"}} {value:.6g}')
        lines += [
            f"# HELP {MISSING_METRIC} Share of feature values missing from recent requests.",
            f"# TYPE {MISSING_METRIC} gauge",
            f"{MISSING_METRIC}{{{base}}} {self.missing_ratio:.6g}",
            f"# HELP {ROWS_METRIC} Rows of recent feature logs compared.",
            f"# TYPE {ROWS_METRIC} gauge",
            f"{ROWS_METRIC}{{{base}}} {self.rows}",
        ]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        out = [f"{self.model} in {self.environment}: {self.rows} rows, missing features {self.missing_ratio:.2%}"]
        for feature in sorted(self.drift):
            stats = "  ".join(f"{k} {v:.4f}" for k, v in sorted(self.drift[feature].items()))
            out.append(f"  {feature}: {stats}")
        return "\n".join(out) + "\n"


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def compare(
    reference: Table, current: Table, *, model: str, environment: str, namespace: str, bins: int = BINS
) -> Result:
    features = sorted(reference)
    rows = max((len(c) for c in current.values()), default=0)
    missing = 0
    drift: dict[str, dict[str, float]] = {}
    for feature in features:
        col = current.get(feature, [None] * rows)
        missing += sum(1 for v in col if _is_missing(v)) + (rows - len(col))
        r, c = binned(reference[feature], col, bins)
        if sum(c) == 0:
            continue  # no value to compare: counted as missing
        stats = {"psi": psi_from_counts(r, c)}
        ref_num, cur_num = _numbers(reference[feature]), _numbers(col)
        if ref_num is not None and cur_num is not None:
            stats["ks"] = ks_distance(ref_num, cur_num)
        drift[feature] = stats
    ratio = missing / (rows * len(features)) if rows and features else 0.0
    return Result(model, environment, namespace, rows, ratio, drift)


def push(gateway: str, result: Result, timeout: float = 10.0) -> None:
    """Replace the model's group on the Pushgateway with these values."""
    base = gateway.rstrip("/")
    if "://" not in base:
        base = "http://" + base
    q = urllib.parse.quote
    url = f"{base}/metrics/job/{JOB}/model/{q(result.model, safe='')}/environment/{q(result.environment, safe='')}"
    req = urllib.request.Request(
        url, data=result.exposition().encode(), method="PUT", headers={"Content-Type": "text/plain; version=0.0.4"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # a URL the operator gives
            resp.read()
    except OSError as exc:
        raise DriftError(f"pushing to {base}: {exc}") from exc
