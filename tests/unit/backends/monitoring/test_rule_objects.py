"""PrometheusRule objects a cluster can hold.

Argo CD syncs with kubectl's client-side apply by default, which keeps the whole object, as
JSON, in the ``kubectl.kubernetes.io/last-applied-configuration`` annotation, and the API
server refuses annotations over 256 KiB (apimachinery's ``TotalAnnotationSizeLimitB``): such an
object never syncs. One PrometheusRule of an environment's every group reached that at a few
dozen models with SLAs; now each model's groups are an object of its own, and the groups the
models share are split by the bytes of the names they list (``shared_parts``). SS806 reports
any rendered object that would still not fit.
"""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from compiler.backends import file_validators
from compiler.backends.base import OutputFile
from compiler.backends.monitoring import backend as monitoring
from compiler.backends.render import Templates
from compiler.diagnostics import Sink, Span
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from compiler.validate import ANNOTATIONS_LIMIT, applied_annotations_size, validate_files
from tests.support.specs import MINIMAL

_MODEL = MINIMAL[MINIMAL.index("model clf {") : MINIMAL.index("dataset holdout {")]


def fleet(names: list[str]) -> str:
    """MINIMAL with its model, SLA and gate once per name (every model served in prod)."""
    pin = '  override clf { version "1.0.0" }\n'
    head = MINIMAL[: MINIMAL.index("model clf {")].replace(pin, "".join(pin.replace("clf", n) for n in names))
    tail = MINIMAL[MINIMAL.index("dataset holdout {") :]
    return head + "".join(_MODEL.replace("clf", n) for n in names) + tail


def _render(text: str) -> tuple[list[OutputFile], Sink]:
    checked = check_loaded(load_text(text, "t.ship"))
    assert not checked.has_errors, [d for d in checked.diagnostics if d.severity.value == "error"][:3]
    files, sink = render(checked, Templates.load(), only=("monitoring",))
    validate_files(files, "1.33", sink, file_validators())
    return files, sink


def _objects(files: list[OutputFile], env: str) -> dict[str, dict]:
    return {
        d["metadata"]["name"]: d
        for f in files
        if f.path.startswith(f"deploy/{env}/monitoring/")
        for d in f.documents
        if d.get("kind") == "PrometheusRule"
    }


def _json_size(doc: dict) -> int:
    return len(json.dumps(doc, separators=(",", ":")))


def test_forty_models_with_slas_fit_where_one_object_would_not() -> None:
    names = [f"model_{i:02d}_" + "x" * 31 for i in range(40)]  # 40 characters, the longest a name may be
    files, sink = _render(fleet(names))
    assert "SS806" not in {d.code for d in sink.items}, [d.message for d in sink.items if d.code == "SS806"]
    objects = _objects(files, "prod")
    assert len(objects) == 41  # one per model, one shared
    sizes = [applied_annotations_size(o) for o in objects.values()]
    assert max(sizes) < ANNOTATIONS_LIMIT
    # What the objects hold, as one object, is past the limit: the split is what lets it sync.
    assert sum(_json_size(o["spec"]) for o in objects.values()) > ANNOTATIONS_LIMIT


def test_shared_groups_split_by_the_names_they_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``SHARED_NAMES_BYTES`` of names, the next models' shared groups are a set of their
    own (``.2``, ``.3`` ...) in PrometheusRule ``<env>-slo-2`` ...; every model is selected by
    exactly one of them, and the objects together hold the rules file's groups."""
    monkeypatch.setattr(monitoring, "SHARED_NAMES_BYTES", 40)
    names = [f"m{i:02d}_long_name" for i in range(6)]  # 14 bytes a name and its separator: two a share
    files, sink = _render(fleet(names))
    assert not sink.has_errors, sink.items
    by_path = {f.path: f for f in files}
    assert sorted(p for p in by_path if "/prod/monitoring/prometheusrule-slo" in p) == [
        "deploy/prod/monitoring/prometheusrule-slo.2.yaml",
        "deploy/prod/monitoring/prometheusrule-slo.3.yaml",
        "deploy/prod/monitoring/prometheusrule-slo.yaml",
    ]
    objects = _objects(files, "prod")
    shared = [objects["prod-slo"], objects["prod-slo-2"], objects["prod-slo-3"]]
    assert [[g["name"] for g in o["spec"]["groups"]] for o in shared] == [
        [f"shipspec.prod.serving{s}", f"shipspec.prod.availability.sli{s}"] for s in ("", ".2", ".3")
    ]
    # Each model's requests are recorded by one share's rule, in the order served.
    selected = []
    for o in shared:
        expr = o["spec"]["groups"][0]["rules"][0]["expr"]
        selected.append([n for n in names if n in expr])
    assert selected == [names[0:2], names[2:4], names[4:6]]
    raw = yaml.safe_load(by_path["deploy/prod/monitoring/rules.yml"].text)
    held = [g for o in objects.values() for g in o["spec"]["groups"]]
    assert sorted(g["name"] for g in held) == sorted(g["name"] for g in raw["groups"])
    assert len({g["name"] for g in raw["groups"]}) == len(raw["groups"])


