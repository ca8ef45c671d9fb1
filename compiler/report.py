"""Diagnostic reporters: rustc-style text, JSON and GitHub workflow commands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TextIO

from compiler.diagnostics import Diagnostic, Severity

_COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.NOTE: "\x1b[1;36m"}
_BOLD, _BLUE, _RESET = "\x1b[1m", "\x1b[1;34m", "\x1b[0m"


def _source_line(sources: Mapping[str, str], diag: Diagnostic) -> str | None:
    text = sources.get(diag.span.file)
    if text is None:
        return None
    lines = text.split("\n")
    if not 1 <= diag.span.line <= len(lines):
        return None
    return lines[diag.span.line - 1]


def text(diags: Sequence[Diagnostic], sources: Mapping[str, str], out: TextIO, colour: bool) -> None:
    def c(code: str, s: str) -> str:
        return f"{code}{s}{_RESET}" if colour else s

    for d in diags:
        sev = c(_COLOURS[d.severity], f"{d.severity.value}[{d.code}]")
        out.write(f"{d.span.file}:{d.span.line}:{d.span.column}: {sev}: {c(_BOLD, d.message)}\n")
        line = _source_line(sources, d)
        if line is not None:
            gutter = str(d.span.line)
            pad = " " * len(gutter)
            shown = line.replace("\t", " ")
            start = max(d.span.column - 1, 0)
            if d.span.end_line == d.span.line and d.span.end_column > d.span.column:
                width = d.span.end_column - d.span.column
            else:
                width = max(len(shown.rstrip()) - start, 1)
            out.write(f"{c(_BLUE, pad + ' |')}\n")
            out.write(f"{c(_BLUE, gutter + ' |')} {shown}\n")
            out.write(f"{c(_BLUE, pad + ' |')} {' ' * start}{c(_COLOURS[d.severity], '^' * max(width, 1))}\n")
        if d.hint:
            out.write(f"{c(_BLUE, ' ' * len(str(d.span.line)) + ' =')} hint: {d.hint}\n")
    if diags:
        errors = sum(d.severity is Severity.ERROR for d in diags)
        warnings = sum(d.severity is Severity.WARNING for d in diags)
        out.write(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}\n")


DOCS = "docs/language.md"


def anchor(code: str) -> str:
    """Where a code is documented: its row of the code table in docs/language.md (``#ss101``)."""
    return f"{DOCS}#{code.lower()}"


def as_json(diags: Sequence[Diagnostic], out: TextIO) -> None:
    """A JSON array of each diagnostic's ``to_dict`` with its ``docs`` anchor, laid out as
    ``json.dump(..., indent=2, ensure_ascii=False)`` lays it out. Written here, not by
    ``json.dump``: an indent sends the encoder down its pure-Python path, 0.08 s for the 7,000
    warnings of a 1,000-model compile (issue 16); this writes the same bytes in a fifth of that,
    a few hundred at a time (made whole, with their join and the brackets, they were three
    copies of 4 MB at the end of a cold compile)."""
    import json

    if not all(map(_plain, diags)):  # a field of a type the layout below does not write: json's own
        json.dump([{**d.to_dict(), "docs": anchor(d.code)} for d in diags], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    if not diags:
        out.write("[]\n")
        return
    out.write("[\n")
    for start in range(0, len(diags), _BATCH):
        if start:
            out.write(",\n")
        out.write(",\n".join(map(_json_object, diags[start : start + _BATCH])))
    out.write("\n]\n")


_BATCH = 256


def _plain(d: Diagnostic) -> bool:
    """Whether ``_json_object`` writes ``d`` (its fields are str, int and, for the hint, None)."""
    s = d.span
    texts = (d.code, d.severity.value, s.file, d.message)
    numbers = (s.line, s.column, s.end_line, s.end_column)
    return (
        all(type(t) is str for t in texts)
        and all(type(n) is int for n in numbers)
        and (d.hint is None or type(d.hint) is str)
    )


def _json_object(d: Diagnostic) -> str:
    """``d`` as an element of ``as_json``'s array."""
    from json.encoder import encode_basestring as q  # the C encoder's escaping (ensure_ascii=False)

    s = d.span
    hint = "null" if d.hint is None else q(d.hint)
    return (
        f'  {{\n    "code": {q(d.code)},\n    "severity": {q(d.severity.value)},\n    "file": {q(s.file)},\n'
        f'    "line": {s.line},\n    "column": {s.column},\n    "end": {{\n      "line": {s.end_line},\n'
        f'      "column": {s.end_column}\n    }},\n    "message": {q(d.message)},\n    "hint": {hint},\n'
        f'    "docs": {q(anchor(d.code))}\n  }}'
    )


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def sarif(diags: Sequence[Diagnostic], out: TextIO, version: str, information_uri: str) -> None:
    """SARIF 2.1.0 (what GitHub code scanning uploads): one run, a rule per code that occurs,
    a result per diagnostic with its region; paths relative to the repository root."""
    from compiler.diagnostics import CODES

    codes = sorted({d.code for d in diags})
    index = {code: i for i, code in enumerate(codes)}
    rules = [
        {
            "id": code,
            "name": code,
            "shortDescription": {"text": CODES[code][1]},
            "helpUri": f"{information_uri}/blob/v{version}/{anchor(code)}",
            "defaultConfiguration": {"level": _SARIF_LEVEL[CODES[code][0]]},
        }
        for code in codes
    ]
    results = []
    for d in diags:
        region: dict[str, int] = {"startLine": max(d.span.line, 1), "startColumn": max(d.span.column, 1)}
        if d.span.end_line >= d.span.line:
            region["endLine"] = d.span.end_line
            if d.span.end_column > 0 and (d.span.end_line > d.span.line or d.span.end_column > d.span.column):
                region["endColumn"] = d.span.end_column
        results.append(
            {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": _SARIF_LEVEL[d.severity],
                "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": d.span.file}, "region": region}}],
            }
        )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "shipspec",
                        "version": version,
                        "informationUri": information_uri,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    import json

    json.dump(log, out, indent=2, ensure_ascii=False)
    out.write("\n")


