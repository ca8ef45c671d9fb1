"""Regenerate every golden tree and IR export: ``python -m tests.regen_golden [CASE...]`` (tests/regen_golden.py runs this).

The case ``example`` also rewrites the repository's own committed output (``deploy/``,
``.github/``, ``docs/catalog/``, ``.shipspec/ledger.json``), which ``shipspec check`` holds.
Review the resulting diff like code: it is the behavioural change.
"""

from __future__ import annotations

import sys

from tests.support.golden import (
    GOLDEN,
    IR_FILE,
    cases,
    export_case,
    render_case,
    write_expected,
    write_ir,
    write_repository_output,
)


def main(argv: list[str]) -> int:
    chosen = argv or cases()
    crashed = []
    for case in chosen:
        files = render_case(case)
        if files.get("diagnostics.txt", b"").startswith(b"exit 3\n"):
            # An internal error is never what a case expects: its golden tree is left as it was
            # (it used to be replaced by the crash report, deleting every expected file).
            crashed.append(case)
            print(f"{case}: shipspec failed internally; golden left unchanged\n{files['diagnostics.txt'].decode()}")
            continue
        write_expected(case, files)
        ir = export_case(case)
        write_ir(case, ir)
        print(f"{case}: {len(files)} file(s) -> {(GOLDEN / case / 'expected').relative_to(GOLDEN.parent)}")
        print(f"{case}: IR export -> {(GOLDEN / case / IR_FILE).relative_to(GOLDEN.parent) if ir else 'none (errors)'}")
        if case == "example":
            # The repository commits what its specs/ render, as a deployment repository does.
            rc, out = write_repository_output()
            if rc != 0:
                crashed.append(case)
                print(f"{case}: shipspec compile into the repository failed (exit {rc})\n{out}")
            else:
                print(f"{case}: deploy/, .github/, docs/catalog/, .shipspec/ledger.json rewritten")
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
