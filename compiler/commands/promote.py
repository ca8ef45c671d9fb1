"""``shipspec promote MODEL --to ENV [--version V]``: edit the spec, then recompile.

Promotion is a source edit, so it goes through review like any other change.
Which version an environment runs is pinned in that environment's
``override MODEL { version "V" }``; without a pin it runs the model's own
``version``, which is where a new version enters (the first environment, no
gate). Promoting sets (or adds) the pin in the target environment, to the
version that runs in the gate's source environment. Only those characters
change: every other byte of the file, comments and layout included, stays as
written, because the edit is made at the source spans the IR carries.

It refuses, changing nothing, when no gate leads to the target for that model,
or when the requested version does not run where the gate starts; and it
undoes its edit when the promoted spec does not compile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler import byte_splice
from compiler.diagnostics import Span, did_you_mean
from compiler.errors import Refused
from compiler.fsutil import write_atomic
from compiler.ir import Model, Spec
from compiler.resolve import Resolved, resolve

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


class PromoteError(Refused):
    """Why a promotion was refused; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two 1-based (line, column) points."""

    file: str
    start: tuple[int, int]
    end: tuple[int, int]
    text: str


@dataclass(slots=True)
class Plan:
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _offset(text: str, line: int, column: int) -> int:
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    return starts[line - 1] + column - 1


def _literal_in(text: str, span: Span) -> tuple[tuple[int, int], tuple[int, int], str] | None:
    """The first string literal inside ``span``: its start, end and text."""
    lo = _offset(text, span.line, span.column)
    hi = _offset(text, span.end_line, span.end_column)
    m = _STRING.search(text, lo, hi)
    if m is None:
        return None

    def point(i: int) -> tuple[int, int]:
        line = text.count("\n", 0, i) + 1
        return line, i - (text.rfind("\n", 0, i) + 1) + 1

    return point(m.start()), point(m.end()), m.group(0)


def plan(spec: Spec, model_name: str, env_name: str, version: str | None, texts: dict[str, str]) -> Plan:
    """The edits that promote ``model_name`` into ``env_name``; raises PromoteError to refuse."""
    r = resolve(spec)
    model: Model | None = r.models.get(model_name)
    if model is None:
        hint = did_you_mean(model_name, (m.name for m in spec.models))
        raise PromoteError(f"no model named {model_name}" + (f"; {hint}" if hint else ""))
    env = r.environments.get(env_name)
    if env is None:
        hint = did_you_mean(env_name, (e.name for e in spec.environments))
        raise PromoteError(f"no environment named {env_name}" + (f"; {hint}" if hint else ""))
    gates = [g for g in spec.gates if g.model.name == model_name and g.target.name == env_name]
    if not gates:
        known = sorted(f"{g.source.name} -> {g.target.name}" for g in spec.gates if g.model.name == model_name)
        detail = f"its gates: {', '.join(known)}" if known else "it has no gates"
        raise PromoteError(
            f"no gate leads to {env_name} for {model_name} ({detail}); a new version enters through "
            f"the model's own 'version', and reaches {env_name} only through a gate"
        )
    running = {g.source.name: r.version_in(model_name, g.source.name) for g in gates}
    if version is None:
        if len(set(running.values())) != 1:
            raise PromoteError(
                f"gates from {', '.join(sorted(running))} lead to {env_name}; say which version: --version V"
            )
        version = next(iter(running.values()))
    if version is None:
        raise PromoteError(f"{model_name} declares no version")
    if not _VERSION.fullmatch(version):
        raise PromoteError(f"version {version!r}: use letters, digits and . _ + - only")
    if version not in running.values():
        where = ", ".join(f"{src} runs {v}" for src, v in sorted(running.items()))
        raise PromoteError(
            f"{model_name} {version} has not reached the gate's source ({where}); promote it there first"
        )

    out = Plan()
    source = next(src for src, v in sorted(running.items()) if v == version)
    # An ensemble's gate covers its members: they move with it, to what runs beside it in the source.
    for name, v in [(model_name, version), *_members_in(r, model, env_name, source)]:
        edit = _pin(r, env_name, name, v, texts, out)
        if edit is not None:
            out.edits.append(edit)
    return out


def _members_in(r: Resolved, model: Model, env_name: str, source: str) -> list[tuple[str, str | None]]:
    """The ensemble's member models served in ``env_name``, each with the version ``source`` runs."""
    members = []
    for name in sorted({step.model.name for step in model.steps}):
        member = r.models.get(name)
        if member is not None and any(ref.name == env_name for ref in member.serve_in):
            members.append((name, r.version_in(name, source)))
    return members


