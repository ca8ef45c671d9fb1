"""Every golden case renders to exactly its expected tree, byte for byte."""

from __future__ import annotations

import difflib

import pytest

from tests.golden import REGEN, cases, expected, render_case


@pytest.mark.parametrize("case", cases())
def test_golden_tree(case: str) -> None:
    want = expected(case)
    got = render_case(case)
    problems = []
    for path in sorted(set(want) | set(got)):
        if path not in got:
            problems.append(f"missing: {path}")
        elif path not in want:
            problems.append(f"extra: {path}")
        elif want[path] != got[path]:
            diff = difflib.unified_diff(
                want[path].decode(errors="replace").splitlines(),
                got[path].decode(errors="replace").splitlines(),
                f"expected/{path}",
                f"rendered/{path}",
                lineterm="",
            )
            problems.append("\n".join(list(diff)[:60]))
    assert not problems, f"golden case '{case}' differs (if intended, run: {REGEN} {case})\n" + "\n".join(problems)
