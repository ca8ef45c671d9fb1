"""The rendered CODEOWNERS read with GitHub's matching rules: what a promotion into a
gated environment changes is owned by the gate's approvers alone.

The matcher follows GitHub's documentation of CODEOWNERS ("About code owners",
syntax): gitignore-style patterns, the *last* matching line wins, a pattern
with a leading or inner ``/`` is anchored at the repository root and otherwise
matches at any depth, a trailing ``/`` owns everything below that directory,
``*`` matches within one path segment and ``**`` across segments, ``\\`` escapes
a pattern starting with ``#`` or a space, and ``!`` / ``[ ]`` are not supported.
With "Require review from Code Owners", a pull request needs, for every
changed file, an approval by one of that file's owners.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.backends.github import codeowners
from compiler.cli import main
from compiler.commands import promote
from compiler.workdir import relative

ROOT = Path(__file__).resolve().parents[4]


def _regex(pattern: str) -> re.Pattern[str]:
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif body.startswith("**", i):
            out, i = out + ".*", i + 2
        elif body[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif body[i] == "?":
            out, i = out + "[^/]", i + 1
        elif body[i] == "\\" and i + 1 < len(body):
            out, i = out + re.escape(body[i + 1]), i + 2
        else:
            out, i = out + re.escape(body[i]), i + 1
    prefix = "" if anchored else "(?:.*/)?"
    # A directory pattern owns what is below it; a plain name also matches a directory's contents.
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(prefix + out + suffix if body else ".*")


def parse(text: str) -> list[tuple[re.Pattern[str], list[str]]]:
    rules = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = re.split(r"(?<!\\) ", line.strip())
        rules.append((_regex(parts[0]), [p for p in parts[1:] if p]))
    return rules


def owners(rules: list[tuple[re.Pattern[str], list[str]]], path: str) -> list[str]:
    found: list[str] = []
    for rx, who in rules:  # last match wins
        if rx.fullmatch(path):
            found = who
    return found


def test_matcher_follows_githubs_rules():
    rules = parse("* @all\n/docs/ @docs\napps/ @apps\n*.js @js\n/build/logs/ @logs\n/deploy/prod/**/*fraud* @leads\n")
    assert owners(rules, "README.md") == ["@all"]
    assert owners(rules, "docs/a/b.md") == ["@docs"]
    assert owners(rules, "x/apps/y.txt") == ["@apps"]  # unanchored directory: any depth
    assert owners(rules, "docs/app.js") == ["@js"]  # the later line wins
    assert owners(rules, "build/logs/x/y.log") == ["@logs"]
    assert owners(rules, "deploy/prod/fraud.yaml") == ["@leads"]  # ** also matches no directory
    assert owners(rules, "deploy/prod/a/b/x-fraud-y.yaml") == ["@leads"]
    assert owners(rules, "deploy/prodx/fraud.yaml") == ["@all"]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("model", "target", "approvers"),
    [("fraud_detector", "prod", ["@kestrel/ml-leads"]),
     ("offer_ranker", "prod", ["@kestrel/ml-leads", "@kestrel/growth-ml"])],
)  # fmt: skip
def test_what_a_promotion_changes_is_owned_by_the_gates_approvers(tmp_path, monkeypatch, model, target, approvers):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "specs", repo / "specs")
    envs = repo / "specs" / "environments.ship"
    spec = envs.read_text()
    # Move the target's pin back, so that the promotion has something to change.
    start = spec.index(f"environment {target} {{")
    pin = re.compile(rf'(override {model} {{[^}}]*version )"[^"]+"')
    assert pin.search(spec, start), "the example pins every gated model"
    envs.write_text(spec[:start] + pin.sub(r'\1"0.0.1"', spec[start:], count=1))
    monkeypatch.chdir(repo)  # CODEOWNERS names spec files relative to the repository
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["compile", "specs", "--out", "."]) == 0
    before = _tree(repo)
    promote.run([Path("specs")], model, target, None, Path("."))
    after = _tree(repo)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    moving = [p for p in changed if p.startswith(("specs/", f"deploy/{target}/"))]
    assert "specs/environments.ship" in moving and any(p.startswith(f"deploy/{target}/") for p in moving), changed
    rules = parse(after[".github/CODEOWNERS"].decode())
    # The model's own rendered files in the target: the gate's approvers and nobody else.
    model_files = [p for p in moving if p.startswith(f"deploy/{target}/") and model.replace("_", "-") in p]
    assert model_files and all(owners(rules, p) == approvers for p in model_files), model_files
    # Every other file that moves it is owned by approvers of gates into the target only
    # (the pins of all models of an environment share its spec file).
    into_target = {"@kestrel/ml-leads", "@kestrel/growth-ml", "@kestrel/support-ml"}
    assert all(set(owners(rules, p)) <= into_target for p in moving), {p: owners(rules, p) for p in moving}
    # So with "Require review from Code Owners" nobody outside the approvers can approve it all:
    # a reviewer set without them leaves the model's files unapproved.
    outsiders = {o for p in changed for o in owners(rules, p)} - set(approvers)
    assert not all(set(owners(rules, p)) & outsiders for p in changed)


_PATHS = st.lists(st.sampled_from(["", ".", "..", "a", "b c", "#x", "d\\e", "m.ship"]), max_size=5).map("/".join)


@given(_PATHS, st.sampled_from(["relative", "absolute", "in the working directory", "back into it"]))
def test_a_spec_files_line_is_its_path_as_pathlib_writes_it_escaped(path: str, where: str) -> None:
    """``_repo_path`` takes a relative path already in ``PurePosixPath``'s form as it is, and
    an absolute one outside the working directory as no line without making its relpath;
    ``_pattern`` leaves a path with nothing to escape as it is (issue 16: all skip work on
    17,000 lines); each gives what the plain form gives, for any path."""
    import os

    cwd = os.getcwd()
    up, name = os.path.split(cwd)
    file = {
        "relative": path,
        "absolute": "/" + path,
        "in the working directory": f"{cwd}/{path}",
        "back into it": f"{up}/x/../{name}/{path}",
    }[where]
    made = codeowners._repo_path(file)
    p = PurePosixPath(file)
    if p.is_absolute():
        rel = relative(file)
        expected = None if rel.startswith("..") else "/" + PurePosixPath(rel).as_posix()
    else:
        expected = "/" + p.as_posix()
    assert made == expected
    assert codeowners._pattern(file) == re.sub(r"([\s#\\])", r"\\\1", file)
