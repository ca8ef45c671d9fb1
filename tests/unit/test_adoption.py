"""Issue 13: shipspec.toml, warning control, explain, SARIF, stale annotations, CLI polish, init."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from compiler import RELEASE_TAG, cli
from compiler import config as configuration
from compiler.commands import completion, explain
from compiler.commands import init as init_command
from compiler.diagnostics import CODES, Severity
from compiler.errors import UsageError
from tests.support.specs import MINIMAL

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = cli.main(args)
    finally:
        os.chdir(old)
    return rc, out.getvalue(), err.getvalue()


# The minimal spec with the latency SLO warning of Triton 2.51 (SS740) and no pin behind the gate (SS640).
WARNED = MINIMAL.replace('  override clf { version "1.0.0" }\n', "")  # MINIMAL pins triton "2.51.0"


def repo(tmp_path: Path, spec: str = WARNED, toml: str | None = None) -> Path:
    (tmp_path / ".git").mkdir()  # the top of a repository: the config search stops here
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "demo.ship").write_text(spec)
    if toml is not None:
        (tmp_path / "shipspec.toml").write_text(toml)
    return tmp_path


def codes(out: str) -> list[str]:
    return sorted(d["code"] for d in json.loads(out))


# ---- point 2: shipspec.toml ------------------------------------------------------------------


def test_config_is_found_upwards_and_paths_are_relative_to_it(tmp_path: Path) -> None:
    r = repo(
        tmp_path,
        toml='specs = ["specs"]\nout = "rendered"\nallow = ["ss640"]\nstrict = true\n[ci]\ninstall = "shipspec==9"\n',
    )
    (r / "sub").mkdir()
    found = configuration.find(r / "sub")
    assert found == r / "shipspec.toml"
    cfg = configuration.load(found)
    assert cfg.specs == (r / "specs",) and cfg.out == r / "rendered" and cfg.allow == {"SS640"}
    assert cfg.strict and cfg.ci_install == "shipspec==9"


def test_config_search_stops_at_the_repository_top(tmp_path: Path) -> None:
    (tmp_path / "shipspec.toml").write_text("strict = true\n")
    inner = tmp_path / "inner"
    (inner / ".git").mkdir(parents=True)
    assert configuration.find(inner) is None


@pytest.mark.parametrize(
    "text, words",
    [
        ("spec = 'x'\n", "unknown setting 'spec'"),
        ("allow = ['SS101']\n", "SS101 is an error"),
        ("allow = ['SS999']\n", "not a shipspec diagnostic code"),
        ("strict = 'yes'\n", "strict must be true or false"),
        ("[ci]\nimage = 'x'\n", "[ci] takes only"),
        ("specs = [\n", "not valid TOML"),
    ],
)
def test_bad_config_is_a_usage_error(tmp_path: Path, text: str, words: str) -> None:
    r = repo(tmp_path, toml=text)
    rc, _, err = run(["validate"], cwd=r)
    assert rc == 2 and words in err and "Traceback" not in err


def test_every_command_reads_the_config_and_flags_override_it(tmp_path: Path) -> None:
    r = repo(tmp_path, spec=WARNED, toml='specs = ["specs"]\nout = "rendered"\nstrict = true\n')
    (r / "specs" / "demo.ship").rename(r / "elsewhere.ship")
    (r / "specs" / "real").mkdir()
    (r / "elsewhere.ship").rename(r / "specs" / "real" / "demo.ship")
    rc, out, _ = run(["validate", "--format", "json"], cwd=r)
    assert rc == 1 and "SS640" in codes(out)  # strict from the config: the warning fails
    assert run(["validate", "--no-strict"], cwd=r)[0] == 0  # the flag overrides it
    assert run(["validate", "--allow", "SS640"], cwd=r)[0] == 0
    allow = [arg for code in ("SS640", "SS740", "SS731", "SS520") for arg in ("--allow", code)]
    rc, _, err = run(["compile", *allow], cwd=r)
    assert rc == 0, err
    assert (r / "rendered" / ".shipspec" / "ledger.json").is_file()  # out from the config
    assert run(["check", *allow], cwd=r)[0] == 0
    assert run(["--no-config", "validate", "specs"], cwd=r)[0] == 0  # no config: not strict


def test_templates_from_the_config_reach_check(tmp_path: Path) -> None:
    """The rendered workflow runs `shipspec check` without --templates: the config supplies them."""
    r = repo(tmp_path, spec=MINIMAL, toml='templates = "overrides"\nallow = ["SS740"]\n')
    override = r / "overrides" / "github"
    override.mkdir(parents=True)
    original = (ROOT / "templates" / "github" / "CODEOWNERS.j2").read_text()
    (override / "CODEOWNERS.j2").write_text("# overridden\n" + original)
    assert run(["compile"], cwd=r)[0] == 0
    assert "# overridden" in (r / ".github" / "CODEOWNERS").read_text()
    rc, out, err = run(["check"], cwd=r)
    assert rc == 0, out + err


def test_ci_install_from_the_config_is_what_workflows_install(tmp_path: Path) -> None:
    r = repo(
        tmp_path,
        spec=MINIMAL,
        toml='allow = ["SS740"]\n[ci]\ninstall = "shipspec @ git+https://example.invalid/s@v9"\n',
    )
    assert run(["compile"], cwd=r)[0] == 0
    workflow = (r / ".github" / "workflows" / "shipspec.yml").read_text()
    assert "pip install 'shipspec @ git+https://example.invalid/s@v9'" in workflow


# ---- point 4: warning control ----------------------------------------------------------------


def test_inline_allow_on_a_block_and_on_a_line(tmp_path: Path) -> None:
    spec = WARNED.replace(
        "sla clf in prod {", "# shipspec: allow(SS740) -- Triton 2.51 in the cluster\nsla clf in prod {"
    )
    spec = spec.replace("gate staging -> prod for clf {", "gate staging -> prod for clf {  # shipspec: allow(SS640)")
    r = repo(tmp_path, spec=spec)
    rc, out, _ = run(["compile", "--format", "json"], cwd=r)
    assert rc == 0 and codes(out) == [
        "SS731"
    ]  # the others are allowed where they occur (MINIMAL has a gateway: no SS520)


def test_inline_allow_elsewhere_suppresses_nothing_and_is_reported(tmp_path: Path) -> None:
    spec = WARNED.replace("dataset holdout {", "# shipspec: allow(SS740)\ndataset holdout {")
    r = repo(tmp_path, spec=spec)
    rc, out, _ = run(["compile", "--format", "json"], cwd=r)
    found = json.loads(out)
    assert sorted(d["code"] for d in found) == ["SS020", "SS640", "SS731", "SS740"]
    unused = next(d for d in found if d["code"] == "SS020")
    assert unused["line"] == spec.split("\n").index("# shipspec: allow(SS740)") + 1
    # validate does not render, so it cannot judge an allowance of a rendering warning
    rc, out, _ = run(["validate", "--format", "json"], cwd=r)
    assert codes(out) == ["SS640"]


def test_allow_flag_rejects_errors_and_unknown_codes(tmp_path: Path) -> None:
    r = repo(tmp_path)
    rc, _, err = run(["validate", "--allow", "SS101"], cwd=r)
    assert rc == 2 and "only warnings and notes can be allowed" in err
    rc, _, err = run(["validate", "--allow", "nope"], cwd=r)
    assert rc == 2 and "not a shipspec diagnostic code" in err


def test_follow_on_warning_of_an_erroring_gate_is_not_reported(tmp_path: Path) -> None:
    # The gate's target does not serve the model (SS405): its SS640 would only pile on.
    spec = WARNED.replace("serve in staging, prod", "serve in staging").replace(
        "sla clf in prod {\n  latency p99 < 50ms\n  availability 99.9% over 30d\n}\n", ""
    )
    r = repo(tmp_path, spec=spec)
    rc, out, _ = run(["validate", "--format", "json"], cwd=r)
    found = codes(out)
    assert rc == 1 and "SS405" in found and "SS640" not in found


def test_the_bundled_example_compiles_clean_under_strict(tmp_path: Path) -> None:
    rc, out, err = run(
        ["--no-config", "compile", str(ROOT / "specs"), "--out", str(tmp_path), "--strict", "--format", "json"]
    )
    assert rc == 0 and json.loads(out) == [], out + err


# ---- point 6: explain, JSON anchors, SARIF, stale annotations, ledger churn -----------------


def test_explain_shows_a_failing_and_a_passing_example() -> None:
    text = explain.explain("ss501")
    assert text.startswith("SS501 (error): production needs at least two replicas")
    assert "docs: docs/language.md#ss501" in text
    failing, passing = text.split("Passes:")
    assert "Reported here:" in failing and "replicas" in failing and "^" in failing
    assert "environment prod {" in passing and "replicas 2..4" in passing


def test_explain_every_code_without_a_traceback() -> None:
    for code in CODES:
        assert explain.explain(code).startswith(code)
    with pytest.raises(UsageError, match="not a shipspec diagnostic code"):
        explain.explain("SS999")
    rc, out, _ = run(["explain", "--list"])
    assert rc == 0 and len(out.splitlines()) == len(CODES)


def test_every_code_has_its_docs_anchor() -> None:
    doc = (ROOT / "docs" / "language.md").read_text()
    for code in CODES:
        assert f'<a id="{code.lower()}"></a>' in doc


def test_json_diagnostics_carry_their_docs_anchor(tmp_path: Path) -> None:
    r = repo(tmp_path)
    _, out, _ = run(["validate", "--format", "json"], cwd=r)
    [d] = json.loads(out)
    assert d["docs"] == "docs/language.md#ss640"


def test_sarif_is_valid_sarif_2_1_0(tmp_path: Path) -> None:
    spec = WARNED.replace("replicas 2..4", "replicas 1..4")  # an error too
    r = repo(tmp_path, spec=spec)
    rc, out, _ = run(["validate", "--format", "sarif"], cwd=r)
    log = json.loads(out)
    schema = json.loads((ROOT / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    [sarif_run] = log["runs"]
    results = sarif_run["results"]
    assert rc == 1 and {r["ruleId"] for r in results} == {"SS501", "SS640"}
    assert {r["level"] for r in results} == {"error", "warning"}
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["SS501", "SS640"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (
            region["startLine"] >= 1
            and result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "specs/demo.ship"
        )
    # A broken log is caught by the schema: the test can fail.
    del log["runs"][0]["tool"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def test_stale_check_annotates_each_file_and_leaves_the_ledger_out_of_the_diff(tmp_path: Path) -> None:
    r = repo(tmp_path, spec=MINIMAL)
    assert run(["compile", "--allow", "SS740"], cwd=r)[0] == 0
    (r / "specs" / "demo.ship").write_text(MINIMAL.replace("replicas 2..4", "replicas 2..6"))
    rc, out, err = run(["check", "--format", "github", "--allow", "SS740"], cwd=r)
    assert rc == 1
    annotations = [line for line in out.splitlines() if line.startswith("::error ")]
    assert any("file=deploy/prod/" in a and "title=stale" in a for a in annotations)
    assert "file=.shipspec/ledger.json" in out  # named as stale ...
    assert "+++ b/.shipspec/ledger.json" not in out  # ... but its hash churn is not in the diff
    assert "+++ b/deploy/prod/" in out and "stale" in err


# ---- point 7: CLI polish -------------------------------------------------------------------


def _parsers(parser):
    import argparse

    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_argument_has_help() -> None:
    missing = [
        (p.prog, a.dest)
        for p in _parsers(cli.build_parser())
        for a in p._actions
        if not a.help and a.dest not in ("help", "command", "gate_command", "import_kind")
    ]
    assert not missing, missing


def _described(parser) -> list[object]:
    """Every parser's help and arguments, the subcommands' included."""
    return [
        (p.prog, p.format_help(), [(a.dest, a.option_strings, a.default, a.required, a.nargs) for a in p._actions])
        for p in _parsers(parser)
    ]


def test_one_commands_parser_is_the_full_parsers_own() -> None:
    # main builds only the named command's parser (issue 16: a hook's `shipspec validate` starts fast);
    # its help, usage lines and arguments must be the ones the full parser gives that command.
    full = cli.build_parser()
    commands = full._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert list(commands) == list(cli._PARSERS)
    for name, child in commands.items():
        one = cli.build_parser(name)
        assert list(one._subparsers._group_actions[0].choices) == [name]  # type: ignore[union-attr]
        assert one.format_usage() == full.format_usage()
        assert _described(one._subparsers._group_actions[0].choices[name]) == _described(child)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["validate", "x.ship"], "validate"),
        (["--no-config", "validate"], "validate"),
        (["--config", "a.toml", "fmt", "--check"], "fmt"),
        (["--config=a.toml", "gate", "check"], "gate"),
        (["--config", "validate", "check"], "check"),  # validate is the file --config names
        (["-h", "validate"], None),  # the top-level help lists every command
        (["--version"], None),
        (["--no-conf", "validate"], None),  # an abbreviation: the full parser reads it
        (["valid"], None),  # not a command: the full parser's "invalid choice" lists them all
        ([], None),
    ],
)
def test_the_command_main_builds_alone(argv: list[str], command: str | None) -> None:
    assert cli._command(argv) == command


def test_usage_errors_read_the_same_with_one_commands_parser(tmp_path: Path) -> None:
    for argv in (["validate", "--bogus"], ["validate", "--format", "xml"], ["gate", "check"], ["completion"]):
        rc, out, err = run(argv, cwd=tmp_path)
        one = io.StringIO()
        with contextlib.redirect_stderr(one), pytest.raises(SystemExit):
            cli.build_parser().parse_args(argv)
        assert (rc, out, err) == (2, "", one.getvalue()), argv


@pytest.mark.parametrize(
    ("argv", "collecting"),
    [
        (["validate", "--allow", "SS740"], False),
        (["check", "--allow", "SS740"], False),  # builds the spec once and ends
        (["import", "triton", "nowhere"], True),  # any other command keeps collecting
    ],
)
def test_the_program_holds_the_collector_off_for_brief_and_one_build_commands(
    argv: list[str], collecting: bool, tmp_path: Path
) -> None:
    # cli.run is the console script: main, then gc.freeze for the ending process; the
    # cyclic collector is off for brief commands and those that build the spec once (an
    # lsp or compile --watch keeps collecting).
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "s.ship").write_text(MINIMAL)
    probe = (
        "import atexit, gc, sys\nfrom compiler import cli\n"
        f"sys.argv = ['shipspec', *{argv!r}]\n"
        "atexit.register(print)  # exit work left: run() returns after validate too (cli._end_now)\n"
        "code = cli.run()\nprint(code, gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=dict(os.environ)
    )
    rc, _, _ = run(argv, cwd=tmp_path)
    assert r.stdout.split()[-3:] == [str(rc), str(collecting), "True"], r.stderr


@pytest.mark.parametrize(
    "command",
    [
        "validate",
        "compile",
        "check",
        "diff",
        "gate check",
        "load",
        "promote",
        "init",
        "explain",
        "completion",
        "smoke",
        "drift",
        "relay",
        "export",
        "fmt",
    ],
)
def test_help_shows_examples_and_exit_codes(command: str) -> None:
    rc, out, _ = run([*command.split(), "--help"])
    assert rc == 0 and "examples:" in out and "exit codes:" in out and "2  usage" in out


def test_gate_from_to_and_quoting() -> None:
    assert cli.gate_name("staging->prod", None, None) == "staging->prod"
    assert cli.gate_name(None, "staging", "prod") == "staging->prod"
    with pytest.raises(UsageError, match="quote it"):
        cli.gate_name("staging-", None, None)  # what the shell leaves of an unquoted staging->prod
    with pytest.raises(UsageError, match="not both"):
        cli.gate_name("a->b", "a", "b")
    with pytest.raises(UsageError, match="name the gate"):
        cli.gate_name(None, "a", None)


def test_unreachable_server_exits_2_for_smoke_as_for_load(tmp_path: Path) -> None:
    import socket

    r = repo(tmp_path, spec=MINIMAL)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc_smoke, out, _ = run(["smoke", "--url", f"127.0.0.1:{port}", "--env", "staging", "--timeout", "1"], cwd=r)
    rc_load, _, err = run(
        [
            "load",
            "--url",
            f"127.0.0.1:{port}",
            "--model",
            "clf",
            "--rate",
            "1rps",
            "--duration",
            "1s",
            "--percentile",
            "99",
            "--timeout",
            "1s",
        ],
        cwd=r,
    )
    assert (rc_smoke, rc_load) == (2, 2), (out, err)


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    for var in ("CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(var, raising=False)
    tty = _TTY()
    shown = threading.Event()
    with cli.Progress("compiling", tty, delay=0.0) as p:
        assert shown.wait(0.0) is False
        for _ in range(200):  # bounded wait for the first line
            if p.shown:
                break
            threading.Event().wait(0.01)
    assert p.shown and "shipspec: compiling..." in tty.getvalue() and tty.getvalue().endswith("\r\x1b[K")
    pipe = io.StringIO()
    with cli.Progress("compiling", pipe, delay=0.0) as p:
        threading.Event().wait(0.05)
    assert not p.shown and pipe.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    assert not cli.Progress.wanted(_TTY())


def test_completion_scripts_name_every_command() -> None:
    parser = cli.build_parser()
    commands = sorted(a for a in parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for shell in ("bash", "zsh", "fish"):
        text = completion.script(shell, parser)
        for command in commands:
            assert re.search(rf"\b{re.escape(command)}\b", text), (shell, command)
    fish = completion.script("fish", parser)
    assert "-n '__fish_seen_subcommand_from compile' -l format -x -a 'auto text json github sarif'" in fish
    assert "__fish_seen_subcommand_from gate; and __fish_seen_subcommand_from check" in fish


# ---- point 3: init ----------------------------------------------------------------------------


def test_init_writes_a_starter_that_compiles_clean_under_strict(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    rc, _, err = run(["init", "--name", "acme"], cwd=tmp_path)
    assert rc == 0, err
    for name in ("specs/acme.ship", "shipspec.toml", ".pre-commit-config.yaml", ".yamllint.yaml", "README.md"):
        assert (tmp_path / name).is_file(), name
    assert f"rev: {RELEASE_TAG}" in (tmp_path / ".pre-commit-config.yaml").read_text()
    assert "## Deployment specs (shipspec)" in (tmp_path / "README.md").read_text()
    rc, out, err = run(["compile", "--format", "json"], cwd=tmp_path)  # strict = true in the config
    assert rc == 0 and json.loads(out) == [], out + err
    assert run(["check"], cwd=tmp_path)[0] == 0
    # A second init keeps what is there.
    rc, _, err = run(["init", "--name", "acme"], cwd=tmp_path)
    assert rc == 0 and "kept" in err


def test_init_example_writes_the_full_example(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert run(["init", "--example"], cwd=tmp_path)[0] == 0
    assert sorted(p.relative_to(tmp_path / "specs").as_posix() for p in (tmp_path / "specs").rglob("*.ship")) == sorted(
        p.relative_to(ROOT / "specs").as_posix() for p in (ROOT / "specs").rglob("*.ship")
    )
    rc, out, err = run(["compile", "--format", "json"], cwd=tmp_path)
    assert rc == 0 and json.loads(out) == [], out + err


def test_init_rejects_a_bad_name(tmp_path: Path) -> None:
    rc, _, err = run(["init", "--name", "Bad-Name"], cwd=tmp_path)
    assert rc == 2 and "project name" in err


def test_allowed_severity_rules() -> None:
    assert all(CODES[c][0] is not Severity.ERROR for c in configuration.allowed_codes(["SS740", "ss640"], "x"))
    assert init_command.files("x", False)["shipspec.toml"]


def test_the_rendered_pr_workflow_uploads_sarif_it_can_produce(tmp_path: Path) -> None:
    import shlex

    import yaml

    r = repo(tmp_path, spec=MINIMAL)
    assert run(["compile"], cwd=r)[0] == 0
    workflow = yaml.safe_load((r / ".github" / "workflows" / "shipspec.yml").read_text())
    job = workflow["jobs"]["shipspec"]
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    produce = next(s for s in steps if "--format sarif" in s.get("run", ""))
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert steps.index(produce) < steps.index(upload) and upload["with"]["sarif_file"] == "shipspec.sarif"
    command = shlex.split(produce["run"].split(">")[0])
    assert command[0] == "shipspec"
    rc, out, _ = run(command[1:], cwd=r)
    schema = json.loads((ROOT / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(json.loads(out))
