"""A short run of the fuzzing harness (issue 17): mutated specs, evidence files and
Triton configs through validate, fmt, export, compile + check and import, in
process. The long run is documented in fuzz/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz import mutate
from fuzz.harness import Targets, minimise, run


def test_a_short_fuzz_run_finds_no_crash_hang_or_broken_property() -> None:
    stats = run(inputs=600, seed=20261130, compile_every=10, timeout=30)
    assert stats.inputs == 600
    assert set(stats.by_target) == {"spec", "evidence", "triton"}
    assert stats.clean > 0  # some mutants reach export (and compile)
    assert not stats.findings, "\n".join(f"{f.site}: {f.message}" for f in stats.findings.values())


def test_the_harness_reports_a_crash_with_its_smallest_reproducer(tmp_path, monkeypatch) -> None:
    # A real defect, planted: the harness must see it, name its site and shrink the input.
    def evidence(self: Targets, data: bytes, name: str) -> None:
        if b"boom" in data:
            raise ZeroDivisionError("planted")

    monkeypatch.setattr(Targets, "evidence", evidence)
    monkeypatch.setattr("fuzz.harness.EVIDENCE_TOKENS", [b"boom"])
    stats = run(inputs=40, seed=3, out=tmp_path)
    (finding,) = stats.findings.values()
    assert finding.site.startswith("evidence ZeroDivisionError at ")
    assert finding.reproducer == b"boom"
    assert (tmp_path / "report.json").is_file()


def test_minimise_keeps_the_failing_part() -> None:
    data = b"a" * 50 + b"XY" + b"b" * 50
    assert minimise(data, lambda d: b"XY" in d) == b"XY"


def test_grammar_mutation_changes_the_text() -> None:
    import random

    rng = random.Random(1)
    seed = 'model m {\n  version "1"\n  replicas 2..4\n}\n'
    assert any(mutate.grammar_mutation(seed, rng, [seed]) != seed for _ in range(5))


REGRESSIONS = sorted((Path(__file__).resolve().parents[2] / "fuzz" / "regressions").glob("*.input"))


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_every_site_the_fuzzer_found_stays_fixed(path: Path, tmp_path: Path) -> None:
    """Each reproducer the fuzzer minimised (fuzz/regressions/<target>-*.input) runs clean."""
    targets = Targets(tmp_path, compile_every=1)
    data = path.read_bytes()
    target = path.name.split("-")[0]
    if target == "spec":
        targets.spec(data)
    elif target == "evidence":
        targets.evidence(data, "ev.json" if data.lstrip().startswith(b"{") else "ev.yaml")
    else:
        targets.triton(data)
