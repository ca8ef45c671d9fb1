"""Each Kubernetes object schema is checked against a registry of only the definitions it
reaches (``validate._k8s_registry_for``): the same verdicts as the whole document's."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import validate

ROOT = Path(__file__).resolve().parents[2]
VERSION = "1.33"


def _golden_objects() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((ROOT / "golden").glob("*/expected/deploy/**/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            kind = (str(doc.get("apiVersion")), str(doc.get("kind"))) if isinstance(doc, dict) else None
            if kind is not None and validate.k8s_validator(VERSION, *kind) is not None:
                docs.append(doc)
    return docs


def _broken(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The object with a wrong value where a referenced definition decides: in metadata, in the
    spec, deep in a pod template, and an unknown field (the schemas are strict)."""
    out = []
    for change in ("labels", "spec", "container", "unknown"):
        d = copy.deepcopy(doc)
        if change == "labels":
            d.setdefault("metadata", {})["labels"] = {"a": 1}
        elif change == "spec" and isinstance(d.get("spec"), dict):
            d["spec"]["replicas"] = "two"
        elif change == "container":
            pod = d.get("spec", {}).get("template", {}).get("spec", {})
            if not pod.get("containers"):
                continue
            pod["containers"][0]["resources"] = {"limits": {"cpu": {"no": "quantity"}}}
        elif change == "unknown":
            d.setdefault("metadata", {})["colour"] = "blue"
        out.append(d)
    return out


def _full(doc: dict[str, Any]) -> Any:
    import json

    root = validate._k8s_root(VERSION)
    assert root is not None
    schema = json.loads((root / validate._k8s_file(str(doc["apiVersion"]), str(doc["kind"]))).read_text())
    return validate.compiled_check(schema, "auto", validate._k8s_fast_registry(VERSION))


def test_pruned_and_whole_registries_give_the_same_verdicts() -> None:
    pytest.importorskip("jsonschema_rs")
    objects = _golden_objects()
    kinds = {(d["apiVersion"], d["kind"]) for d in objects}
    assert {("apps/v1", "Deployment"), ("v1", "Service"), ("networking.k8s.io/v1", "NetworkPolicy")} <= kinds
    verdicts = set()
    for doc in objects:
        pruned = validate.k8s_validator(VERSION, str(doc["apiVersion"]), str(doc["kind"]))
        full = _full(doc)
        assert pruned is not None and full is not None
        for d in [doc, *_broken(doc)]:
            ok = full(d)
            assert (pruned(d) == []) == ok, (doc["kind"], d)
            verdicts.add(ok)
    assert verdicts == {True, False}  # both kinds of verdict were compared


def test_a_deployments_registry_holds_only_what_it_reaches() -> None:
    import json

    root = validate._k8s_root(VERSION)
    assert root is not None
    document = validate._k8s_definitions(VERSION)
    schema = json.loads((root / "deployment-apps-v1.json").read_text())
    reached = validate.reached_definitions(document, schema)
    assert reached is not None
    assert "io.k8s.api.core.v1.PodSpec" in reached and "io.k8s.api.core.v1.Probe" in reached  # through PodSpec
    assert "io.k8s.api.batch.v1.JobSpec" not in reached
    assert len(reached) < len(document["$defs"]) // 4
    # A reference the document does not hold: no pruned registry (the whole document's is used).
    assert validate.reached_definitions(document, {"$ref": "#/$defs/no.such.Thing"}) is None
    assert validate.reached_definitions(document, {"$ref": "https://elsewhere/x.json"}) is None


def test_a_build_lets_the_definitions_go_and_a_kind_met_later_still_validates(tmp_path: Path) -> None:
    """A validating build ends without the parsed definitions document (it held it to its end,
    where a one-field edit has its peak memory); a kind whose validator is built afterwards (a
    watching process's next step) reads it again and gives the same verdicts."""
    from bench.synth import generate
    from compiler.pipeline import build

    assert not build([generate(tmp_path, 2)]).has_errors
    assert validate._k8s_definitions.cache_info().currsize == 0
    docs = [d for d in _golden_objects() if d.get("kind") in ("Deployment", "Service")]
    assert {d["kind"] for d in docs} == {"Deployment", "Service"}
    verdicts = []
    for _ in range(2):
        validate.k8s_validator.cache_clear()
        validate.release_documents()
        verdicts.append(
            [validate.k8s_validator(VERSION, d["apiVersion"], d["kind"])(b) for d in docs for b in (d, *_broken(d))]
        )  # type: ignore[misc]
        assert validate._k8s_definitions.cache_info().currsize == 1  # read again to build them
    assert verdicts[0] == verdicts[1] and any(verdicts[0]) and not all(verdicts[0])
