"""``shipspec init``: start a deployment repository.

Writes a minimal spec that compiles clean under ``--strict``, ``shipspec.toml``, a
``.pre-commit-config.yaml`` whose ``rev`` is this release's tag, a yamllint
configuration that leaves the generated trees alone, and a short README section.
``--example`` writes the full example spec instead of the minimal one. Existing
files are never overwritten (unless ``force``).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler import RELEASE_TAG, SOURCE_REPOSITORY, __version__
from compiler.errors import UsageError
from compiler.fsutil import write_atomic
from compiler.resources import example_dir

# Every environment behind a gate pins the version it runs (SS640); Triton 2.52 has the
# latency histograms a latency SLO is measured with (SS740); production has a gateway (SS520).
# Production runs the Triton image by digest (SS526): the starter cannot know the digest a
# user's registry serves, so it allows the warning inline, with the reason, until they pin it.
STARTER = """\
# A minimal shipspec spec: one model served in staging and production, promoted
# through a gate. Language reference: the docs/language.md of shipspec.
project {name} {{
  registry "ghcr.io/{name}"
  owners @{name}/ml
  triton "2.52.0"   # shipspec: allow(SS526) -- add: digest "sha256:…" of the image your registry serves
  repository "https://github.com/{name}/deployments.git"   # this repository: Argo CD syncs from it
}}

environment staging {{
  tier staging
  namespace "{name}-staging"
}}

environment prod {{
  tier production
  namespace "{name}-prod"
  replicas 2..4
  gateway "istio-ingress"
  override classifier {{ version "1.0.0" }}
}}

model classifier {{
  version "1.0.0"
  format onnx
  artifact "s3://{name}-models/classifier/1.0.0/model.onnx"
  input features: fp32[16]
  output scores: fp32[2]
  batching {{ max 8  preferred [4, 8]  delay 1ms }}
  resources {{ cpu 1  memory 1Gi }}
  serve in staging, prod
}}

sla classifier in prod {{
  latency p99 < 50ms
  availability 99.9% over 30d
}}

gate staging -> prod for classifier {{
  metric auc >= 0.9 on holdout
  load p99 < 40ms at 100rps for 5m
  canary 10% for 10m, 50% for 10m
  approval @{name}/leads
}}

dataset holdout {{
  version "1"
  uri "s3://{name}-data/holdout/1/"
}}
"""

CONFIG = """\
# shipspec's settings for this repository; every command, the pre-commit hooks and
# the rendered workflows read them. Command-line flags override them.
specs = ["specs"]        # spec files or directories
out = "."                # where deploy/, .github/ and .shipspec/ are rendered
# templates = "shipspec-templates"   # template overrides (optional)
allow = []               # warning codes not to report anywhere, e.g. ["SS508"]
strict = true            # warnings fail validate, compile and check

[ci]
# What the rendered workflows `pip install`.
install = "shipspec @ {source}@{tag}"
"""

PRE_COMMIT = """\
# pre-commit hooks (https://pre-commit.com): `pre-commit install` once, then they run on every commit.
repos:
  - repo: {repository}
    rev: {tag}
    hooks:
      - id: shipspec-validate
      - id: shipspec-fmt
      - id: shipspec-check
  - repo: https://github.com/adrienverge/yamllint
    rev: v1.35.1
    hooks:
      - id: yamllint
"""

# The generated trees are shipspec's output, checked by `shipspec check`; linting them
# with a style checker only produces noise (long lines, document starts, truthy keys).
YAMLLINT = """\
# yamllint for the YAML written by hand; the rendered trees are shipspec's output
# (`shipspec check` keeps them current) and are left out.
extends: default
ignore: |
  deploy/
  .github/workflows/
  .shipspec/
rules:
  document-start: disable
  line-length:
    max: 120
  truthy:
    check-keys: false
"""

README = """\
## Deployment specs (shipspec)

The files under `specs/` describe the models this repository deploys; `deploy/`,
`.github/workflows/`, the model catalog `docs/catalog/` and `.shipspec/` are rendered from them by
[shipspec]({repository}) {tag} and must not be edited by hand.

```sh
shipspec validate        # check the spec
shipspec compile         # render deploy/, .github/workflows/ and docs/catalog/
shipspec check           # exit 1 when the committed output is stale
pre-commit install       # run validate, fmt and check on every commit
```

Settings (spec paths, output root, allowed warnings) are in `shipspec.toml`.
"""


@dataclass(frozen=True, slots=True)
class Created:
    written: tuple[str, ...]
    kept: tuple[str, ...]


def _repository() -> str:
    return SOURCE_REPOSITORY


def files(name: str, example: bool) -> dict[str, str | Path]:
    """Relative path -> text (or a file to copy) of what ``init`` writes."""
    out: dict[str, str | Path] = {}
    if example:
        root = example_dir()
        for path in sorted(root.rglob("*.ship")):
            out[f"specs/{path.relative_to(root).as_posix()}"] = path
    else:
        out[f"specs/{name}.ship"] = STARTER.format(name=name)
    out["shipspec.toml"] = CONFIG.format(source=f"git+{SOURCE_REPOSITORY}", tag=RELEASE_TAG)
    out[".pre-commit-config.yaml"] = PRE_COMMIT.format(repository=_repository(), tag=RELEASE_TAG)
    out[".yamllint.yaml"] = YAMLLINT
    return out


def _valid_name(name: str) -> bool:
    return bool(name) and name[0].isalpha() and all(c.islower() or c.isdigit() or c == "_" for c in name)


def run(root: Path, name: str, *, example: bool = False, force: bool = False) -> Created:
    """Write the starter files under ``root``; files already there are kept unless ``force``."""
    if not _valid_name(name):
        raise UsageError(
            f"--name {name!r}: a project name is lower-case letters, digits and '_', starting with a letter"
        )
    written: list[str] = []
    kept: list[str] = []
    for rel, content in files(name, example).items():
        target = root / rel
        if target.exists() and not force:
            kept.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            write_atomic(target, content.encode("utf-8"))
        written.append(rel)
    readme = root / "README.md"
    section = README.format(repository=_repository(), tag=RELEASE_TAG)
    heading = section.split("\n", 1)[0]
    existing = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if heading not in existing:
        glue = "" if not existing else ("\n" if existing.endswith("\n") else "\n\n")
        write_atomic(readme, (existing + glue + section).encode("utf-8"))
        written.append("README.md")
    else:
        kept.append("README.md")
    return Created(tuple(written), tuple(kept))


def describe(created: Created, version: str = __version__) -> Sequence[str]:
    lines = [f"shipspec {version} init: wrote {', '.join(created.written) or 'nothing'}"]
    if created.kept:
        lines.append(f"kept (already there; --force overwrites): {', '.join(created.kept)}")
    lines.append("next: shipspec compile && git add -A && pre-commit install")
    return lines
