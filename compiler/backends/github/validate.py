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
from compiler.output import StoredFile, file_bytes
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


# GitHub Actions limits (its "Actions limits" reference): a matrix makes at most 256 jobs in a
# run, and a workflow file of more than 500 KB starts no runs at all. The testing workflow is
# split to stay within them (backend._testing); any other workflow past one is SS807.
MATRIX_JOBS = 256
WORKFLOW_BYTES = 500_000


def written_size(f: OutputFile) -> int:
    """The bytes of ``f`` as written (header included), without reading a spooled text back."""
    return f.size if isinstance(f, StoredFile) else len(file_bytes(f))


def validate_workflow(f: OutputFile, sink: Sink) -> None:
    """SS805 when a workflow is not YAML; SS802 when it fails the workflow schema; SS807 when
    it passes a GitHub Actions limit (a file over ``WORKFLOW_BYTES`` starts no runs, a
    matrix of more than ``MATRIX_JOBS`` jobs fails)."""
    size = written_size(f)
    if size > WORKFLOW_BYTES:
        sink.report(
            "SS807",
            f"{f.path}: {size} bytes; GitHub starts no runs of a workflow file over {WORKFLOW_BYTES}",
            f.source,
        )
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
    jobs = doc["jobs"]
    for job_id, job in jobs.items() if isinstance(jobs, dict) else ():
        made = matrix_jobs(job.get("strategy", {}).get("matrix") if isinstance(job, dict) else None)
        if made > MATRIX_JOBS:
            sink.report(
                "SS807", f"{f.path}: job {job_id}: its matrix makes {made} jobs, over GitHub's {MATRIX_JOBS}", f.source
            )
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


def matrix_jobs(matrix: Any) -> int:
    """How many jobs a job's ``strategy.matrix`` makes: the product of its vectors less the
    combinations ``exclude`` names, and each ``include`` entry that is a job of its own (all
    of them without vectors; with vectors, an entry is counted as extending one: an
    estimate that never counts more jobs than GitHub makes). 0 for an expression or none."""
    if not isinstance(matrix, dict):
        return 0
    vectors = [v for k, v in matrix.items() if k not in ("include", "exclude")]
    include = matrix.get("include")
    added = len(include) if isinstance(include, list) else 0
    if not vectors:
        return added
    made = 1
    for v in vectors:
        if not isinstance(v, list):
            return 0  # an expression: known only when the run starts
        made *= len(v)
    exclude = matrix.get("exclude")
    return max(0, made - (len(exclude) if isinstance(exclude, list) else 0))
