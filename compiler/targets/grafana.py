"""Names the monitoring backend gives what people open from elsewhere (the catalog):
a model's Grafana dashboard uid and its runbook's address."""

from __future__ import annotations

import hashlib


def dashboard_uid(environment: str, model: str) -> str:
    # Grafana caps uids at 40 characters; a hash keeps long names unique.
    digest = hashlib.sha256(f"{environment}/{model}".encode()).hexdigest()[:10]
    return f"shipspec-{digest}"


def runbook_url(runbooks: str, model: str, alert: str | None = None) -> str:
    """A model's runbook page under the project's ``runbooks`` address; an alert's section of it."""
    page = f"{runbooks.rstrip('/')}/{model}"
    return f"{page}#{alert.lower()}" if alert else page
