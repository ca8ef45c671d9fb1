"""The custom resources shipspec renders against the schemas in schemas/crds/
(written from upstream documentation) and, where that folder exists, against
the schemas converted from the upstream CRDs in ../shared/crds/."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.k8s_support import SHARED_CRDS, SPECS, compile_to, errors  # isort: skip - imports the backends first
from compiler.resources import schemas_dir
from compiler.validate import crd_validator

UPSTREAM = {  # kind -> shared file (strict: unknown fields are errors)
    "Rollout": "rollout.strict.json",
    "AnalysisTemplate": "analysistemplate.strict.json",
    "Application": "application.strict.json",
    "PyTorchJob": "pytorchjob.strict.json",
}
OURS = {"Rollout", "AnalysisTemplate", "Application", "PyTorchJob", "VirtualService", "ExternalSecret"}


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    root = tmp_path_factory.mktemp("crds")
    assert errors(compile_to(SPECS, root)) == []
    out = []
    for path in sorted((root / "deploy").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if isinstance(doc, dict) and doc.get("kind") in OURS:
            out.append(doc)
    return out


def test_every_kind_is_rendered_from_the_example(objects: list[dict[str, Any]]) -> None:
    assert {o["kind"] for o in objects} == OURS


def test_index_names_a_valid_schema_for_each_kind() -> None:
    index = json.loads((schemas_dir() / "crds/index.json").read_text())
    for key, name in index.items():
        schema = json.loads((schemas_dir() / "crds" / name).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["kind"].get("const") == key.rsplit("/", 1)[1]


def test_rendered_objects_pass_our_schemas(objects: list[dict[str, Any]]) -> None:
    for o in objects:
        check = crd_validator(o["apiVersion"], o["kind"])
        assert check is not None, o["kind"]
        assert check(o) == [], (o["kind"], o["metadata"]["name"])


@pytest.mark.skipif(not SHARED_CRDS.is_dir(), reason="../shared/crds (upstream CRD schemas) is not present")
def test_rendered_objects_pass_the_upstream_strict_crd_schemas(objects: list[dict[str, Any]]) -> None:
    checked = set()
    for o in objects:
        name = UPSTREAM.get(o["kind"])
        if name is None:
            continue
        schema = json.loads((SHARED_CRDS / name).read_text())
        problems = [
            f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(o)
        ]
        assert problems == [], (o["kind"], o["metadata"]["name"], problems[:3])
        checked.add(o["kind"])
    assert checked == set(UPSTREAM)


def _first(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(o for o in objects if o["kind"] == kind))


@pytest.mark.parametrize(
    ("kind", "mutate", "where"),
    [
        ("Rollout", lambda o: o["spec"]["strategy"]["canary"]["steps"].append({"setWeight": 150}), "setWeight"),
        ("Rollout", lambda o: o["spec"]["strategy"]["canary"].update(stepz=[]), "stepz"),
        ("AnalysisTemplate", lambda o: o["spec"]["metrics"][0]["provider"]["prometheus"].pop("query"), "query"),
        ("Application", lambda o: o["spec"]["destination"].update(server="https://x", name="both"), "destination"),
        ("Application", lambda o: o["spec"]["syncPolicy"]["automated"].update(prune="yes"), "prune"),
        ("VirtualService", lambda o: o["spec"]["http"][0]["mirrorPercentage"].update(value=101), "value"),
        ("PyTorchJob", lambda o: o["spec"]["pytorchReplicaSpecs"].pop("Master"), "Master"),
        ("ExternalSecret", lambda o: o["spec"]["secretStoreRef"].update(kind="Vault"), "kind"),
        ("ExternalSecret", lambda o: o["spec"]["data"][0].update(value="s3cr3t"), "value"),
    ],
)
def test_our_schemas_reject_broken_objects(objects: list[dict[str, Any]], kind: str, mutate: Any, where: str) -> None:
    doc = _first(objects, kind)
    mutate(doc)
    check = crd_validator(doc["apiVersion"], doc["kind"])
    assert check is not None
    problems = check(doc)
    assert problems, kind
    assert any(where in path or where in message for path, message in problems), problems


def test_schema_files_are_loaded_from_the_package() -> None:
    assert Path(schemas_dir(), "crds", "rollout.json").is_file()
