"""``shipspec export`` prints an IR document that validates against schemas/ir.schema.json."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from compiler.commands.export import export
from compiler.parse.sources import load_text
from tests.support.specs import MINIMAL

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "schemas" / "ir.schema.json").read_text())


def test_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_of_the_example_validates(fmt: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "export", "--format", fmt],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout) if fmt == "json" else yaml.safe_load(r.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert {m["name"] for m in doc["spec"]["models"]} >= {"fraud_detector", "offer_ranker", "ticket_router"}
    fraud = next(m for m in doc["spec"]["models"] if m["name"] == "fraud_detector")
    assert fraud["batching"]["delay"] == pytest.approx(0.0005)  # 500us, normalised to seconds


def test_secrets_export_as_references_only() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "export"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    doc = json.loads(r.stdout)
    [training] = [t for t in doc["spec"]["trainings"] if t["model"] == "fraud_detector"]
    assert training["env"][0]["value"] == {"secret": "vault:ml/fraud#db"}


def test_schema_rejects_documents_that_break_the_contract() -> None:
    good = export(load_text(MINIMAL).spec)
    jsonschema.validate(good, SCHEMA, cls=jsonschema.Draft202012Validator)
    breakages = [
        lambda d: d["spec"]["models"][0].__setitem__("format", "keras"),
        lambda d: d["spec"]["models"][0].__setitem__("surprise", 1),
        lambda d: d["spec"]["slas"][0]["availability"].__setitem__("objective", 99.9),
        lambda d: d["spec"]["environments"][0].__setitem__("tier", "qa"),
        lambda d: d["spec"]["gates"][0]["canary"][0].__setitem__("weight", 1.5),
        lambda d: d.__setitem__("format_version", 2),
    ]
    for breakage in breakages:
        doc = copy.deepcopy(good)
        breakage(doc)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_export_does_not_depend_on_block_order() -> None:
    blocks = [b for b in MINIMAL.split("\n\n") if b.strip()]
    shuffled = blocks[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != blocks

    def strip(x: object) -> object:
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "span"}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    a = strip(export(load_text("\n\n".join(blocks)).spec))
    b = strip(export(load_text("\n\n".join(shuffled)).spec))
    assert a == b


def test_export_refuses_a_spec_with_errors(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "a.ship").write_text(MINIMAL.replace("replicas 2..4", "replicas 1..4"))
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "export"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1 and r.stdout == "" and "SS501" in r.stderr
