"""The release a user installs (issue 13): the built wheel in a clean virtualenv, away from this
checkout, takes a fresh git repository through init -> validate -> compile -> check -> diff; the
yamllint configuration init writes passes on the compiled repository."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import RELEASE_TAG

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "PYTHONPATH")}
    env["GIT_CONFIG_GLOBAL"] = "/dev/null"
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _git(cwd: Path, *args: str) -> None:
    r = _run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd)
    assert r.returncode == 0, r.stderr


def test_clean_venv_init_validate_compile_check_diff(installed_shipspec: Path, tmp_path: Path) -> None:
    shipspec = installed_shipspec
    work = tmp_path / "deployments"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    sh = str(shipspec)

    r = _run([sh, "init"], work)
    assert r.returncode == 0, r.stderr
    assert f"rev: {RELEASE_TAG}" in (work / ".pre-commit-config.yaml").read_text()
    assert (work / "specs" / "deployments.ship").is_file()
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "shipspec init")

    for step in (["validate"], ["compile"], ["check"]):
        r = _run([sh, *step], work)  # strict = true in the shipspec.toml init wrote
        assert r.returncode == 0, (step, r.stdout, r.stderr)
        assert "warning" not in r.stdout + r.stderr, (step, r.stdout, r.stderr)
    assert (work / ".shipspec" / "ledger.json").is_file()
    workflow = (work / ".github" / "workflows" / "shipspec.yml").read_text()
    assert f"@{RELEASE_TAG}" in workflow  # [ci] install from shipspec.toml
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "shipspec compile")

    spec = work / "specs" / "deployments.ship"
    spec.write_text(spec.read_text().replace("replicas 2..4", "replicas 3..6"))
    r = _run([sh, "check"], work)
    assert r.returncode == 1 and "+++ b/deploy/prod/" in r.stdout, r.stdout + r.stderr
    r = _run([sh, "diff", "--base", "HEAD"], work)
    assert r.returncode == 0 and r.stdout.strip(), r.stdout + r.stderr
    assert "prod" in r.stdout and "replica" in r.stdout.lower(), r.stdout  # HPA minReplicas or KEDA minReplicaCount

    # The installed package carries everything it needs: nothing reaches into this checkout.
    probe = "import compiler.resources as r; print(r.templates_dir(), r.corpus_dir(), r.example_dir())"
    r = _run([str(shipspec.parent / "python"), "-c", probe], work)
    assert str(ROOT) not in r.stdout and str(shipspec.parent.parent) in r.stdout, r.stdout + r.stderr
    r = _run([sh, "explain", "SS501"], work)
    assert r.returncode == 0 and "Reported here:" in r.stdout


def test_init_example_from_the_wheel_compiles_clean(installed_shipspec: Path, tmp_path: Path) -> None:
    shipspec = installed_shipspec
    work = tmp_path / "example"
    work.mkdir()
    _git(work, "init", "-q")
    assert _run([str(shipspec), "init", "--example"], work).returncode == 0
    r = _run([str(shipspec), "compile"], work)
    assert r.returncode == 0 and "warning" not in r.stdout, r.stdout + r.stderr


def test_yamllint_with_the_init_config_passes_on_a_compiled_repository(tmp_path: Path) -> None:
    """yamllint's default rules flag every rendered file; init's config leaves the generated trees out."""
    from compiler.cli import main

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        (tmp_path / ".git").mkdir()
        assert main(["init", "--example"]) == 0
        assert main(["compile"]) == 0
    finally:
        os.chdir(old)
    (tmp_path / "hand-written.yaml").write_text("key: value\nlist:\n  - a\n")
    yamllint = str(BIN / "yamllint")
    r = _run([yamllint, "-f", "parsable", "-c", ".yamllint.yaml", "."], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # Without it, the rendered trees fail yamllint's defaults: the config is what makes the difference.
    r = _run([yamllint, "-f", "parsable", "-d", "default", "deploy", ".github"], tmp_path)
    assert r.returncode == 1 and r.stdout.count("\n") > 10
    # And it still lints the YAML written by hand.
    (tmp_path / "bad.yaml").write_text("key: value\nkey: again\n")
    r = _run([yamllint, "-f", "parsable", "-c", ".yamllint.yaml", "."], tmp_path)
    assert r.returncode == 1 and "bad.yaml" in r.stdout and "key-duplicates" in r.stdout


def test_bash_completion_completes_commands_and_choices(tmp_path: Path) -> None:
    from compiler import cli
    from compiler.commands import completion

    script = tmp_path / "shipspec.bash"
    script.write_text(completion.script("bash", cli.build_parser()))

    def complete(*words: str) -> list[str]:
        line = " ".join(shlex.quote(w) for w in ["shipspec", *words])
        program = (
            f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
            '_shipspec; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        r = _run(["bash", "--norc", "--noprofile", "-c", program], tmp_path)
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert "compile" in complete("com") and "completion" in complete("com")
    assert complete("check", "--format", "") == ["auto", "text", "json", "github", "sarif"]
    assert "--from" in complete("gate", "check", "--f")
    assert complete("completion", "")[:3] == ["bash", "zsh", "fish"]


def test_diff_renders_the_base_with_the_same_config(tmp_path: Path) -> None:
    """With [ci] install in shipspec.toml, diff shows the spec's change, not the install line."""
    import subprocess

    from tests.support.specs import MINIMAL
    from tests.unit.test_adoption import repo, run

    r = repo(tmp_path, spec=MINIMAL, toml='allow = ["SS740"]\n[ci]\ninstall = "shipspec==9"\n')
    (r / ".git").rmdir()
    git = ["git", "-c", "user.email=t@e", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], cwd=r, check=True, capture_output=True, timeout=60)
    (r / "specs" / "demo.ship").write_text(MINIMAL.replace("replicas 2..4", "replicas 3..4"))
    rc, out, err = run(["diff", "--base", "HEAD"], cwd=r)
    assert rc == 0 and "replica" in out.lower(), out + err
    assert "workflows" not in out and "pip install" not in out, out
