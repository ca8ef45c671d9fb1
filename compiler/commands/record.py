"""``shipspec record MODEL --version V --artifact URI``: a retrained model enters the spec.

A retraining run ends with a new model version; the spec is where it enters
(the model's own ``version``, which the first, ungated environments run),
through a pull request like every change. This edits only the characters of
the model's ``version`` and ``artifact`` strings, as ``promote`` edits pins,
recompiles, and undoes the edit when the spec no longer compiles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from compiler.commands.promote import _VERSION, Edit, PromoteError, _literal_in, apply_edits, write


def run(inputs: Sequence[Path], model: str, version: str, artifact: str, out_root: Path) -> list[str]:
    from compiler import emit
    from compiler.diagnostics import Severity, Sink
    from compiler.pipeline import build, validate

    if not _VERSION.fullmatch(version):
        raise PromoteError(f"version {version!r} is not a version string")
    if not artifact or any(c in artifact for c in '"\\\n'):
        raise PromoteError(f"artifact {artifact!r} cannot be written as a spec string")
    checked = validate(inputs)
    if checked.has_errors:
        raise PromoteError("the spec has errors; fix them first (shipspec validate)")
    m = checked.resolved.models.get(model)
    if m is None:
        raise PromoteError(f"no model {model}")
    edits = []
    for key, value in (("version", version), ("artifact", artifact)):
        span = m.spans.get(key)
        found = _literal_in(checked.texts[span.file], span) if span is not None else None
        if span is None or found is None:
            raise PromoteError(f"model {model} declares no {key} to replace")
        start, end, _ = found
        edits.append(Edit(span.file, start, end, json.dumps(value)))
    if (m.version, m.artifact) == (version, artifact):
        return [f"{model} is already {version} from {artifact}; nothing to do"]
    old = write(apply_edits(checked.texts, edits))
    try:
        result = build(inputs)
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        files = None
        if not errors:
            sink = Sink()
            files = emit.plan(result.files, out_root, sink)
            errors = [d for d in sink.items if d.severity is Severity.ERROR]
        if errors or files is None:
            first = errors[0]
            raise PromoteError(f"the spec with {model} {version} does not compile (first: {first.span.file}:"
                               f"{first.span.line}:{first.span.column}: {first.code} {first.message}); "
                               "the spec is unchanged")  # fmt: skip
        emit.apply(files)
    except BaseException:
        write(old)
        raise
    return [f"recorded {model} {version} ({artifact}) in {m.spans['version'].file}",
            f"recompiled: {len(files.write)} written, {len(files.delete)} removed under {out_root}"]  # fmt: skip
