"""``python -m tests.regen_golden [CASE...]``: the documented command, kept; the code is tests/golden/regen.py."""

from __future__ import annotations

import sys

from tests.golden.regen import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
