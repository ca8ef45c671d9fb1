"""Every action the rendered workflows use, pinned by full commit SHA.

A tag can be moved to other code after a workflow was reviewed; a commit
cannot. Each entry is the upstream repository, the release it stands for
(rendered as a comment after the SHA, so a reader and Dependabot see the
version) and the commit that release tag points to.

How the SHAs were verified: each action's repository was mirrored from GitHub
and the tag peeled to its commit, ``git -C <mirror> rev-parse '<tag>^{commit}'``
(an annotated tag's own object id is not what ``uses:`` must name).
tests/unit/backends/github/test_actions.py keeps this table and the rendered
workflows consistent; tests/live/test_github_workflows.py runs zizmor on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Action:
    repo: str
    version: str
    sha: str

    @property
    def uses(self) -> str:
        """The ``uses:`` value, with the release as a YAML comment after it."""
        return f"{self.repo}@{self.sha} # {self.version}"


ACTIONS: dict[str, Action] = {
    "checkout": Action("actions/checkout", "v4.2.2", "11bd71901bbe5b1630ceea73d27597364c9af683"),
    "setup_python": Action("actions/setup-python", "v5.3.0", "0b93645e9fea7318ecaed2b359559ac225c90a2b"),
    "upload_artifact": Action("actions/upload-artifact", "v4.4.3", "b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882"),
    "download_artifact": Action("actions/download-artifact", "v4.1.8", "fa0a91b85d4f404e444e00e005971372dc801d16"),
    "app_token": Action("actions/create-github-app-token", "v2.2.2", "fee1f7d63c2ff003460e3d139729b119787bc349"),
    "aws_credentials": Action(
        "aws-actions/configure-aws-credentials", "v4.3.1", "7474bc4690e29a8392af63c5b98e7449536d5c3a"
    ),
    "gcp_auth": Action("google-github-actions/auth", "v2.1.13", "c200f3691d83b41bf9bbd8638997a462592937ed"),
    # shipspec's diagnostics (SARIF) into code scanning (issue 13); a sub-action of codeql-action.
    "upload_sarif": Action("github/codeql-action/upload-sarif", "v3.27.5", "f09c1c0a94de965c15400f5634aa42fac8fb8f88"),
}

SHA = re.compile(r"[0-9a-f]{40}")