def _pin(
    r: Resolved, env_name: str, model_name: str, version: str | None, texts: dict[str, str], out: Plan
) -> Edit | None:
    """The edit that makes ``env_name`` run ``version`` of ``model_name`` (None when it already does)."""
    env = r.environments.get(env_name)
    assert env is not None
    current = r.version_in(model_name, env_name)
    if version is None or current == version:
        return None
    out.notes.append(f"{env_name} runs {model_name} {version} (was {current})")
    literal = f'"{version}"'
    override = next((o for o in env.overrides if o.model.name == model_name), None)
    if override is not None and "version" in override.spans:
        vspan = override.spans["version"]
        found = _literal_in(texts[vspan.file], vspan)
        if found is None:
            raise PromoteError(f"cannot find the version in {env_name}'s override of {model_name}")
        return Edit(vspan.file, found[0], found[1], literal)
    if override is not None:
        return _insert_in_block(texts[override.span.file], override.span, f"version {literal}")
    return _insert_in_block(texts[env.span.file], env.span, f"override {model_name} {{ version {literal} }}")


def _insert_in_block(text: str, span: Span, statement: str) -> Edit:
    """Add ``statement`` as the first statement of the ``{ … }`` block at ``span``."""
    lo = _offset(text, span.line, span.column)
    brace = text.index("{", lo)
    line_start = text.rfind("\n", 0, lo) + 1
    indent = " " * (lo - line_start)
    point = (span.line, brace - line_start + 2)
    if span.end_line == span.line:  # one-line block: `override m { replicas 2..4 }`
        return Edit(span.file, point, point, f" {statement} ")
    # On a new line after the opening brace, indented one level inside the block.
    eol = text.index("\n", brace)
    after = (text.count("\n", 0, eol) + 1, eol - (text.rfind("\n", 0, eol) + 1) + 1)
    return Edit(span.file, after, after, f"\n{indent}  {statement}")


def apply_edits(texts: dict[str, str], edits: Sequence[Edit]) -> dict[str, str]:
    """New texts of the files the edits touch; edits apply from the end backwards."""
    changed: dict[str, str] = {}
    for file in sorted({e.file for e in edits}):
        text = texts[file]
        for e in sorted((e for e in edits if e.file == file), key=lambda e: (e.start, e.end), reverse=True):
            lo, hi = _offset(text, *e.start), _offset(text, *e.end)
            text = text[:lo] + e.text + text[hi:]
        changed[file] = text
    return changed


def write(changed: Mapping[str, str | bytes]) -> dict[str, bytes]:
    """Write the new texts (bytes as they are); returns the old bytes so a failed
    recompile can undo. Bytes outside the edited span are kept (CRLF, BOM: issue 17)."""
    old = {f: Path(f).read_bytes() for f in changed}
    for f, text in changed.items():
        write_atomic(Path(f), text if isinstance(text, bytes) else byte_splice.splice(old[f], text))
    return old


def run(
    inputs: Sequence[Path], model: str, env: str, version: str | None, out_root: Path, templates: Path | None = None
) -> list[str]:
    """Promote, recompile into ``out_root``; returns what was done. Raises PromoteError."""
    from compiler import emit, emit_journal
    from compiler.diagnostics import Severity, Sink
    from compiler.pipeline import build, validate

    checked = validate(inputs)
    if checked.has_errors:
        raise PromoteError("the spec has errors; fix them first (shipspec validate)")
    p = plan(checked.spec, model, env, version, checked.texts)
    if not p.edits:
        return [f"{env} already runs {model} {checked.resolved.version_in(model, env)}; nothing to do"]
    old = write(apply_edits(checked.texts, p.edits))
    try:
        result = build(inputs, templates)
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        what = "the promoted spec does not compile"
        files = None
        with emit_journal.locked(out_root):  # issue 17: one writer per tree
            if not errors:
                sink = Sink()
                files = emit.plan(result.files, out_root, sink)
                errors = [d for d in sink.items if d.severity is Severity.ERROR]
                what = f"the recompiled output cannot be written under {out_root}"
            if errors or files is None:
                first = errors[0]
                raise PromoteError(
                    f"{what} ({len(errors)} errors; first: {first.span.file}:"
                    f"{first.span.line}:{first.span.column}: {first.code} {first.message}); the spec is unchanged"
                )
            emit.apply(files)
    except BaseException:
        write(old)
        raise
    done = [f"promoted {model} to {env}: " + "; ".join(p.notes)]
    done.append(f"edited {', '.join(sorted({e.file for e in p.edits}))}")
    done.append(f"recompiled: {len(files.write)} written, {len(files.delete)} removed under {out_root}")
    return done
