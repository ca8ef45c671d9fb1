"""Every golden case renders to exactly its expected tree, and exports exactly its IR, byte for byte."""

from __future__ import annotations

import difflib

import pytest

from tests.support.golden import (
    IR_FILE,
    REGEN,
    cases,
    check_repository_output,
    expected,
    expected_ir,
    export_case,
    render_case,
)


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


@pytest.mark.parametrize("case", cases())
def test_golden_ir_export(case: str) -> None:
    want, got = expected_ir(case), export_case(case)
    if want == got:
        return
    if want is None or got is None:
        state = "has no stored" if want is None else "stores an"
        pytest.fail(f"golden case '{case}' {state} {IR_FILE} but the spec {'exports' if got else 'has errors'}; "
                    f"run: {REGEN} {case}")
    diff = difflib.unified_diff(
        want.decode().splitlines(), got.decode().splitlines(), f"{case}/{IR_FILE}", "exported", lineterm=""
    )
    pytest.fail(f"golden IR of '{case}' differs (if intended, run: {REGEN} {case})\n" + "\n".join(list(diff)[:80]))


def test_the_repository_output_is_current() -> None:
    """The repository commits what its ``specs/`` render (as a deployment repository does) and
    ``shipspec check`` on a fresh clone passes: what CI and the pre-commit hook run."""
    rc, out = check_repository_output()
    assert rc == 0, f"the committed output is stale (if intended, run: {REGEN} example)\n{out[:4000]}"
