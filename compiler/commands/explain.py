"""``shipspec explain CODE``: what a diagnostic code means, with examples from the corpus.

The failing example is a corpus file (``tests/corpus``, shipped in the package) that
provokes the code, shown around the place it is reported. The passing example is the
same block (same header line) from a corpus file that does not provoke the code: the
corpus files are variations of one small spec, so the two differ only in what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import CODES
from compiler.errors import UsageError
from compiler.resources import corpus_dir

DOCS = "docs/language.md"
_EXPECT = re.compile(r"^# expect: (SS\d{3}) (\d+):(\d+)", re.M)
_ABOUT = re.compile(r"^# corpus: (.+)$", re.M)


def anchor(code: str) -> str:
    """The docs anchor of a code: ``docs/language.md#ss101`` (an id on the code's table row)."""
    return f"{DOCS}#{code.lower()}"


@dataclass(frozen=True, slots=True)
class Example:
    file: str
    about: str
    first_line: int  # of the excerpt, 1-based
    lines: tuple[str, ...]
    mark: int | None = None  # line (1-based, in the file) the diagnostic points at
    column: int | None = None


def _corpus() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(corpus_dir().glob("*.ship")):
        try:
            out.append((path, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue  # the corpus' unreadable files (SS002) have no text to show
    return out


def _block(lines: list[str], index: int) -> tuple[int, int]:
    """(start, end) 0-based inclusive of the top-level block around ``lines[index]``."""
    start = index
    while start > 0 and not (lines[start] and not lines[start][0].isspace() and lines[start].rstrip().endswith("{")):
        start -= 1
    end = start
    while end + 1 < len(lines) and not lines[end].startswith("}"):
        end += 1
    return start, max(end, index)


def examples(code: str) -> tuple[Example | None, Example | None]:
    corpus = _corpus()
    failing = None
    header = None
    for path, text in corpus:
        found = [(int(line), int(col)) for c, line, col in _EXPECT.findall(text) if c == code]
        if not found:
            continue
        line, col = found[0]
        lines = text.split("\n")
        start, end = _block(lines, min(line, len(lines)) - 1)
        if lines[start].startswith("#"):  # a file-level problem: show the top of the file
            start, end = 0, min(len(lines) - 1, line + 2)
        about = m.group(1) if (m := _ABOUT.search(text)) else ""
        failing = Example(path.name, about, start + 1, tuple(lines[start : end + 1]), line, col)
        header = lines[start] if not lines[start].startswith("#") else None
        break
    if failing is None or header is None:
        return failing, None
    for path, text in corpus:
        codes = {c for c, _, _ in _EXPECT.findall(text)}
        if code in codes or any(c < "SS100" for c in codes):
            continue
        lines = text.split("\n")
        if header in lines:
            start, end = _block(lines, lines.index(header))
            block = tuple(lines[start : end + 1])
            if block != failing.lines:
                about = m.group(1) if (m := _ABOUT.search(text)) else ""
                return failing, Example(path.name, about, start + 1, block)
    return failing, None


def _show(e: Example) -> list[str]:
    width = len(str(e.first_line + len(e.lines)))
    out = [f"  from {e.file}" + (f" ({e.about})" if e.about else "")]
    for i, line in enumerate(e.lines):
        n = e.first_line + i
        out.append(f"  {n:>{width}} | {line}")
        if n == e.mark and e.column is not None:
            out.append(f"  {'':>{width}} | {' ' * (e.column - 1)}^")
    return out


def explain(code: str) -> str:
    code = code.strip().upper()
    if code not in CODES:
        near = [c for c in CODES if c[:4] == code[:4]]
        raise UsageError(
            f"{code!r} is not a shipspec diagnostic code"
            + (f"; near: {', '.join(sorted(near))}" if near else "")
            + " (shipspec explain --list shows all)"
        )
    severity, title = CODES[code]
    out = [f"{code} ({severity.value}): {title}", f"docs: {anchor(code)}", ""]
    failing, passing = examples(code)
    if failing is None:
        out.append("No example in the corpus: this code comes from a situation one spec file cannot show")
        out.append("(a missing file, rendered output, the files on disk).")
    else:
        out.append("Reported here:")
        out += _show(failing)
        out.append("")
        if passing is not None:
            out.append("Passes:")
            out += _show(passing)
        else:
            out.append("(no passing variant of this block in the corpus)")
    if severity.value != "error":
        out += [
            "",
            f"To accept it: `# shipspec: allow({code}) -- reason` on the line or block, "
            f'`--allow {code}`, or allow = ["{code}"] in shipspec.toml.',
        ]
    return "\n".join(out) + "\n"


def listing() -> str:
    return "".join(f"{code}  {sev.value:<7}  {title}\n" for code, (sev, title) in sorted(CODES.items()))
