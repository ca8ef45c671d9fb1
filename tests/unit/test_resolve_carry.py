"""A watching process resolves each edit with the last resolve's placements
(``resolve(spec, earlier)``): a placement is kept only where ``_place`` would make it
again, so every placement equals a fresh resolve's after any edit of any file."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.cache import Memory
from compiler.parse.sources import load
from compiler.resolve import Placement, Resolved, resolve

FILES = {
    "platform.ship": """project p {
  registry "ghcr.io/p"
  owners @p/platform
}

dataset d {
  version "1"
  uri "s3://p/d/"
}

environment staging {
  tier staging
}

environment prod {
  tier production
  replicas 2..4
}
""",
    "models/tok.ship": """model tok {
  version "1.0.0"
  format python
  artifact "s3://p/tok/model.py"
  owners @p/ml
  input text: string[1]
  output ids: int64[8]
  serve in staging, prod
}
""",
    "models/cls.ship": """model cls {
  version "1.0.0"
  format onnx
  artifact "s3://p/cls/model.onnx"
  trained_on d
  owners @p/ml
  input ids: int64[8]
  output logits: fp32[2]
  serve in staging, prod
}
""",
    "models/router.ship": """model router {
  version "1.0.0"
  format ensemble
  owners @p/ml
  input text: string[1]
  output logits: fp32[2]
  step tok {
    input text -> text
    output ids -> ids
  }
  step cls {
    input ids -> ids
    output logits -> logits
  }
  serve in staging, prod
}
""",
    "policy.ship": """sla router in prod {
  latency p99 < 200ms
  availability 99% over 7d
}

monitor router in prod {
  drift psi > 0.2 for 1h -> retrain
}

