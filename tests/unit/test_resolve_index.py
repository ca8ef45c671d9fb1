"""``Resolved.placements`` and ``Resolved.loaded_in`` index the spec once: the same
environments and models, in the same order, as a scan of every model."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import ir
from compiler.parse.sources import load_text
from compiler.pipeline import validate
from compiler.resolve import Resolved, resolve

ROOT = Path(__file__).resolve().parents[2]

# A model served twice in one environment, an ensemble served where one member is not, and a
# member of two ensembles.
EXTRA = """
environment dev { tier development }
environment prod { tier production }
model a { version "1" format onnx artifact "s3://b/a" serve in dev, dev, prod }
model b { version "1" format onnx artifact "s3://b/b" serve in dev }
model c { version "1" format onnx artifact "s3://b/c" }
model e {
  version "1"
  format ensemble
  step a { }
  step c { }
  serve in prod
}
model f {
  version "1"
  format ensemble
  step c { }
  serve in dev
}
"""


def _scanned_placements(r: Resolved, env: ir.Environment) -> list[object]:
    return [r.place(m, env) for m in r.spec.models if any(ref.name == env.name for ref in m.serve_in)]


def _scanned_loaded_in(r: Resolved, model: ir.Model) -> list[str]:
    wanted = {ref.name for ref in model.serve_in}
    for other in r.spec.models:
        if other.steps and not wanted.issuperset(ref.name for ref in other.serve_in):
            for env in r.served(other):
                if env.name not in wanted and any(p.model.name == model.name for p in r.place(other, env).pod_models):
                    wanted.add(env.name)
    return [env.name for env in r.spec.environments if env.name in wanted]


def _resolved() -> list[Resolved]:
    out = [validate([ROOT / "specs"]).resolved]
    out += [validate([d]).resolved for d in sorted(ROOT.glob("golden/*/specs"))]
    out.append(resolve(load_text(EXTRA).spec))
    return out


@pytest.mark.parametrize("r", _resolved(), ids=lambda r: str(len(r.spec.models)))
def test_the_index_agrees_with_a_scan(r: Resolved) -> None:
    for env in r.spec.environments:
        assert r.placements(env) == _scanned_placements(r, env)
    for model in r.spec.models:
        assert [e.name for e in r.loaded_in(model)] == _scanned_loaded_in(r, model)


def test_the_extra_spec_has_what_it_is_for() -> None:
    r = resolve(load_text(EXTRA).spec)
    dev = r.environments["dev"]
    assert [p.model.name for p in r.placements(dev)] == ["a", "b", "f"]
    assert [e.name for e in r.loaded_in(r.models["c"])] == ["dev", "prod"]
