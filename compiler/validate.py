"""Check every rendered document before anything is written.

Core Kubernetes objects are validated against the strict OpenAPI-derived
schemas of the spec's pinned Kubernetes version (shipped by the
``kubernetes-validate`` package); custom resources against the schemas in
``schemas/crds/``. Validators are built once per schema and reused: building
one costs milliseconds, using one microseconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from compiler.diagnostics import Sink
from compiler.output import FileValidator, OutputFile, StoredFile
from compiler.resources import schemas_dir

Validate = Callable[[dict[str, Any]], list[tuple[str, str]]]


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


def _checked(fast: Callable[[Any], bool] | None, slow: Callable[[], Validate]) -> Validate:
    """A document the compiled validator accepts is valid; only one it rejects
    (or cannot take) goes to the ``jsonschema`` validator, built on first need,
    whose messages the diagnostics quote. jsonschema-rs checks a Deployment in
    microseconds, ``jsonschema`` in about 1.5 ms."""
    built: list[Validate] = []

    def run(doc: dict[str, Any]) -> list[tuple[str, str]]:
        if fast is not None:
            try:
                if fast(doc):
                    return []
            except Exception:  # noqa: BLE001 - values JSON cannot hold (a YAML date, a non-string key)
                pass
        if not built:
            built.append(slow())
        return built[0](doc)

    return run


def compiled_check(schema: dict[str, Any], draft: str, registry: Any = None) -> Callable[[Any], bool] | None:
    """jsonschema-rs's ``is_valid`` for the schema under the draft ``jsonschema``
    would use (``draft`` names the validator class; "auto" reads ``$schema``,
    Draft 7 without one), or None where jsonschema-rs is not installed.
    Formats are not asserted, as ``jsonschema`` does not assert them by default."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    options: dict[str, Any] = {"validate_formats": False}
    if registry is not None:
        options["registry"] = registry
    if draft == "auto":
        draft = "Draft7Validator"
        if "$schema" in schema:
            return jsonschema_rs.validator_for(schema, **options).is_valid
    is_valid: Callable[[Any], bool] = getattr(jsonschema_rs, draft)(schema, **options).is_valid
    return is_valid


@cache
def _k8s_root(version: str) -> Path | None:
    # Only its data is used: found, not imported (importing it loads jsonschema and
    # more, half a second of a compile whose verdicts the build cache already holds).
    from importlib.util import find_spec

    spec = find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"
    root = base / f"v{version}.0-local-strict"
    return root if root.is_dir() else None


@cache
def _k8s_definitions(version: str) -> dict[str, Any]:
    root = _k8s_root(version)
    assert root is not None
    definitions: dict[str, Any] = json.loads((root / "_definitions.json").read_text())
    return definitions


def release_documents() -> None:
    """Let go of the parsed Kubernetes definitions documents that building a new kind's
    validator prunes (``_k8s_registry_for``). The validators built keep what they need, and a
    build that has validated its files builds no more: it held the document to its end, where
    a one-field edit at 1,000 models has its peak memory (issue 16). A later build in the same
    process (``compile --watch``) reads it again only for a kind it has not met."""
    _k8s_definitions.cache_clear()


@cache
def _k8s_registry(version: str) -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resource = Resource.from_contents(_k8s_definitions(version), default_specification=DRAFT7)
    # Crawled once here: an uncrawled registry re-crawls the large definitions
    # document on every $ref lookup (100 models: 119 s -> well under a second).
    return Registry().with_resource("/api/_definitions.json", resource).crawl()


# Every object schema of a version refers into one definitions document, which
# its ``$id`` places here.
_K8S_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"


@cache
def _k8s_fast_registry(version: str) -> Any:
    import jsonschema_rs

    return jsonschema_rs.Registry([(_K8S_DEFINITIONS_URI, _k8s_definitions(version))])


# A reference into the definitions document, from an object's schema or from inside it.
_DEFINITION_REF = re.compile(r"(?:/api/_definitions\.json)?#/\$defs/([^/~]+)")


def _k8s_registry_for(version: str, schema: dict[str, Any]) -> Any:
    """A jsonschema-rs registry of the definitions ``schema`` reaches, and no others: the
    whole document's is 10 MiB, and a Deployment reaches 114 of its 707 definitions (a
    compile that validates six kinds: 18 -> 13 MiB). Validation reads nothing else, so the
    verdicts are the same; a reference of another form gets the whole document's."""
    import jsonschema_rs

    document = _k8s_definitions(version)
    reached = reached_definitions(document, schema)
    if reached is None:
        return _k8s_fast_registry(version)
    pruned = {key: value for key, value in document.items() if key != "$defs"}
    pruned["$defs"] = reached
    return jsonschema_rs.Registry([(_K8S_DEFINITIONS_URI, pruned)])


