"""The rendered examples the docs show, made from the repository's specs/ by the real code:
``python -m tests.support.docs_examples`` rewrites them; tests/unit/test_docs_examples.py
fails when one is stale.

The PR comment is for a realistic change to specs/: offer_ranker's new release 3.1.0
(reaching dev and staging; prod stays pinned) together with a looser gate into prod.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from compiler.commands import diff
from compiler.pipeline import build

ROOT = Path(__file__).resolve().parents[2]
PR_COMMENT = ROOT / "docs" / "examples" / "pr-comment.md"

# (file under specs/, old text, new text)
CHANGE = (
    ("models/offers.ship", 'version "3.0.1"', 'version "3.1.0"'),
    ("models/offers.ship", "s3://kestrel-models/offers/3.0.1/model.pt", "s3://kestrel-models/offers/3.1.0/model.pt"),
    ("models/offers.ship", "metric ndcg_at_10 >= 0.41", "metric ndcg_at_10 >= 0.39"),
)


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def pr_comment() -> str:
    """The markdown report `shipspec diff --comment` posts for CHANGE, compiled at the same
    relative paths on both sides as `shipspec diff` does."""
    with tempfile.TemporaryDirectory() as tmp:
        base, head = Path(tmp, "base"), Path(tmp, "head")
        for side in (base, head):
            shutil.copytree(ROOT / "specs", side / "specs")
        for rel, old, new in CHANGE:
            path = head / "specs" / rel
            text = path.read_text(encoding="utf-8")
            assert old in text, (rel, old)
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
        with _chdir(base):
            before = build([Path("specs")])
        with _chdir(head):
            after = build([Path("specs")])
        assert not before.has_errors and not after.has_errors
        return diff.report(before, after, markdown=True)


def main() -> int:
    PR_COMMENT.parent.mkdir(parents=True, exist_ok=True)
    PR_COMMENT.write_text(pr_comment(), encoding="utf-8")
    print(f"wrote {PR_COMMENT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