def stale_annotations(paths: Sequence[str], out: TextIO) -> None:
    """One ``::error`` workflow command per stale rendered file: the PR shows which files are out of date."""
    for path in paths:
        out.write(
            f"::error file={_escape_property(path)},title=stale::{_escape_data(path)} is not what the spec "
            "renders; run: shipspec compile, and commit the result\n"
        )


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(diags: Sequence[Diagnostic], out: TextIO) -> None:
    """GitHub workflow commands: annotations on the PR's changed lines."""
    for d in diags:
        level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}[d.severity]
        props = [
            f"file={_escape_property(d.span.file)}",
            f"line={d.span.line}",
            f"col={d.span.column}",
        ]
        if d.span.end_line >= d.span.line:
            props.append(f"endLine={d.span.end_line}")
        if d.span.end_line == d.span.line and d.span.end_column > d.span.column:
            props.append(f"endColumn={d.span.end_column}")
        props.append(f"title={_escape_property(d.code)}")
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.write(f"::{level} {','.join(props)}::{_escape_data(message)}\n")


# ---- the diagnostic code table of docs/language.md ------------------------------------------

TABLE_BEGIN = "<!-- codes: generated from compiler/diagnostics.py CODES by `python -m compiler.report` -->"
TABLE_END = "<!-- end of codes -->"
_PHASES = {
    "0": "reading and syntax",
    "1": "names",
    "2": "types and units",
    "3": "ranges",
    "4": "the promotion graph",
    "5": "tier policy",
    "6": "consistency",
    "7": "target limits",
    "8": "validation of rendered output",
    "9": "writing output",
}


def code_table() -> str:
    """Every diagnostic code as a Markdown table, grouped by phase, in code order."""
    from compiler.diagnostics import CODES

    rows = [TABLE_BEGIN]
    phase = None
    for code in sorted(CODES):
        if code[2] != phase:
            phase = code[2]
            rows += [
                "",
                f"**SS{phase}xx: {_PHASES[phase]}**",
                "",
                "| code | severity | meaning |",
                "| --- | --- | --- |",
            ]
        severity, title = CODES[code]
        escaped = title.replace("|", "\\|")
        rows.append(f'| <a id="{code.lower()}"></a>`{code}` | {severity.value} | {escaped} |')
    rows += ["", TABLE_END]
    return "\n".join(rows) + "\n"


def with_code_table(doc: str) -> str:
    """The document with the text between the table markers replaced by the current table."""
    start, end = doc.index(TABLE_BEGIN), doc.index(TABLE_END) + len(TABLE_END)
    return doc[:start] + code_table().rstrip("\n") + doc[end:]


if __name__ == "__main__":  # python -m compiler.report [DOC]: refresh the code table in place
    import sys
    from pathlib import Path

    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/language.md")
    path.write_text(with_code_table(path.read_text()))
    print(f"code table refreshed in {path}")