def reached_definitions(document: dict[str, Any], schema: Any) -> dict[str, Any] | None:
    """The definitions of ``document`` that ``schema`` reaches through ``$ref``s, by name
    (None: a reference that is not to one of them)."""
    definitions = document.get("$defs")
    if not isinstance(definitions, dict):
        return None
    reached: dict[str, Any] = {}
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                match = _DEFINITION_REF.fullmatch(ref)
                if match is None or match.group(1) not in definitions:
                    return None
                name = match.group(1)
                if name not in reached:
                    reached[name] = definitions[name]
                    stack.append(definitions[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return dict(sorted(reached.items()))


_NAME = re.compile(r"[A-Za-z0-9.-]{1,100}(/[A-Za-z0-9.-]{1,60})?")


def _k8s_file(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    group = group.split(".")[0]
    parts = [kind.lower()] + ([group] if group else []) + [version]
    return "-".join(parts) + ".json"


@cache
def k8s_validator(k8s_version: str, api_version: str, kind: str) -> Validate | None:
    root = _k8s_root(k8s_version)
    if root is None or not _NAME.fullmatch(api_version) or not _NAME.fullmatch(kind):
        return None  # a name no schema file can have (and no path outside the schema directory)
    path = root / _k8s_file(api_version, kind)
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())

    def slow() -> Validate:
        import jsonschema

        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        return _wrap(cls(schema, registry=_k8s_registry(k8s_version)))

    fast = None
    if str(schema.get("$id", "")).startswith("https://kubernetes.io/api/"):
        try:
            fast = compiled_check(schema, "auto", _k8s_registry_for(k8s_version, schema))
        except ImportError:
            fast = None
    return _checked(fast, slow)


@cache
def _crd_index() -> dict[str, str]:
    index = schemas_dir() / "crds" / "index.json"
    return json.loads(index.read_text()) if index.is_file() else {}


@cache
def crd_validator(api_version: str, kind: str) -> Validate | None:
    name = _crd_index().get(f"{api_version}/{kind}")
    if name is None:
        return None
    schema = json.loads((schemas_dir() / "crds" / name).read_text())

    def slow() -> Validate:
        import jsonschema

        return _wrap(jsonschema.Draft202012Validator(schema))

    return _checked(compiled_check(schema, "Draft202012Validator"), slow)


def validator_for(doc: dict[str, Any], k8s_version: str) -> Validate | None:
    api_version, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    return crd_validator(api_version, kind) or k8s_validator(k8s_version, api_version, kind)


# Argo CD syncs with kubectl's client-side apply unless an Application says otherwise, and
# kubectl keeps the whole object it applied, as JSON, in this annotation; the API server
# refuses an object whose annotations come to more than 256 KiB (apimachinery's
# TotalAnnotationSizeLimitB: the bytes of every key and value). Such an object never syncs.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ANNOTATIONS_LIMIT = 256 * 1024
# Go's encoder writes <, > and & as \u003c, \u003e and \u0026: six bytes for one. A file
# shorter than the limit over six cannot hold an object that reaches it.
_GO_ESCAPE_GROWTH = 6
# What kustomize reads, not what it sends to the cluster.
_NOT_APPLIED = ("kustomize.config.k8s.io/",)


def applied_annotations_size(doc: dict[str, Any]) -> int:
    """The bytes of ``doc``'s annotations once kubectl's client-side apply has added the
    last-applied one: its own annotations, and the object as compact JSON (with them)."""
    meta = doc.get("metadata")
    own = meta.get("annotations") if isinstance(meta, dict) else None
    total = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in own.items()) if isinstance(own, dict) else 0
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)
    escaped = text.count("<") + text.count(">") + text.count("&")
    # json.Encoder ends the value with a newline.
    return total + len(LAST_APPLIED) + len(text.encode()) + (_GO_ESCAPE_GROWTH - 1) * escaped + 1


def _too_large(f: OutputFile, sink: Sink) -> None:
    """SS806 for each object of ``f`` that client-side apply cannot store."""
    size = f.size if isinstance(f, StoredFile) else len(f.text)
    if size * _GO_ESCAPE_GROWTH <= ANNOTATIONS_LIMIT:
        return
    for doc in f.documents:
        api_version = str(doc.get("apiVersion", ""))
        if "metadata" not in doc or not api_version or api_version.startswith(_NOT_APPLIED):
            continue
        n = applied_annotations_size(doc)
        if n > ANNOTATIONS_LIMIT:
            meta = doc["metadata"]
            name = f"{doc.get('kind', '?')} {meta.get('name', '?') if isinstance(meta, dict) else '?'}"
            sink.report(
                "SS806",
                f"{f.path}: {name} is too large to sync: client-side apply (Argo CD's default) would "
                f"keep {n} bytes in its annotations ({LAST_APPLIED}), over the API server's "
                f"limit of {ANNOTATIONS_LIMIT}",
                f.source,
                hint="split what this object holds (fewer models in one environment)",
            )


def validate_files(
    files: Iterable[OutputFile], k8s_version: str, sink: Sink, validators: Mapping[str, FileValidator]
) -> None:
    """Report every schema violation as SS8xx against the spec line of origin.

    ``validators`` are the backends' validators by file kind (for files that
    are not plain YAML documents, or embed objects their schemas leave open)."""
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
        check_file = validators.get(f.kind)
        if check_file is not None:
            check_file(f, sink, k8s_version)
        for doc in f.documents:
            meta = doc.get("metadata")
            # A metadata an override made something else than a map is the schema's to report.
            name = f"{doc.get('kind', '?')} {meta.get('name', '?') if isinstance(meta, dict) else '?'}"
            check = validator_for(doc, k8s_version)
            if check is None:
                sink.report("SS801", f"{f.path}: no schema for {doc.get('apiVersion')}/{doc.get('kind')}", f.source)
                continue
            for path, message in check(doc)[:5]:
                sink.report("SS802", f"{f.path}: {name}: {path}: {message}", f.source)
        if f.documents:
            _too_large(f, sink)
