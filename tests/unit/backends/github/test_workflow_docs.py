"""docs/workflows.md lists every variable and secret the rendered workflows read, and
every action of the pinned table (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

from compiler.backends.github.actions import ACTIONS

ROOT = Path(__file__).resolve().parents[4]
DOC = (ROOT / "docs" / "workflows.md").read_text()


def _rendered() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "golden").glob("*/expected/.github/workflows/*.yml"))


def _documented(name: str) -> bool:
    # `SHIPSPEC_URL_<ENV>` in the doc stands for every environment's name.
    patterns = {re.sub(r"<[A-Z]+>", "[A-Z0-9_]+", p) for p in re.findall(r"`([A-Z][A-Z0-9_]*(?:<[A-Z]+>)?)`", DOC)}
    return any(re.fullmatch(p, name) for p in patterns)


def test_every_variable_and_secret_is_documented():
    text = _rendered()
    names = set(re.findall(r"\b(?:vars|secrets)\.([A-Z][A-Z0-9_]*)", text))
    assert names, "the golden workflows read variables"
    assert {"SHIPSPEC_APP_ID", "SHIPSPEC_APP_PRIVATE_KEY", "AWS_REGION"} <= names
    assert [n for n in sorted(names) if not _documented(n)] == []
    assert re.findall(r"\bsecrets\.([A-Z_]+)", text) and set(re.findall(r"\bsecrets\.([A-Z_]+)", text)) == {
        "SHIPSPEC_APP_PRIVATE_KEY"}  # fmt: skip  # no cloud or cluster credential is a secret


def test_repository_settings_are_documented():
    for setting in (
        "Require review from Code Owners",
        "required reviewers",
        "Workflows: read and write",
        "Contents: read and write",
        "Pull requests: read and write",
        "token.actions.githubusercontent.com",
    ):
        assert setting in DOC, setting


def test_every_pinned_action_is_documented():
    for a in ACTIONS.values():
        assert a.repo in DOC and a.version in DOC, a
