"""One sticky pull-request comment: the ``shipspec diff`` report, posted once and then updated in place.

The comment is found again by the hidden marker the markdown report starts with
(``diff.MARKER``), through GitHub's REST API for issue comments (a pull request
is an issue there): list ``GET /repos/{repo}/issues/{pr}/comments`` page by
page, then ``PATCH /repos/{repo}/issues/comments/{id}`` the first comment that
starts with the marker, or ``POST`` a new one when there is none.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from compiler.errors import UsageError

PAGES = 50  # 5,000 comments: a bound on the search, not a limit anyone meets


def _call(method: str, url: str, token: str, body: dict[str, Any] | None, timeout: float) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
            **({"Content-Type": "application/json"} if data is not None else {}),
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise UsageError(f"{method} {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise UsageError(f"{method} {url}: {exc}") from exc
    return json.loads(raw) if raw else None


def upsert(body: str, marker: str, repo: str, pr: int, token: str, api: str, timeout: float = 30.0) -> str:
    """Create or update the one comment of ``pr`` that starts with ``marker``; returns 'created' or 'updated'."""
    if not body.startswith(marker):
        body = f"{marker}\n{body}"
    base = api.rstrip("/")
    for page in range(1, PAGES + 1):
        found = _call("GET", f"{base}/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}", token, None, timeout)
        if not isinstance(found, list):
            raise UsageError(f"unexpected answer listing the comments of {repo}#{pr}")
        mine = next((c for c in found if isinstance(c, dict) and str(c.get("body", "")).startswith(marker)), None)
        if mine is not None:
            _call("PATCH", f"{base}/repos/{repo}/issues/comments/{mine['id']}", token, {"body": body}, timeout)
            return "updated"
        if len(found) < 100:
            break
    _call("POST", f"{base}/repos/{repo}/issues/{pr}/comments", token, {"body": body}, timeout)
    return "created"
