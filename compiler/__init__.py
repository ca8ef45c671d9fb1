"""shipspec: a declarative GitOps spec compiler for the ML model lifecycle.

The pipeline: parse -> lower (IR) -> check -> render -> validate -> emit.
"""

from __future__ import annotations

__version__ = "0.1.0"
