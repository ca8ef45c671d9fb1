"""Which paths under the output root shipspec may read, write or remove (issue 17).

The ledger (``.shipspec/ledger.json``) is committed, so a pull request can plant
entries in it. Every path taken from it — and every path a backend renders — must
be a plain relative POSIX path inside the root, of a kind shipspec writes, that
reaches no symlink leading out of the root. Anything else is reported (SS904 or
SS905) and never read, written or removed: ``compile`` would otherwise delete it
and ``check`` would print its content as a diff.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Container
from pathlib import Path, PurePosixPath

from compiler.diagnostics import Sink, Span
from compiler.targets import layout

# The ledger itself and what backends render (compiler/targets/layout.py).
LEDGER = ".shipspec/ledger.json"
# What a compile is about to write, while it writes (``emit_journal``).
JOURNAL = ".shipspec/journal.json"
PREFIXES = layout.OUTPUT_TREES
EXACT = layout.OUTPUT_FILES | {LEDGER}
# Longest path and longest component shipspec accepts (Linux NAME_MAX is 255).
MAX_PATH = 1024
MAX_NAME = 255
# One scan per path (a plan screens every rendered path and every ledger entry).
_CONTROL = re.compile("[\x00-\x1f\x7f\\\\]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def lexical_problem(path: str) -> str | None:
    """Why ``path`` (as written in the ledger) is not one shipspec could have written."""
    if not isinstance(path, str) or not path:
        return "is empty"
    if len(path) > MAX_PATH:
        return f"is longer than {MAX_PATH} characters"
    if _CONTROL.search(path):
        return "contains a control character or a backslash"
    if _SURROGATE.search(path):
        return "contains a lone surrogate"
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return "is absolute"
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "is not a normalised relative path (empty, '.' or '..' component)"
    if any(len(p.encode("utf-8", "surrogatepass")) > MAX_NAME for p in parts):
        return f"has a component longer than {MAX_NAME} bytes"
    if path not in EXACT and not path.startswith(PREFIXES):
        return f"is not under {' or '.join(PREFIXES)}, nor a file shipspec writes"
    return None


def under_any(path: str, dirs: Container[str]) -> bool:
    """Whether a directory on the way to ``path`` (a relative POSIX path) is one of ``dirs``."""
    at = path.find("/")
    while at > 0:
        if path[:at] in dirs:
            return True
        at = path.find("/", at + 1)
    return False


def symlink_problem(
    root: Path, path: str, safe_dirs: set[str] | None = None, absent_dirs: set[str] | None = None
) -> str | None:
    """Why writing or reading ``root/path`` would leave the root through a symlink
    (or find something that is not a regular file or directory on the way).
    ``safe_dirs`` caches directories already found to be plain (one plan, many files);
    ``absent_dirs`` those found not to exist, under which nothing is looked at again (a
    first compile at 1,000 models looked for ``deploy`` once for each of 33,555 files)."""
    if absent_dirs and under_any(path, absent_dirs):
        return None  # nothing there: it will be created inside the root
    current = os.fspath(root)
    parts = PurePosixPath(path).parts
    start = 0
    if safe_dirs is not None:
        for j in range(len(parts) - 1, 0, -1):
            if "/".join(parts[:j]) in safe_dirs:
                start = j
                current = os.path.join(current, *parts[:j])
                break
    for i, part in enumerate(parts[start:], start):
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            if absent_dirs is not None and i < len(parts) - 1:
                absent_dirs.add("/".join(parts[: i + 1]))
            return None  # nothing further exists: it will be created inside the root
        except OSError as exc:
            return f"cannot be inspected ({exc.strerror})"
        if stat.S_ISLNK(st.st_mode):
            base = os.path.realpath(root)
            target = os.path.realpath(current)
            if target != base and not target.startswith(base.rstrip(os.sep) + os.sep):
                return f"passes through the symlink {'/'.join(parts[: i + 1])}, which leads out of the output root"
            # A link inside the root still hides what is written where: refuse it too.
            return f"passes through the symlink {'/'.join(parts[: i + 1])}"
        last = i == len(parts) - 1
        if not last and not stat.S_ISDIR(st.st_mode):
            return f"{'/'.join(parts[: i + 1])} is not a directory"
        if not last and safe_dirs is not None:
            safe_dirs.add("/".join(parts[: i + 1]))
        if last and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            return "is not a regular file (a device, pipe or socket)"
    return None


def ensure_inside(root: Path, directory: Path) -> None:
    """Raise unless ``directory`` resolves inside ``root`` (checked again when writing:
    a directory swapped for a symlink after the plan is not written through)."""
    base = os.path.realpath(root)
    real = os.path.realpath(directory)
    if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
        raise OSError(errno.ELOOP, "leads out of the output root; nothing more is written", str(directory))


def screen_ledger(ledger: dict[str, str], root: Path, sink: Sink) -> dict[str, str]:
    """The ledger entries shipspec may act on; every other entry is reported (SS904)."""
    display = f"{_display(root)}/{LEDGER}"
    text: str | None = None
    kept: dict[str, str] = {}
    safe_dirs: set[str] = set()
    for path in sorted(ledger):
        sha = ledger[path]
        problem = lexical_problem(path) or symlink_problem(root, path, safe_dirs)
        if problem is None and not _is_sha256(sha):
            problem = "has no sha256 recorded"
        if problem is not None:
            if text is None:
                text = _ledger_text(root)
            sink.report(
                "SS904",
                f"ledger entry {_quote(path)} {problem}; it is not read, written or removed",
                _entry_span(display, text, path),
                hint="the ledger names only files shipspec wrote; remove the entry (or the whole ledger) and compile",
            )
            continue
        kept[path] = sha
    return kept


def screen_output(
    path: str,
    root: Path,
    sink: Sink,
    source: Span,
    safe_dirs: set[str] | None = None,
    absent_dirs: set[str] | None = None,
) -> bool:
    """True when a rendered file may be written at ``path`` under ``root``."""
    problem = lexical_problem(path)
    code = "SS905"
    if problem is None:
        problem = symlink_problem(root, path, safe_dirs, absent_dirs)
    if problem is None:
        return True
    sink.report(
        code,
        f"output {_quote(path)} {problem}; it is not written",
        source,
        hint="shipspec never follows a symlink or leaves the output root; replace the link with a directory",
    )
    return False


def _ledger_text(root: Path) -> str:
    try:
        return (Path(root) / LEDGER).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _entry_span(display: str, text: str, path: str) -> Span:
    """Where the entry's key is written in the ledger (line 1 if it cannot be found)."""
    import json

    for key in (json.dumps(path), json.dumps(path, ensure_ascii=False)):
        at = text.find(key + ":")
        if at >= 0:
            line = text.count("\n", 0, at) + 1
            column = at - (text.rfind("\n", 0, at) + 1) + 1
            return Span(display, line, column, line, column + len(key))
    return Span.point(display)


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _quote(path: str) -> str:
    shown = path if len(path) <= 120 else path[:117] + "..."
    return repr(shown) if not shown.isprintable() else f"'{shown}'"


def _display(root: Path) -> str:
    from compiler.parse.sources import display_path

    return display_path(Path(root))


# A ledger for 100,000 models is about 250 MB; anything larger is not one shipspec wrote.
MAX_LEDGER_BYTES = 512 * 1024 * 1024


def read_checked(root: Path, sink: Sink, read: Callable[[Path], dict[str, str]]) -> dict[str, str]:
    """``read(root)`` unless the ledger is reached through a symlink or is too large."""
    where = Span.point(f"{_display(root)}/{LEDGER}")
    problem = symlink_problem(root, LEDGER)
    if problem is None:
        try:
            st = os.stat(Path(root) / LEDGER)
        except OSError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            problem = "is not a regular file"
        elif st is not None and st.st_size > MAX_LEDGER_BYTES:
            problem = f"is larger than {MAX_LEDGER_BYTES} bytes"
    if problem is not None:
        sink.report(
            "SS905",
            f"the ledger {LEDGER} {problem}; it is not read",
            where,
            hint="remove it (and the link) and compile again",
        )
        return {}
    return read(root)
