"""What every stage after rendering passes around: one output file and a file validator.

Kept below the backends so that validation and emit, which backends do not
import, need not import a backend to name a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import Any

from compiler.diagnostics import Sink, Span
from compiler.records import Record, record


@record
class OutputFile(Record):
    """One rendered file, with where in the spec it came from.

    ``path`` is relative to the output root and uses '/'. ``text`` is the
    file's content without the generated-file header; ``emit`` adds it.
    ``documents`` are the parsed objects that validation checks (empty for
    files that are not YAML/JSON, such as config.pbtxt, which have their own
    validator keyed by ``kind``). Every file with documents under
    ``deploy/<dir>/`` becomes a resource of that directory's kustomization.
    """

    path: str
    text: str
    source: Span
    kind: str = "yaml"
    documents: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    # Files that reach pods through a kustomize configMapGenerator name it here.
    config_map: str | None = None


# A validator of one file kind: the file, where to report, and the Kubernetes
# version manifests are validated against (for kinds that embed core objects).
# Backends declare theirs (``Backend.validators``); YAML documents of every kind
# are also checked against their schemas by compiler.validate.
FileValidator = Callable[[OutputFile, Sink, str], None]