gate staging -> prod for router {
  metric f1 >= 0.8 on d
}
""",
}

# Edits of files other than the ensemble's own: (file, old, new); "" as old appends,
# None as new deletes the file, a missing file is written from FILES; "->" as old renames
# the file to new.
EDITS: list[tuple[str, str | None, str | None]] = [
    ("policy.ship", "f1 >= 0.8", "f1 >= 0.9"),  # the gate into prod
    ("policy.ship", "gate staging -> prod for router {", "gate staging -> prod for router {\n  canary 10% for 5m"),
    ("policy.ship", "availability 99% over 7d", "availability 99.9% over 7d"),  # the SLA
    ("policy.ship", "drift psi > 0.2", "drift psi > 0.3"),  # the monitor
    ("policy.ship", "", "\nmonitor router in prod {\n  drift psi > 0.5 for 1h -> retrain\n}\n"),  # a second
    ("models/cls.ship", 'version "1.0.0"', 'version "1.1.0"'),  # a member
    ("models/cls.ship", None, None),  # a member gone
    ("models/cls.ship", None, FILES["models/cls.ship"]),  # and back
    ("platform.ship", "replicas 2..4", "replicas 3..6"),  # an environment
    ("models/tok.ship", "serve in staging, prod", "serve in staging"),  # a member not in prod
    ("models/tok.ship", 'version "1.0.0"', 'version "1.0.1"'),  # served where it was
    ("models/tok.ship", "serve in staging", "serve in prod, staging"),  # the same, in another order
    ("models/tok.ship", "serve in prod, staging", "serve in staging, staging"),  # one named twice
    ("models/tok.ship", "serve in staging, staging", "serve in staging, prod"),
    ("models/tok.ship", "->", "models/a_tok.ship"),  # the file renamed
    ("models/a_tok.ship", "->", "models/tok.ship"),  # and back
    ("models/tok.ship", "model tok {", "model a_tok {"),  # the model renamed: it moves first
    ("models/tok.ship", "model a_tok {", "model tok {"),  # and back
    ("models/tok.ship", "", "\n# a comment: same records, other spans\n"),
    ("policy.ship", "", "\ngate staging -> prod for cls {\n  metric f1 >= 0.7 on d\n  canary 5% for 5m\n}\n"),
    ("policy.ship", "sla router in prod {", "sla cls in prod {\n  latency p99 < 100ms\n}\n\nsla router in prod {"),
    (
        "policy.ship",
        "monitor router in prod {",
        "monitor cls in staging {\n  drift psi > 0.1 for 1h -> retrain\n}\n\nmonitor router in prod {",
    ),
    ("policy.ship", "sla cls in prod {\n  latency p99 < 100ms\n}\n", ""),  # gone again
    ("policy.ship", "monitor cls in staging {\n  drift psi > 0.1 for 1h -> retrain\n}\n", ""),
    ("policy.ship", "  canary 5% for 5m\n", ""),
]


def _write(root: Path) -> None:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _edit(root: Path, name: str, old: str | None, new: str | None) -> None:
    path = root / name
    if old == "->":
        assert new is not None
        path.rename(root / new)
        return
    if old is None:
        if new is None:
            path.unlink()
        else:
            path.write_text(new)
        return
    text = path.read_text()
    assert new is not None and (old == "" or old in text)
    path.write_text(text + new if old == "" else text.replace(old, new, 1))


def _placements(resolved: Resolved) -> dict[tuple[str, str], Placement]:
    return {(p.model.name, p.env.name): p for env in resolved.spec.environments for p in resolved.placements(env)}


def test_carried_placements_equal_fresh_ones_after_every_edit(tmp_path: Path) -> None:
    _write(tmp_path)
    store = Memory()  # unchanged files' records stay the same objects, as in a watching process
    earlier = resolve(load([tmp_path], store).spec)
    _placements(earlier)
    kept = moved = 0
    for name, old, new in EDITS:
        _edit(tmp_path, name, old, new)
        spec = load([tmp_path], store).spec
        assert earlier.served_placements is not None  # made, so that the next resolve may carry it
        carried, fresh = resolve(spec, earlier), resolve(spec)
        # Each model's placements where it is served, as a check reads them (by the model's id).
        served = [carried.served_placements[id(m)] for m in spec.models]
        assert served == [fresh.served_placements[id(m)] for m in spec.models], (name, old, new)
        # Each environment's models, in spec order, as the very records (moved on from the last).
        moved += carried._served_moved_on() is not None
        served_in, fresh_in = carried._served_in(), fresh._served_in()
        assert served_in.keys() == fresh_in.keys(), (name, old, new)
        assert all(list(map(id, served_in[e])) == list(map(id, fresh_in[e])) for e in fresh_in), (name, old, new)
        got, want = _placements(carried), _placements(fresh)
        assert got == want, (name, old, new)
        # Its tables of gates, canaries, SLAs and monitors, carried for the models no edit changed.
        assert (carried._gates, carried._canaries, carried._slas, carried._monitors) == (
            fresh._gates,
            fresh._canaries,
            fresh._slas,
            fresh._monitors,
        ), (name, old, new)
        kept += sum(1 for key, p in got.items() if _placements(earlier).get(key) is p)
        earlier = carried
    assert kept > 0  # placements were carried, not only remade
    assert moved > 0  # and each environment's models moved on, not only listed again


def test_a_model_no_edit_changed_keeps_its_served_placements(tmp_path: Path) -> None:
    """What a check reads of each model's placements is carried for the models an edit left
    alone (``Resolved.changed``), and made again for the edited one."""
    import shutil

    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "specs", tmp_path / "specs")
    store = Memory()
    earlier = resolve(load([tmp_path / "specs"], store).spec)
    before = earlier.served_placements
    offers = tmp_path / "specs" / "models" / "offers.ship"
    offers.write_text(offers.read_text().replace("cpu ", "cpu 1", 1))
    spec = load([tmp_path / "specs"], store).spec
    carried, fresh = resolve(spec, earlier), resolve(spec)
    assert carried.changed == {"offer_ranker"}
    served = {m.name: carried.served_placements[id(m)] for m in spec.models}
    assert served == {m.name: fresh.served_placements[id(m)] for m in spec.models}
    kept = {m.name for m in spec.models if served[m.name] and before.get(id(m)) is served[m.name]}
    assert kept == {m.name for m in spec.models if served[m.name]} - {"offer_ranker"} and kept


@pytest.mark.parametrize("field", ["gate", "canary", "sla", "monitors", "members"])
def test_a_placement_is_not_carried_past_a_change_of_what_it_holds(tmp_path: Path, field: str) -> None:
    """Each thing a placement takes from outside its model and environment, changed in another
    file, makes the ensemble's placement in prod anew."""
    _write(tmp_path)
    store = Memory()
    earlier = resolve(load([tmp_path], store).spec)
    before = _placements(earlier)[("router", "prod")]
    edit = {
        "gate": ("policy.ship", "f1 >= 0.8", "f1 >= 0.7"),
        "canary": ("policy.ship", "for router {\n  metric", "for router {\n  canary 5% for 5m\n  metric"),
        "sla": ("policy.ship", "latency p99 < 200ms", "latency p99 < 300ms"),
        "monitors": ("policy.ship", "drift psi > 0.2", "drift psi > 0.4"),
        "members": ("models/cls.ship", 'version "1.0.0"', 'version "2.0.0"'),
    }[field]
    _edit(tmp_path, *edit)
    after = _placements(resolve(load([tmp_path], store).spec, earlier))[("router", "prod")]
    assert after is not before and after != before
    assert getattr(after, field) != getattr(before, field)
    assert (
        _placements(resolve(load([tmp_path], store).spec, earlier))[("tok", "staging")]
        is _placements(earlier)[("tok", "staging")]
    )
