"""``shipspec promote`` in a temporary git repository with real git: the spec is
edited at its spans only (comments and layout kept), the output recompiled,
and a promotion without a gate (or of a version that has not passed the
gate's source) is refused with nothing changed."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.cli import main

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")]

SPEC = textwrap.dedent("""\
    # Acme's scoring service.
    project acme {
      registry "ghcr.io/acme"
      owners @acme/platform
      repository "https://github.com/acme/ml.git"
    }

    dataset holdout {
      version "2026-01-01"
      uri "s3://acme/holdout/2026-01-01/"
      sha256 "9f2c6a1e0b7d4c3a8e5f9d2b1c0a7e6f5d4c3b2a1908f7e6d5c4b3a291807f6e"
    }

    environment staging {
      tier staging
      namespace "ml-staging"
    }

    environment preprod {
      tier preprod  # production data, no users
      namespace "ml-preprod"
      replicas 2..3

      override scorer { replicas 2..2 }
    }

    environment prod {
      tier production
      namespace "ml-prod"
      replicas 2..4
      gateway "istio-ingress"
      # last approved release
      override scorer { version "0.9.0" }
    }

    environment lab {
      tier development
      namespace "ml-lab"
    }

    model scorer {
      version "1.0.0"  # the newest release enters staging here
      format onnx
      artifact "s3://acme-models/scorer/1.0.0/model.onnx"
      owners @acme/scoring
      input features: fp32[16]
      output score: fp32[1]
      resources { cpu 1  memory 1Gi }
      serve in lab, staging, preprod, prod
    }

    sla scorer in prod {
      latency p99 < 50ms
      availability 99.9% over 30d
    }

    gate staging -> preprod for scorer {
      metric auc >= 0.9 on holdout
    }

    gate preprod -> prod for scorer {
      metric auc >= 0.9 on holdout
      approval @acme/leads
    }
