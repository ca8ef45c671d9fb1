#!/usr/bin/env python3
"""Convert one version of an upstream CustomResourceDefinition to the JSON
Schemas shipspec validates rendered custom resources against (lenient and
strict), with the transformations ../shared/crds/SOURCES.md describes:
apiVersion/kind as required consts, metadata typed, int-or-string as anyOf,
descriptions dropped; strict adds additionalProperties: false to every object
schema with properties (and without preserve-unknown-fields).

    python scripts/crd_schema.py CRD.yaml KIND VERSION OUT_BASENAME

writes schemas/crds/OUT_BASENAME.json (lenient) and OUT_BASENAME.strict.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

METADATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}


def _clean(node: Any, strict: bool) -> Any:
    if isinstance(node, list):
        return [_clean(n, strict) for n in node]
    if not isinstance(node, dict):
        return node
    # A "description" annotation is dropped; a property named description is kept.
    out = {
        k: ({name: _clean(sub, strict) for name, sub in v.items()} if k == "properties" else _clean(v, strict))
        for k, v in node.items()
        if not (k == "description" and isinstance(v, str))
    }
    if out.get("x-kubernetes-int-or-string") and "type" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        out.pop("x-kubernetes-int-or-string")
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        strict
        and out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def convert(crd: dict[str, Any], kind: str, version: str, strict: bool) -> dict[str, Any]:
    group = crd["spec"]["group"]
    (v,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _clean(v["schema"]["openAPIV3Schema"], strict)
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"const": f"{group}/{version}"}
    props["kind"] = {"const": kind}
    props["metadata"] = dict(METADATA, **({"additionalProperties": False} if strict else {}))
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def main(argv: list[str]) -> int:
    source, kind, version, base = argv
    docs = [d for d in yaml.safe_load_all(Path(source).read_text()) if d]
    (crd,) = [d for d in docs if d.get("kind") == "CustomResourceDefinition" and d["spec"]["names"]["kind"] == kind]
    out = Path(__file__).resolve().parents[1] / "schemas" / "crds"
    for strict, suffix in ((False, ".json"), (True, ".strict.json")):
        text = json.dumps(convert(crd, kind, version, strict), indent=1, sort_keys=True) + "\n"
        (out / f"{base}{suffix}").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
