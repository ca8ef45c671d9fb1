"""shipspec: a declarative GitOps spec compiler for the ML model lifecycle.

The pipeline: parse -> lower (IR) -> check -> render -> validate -> emit.
"""

from __future__ import annotations

__version__ = "0.2.0"
# The git tag of this release (CHANGELOG.md): what `rev:` in a pre-commit config and the
# rendered workflows' `pip install` point at.
RELEASE_TAG = f"v{__version__}"
# Where users install shipspec from (pipx / pip / pre-commit): the repository that carries the tag.
SOURCE_REPOSITORY = "https://github.com/shipspec/shipspec"
