"""The rendered examples in docs/ are what the code renders today (regenerate them with
``python -m tests.support.docs_examples``), and the README shows the real catalog page."""

from __future__ import annotations

from pathlib import Path

from tests.support.docs_examples import PR_COMMENT, pr_comment

ROOT = Path(__file__).resolve().parents[2]


def test_the_pr_comment_example_is_current() -> None:
    assert PR_COMMENT.read_text(encoding="utf-8") == pr_comment(), "run: python -m tests.support.docs_examples"


def test_the_example_shows_what_the_issue_asks_for() -> None:
    text = PR_COMMENT.read_text(encoding="utf-8")
    assert "| offer_ranker | **3.0.1 → 3.1.0** | **3.0.1 → 3.1.0** | 3.0.1 |" in text
    assert "gate loosened: `staging -> prod for offer_ranker`: ndcg_at_10 >= 0.41 → >= 0.39" in text
    assert text.count("<details>") == text.count("</details>") >= 3


def _fenced_after(text: str, marker: str) -> str:
    start = text.index(marker)
    body = text[text.index("\n", text.index("```", start)) + 1 :]
    return body[: body.index("\n```\n")]


def test_the_readme_excerpts_are_copied_from_the_real_outputs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    comment = PR_COMMENT.read_text(encoding="utf-8")
    top = comment[: comment.index("<details>")].rstrip("\n")
    assert top in readme  # the comment's top: versions per environment and risk flags
    page = (ROOT / "golden/example/expected/docs/catalog/models/fraud_detector.md").read_text(encoding="utf-8")
    diagram = _fenced_after(readme, "<!-- catalog diagram -->")
    assert f"```mermaid\n{diagram}\n```" in page


def test_the_readme_catalog_tables_are_the_pages_rows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    excerpt = readme[readme.index("**The catalog.**") : readme.index("## The language")]
    page = (ROOT / "golden/example/expected/docs/catalog/models/fraud_detector.md").read_text(encoding="utf-8")
    rows = [line for line in excerpt.splitlines() if line.startswith("| ")]
    assert len(rows) >= 8
    for row in rows:
        assert row in page.splitlines(), row
