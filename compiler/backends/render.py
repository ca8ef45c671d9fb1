"""The single Jinja environment every backend renders through.

Every ``{{ expression }}`` passes through ``yaml_scalar``: strings come out as
double-quoted YAML (JSON escapes are valid YAML), numbers and booleans as
themselves, lists and maps as flow collections. A value in a spec therefore
can never inject YAML structure. Undefined names are errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

from compiler.resources import templates_dir
from compiler.targets.kubernetes import k8s_name


class Raw(str):
    """Text a backend already made YAML-safe (for example a nested document)."""


# What json.dumps(value, ensure_ascii=False[, separators=...]) returns, without
# building an encoder per call (a third of the cost of every ``{{ }}``).
_quote = json.JSONEncoder(ensure_ascii=False).encode
_flow = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_sorted_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def yaml_scalar(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, jinja2.Undefined):  # finalize sees StrictUndefined before str() would raise
        value._fail_with_undefined_error()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, Mapping | list | tuple):
        return _flow(value)
    raise TypeError(f"cannot render a {type(value).__name__} into YAML")


def _seconds(value: float) -> int:
    return int(round(value))


def _indent_yaml(value: Any, width: int) -> Raw:
    from compiler.serialize import to_yaml

    text = to_yaml(value).rstrip("\n")
    pad = " " * width
    return Raw(("\n" + pad).join(text.split("\n")))


FILTERS: dict[str, Callable[..., Any]] = {
    "k8s_name": k8s_name,
    "seconds": _seconds,
    "yaml": _indent_yaml,
    "json": lambda v: Raw(_sorted_json(v)),
}


@dataclass(frozen=True)
class Templates:
    """Templates from ``templates/``, each replaceable by a file of the same
    relative path in a user's override directory."""

    env: jinja2.Environment
    # What a backend derives from these templates alone and keeps while they live (monitoring's
    # parsed skeletons). Kept here, not in a module's dict by ``id(templates)``: a later build's
    # templates may take a dead one's id and be handed its skeletons (documents parsed from
    # other templates' output, validated in place of the text written).
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, override: Path | None = None, store: Any = None) -> Templates:
        """``store`` (``compiler.cache``): where compiled templates are kept between runs
        (``_Compiled``); without one each template is compiled on first use. Without an
        override the templates are shipspec's own, which do not change while it runs: a build
        over the store the last one used (a watching process's steps) takes its templates as
        they were loaded, where each step loaded, checksummed and unmarshalled again every
        template it rendered. An override directory is loaded again each time (it may have
        been edited since)."""
        if override is None and store is not None and _SHIPPED and _SHIPPED[0][0] is store:
            return _SHIPPED[0][1]
        made = cls._made(override, store)
        if override is None and store is not None:
            _SHIPPED[:] = [(store, made)]
        return made

    @classmethod
    def _made(cls, override: Path | None, store: Any) -> Templates:
        search = [str(override)] if override is not None else []
        search.append(str(templates_dir()))
        # A --templates directory is someone else's code (a pull request can change it):
        # it renders in Jinja's sandbox, where a template cannot reach Python internals
        # (issue 17). The shipped templates render byte-identically either way
        # (tests/unit/test_hardening_templates.py); without an override the plain
        # environment is kept, as it is faster.
        kind = jinja2.sandbox.SandboxedEnvironment if override is not None else jinja2.Environment
        env = kind(
            loader=jinja2.FileSystemLoader(search),
            undefined=jinja2.StrictUndefined,
            finalize=yaml_scalar,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=-1,
            bytecode_cache=_Compiled(store) if store is not None else None,
        )
        env.filters.update(FILTERS)
        return cls(env)

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    def shipped(self, name: str) -> bool:
        """Whether template ``name`` is shipspec's own, not a file of the override directory."""
        key = ("shipped", name)
        found = self.derived.get(key)
        if found is None:
            filename = os.path.normpath(self.env.get_template(name).filename or "")
            found = self.derived[key] = filename == os.path.normpath(os.path.join(templates_dir(), name))
        return bool(found)


# The store and templates of the last load without an override (``Templates.load``). It holds
# that store (its compiled templates are kept there) until a load over another one.
_SHIPPED: list[tuple[Any, Templates]] = []


class _Compiled(jinja2.BytecodeCache):
    """Compiled templates kept in shipspec's build cache: compiling the 26 shipped
    templates was 0.12 s of every compile (issue 16). Jinja's own file cache would load
    marshalled code from any file found there; the build cache loads only entries it
    signed itself (``compiler.cache``), and jinja checks each entry against the
    template's source checksum."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        found = self.store.get("jinja", self._key(bucket))
        if isinstance(found, bytes):
            bucket.bytecode_from_string(found)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store.put("jinja", self._key(bucket), bucket.bytecode_to_string())

    @staticmethod
    def _key(bucket: jinja2.bccache.Bucket) -> str:
        from compiler.cache import digest

        # The sandbox compiles the same source to other code than the plain environment may.
        return digest(type(bucket.environment).__name__, bucket.key)
