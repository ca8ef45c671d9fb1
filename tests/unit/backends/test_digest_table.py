"""The table of record digests a one-shot build carries into the next
(``compiler.backends.digest_table``): it saves computing them, and never stands one
record in for another."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bench.synth import generate
from compiler.backends import digest_table, memo
from compiler.cache import Cache
from compiler.ir import Dataset, Environment, Gate, Model, Monitor, Project, Training
from compiler.parse.sources import file_key, load
from compiler.pipeline import build
from compiler.resolve import Placement, resolve
from tests.unit.test_cache import EDITS, _apply, _result

_KEYED = (Model, Environment, Project, Gate, Dataset, Training, Monitor, Placement)


def _digested(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(class, name) of each record a build computes a digest of (not carried)."""
    made: list[tuple[str, str]] = []
    real = memo._pickle
    tags = {memo._tag(cls): cls for cls in _KEYED}  # a digest pickles its record's tag and fields

    def counting(value: Any) -> bytes:
        if isinstance(value, tuple) and len(value) == 2 and value[0] in tags:
            cls = tags[value[0]]
            fields = dict(zip([f.name for f in dataclasses.fields(cls)], value[1], strict=True))
            name = fields.get("name") or getattr(fields.get("model"), "name", "")
            made.append((cls.__name__, str(name)))
        return real(value)

    monkeypatch.setattr(memo, "_pickle", counting)
    return made


def test_after_a_one_model_edit_only_that_models_records_are_digested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = generate(tmp_path, 4)
    out = tmp_path / "out"
    out.mkdir()
    made = _digested(monkeypatch)
    with Cache(out) as store:
        build([specs], store=store)
    assert {n for _, n in made} >= {f"m{i:05d}" for i in range(4)}  # a first build digests every record
    made.clear()
    _apply(specs / "models" / "m00002.ship", EDITS.index(("cpu 1 ", "cpu {n} ")), 3)
    with Cache(out) as store:  # a new process's view: only what is on disk
        cached = build([specs], store=store)
    assert made and {n for _, n in made} == {"m00002"}
    assert {c for c, _ in made} == {"Model", "Gate", "Monitor", "Placement"}  # its file holds its gates and monitor too
    assert _result(cached) == _result(build([specs]))


def test_records_that_share_an_origin_are_never_looked_up(tmp_path: Path) -> None:
    """Two records of one class at one place in one file (which lowering never makes) have
    no identity: a table that has a digest for that place gives nothing for either."""
    specs = generate(tmp_path, 1)
    loaded = load([specs])
    spec = loaded.spec
    model = spec.models[0]
    twin = dataclasses.replace(model, version="9.9.9")
    doubled = dataclasses.replace(spec, models=(model, twin))
    keys = {s.path: file_key(s.path, s.text) for s in loaded.sources}
    resolved = resolve(doubled)
    origins = digest_table.Origins(resolved, keys)
    assert origins.of(model) is None and origins.of(twin) is None
    placed = [p for env in doubled.environments for p in resolved.placements(env) if p.model in (model, twin)]
    assert placed and all(origins.of(p) is None for p in placed)
    single = digest_table.Origins(resolve(spec), keys)
    ident = single.of(model)
    assert ident is not None
    table = {ident: b"x" * 32}
    found = digest_table.lookup(origins, table)
    assert found is not None and found(model) is None and found(twin) is None
    found = digest_table.lookup(single, table)
    assert found is not None and found(model) == b"x" * 32


@pytest.mark.parametrize("field", ["gate", "sla", "monitors", "members"])
def test_a_placement_s_identity_names_everything_it_is_made_from(tmp_path: Path, field: str) -> None:
    """A placement's identity holds its model's, environment's, gate's, SLA's, monitors' and
    members': each edited in a file of its own gives the ensemble's placement in prod another
    identity, and leaves a placement that reads none of them alone."""
    from tests.unit.test_resolve_carry import FILES, _edit, _write

    _write(tmp_path)
    (tmp_path / "policy.ship").unlink()
    policy = FILES["policy.ship"].split("\n\n")  # the SLA, the monitor and the gate, a file each
    for name, block in zip(("sla.ship", "monitor.ship", "gate.ship"), policy, strict=True):
        (tmp_path / name).write_text(block.strip() + "\n")

    def identities() -> dict[tuple[str, str], Any]:
        loaded = load([tmp_path])
        keys = {s.path: file_key(s.path, s.text) for s in loaded.sources}
        resolved = resolve(loaded.spec)
        origins = digest_table.Origins(resolved, keys)
        placed = [p for env in loaded.spec.environments for p in resolved.placements(env)]
        return {(p.model.name, p.env.name): origins.of(p) for p in placed}

    before = identities()
    edit = {
        "gate": ("gate.ship", "f1 >= 0.8", "f1 >= 0.7"),
        "sla": ("sla.ship", "latency p99 < 200ms", "latency p99 < 300ms"),
        "monitors": ("monitor.ship", "drift psi > 0.2", "drift psi > 0.4"),
        "members": ("models/cls.ship", 'version "1.0.0"', 'version "2.0.0"'),
    }[field]
    _edit(tmp_path, *edit)
    after = identities()
    assert after[("router", "prod")] != before[("router", "prod")]
    assert after[("tok", "prod")] == before[("tok", "prod")]


def test_a_first_compile_into_a_new_root_keeps_its_table(tmp_path: Path) -> None:
    """The root does not exist while the first compile builds: its table is put when the
    root has been written (a deferred kind), so the first edit after it finds the table."""
    from compiler.cli import main

    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out)]) == 0
    assert [p for p in (Cache(out).dir / digest_table.KIND).rglob("*") if p.is_file()]
