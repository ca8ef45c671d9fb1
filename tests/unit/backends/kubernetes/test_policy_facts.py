"""``backends.facts``: what the render-unit memo keeps of a document instead of the whole of it.

The policy checks and the kustomization must decide the same on the facts as on the
documents, for the objects shipspec renders and for objects a template override could
make of them (keys removed, values of the wrong type), and never raise on either."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends.facts import facts
from compiler.backends.kubernetes import kustomize
from compiler.backends.kubernetes import policy as k8s_policy
from compiler.backends.render import Templates
from compiler.diagnostics import Sink
from compiler.output import OutputFile
from compiler.pipeline import Checked, render, validate

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def rendered() -> tuple[Checked, list[OutputFile]]:
    checked = validate([ROOT / "specs"])
    files, sink = render(checked, Templates.load())
    assert not sink.has_errors
    return checked, [f for f in files if f.documents]


def _trimmed(files: list[OutputFile]) -> list[OutputFile]:
    from dataclasses import replace

    return [replace(f, documents=tuple(facts(d) for d in f.documents)) for f in files]


def _verdict(checked: Checked, files: list[OutputFile]) -> list[tuple[str, str]]:
    sink = Sink()
    k8s_policy.verify_objects(checked.spec, files, sink)  # odd shapes are read past, never raise
    return [(d.code, d.message) for d in sink.items]


def _kustomized(files: list[OutputFile]) -> list[tuple[str, str]]:
    return [(f.path, f.text) for f in kustomize.assemble(files)]


def test_the_facts_decide_as_the_documents(rendered: tuple[Checked, list[OutputFile]]) -> None:
    checked, files = rendered
    facts = _trimmed(files)
    assert _verdict(checked, facts) == _verdict(checked, files)
    assert _kustomized(facts) == _kustomized(files)
    full = sum(len(repr(d)) for f in files for d in f.documents)
    kept = sum(len(repr(d)) for f in facts for d in f.documents)
    assert kept < full / 2  # the point of it: far less to keep and to load


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*at, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*at, i)))
    return out


def damage(data: st.DataObject, doc: Any, path: tuple[Any, ...], values: st.SearchStrategy[Any]) -> None:
    """Remove the value at ``path`` in ``doc`` (where its parent is a mapping) or put one drawn
    from ``values`` there: what an override template could render."""
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        # A copy: the strategy hands out one object per value, and the same dict put inside
        # itself made a document that contains itself (no template renders one).
        parent[path[-1]] = copy.deepcopy(data.draw(values))


ODD = st.sampled_from([None, 0, 1, 3, "", "x", True, False, [], {}, ["ALL"], {"a": 1}])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_odd_objects_decide_the_same(rendered: tuple[Checked, list[OutputFile]], data: st.DataObject) -> None:
    """Random damage to the production objects (what an override could render): a key
    removed or a value replaced by one of another type, a few times over."""
    checked, files = rendered
    prod = [f for f in files if f.path.startswith("deploy/prod/")]
    assert prod
    damaged = copy.deepcopy(prod)
    for _ in range(data.draw(st.integers(1, 3))):
        f = data.draw(st.sampled_from(damaged))
        i = data.draw(st.integers(0, len(f.documents) - 1))
        path = data.draw(st.sampled_from(_paths(f.documents[i])[1:]))
        damage(data, f.documents[i], path, ODD)
    assert _verdict(checked, _trimmed(damaged)) == _verdict(checked, damaged)
    assert _kustomized(_trimmed(damaged)) == _kustomized(damaged)


def test_the_memo_keeps_one_object_per_equal_fact(tmp_path: Path) -> None:
    """Equal parts of facts are one object in the memo entry (one build in its pickle),
    and each still equals the part of the document it stands for."""
    from bench.synth import generate
    from compiler.cache import Memory
    from compiler.pipeline import build, units_key

    specs = generate(tmp_path, 4)
    store = Memory()
    built = build([specs], store=store)
    entry = store.get("units", units_key(None, True, None))
    contexts = [
        c["securityContext"]
        for result in entry[0].values()
        for f in result.files
        for d in f[4]
        for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers", [])
    ]
    assert len(contexts) > 10 and len({id(c) for c in contexts}) < len(contexts) / 5
    documents = {f.path: f.documents for f in built.files}
    for result in entry[0].values():
        for path, _text, _source, _kind, kept, *_ in result.files:
            assert list(kept) == [facts(d) for d in documents[path]]
