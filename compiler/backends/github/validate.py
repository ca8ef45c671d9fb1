"""Validation of rendered workflows before they are written.

Each workflow is parsed back as YAML and, when ``check-jsonschema`` is
installed (the ``test`` extra), checked against the GitHub workflow schema it
vendors. actionlint, which also type-checks expressions, runs in the tests.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from compiler.backends.base import OutputFile
from compiler.diagnostics import Sink
from compiler.serialize import load


@cache
def _schema() -> dict[str, Any] | None:
    # Found, not imported: check-jsonschema's package imports its command line (click, requests,
    # jsonschema), 0.19 s and 15 MiB of a compile that renders a workflow (issue 16).
    from importlib.util import find_spec

    try:
        spec = find_spec("check_jsonschema")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "builtin_schemas" / "vendor" / "github-workflows.json"
    try:
        text = path.read_text("utf-8")
    except OSError:
        return None
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def _schema_validator() -> Any:
    """The jsonschema validator, which words the diagnostics."""
    import jsonschema

    schema = _schema()
    assert schema is not None  # only called once _schema() found the vendored schema
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


@cache
def _accepts() -> Any:
    """jsonschema-rs's verdict under the same draft, or None: a workflow it accepts
    needs neither jsonschema's import nor its ~1 ms check."""
    from compiler.validate import compiled_check

    schema = _schema()
    try:
        return compiled_check(schema, "auto") if schema is not None else None
    except Exception:  # noqa: BLE001 - a schema it cannot compile: jsonschema alone decides
        return None


# Every `{{ }}` renders as a JSON-quoted scalar, so two workflows that differ
# only inside quoted values have the same YAML structure, and every spec value
# lands where the schema accepts any string. Validating one workflow per shape
# is then as strong as validating each, and a repository of 1,000 models (2,000
# promotion workflows) costs a few shapes instead of ~25 s of schema checks.
# Quoted mapping keys (job ids) stay in the shape: the schema constrains them.
_QUOTED_VALUE = re.compile(r'"(?:[^"\\\n]|\\.)*"(?!:)')
_CLEAN_SHAPES: set[str] = set()


def _shape(text: str) -> str:
    return hashlib.sha256(_QUOTED_VALUE.sub('""', text).encode()).hexdigest()


def validate_actionlint_config(f: OutputFile, sink: Sink) -> None:
    """SS805 unless the file is actionlint's configuration: ``self-hosted-runner.labels``, strings."""
    try:
        doc = load(f.text)
    except yaml.YAMLError as exc:
        sink.report("SS805", f"{f.path}: {exc}", f.source)
        return
    labels = doc.get("self-hosted-runner", {}).get("labels") if isinstance(doc, dict) else None
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        sink.report("SS805", f"{f.path}: expected self-hosted-runner.labels, a list of strings", f.source)


def validate_workflow(f: OutputFile, sink: Sink) -> None:
    """SS805 when a workflow is not YAML; SS802 when it fails the workflow schema."""
    shape = _shape(f.text)
    if shape in _CLEAN_SHAPES:
        return
    before = len(sink.items)
    _validate(f, sink)
    if len(sink.items) == before:
        _CLEAN_SHAPES.add(shape)


def _validate(f: OutputFile, sink: Sink) -> None:
    try:
        doc = load(f.text)
    except yaml.YAMLError as exc:
        sink.report("SS805", f"{f.path}: {exc}", f.source)
        return
    if not isinstance(doc, dict) or not doc.get("jobs"):
        sink.report("SS802", f"{f.path}: a workflow needs a mapping with jobs", f.source)
        return
    if _schema() is None:
        return
    # YAML 1.1 reads the key `on` as True; the schema means the string.
    if True in doc:
        doc = {("on" if k is True else k): v for k, v in doc.items()}
    accepts = _accepts()
    try:
        if accepts is not None and accepts(doc):
            return
    except Exception:  # noqa: BLE001 - values JSON cannot hold: jsonschema decides
        pass
    validator = _schema_validator()
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))[:5]:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        sink.report("SS802", f"{f.path}: {where}: {error.message}", f.source)
