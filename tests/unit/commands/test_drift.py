"""``shipspec drift``: PSI against an independent implementation on the same
bins, the missing-feature ratio, CSV and Parquet input, the metrics it writes,
and the CronJob the monitoring tier renders for it."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
import yaml

from compiler.backends.monitoring.alerting import cron, drift_interval
from compiler.backends.render import Templates
from compiler.cli import main
from compiler.commands import drift
from compiler.pipeline import render, validate

ROOT = Path(__file__).resolve().parents[3]


def _sample(n: int, shift: float = 0.0, seed: int = 7, missing: float = 0.0) -> dict[str, list]:
    rng = random.Random(seed)
    cols: dict[str, list] = {"amount": [], "age": [], "country": []}
    for _ in range(n):
        cols["amount"].append(round(rng.lognormvariate(3 + shift, 0.5), 3))
        cols["age"].append(rng.randint(18, 90) if rng.random() >= missing else "")
        cols["country"].append(rng.choice(["de", "fr", "nl"] if shift == 0 else ["de", "fr", "nl", "nl", "nl"]))
    return cols


def _write_csv(path: Path, cols: dict[str, list]) -> Path:
    names = list(cols)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        w.writerows(zip(*(cols[n] for n in names), strict=True))
    return path


def _numpy_psi(ref: np.ndarray, cur: np.ndarray, inner_edges: list[float], eps: float = 1e-4) -> float:
    """PSI as written in the literature, with numpy: histogram on the same bins
    (right-closed edges as np.digitize(right=True) would not match; use bins
    [e_i, e_i+1) via np.searchsorted side='right'), shares floored at eps."""
    r = np.bincount(np.searchsorted(inner_edges, ref, side="right"), minlength=len(inner_edges) + 1)
    c = np.bincount(np.searchsorted(inner_edges, cur, side="right"), minlength=len(inner_edges) + 1)
    p = np.maximum(r / r.sum(), eps)
    q = np.maximum(c / c.sum(), eps)
    return float(np.sum((q - p) * np.log(q / p)))


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_psi_equals_an_independent_numpy_computation_on_the_same_bins(shift: float) -> None:
    ref, cur = _sample(4000, seed=1), _sample(3000, shift=shift, seed=2)
    result = drift.compare(ref, cur, model="m", environment="prod", namespace="ml-prod")
    edges = drift.quantile_edges([float(v) for v in ref["amount"]])
    assert len(edges) == 9  # deciles of a continuous feature
    want = _numpy_psi(np.array(ref["amount"], float), np.array(cur["amount"], float), edges)
    assert result.drift["amount"]["psi"] == pytest.approx(want, rel=1e-9, abs=1e-12)
    # Same reference twice: no drift; a shifted one: drift grows with the shift.
    if shift == 0.0:
        assert result.drift["amount"]["psi"] < 0.02
    if shift == 0.5:
        assert result.drift["amount"]["psi"] > 0.2 and result.drift["country"]["psi"] > 0.1


def test_ks_and_categorical_psi_by_hand() -> None:
    ref = {"x": [1, 2, 3, 4], "c": ["a", "a", "b", "b"]}
    cur = {"x": [3, 4, 5, 6], "c": ["a", "b", "b", "z"]}
    r = drift.compare(ref, cur, model="m", environment="e", namespace="n")
    assert r.drift["x"]["ks"] == pytest.approx(0.5)
    # bins a, b, unseen: ref 0.5/0.5/eps, cur 0.25/0.5/0.25
    eps = drift.EPSILON
    want = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.25 - eps) * np.log(0.25 / eps)
    assert r.drift["c"]["psi"] == pytest.approx(want)


def test_missing_feature_ratio_counts_empty_cells_and_absent_columns() -> None:
    ref = {"a": [1, 2], "b": [1, 2], "c": [1, 2], "d": [1, 2]}
    cur = {"a": [1, ""], "b": [None, 2], "c": [1, 2]}  # d absent: 2 cells; a and b: 1 each
    r = drift.compare(ref, cur, model="m", environment="e", namespace="n")
    assert r.missing_ratio == pytest.approx(4 / 8)
    assert "d" not in r.drift


def test_the_command_reads_csv_and_parquet_and_writes_the_metrics_the_rules_select(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    ref = _write_csv(tmp_path / "ref.csv", _sample(2000, seed=3))
    cur_cols = _sample(1000, shift=0.5, seed=4, missing=0.1)
    cur_dir = tmp_path / "logs"
    cur_dir.mkdir()
    half = {k: v[:500] for k, v in cur_cols.items()}
    rest = {k: v[500:] for k, v in cur_cols.items()}
    _write_csv(cur_dir / "a.csv", half)
    rest["age"] = [None if v == "" else v for v in rest["age"]]
    pq.write_table(pa.table(rest), cur_dir / "b.parquet")
    out = tmp_path / "metrics.prom"
    rc = main(
        [
            "drift",
            "scorer",
            "--env",
            "prod",
            "--namespace",
            "ml-prod",
            "--reference",
            f"file://{ref}",
            "--current",
            str(cur_dir),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    text = out.read_text()
    assert (
        'shipspec_model_feature_drift{namespace="ml-prod", model="scorer", environment="prod", '
        'feature="amount", statistic="psi"}'
    ) in text
    line = next(ln for ln in text.splitlines() if ln.startswith("shipspec_model_missing_features_ratio{"))
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(0.1 / 3, abs=0.02)
    assert 'shipspec_model_drift_rows{namespace="ml-prod", model="scorer", environment="prod"} 1000' in text


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "drift",
            "m",
            "--env",
            "prod",
            "--namespace",
            "n",
            "--reference",
            str(tmp_path / "nope.csv"),
            "--current",
            str(tmp_path),
        ]
    )
    assert rc == 2 and "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("windows", "schedule", "every"),
    [
        ([3600.0], "*/15 * * * *", 900),
        ([900.0, 3600.0], "*/5 * * * *", 300),
        ([60.0], "*/5 * * * *", 300),
        ([6 * 3600.0], "0 * * * *", 3600),
        ([86_400.0], "0 */6 * * *", 21_600),
        ([7 * 86_400.0], "0 0 * * *", 86_400),
    ],
)
def test_the_schedule_is_a_quarter_of_the_shortest_window(windows: list[float], schedule: str, every: int) -> None:
    class Rule:
        def __init__(self, d: float) -> None:
            self.duration = d

    class Mon:
        rules = [Rule(d) for d in windows]

    assert cron(drift_interval(Mon())) == (schedule, every)  # type: ignore[arg-type]


def test_the_example_renders_a_drift_cronjob_per_monitor_in_the_monitoring_tier() -> None:
    checked = validate([ROOT / "specs"])
    files, sink = render(checked, Templates.load(), only=("monitoring",))
    assert not sink.has_errors, sink.items
    jobs = {f.path: f.documents[0] for f in files if "/cronjob-drift-" in f.path}
    assert set(jobs) == {
        "deploy/observability/monitoring/cronjob-drift-fraud-detector-prod.yaml",
        "deploy/observability/monitoring/cronjob-drift-offer-ranker-prod.yaml",
    }
    job = jobs["deploy/observability/monitoring/cronjob-drift-fraud-detector-prod.yaml"]
    assert job["metadata"]["namespace"] == "monitoring" and job["spec"]["schedule"] == "*/5 * * * *"
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[:2] == ["drift", "fraud_detector"]
    assert args[args.index("--reference") + 1] == "s3://kestrel-data/transactions/2026-10-01/"
    assert args[args.index("--pushgateway") + 1] == "http://pushgateway.monitoring.svc:9091"
    assert yaml.safe_load(yaml.safe_dump(job)) == job
