"""Regenerate every golden tree: ``python -m tests.regen_golden [CASE...]``.

Review the resulting diff like code: it is the behavioural change.
"""

from __future__ import annotations

import sys

from tests.golden import GOLDEN, cases, render_case, write_expected


def main(argv: list[str]) -> int:
    chosen = argv or cases()
    for case in chosen:
        files = render_case(case)
        write_expected(case, files)
        print(f"{case}: {len(files)} file(s) -> {(GOLDEN / case / 'expected').relative_to(GOLDEN.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
