"""The sticky pull-request comment: one comment, found again by its marker and updated in place."""

from __future__ import annotations

import pytest

from compiler.commands import pr_comment
from compiler.commands.diff import MARKER
from compiler.errors import UsageError
from tests.support.github_comments import CommentsStandIn


def test_first_run_creates_later_runs_update_the_same_comment():
    others = [f"review {i}" for i in range(150)]  # the marker's comment is on the second page
    with CommentsStandIn(others) as gh:
        assert pr_comment.upsert(f"{MARKER}\nfirst", MARKER, "o/r", 7, "t0k", gh.url) == "created"
        assert pr_comment.upsert(f"{MARKER}\nsecond", MARKER, "o/r", 7, "t0k", gh.url) == "updated"
        assert pr_comment.upsert(f"{MARKER}\nthird", MARKER, "o/r", 7, "t0k", gh.url) == "updated"
        mine = [c for c in gh.comments if c["body"].startswith(MARKER)]
        assert [c["body"] for c in mine] == [f"{MARKER}\nthird"]
        assert len(gh.comments) == 151
        methods = [m for m, _, _ in gh.requests]
        assert methods.count("POST") == 1 and methods.count("PATCH") == 2
        assert all(
            p.startswith(("/repos/o/r/issues/7/comments", "/repos/o/r/issues/comments/")) for _, p, _ in gh.requests
        )


def test_an_http_error_is_a_clear_error_not_a_traceback():
    with CommentsStandIn() as gh, pytest.raises(UsageError, match="HTTP 403"):
        pr_comment.upsert("x", MARKER, "o/r", 7, "read-only", gh.url)