""")


def sh(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    run = subprocess.run(args, cwd=repo, capture_output=True, text=True, timeout=60, env=env, check=True)
    return run.stdout


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def shipspec(repo: Path, *args: str) -> Run:
    """The real CLI, in-process (a fresh interpreter per call would cost ~1 s each)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(repo)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(list(args))
    finally:
        os.chdir(old)
    return Run(rc, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compiled, committed repository; each test works on a copy."""
    root = tmp_path_factory.mktemp("promote") / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "scorer.ship").write_text(SPEC)
    sh(root, "git", "init", "-q", ".")
    assert shipspec(root, "compile").returncode == 0
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def spec_diff(repo: Path) -> list[str]:
    out = sh(repo, "git", "diff", "--unified=0", "--", "specs")
    return [ln for ln in out.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def test_promote_replaces_the_pin_and_recompiles(repo):
    (repo / "specs/scorer.ship").write_text(SPEC.replace("0.9.0", "1.0.0"))
    sh(repo, "git", "commit", "-q", "-am", "prod runs 1.0.0")
    # A new release enters through the model's version (preprod has its override, but no pin).
    text = SPEC.replace("0.9.0", "1.0.0").replace('version "1.0.0"  # the newest', 'version "1.1.0"  # the newest')
    (repo / "specs/scorer.ship").write_text(text)
    assert shipspec(repo, "compile").returncode == 0
    sh(repo, "git", "commit", "-q", "-am", "release 1.1.0")

    run = shipspec(repo, "promote", "scorer", "--to", "prod")
    assert run.returncode == 0, run.stderr
    assert "prod runs scorer 1.1.0 (was 1.0.0)" in run.stdout
    assert spec_diff(repo) == ['-  override scorer { version "1.0.0" }', '+  override scorer { version "1.1.0" }']
    changed = sh(repo, "git", "status", "--porcelain").split()
    assert any(p.startswith("deploy/prod/") for p in changed), changed  # recompiled
    assert not any(p.startswith(("deploy/staging/", "deploy/preprod/")) for p in changed), changed
    assert shipspec(repo, "fmt", "--check").returncode == 0
    assert shipspec(repo, "check").returncode == 0  # the committed output matches the promoted spec


def test_promote_adds_a_pin_inside_an_existing_override(repo):
    run = shipspec(repo, "promote", "scorer", "specs", "--to", "preprod", "--version", "1.0.0")
    assert run.returncode == 0
    assert "preprod already runs scorer 1.0.0; nothing to do" in run.stdout
    assert spec_diff(repo) == []

    # Staging pinned at 1.0.0 while the model moves on to 1.2.0: unpinned preprod
    # runs 1.2.0, and promoting from staging pins it back inside its own override.
    text = SPEC.replace('version "1.0.0"  # the', 'version "1.2.0"  # the')
    text = text.replace(
        '  namespace "ml-staging"\n', '  namespace "ml-staging"\n  override scorer { version "1.0.0" }\n'
    )
    (repo / "specs/scorer.ship").write_text(text)
    assert shipspec(repo, "compile").returncode == 0
    sh(repo, "git", "commit", "-q", "-am", "release 1.2.0 in lab")
    run = shipspec(repo, "promote", "scorer", "--to", "preprod")
    assert run.returncode == 0, run.stderr
    assert "preprod runs scorer 1.0.0 (was 1.2.0)" in run.stdout
    assert spec_diff(repo) == [
        "-  override scorer { replicas 2..2 }",
        '+  override scorer { version "1.0.0"  replicas 2..2 }',
    ]
    assert shipspec(repo, "fmt", "--check").returncode == 0


def test_promote_inserts_an_override_keeping_comments(repo):
    spec = SPEC.replace('  # last approved release\n  override scorer { version "0.9.0" }\n', "")
    (repo / "specs/scorer.ship").write_text(spec)
    assert shipspec(repo, "compile").returncode == 0
    sh(repo, "git", "commit", "-q", "-am", "prod unpinned")
    run = shipspec(repo, "promote", "scorer", "--to", "prod", "--version", "1.0.0")
    assert run.returncode == 0
    assert "prod already runs scorer 1.0.0" in run.stdout  # unpinned prod runs the model's version

    # With the model at 1.1.0 and preprod pinned to 1.0.0, prod gets an override block of its own.
    spec = spec.replace("override scorer { replicas 2..2 }", 'override scorer { version "1.0.0"  replicas 2..2 }')
    spec = spec.replace('version "1.0.0"  # the newest', 'version "1.1.0"  # the newest')
    (repo / "specs/scorer.ship").write_text(spec)
    assert shipspec(repo, "compile").returncode == 0
    sh(repo, "git", "commit", "-q", "-am", "1.1.0 in staging")
    run = shipspec(repo, "promote", "scorer", "--to", "prod")
    assert run.returncode == 0, run.stderr
    assert spec_diff(repo) == ['+  override scorer { version "1.0.0" }']
    after = (repo / "specs/scorer.ship").read_text()
    assert "  tier preprod  # production data, no users\n" in after and "# Acme's scoring service." in after
    assert shipspec(repo, "fmt", "--check").returncode == 0
    assert shipspec(repo, "validate").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["scorer", "--to", "staging"],
            "no gate leads to staging for scorer (its gates: preprod -> prod, staging -> preprod)",
        ),
        (["scorer", "--to", "lab"], "no gate leads to lab for scorer"),
        (
            ["scorer", "--to", "prod", "--version", "2.0.0"],
            "scorer 2.0.0 has not reached the gate's source (preprod runs 1.0.0)",
        ),
        (["scorrer", "--to", "prod"], "no model named scorrer; did you mean 'scorer'?"),
        (["scorer", "--to", "prd"], "no environment named prd; did you mean 'prod'?"),
        (["scorer", "--to", "prod", "--version", "1.0 rc"], "use letters, digits"),
    ],
)
def test_promote_refuses_without_a_gate(repo, args, message):
    run = shipspec(repo, "promote", *args)
    assert run.returncode == 1
    assert run.stderr.startswith("shipspec: promote refused: ") and message in run.stderr
    assert sh(repo, "git", "status", "--porcelain") == ""  # nothing changed


def test_a_promotion_that_does_not_compile_is_undone(repo):
    # A version that cannot map to a Triton version directory is an error after the edit.
    (repo / "specs/scorer.ship").write_text(SPEC.replace('version "1.0.0"  # the', 'version "latest"  # the'))
    sh(repo, "git", "commit", "-q", "-am", "bad release name")
    run = shipspec(repo, "promote", "scorer", "--to", "prod")
    assert run.returncode == 1
    assert "shipspec: promote refused: " in run.stderr
    assert sh(repo, "git", "status", "--porcelain") == ""


def test_output_that_cannot_be_written_refuses_and_keeps_the_spec(repo):
    # Without its ledger shipspec owns none of the files: it will not overwrite them.
    (repo / ".shipspec" / "ledger.json").unlink()
    sh(repo, "git", "commit", "-q", "-am", "lose the ledger")
    (repo / "specs/scorer.ship").write_text(SPEC.replace('version "1.0.0"  # the', 'version "1.0.1"  # the'))
    sh(repo, "git", "commit", "-q", "-am", "1.0.1")
    run = shipspec(repo, "promote", "scorer", "--to", "preprod", "--version", "1.0.1")
    assert "already runs" in run.stdout  # unpinned preprod follows the model
    run = shipspec(repo, "promote", "scorer", "--to", "prod", "--version", "1.0.1")
    assert run.returncode == 1
    assert "the recompiled output cannot be written under ." in run.stderr and "SS902" in run.stderr
    assert sh(repo, "git", "status", "--porcelain") == ""


def test_an_ensemble_takes_its_members_along(tmp_path: Path) -> None:
    """The gate of an ensemble covers its members: promoting it pins each member served in the
    target to the version that runs beside it in the gate's source, and nothing else moves."""
    from compiler.commands import promote
    from compiler.parse.sources import load
    from compiler.pipeline import check_loaded

    specs = tmp_path / "specs"
    shutil.copytree(Path(__file__).resolve().parents[2] / "specs", specs)
    tickets = specs / "models" / "tickets.ship"
    text = tickets.read_text()
    for old, new in (
        ('version "0.9.0"', 'version "0.9.1"'),
        ('version "2.1.0"\n  format ensemble', 'version "2.2.0"\n  format ensemble'),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    tickets.write_text(text)

    def checked() -> object:
        return check_loaded(load([specs]))

    before = checked()
    texts = {s.path: s.text for s in before.sources}  # type: ignore[attr-defined]
    edits = promote.plan(before.spec, "ticket_router", "prod", None, texts).edits  # type: ignore[attr-defined]
    for path, new_text in promote.apply_edits(texts, edits).items():
        Path(path).write_text(new_text)
    after = checked().resolved  # type: ignore[attr-defined]
    assert after.version_in("ticket_router", "prod") == "2.2.0"
    assert after.version_in("ticket_tokenizer", "prod") == "0.9.1"
    assert after.version_in("ticket_classifier", "prod") == "2.1.0"
    assert after.version_in("fraud_detector", "prod") == "1.4.2"
    assert {e.file for e in edits} == {str(specs / "environments.ship")} and len(edits) == 2


def test_an_unpinned_ensemble_member_behind_the_gate_is_a_warning(tmp_path: Path) -> None:
    from compiler.parse.sources import load
    from compiler.pipeline import check_loaded

    specs = tmp_path / "specs"
    shutil.copytree(Path(__file__).resolve().parents[2] / "specs", specs)
    assert check_loaded(load([specs])).diagnostics == ()
    env = (specs / "environments.ship").read_text()
    unpinned = env.replace('  override ticket_tokenizer { version "0.9.0" }\n', "")
    assert unpinned != env
    (specs / "environments.ship").write_text(unpinned)
    [d] = check_loaded(load([specs])).diagnostics
    assert d.code == "SS640" and "ticket_tokenizer" in d.message and "ensemble 'ticket_router'" in d.message
