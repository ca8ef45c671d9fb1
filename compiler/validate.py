"""Check every rendered document before anything is written.

Core Kubernetes objects are validated against the strict OpenAPI-derived
schemas of the spec's pinned Kubernetes version (shipped by the
``kubernetes-validate`` package); custom resources against the schemas in
``schemas/crds/``. Validators are built once per schema and reused: building
one costs milliseconds, using one microseconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from compiler.backends.base import FileValidator, OutputFile
from compiler.diagnostics import Sink
from compiler.resources import schemas_dir

Validate = Callable[[dict[str, Any]], list[tuple[str, str]]]

# File kinds other than YAML documents register a validator here
# (e.g. Triton's config.pbtxt).
FILE_VALIDATORS: dict[str, FileValidator] = {}


def _json_path(path: Iterable[Any]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _wrap(validator: Any) -> Validate:
    def run(doc: dict[str, Any]) -> list[tuple[str, str]]:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        return [(_json_path(e.absolute_path), e.message) for e in errors]

    return run


@cache
def _k8s_root(version: str) -> Path | None:
    try:
        import kubernetes_validate  # noqa: F401 - only to find its data
    except ImportError:
        return None
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    root = base / f"v{version}.0-local-strict"
    return root if root.is_dir() else None


@cache
def _k8s_registry(version: str) -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    root = _k8s_root(version)
    assert root is not None
    definitions = json.loads((root / "_definitions.json").read_text())
    resource = Resource.from_contents(definitions, default_specification=DRAFT7)
    # Crawled once here: an uncrawled registry re-crawls the large definitions
    # document on every $ref lookup (100 models: 119 s -> well under a second).
    return Registry().with_resource("/api/_definitions.json", resource).crawl()


def _k8s_file(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    group = group.split(".")[0]
    parts = [kind.lower()] + ([group] if group else []) + [version]
    return "-".join(parts) + ".json"


@cache
def k8s_validator(k8s_version: str, api_version: str, kind: str) -> Validate | None:
    import jsonschema

    root = _k8s_root(k8s_version)
    if root is None:
        return None
    path = root / _k8s_file(api_version, kind)
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return _wrap(cls(schema, registry=_k8s_registry(k8s_version)))


@cache
def _crd_index() -> dict[str, str]:
    index = schemas_dir() / "crds" / "index.json"
    return json.loads(index.read_text()) if index.is_file() else {}


@cache
def crd_validator(api_version: str, kind: str) -> Validate | None:
    import jsonschema

    name = _crd_index().get(f"{api_version}/{kind}")
    if name is None:
        return None
    schema = json.loads((schemas_dir() / "crds" / name).read_text())
    return _wrap(jsonschema.Draft202012Validator(schema))


def validator_for(doc: dict[str, Any], k8s_version: str) -> Validate | None:
    api_version, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    return crd_validator(api_version, kind) or k8s_validator(k8s_version, api_version, kind)


def validate_files(files: Iterable[OutputFile], k8s_version: str, sink: Sink) -> None:
    """Report every schema violation as SS8xx against the spec line of origin."""
    if _k8s_root(k8s_version) is None:
        from compiler.diagnostics import Span

        sink.report(
            "SS803",
            f"no Kubernetes {k8s_version} schemas available; install shipspec[render] "
            "or pin a version kubernetes-validate ships",
            Span.point("<project>"),
        )
        return
    for f in files:
        if f.kind in FILE_VALIDATORS:
            FILE_VALIDATORS[f.kind](f, sink)
        for doc in f.documents:
            name = f"{doc.get('kind', '?')} {doc.get('metadata', {}).get('name', '?')}"
            check = validator_for(doc, k8s_version)
            if check is None:
                sink.report("SS801", f"{f.path}: no schema for {doc.get('apiVersion')}/{doc.get('kind')}", f.source)
                continue
            for path, message in check(doc)[:5]:
                sink.report("SS802", f"{f.path}: {name}: {path}: {message}", f.source)