@given(st.lists(st.text(alphabet="abcdefghij_", min_size=1, max_size=30), max_size=60), st.integers(1, 120))
def test_shared_parts_are_contiguous_bounded_shares(names: list[str], budget: int) -> None:
    saved = monitoring.SHARED_NAMES_BYTES
    monitoring.SHARED_NAMES_BYTES = budget
    try:
        parts = monitoring.shared_parts(tuple(names))
    finally:
        monitoring.SHARED_NAMES_BYTES = saved
    assert [n for p in parts for n in p] == names
    assert all(p for p in parts) or parts == [()]
    for p in parts:
        # Over the budget only where one name alone is.
        assert sum(len(n.encode()) + 1 for n in p) <= budget or len(p) == 1


def _config_map(data: str, api_version: str = "v1", kind: str = "ConfigMap") -> OutputFile:
    doc = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "big", "namespace": "ml"}, "data": {"x": data}}
    return OutputFile("deploy/prod/big.yaml", yaml.safe_dump(doc), Span.point("t.ship"), documents=(doc,))


def test_an_object_past_the_annotation_limit_is_an_error() -> None:
    sink = Sink()
    validate_files([_config_map("a" * 262_144)], "1.33", sink, file_validators())
    assert [d.code for d in sink.items] == ["SS806"]
    assert "ConfigMap big" in sink.items[0].message and "262144" in sink.items[0].message
    sink = Sink()
    validate_files([_config_map("a" * 200_000)], "1.33", sink, file_validators())
    assert sink.items == []


def test_go_escapes_count_toward_the_limit() -> None:
    """kubectl writes the annotation with Go's encoder: each <, > and & takes six bytes."""
    sink = Sink()
    validate_files([_config_map("<" * 50_000)], "1.33", sink, file_validators())
    assert [d.code for d in sink.items] == ["SS806"]
    doc = _config_map("<" * 50_000).documents[0]
    assert applied_annotations_size(doc) > 6 * 50_000 > _json_size(doc)


def test_what_kustomize_reads_is_not_applied() -> None:
    sink = Sink()
    big = _config_map("a" * 300_000, "kustomize.config.k8s.io/v1beta1", "Kustomization")
    from compiler.validate import _too_large

    _too_large(big, sink)
    assert sink.items == []


def test_a_models_object_made_without_its_groups_at_hand_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo keeps a model's groups' names and text, not the groups: a model's object not in
    the memo when its groups' value is makes them again, to the same file."""
    names = ["a_model", "b_model"]
    files, _ = _render(fleet(names))
    real = monitoring.unit_over

    def without_groups(ctx, name, fn, keys, given, *inputs):  # type: ignore[no-untyped-def]
        if name != "monitoring.rule":  # the rules file, a unit over every model's groups
            return real(ctx, name, fn, keys, given, *inputs)
        made_of, _groups, _text = given
        return real(ctx, name, fn, keys, (made_of, None, ""), *inputs)

    monkeypatch.setattr(monitoring, "unit_over", without_groups)
    again, _ = _render(fleet(names))
    rules = [f for f in files if "/monitoring/rules/" in f.path]
    assert len(rules) == 2
    remade = {f.path: f for f in again}
    for f in rules:
        assert remade[f.path].text == f.text and remade[f.path].documents == f.documents


def test_no_models_object_or_file_is_a_shared_ones() -> None:
    """Models named ``slo`` and ``prod_slo``: their objects and files are theirs alone (the
    shared ones are ``prod-slo`` in ``prometheusrule-slo.yaml``)."""
    files, sink = _render(fleet(["slo", "prod_slo"]))
    assert not sink.has_errors, sink.items
    paths = [f.path for f in files]
    assert len(paths) == len(set(paths))
    names = [
        d["metadata"]["name"]
        for f in files
        if f.path.startswith("deploy/prod/")
        for d in f.documents
        if d.get("kind") == "PrometheusRule"
    ]
    assert sorted(names) == ["prod-slo", "prod-slo-rules", "slo-rules"]
