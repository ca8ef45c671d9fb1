"""The ``shipspec`` command: argument parsing, dispatch and exit codes.

Only this module knows exit codes. It parses the arguments, calls the pipeline
(``compiler.pipeline``) or a command (``compiler.commands``), and maps their
typed results, and the one root error class (``compiler.errors.ShipspecError``),
to exit codes: 0 clean; 1 errors, drift, unformatted specs, malformed evidence or
a refused promotion; 2 usage, configuration or I/O problems; 3 an internal error
(a bug: please report it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from compiler import SOURCE_REPOSITORY, __version__
from compiler.errors import InputError, Refused, ShipspecError, UsageError

if TYPE_CHECKING:
    # argparse loads (with shutil, gettext and locale) only when a parser is built: a plain
    # `shipspec validate PATH...` does without one (issue 16, main's _plain_validate).
    import argparse

    from compiler import config as configuration
    from compiler.cache import Cache
    from compiler.emit import Plan
    from compiler.parse.sources import Store
    from compiler.pipeline import Build, Planned, Reported
    from compiler.settled import Found, Inputs, Settled, Tree

__all__ = ["EXIT_FAIL", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main", "run"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
DEFAULT_SPECS = Path("specs")

EXIT_CODES = """\
exit codes:
  0  clean
  1  errors in the spec, stale output, a failed check or gate, a refused promotion
  2  usage, configuration or I/O problem, or a server that cannot be reached
  3  internal error (a bug: please report it; SHIPSPEC_DEBUG=1 shows the traceback)"""

# Examples per command, shown by `shipspec COMMAND --help` above the exit codes.
EXAMPLES = {
    "shipspec": "shipspec init && shipspec compile\nshipspec check --format github\nshipspec explain SS740",
    "init": "shipspec init                 # minimal spec, shipspec.toml, pre-commit and yamllint configs\n"
    "shipspec init --example       # the full example spec instead",
    "validate": "shipspec validate\nshipspec validate specs/models --strict --allow SS508\n"
    "shipspec validate --format sarif > shipspec.sarif",
    "fmt": "shipspec fmt --check\nshipspec fmt --write specs/models/fraud.ship",
    "compile": "shipspec compile\nshipspec compile --out ../gitops --templates overrides/",
    "check": "shipspec check                # exit 1 and a diff when deploy/ is stale\nshipspec check --format github",
    "diff": 'shipspec diff --base origin/main\nshipspec diff --base HEAD~1 --format markdown >> "$GITHUB_STEP_SUMMARY"',
    "export": "shipspec export --format yaml",
    "gate": "shipspec gate check --gate 'staging->prod' --model fraud --evidence eval.json\n"
    "shipspec gate check --from staging --to prod --model fraud --evidence eval.json",
    "load": "shipspec load --url localhost:8000 --model fraud --rate 300rps --duration 1m --percentile 99 "
    "--threshold 50ms",
    "promote": "shipspec promote fraud --to prod\nshipspec promote fraud --to prod --version 1.4.0",
    "import": "shipspec import triton model_repository/ --serve staging --out specs/models.ship",
    "smoke": "shipspec smoke --url localhost:8000 --env staging",
    "drift": "shipspec drift fraud --env prod --current s3://logs/fraud/2026-11-30/ --pushgateway http://pgw:9091",
    "relay": "shipspec relay --repository acme/deployments --listen 127.0.0.1:8080",
    "explain": "shipspec explain SS740\nshipspec explain --list",
    "completion": "source <(shipspec completion bash)                      # bash, e.g. in ~/.bashrc\n"
    'shipspec completion zsh > "${fpath[1]}/_shipspec"        # zsh\n'
    "shipspec completion fish > ~/.config/fish/completions/shipspec.fish",
}


def _epilog(name: str) -> str:
    examples = EXAMPLES.get(name)
    text = "examples:\n" + "\n".join("  " + line for line in examples.split("\n")) + "\n\n" if examples else ""
    return text + EXIT_CODES


def _config(args: argparse.Namespace) -> configuration.Config:
    # Imported here, not with this module: run() has the garbage collector off for a brief
    # command by then, and the configuration brings dataclasses, inspect and the diagnostics.
    from compiler import config as configuration

    cached: configuration.Config | None = getattr(args, "_config", None)
    if cached is None:
        cached = configuration.load(args.config) if not getattr(args, "no_config", False) else configuration.Config()
        args._config = cached
    return cached


def _inputs(paths: Sequence[str], args: argparse.Namespace | None = None) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    if args is not None and (cfg := _config(args)).specs:
        return list(cfg.specs)
    if not DEFAULT_SPECS.is_dir():
        raise UsageError(f"no spec files given and no '{DEFAULT_SPECS}/' directory here (shipspec init starts one)")
    return [DEFAULT_SPECS]


def _out(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    return _config(args).out or Path(".")


def _templates(args: argparse.Namespace) -> Path | None:
    templates: Path | None = getattr(args, "templates", None)
    if templates is None:
        templates = _config(args).templates
    if templates is not None and not templates.is_dir():
        raise UsageError(f"templates {templates}: not a directory")
    return templates


def _allow(args: argparse.Namespace) -> frozenset[str]:
    from compiler import config as configuration

    flags = configuration.allowed_codes(getattr(args, "allow", None) or [], "--allow")
    return flags | _config(args).allow


def _strict(args: argparse.Namespace) -> bool:
    flag: bool | None = getattr(args, "strict", None)
    return flag if flag is not None else _config(args).strict


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="spec files or directories (default: specs in shipspec.toml, else specs/)",
    )


def _add_out_templates(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", type=Path, default=None, metavar="ROOT", help="output root (default: out in shipspec.toml, else .)"
    )
    p.add_argument(
        "--templates",
        type=Path,
        metavar="DIR",
        help="directory of template overrides (default: templates in shipspec.toml)",
    )


def _add_allow(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="CODE",
        help="do not report this warning code (repeatable; adds to allow = [...] in shipspec.toml)",
    )


def _add_format(p: argparse.ArgumentParser) -> None:
    import argparse

    p.add_argument(
        "--format",
        choices=("auto", "text", "json", "github", "sarif"),
        default="auto",
        help="diagnostic output: text (rustc style), json (with a docs anchor per code), github (workflow "
        "annotations), sarif (SARIF 2.1.0 for code scanning); auto is github under GitHub Actions, else text",
    )
    p.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="treat warnings as errors (default: strict in shipspec.toml, else off)",
    )
    _add_allow(p)


def _sub(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    import argparse

    return sub.add_parser(
        name,
        help=text,
        description=text[0].upper() + text[1:] + ".",
        epilog=_epilog(epilog or name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``only``, of that command alone (``main`` builds that
    when the command is plain to see: a hook's ``shipspec validate`` does not pay for the
    others' parsers). Its help, errors and namespace for ``only`` are the full parser's."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="shipspec",
        description="Validate ML lifecycle specs and render them for GitOps. Settings come from shipspec.toml "
        "(found from the working directory up to the repository's top); flags override them.",
        epilog=_epilog("shipspec"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"shipspec {__version__}")
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="read this shipspec.toml instead of searching for one"
    )
    parser.add_argument("--no-config", action="store_true", help="read no shipspec.toml: the built-in defaults")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add in _PARSERS.items():
        if only is None or name == only:
            add(sub)
    for name, child in sub.choices.items():  # the monitoring commands' parsers: examples and exit codes too
        if child.epilog is None:
            child.epilog = _epilog(name)
            child.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction  # the type of add_subparsers' result


def _add_init(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "init", "start a deployment repository: a spec, shipspec.toml, pre-commit and yamllint configs")
    p.add_argument("directory", nargs="?", type=Path, default=Path("."), metavar="DIR", help="where (default: .)")
    p.add_argument("--example", action="store_true", help="write the full example spec instead of the minimal one")
    p.add_argument("--name", default=None, metavar="NAME", help="project name (default: from the directory's name)")
    p.add_argument("--force", action="store_true", help="overwrite files that are already there")


def _add_validate(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "validate", "parse and check specs")
    _add_inputs(p)
    _add_format(p)


def _add_fmt(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "fmt", "print specs in the canonical layout")
    _add_inputs(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 and print a diff when a file is not formatted")
    mode.add_argument("--write", action="store_true", help="rewrite files in place")


def _add_render(sub: _SubParsers[argparse.ArgumentParser], name: str, text: str) -> None:
    """compile and check: the commands that render the output tree."""
    p = _sub(sub, name, text)
    _add_inputs(p)
    _add_format(p)
    _add_out_templates(p)
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the build cache (ROOT/.shipspec/cache/, safe to delete)",
    )
    if name == "compile":
        p.add_argument("--force", action="store_true", help="overwrite or prune hand-edited generated files")
        p.add_argument(
            "--watch",
            action="store_true",
            help="keep running: recompile (from memory) whenever a spec file changes",
        )


def _add_diff(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "diff", "show per environment what the spec renders differently from REV")
    _add_inputs(p)
    p.add_argument("--base", required=True, metavar="REV", help="git revision to compare against, e.g. origin/main")
    p.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text for a terminal, markdown for a job summary or PR comment (default: text)",
    )
    p.add_argument(
        "--templates",
        type=Path,
        metavar="DIR",
        help="directory of template overrides (default: templates in shipspec.toml)",
    )
    p.add_argument(
        "--comment",
        type=int,
        metavar="PR",
        help="also post the markdown report as one comment on pull request PR, updated in place on later runs "
        "(GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL from the environment)",
    )


def _add_export(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "export", "print the checked IR as JSON or YAML")
    _add_inputs(p)
    p.add_argument(
        "--format",
        choices=("json", "yaml"),
        default="json",
        help="json (default) or yaml; the schema is schemas/ir.schema.json",
    )


def _add_lsp(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    _sub(sub, "lsp", "run the language server on stdio (for editors; needs shipspec[lsp])")


def _add_explain(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "explain", "what a diagnostic code means, with a failing and a passing example")
    p.add_argument("code", nargs="?", metavar="CODE", help="a diagnostic code, e.g. SS740")
    p.add_argument("--list", action="store_true", help="list every code with its severity and meaning")


def _add_completion(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "completion", "print a shell completion script")
    p.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete for")


def _add_import(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    """import triton: bringing existing Triton configs in."""
    import argparse

    imp = _sub(sub, "import", "turn existing configs into spec text").add_subparsers(
        dest="import_kind", required=True, metavar="KIND"
    )
    p = imp.add_parser(
        "triton",
        help="config.pbtxt files (a file, a model directory or a repository) -> models",
        epilog=_epilog("import"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", type=Path, metavar="PATH", help="a config.pbtxt, a model directory or a model repository")
    p.add_argument("--serve", action="append", default=[], metavar="ENV", help="add 'serve in ENV' (repeatable)")
    p.add_argument("--artifact-base", default=None, metavar="URI", help="where artifacts live (default: a placeholder)")
    p.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="FIELD",
        help="import without this config field (dotted: input.allow_ragged_batch); reported, repeatable",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="write the spec text here instead of stdout")


def _add_smoke(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    """smoke: checking a running Triton server."""
    p = _sub(sub, "smoke", "check a running Triton against the spec for one environment")
    _add_inputs(p)
    p.add_argument("--url", required=True, metavar="HOST:PORT", help="Triton's HTTP endpoint")
    p.add_argument("--env", required=True, metavar="ENV", help="the environment the server runs")
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="FIELD",
        help="config field not to compare, e.g. backend for stand-in models (repeatable)",
    )
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per request (default: 10)")
    p.add_argument(
        "--tree",
        type=Path,
        metavar="ROOT",
        help="compare with the committed output tree under ROOT instead of rendering the spec",
    )


def _add_gate(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    """gate check and provenance: the promotion workflows' evidence."""
    import argparse

    gate = _sub(sub, "gate", "promotion gates").add_subparsers(dest="gate_command", required=True, metavar="ACTION")
    p = gate.add_parser(
        "check",
        help="evaluate a gate's conditions against evidence (docs/evidence.md)",
        epilog=_epilog("gate"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_inputs(p)
    p.add_argument(
        "--gate",
        metavar="FROM->TO",
        help="the gate, quoted so the shell does not read '>' as a redirection: --gate 'staging->prod'",
    )
    p.add_argument("--from", dest="gate_from", metavar="ENV", help="the gate's source environment (with --to)")
    p.add_argument("--to", dest="gate_to", metavar="ENV", help="the gate's target environment (with --from)")
    p.add_argument("--model", required=True, metavar="MODEL", help="the model the gate promotes")
    p.add_argument("--evidence", required=True, action="append", metavar="FILE", help="YAML or JSON; repeatable")
    p.add_argument("--version", metavar="V", help="fail unless the evidence names this model version")
    p.add_argument("--run", metavar="URL", help="fail unless the evidence's provenance names this workflow run")
    p.add_argument("--commit", metavar="SHA", help="fail unless the evidence's provenance names this commit")
    p.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text, json or markdown (a job summary) (default: text)",
    )

    p = gate.add_parser("provenance", help="record where evaluation evidence comes from (run, commit, datasets)")
    p.add_argument("evidence", type=Path, metavar="FILE", help="the evaluation's evidence file, rewritten")
    p.add_argument("--run", required=True, metavar="URL", help="the workflow run that measured it")
    p.add_argument("--commit", required=True, metavar="SHA", help="the commit it ran at")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME=DIR",
                   help="a dataset it read; its digest is computed from DIR (repeatable)")  # fmt: skip


def _add_load(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "load", "bounded open-loop load test of a Triton endpoint; writes evidence")
    p.add_argument("--url", required=True, help="host:port or http://host:port (HTTP), grpc://host:port (gRPC)")
    p.add_argument("--model", required=True, metavar="MODEL", help="the model name Triton serves")
    p.add_argument(
        "--model-version", default="", metavar="N", help="Triton version directory (default: the server's choice)"
    )
    p.add_argument("--rate", required=True, metavar="RATE", help="e.g. 300rps")
    p.add_argument("--duration", required=True, metavar="DURATION", help="e.g. 10m")
    p.add_argument("--percentile", required=True, metavar="P", help="e.g. 99 or p99")
    p.add_argument("--threshold", metavar="DURATION", help="exit 1 unless the percentile is below it, e.g. 50ms")
    p.add_argument("--timeout", default="10s", metavar="DURATION", help="per request (default: 10s)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the result as evidence JSON")
    p.add_argument(
        "--engine", choices=("auto", "builtin", "perf_analyzer"), default="auto",
        help="load generator: perf_analyzer where installed (auto), else the built-in one",
    )  # fmt: skip
    p.add_argument(
        "--perf-analyzer", metavar="PATH", help="the perf_analyzer binary (default: $SHIPSPEC_PERF_ANALYZER, PATH)"
    )
    p.add_argument(
        "--from-perf-analyzer", type=Path, metavar="FILE",
        help="take the result from a perf_analyzer profile export (--profile-export-file) instead of running load",
    )  # fmt: skip


def _add_training_run(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "training-run", "print one uniquely named run of a rendered training job (what retrain-*.yml starts)")
    p.add_argument("job_file", type=Path, metavar="JOB_FILE", help="the rendered Job or PyTorchJob")
    p.add_argument("--name", required=True, help="the run's name, unique per run")
    p.add_argument("--dataset-version", metavar="V", help="train on this dataset version instead of the pinned one")
    p.add_argument("--dataset-sha256", metavar="DIGEST", help="the digest of that dataset version")
    p.add_argument("--git-sha", metavar="SHA", help="the commit the run starts from: a label and MLflow's git tag")


def _add_record(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "record", "record a retrained model's new version and artifact in the spec, then recompile")
    p.add_argument("model", metavar="MODEL", help="the retrained model")
    _add_inputs(p)
    p.add_argument("--version", required=True, metavar="V", help="the new model version")
    p.add_argument("--artifact", required=True, metavar="URI", help="where the retrained model was written")
    p.add_argument("--out", type=Path, default=Path("."), metavar="ROOT", help="output root (default: .)")


def _add_promote(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    p = _sub(sub, "promote", "edit the spec to promote a model through a gate, then recompile")
    p.add_argument("model", metavar="MODEL", help="the model to promote")
    _add_inputs(p)  # after MODEL: `promote MODEL [PATH...] --to ENV`
    p.add_argument("--to", required=True, metavar="ENV", help="the environment a gate leads into")
    p.add_argument("--version", metavar="V", help="the version to promote (default: what runs in the gate's source)")
    _add_out_templates(p)


def _colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _report(checked: Reported, fmt: str, out: TextIO) -> None:
    from compiler import report

    if fmt == "auto":
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    if fmt == "json":
        report.as_json(checked.diagnostics, out)
    elif fmt == "sarif":
        report.sarif(checked.diagnostics, out, __version__, SOURCE_REPOSITORY)
    elif fmt == "github":
        report.github(checked.diagnostics, out)
    else:
        report.text(checked.diagnostics, checked.texts, out, _colour(out))


def _failed(checked: Reported, strict: bool) -> bool:
    from compiler.diagnostics import Severity

    bad = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(d.severity in bad for d in checked.diagnostics)


class Progress:
    """A progress line on a terminal for work that takes over ``delay`` seconds.

    Only when ``stream`` is a terminal and not in CI (``CI`` or ``GITHUB_ACTIONS`` set):
    pipes and CI logs never see it. The line is erased when the work ends."""

    def __init__(self, what: str, stream: TextIO | None = None, delay: float = 1.0) -> None:
        import threading

        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.shown = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def wanted(stream: TextIO) -> bool:
        in_ci = any(os.environ.get(v) for v in ("CI", "GITHUB_ACTIONS"))
        return not in_ci and stream.isatty()

    def _run(self) -> None:
        import time

        start = time.monotonic()
        if self._done.wait(self.delay):
            return
        while not self._done.is_set():
            self.stream.write(f"\r\x1b[Kshipspec: {self.what}... {time.monotonic() - start:.0f}s")
            self.stream.flush()
            self.shown = True
            self._done.wait(0.5)

    def __enter__(self) -> Progress:
        import threading

        if self.wanted(self.stream):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            if self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()


def cmd_init(args: argparse.Namespace) -> int:
    from compiler.commands import init

    root: Path = args.directory
    name = args.name or "".join(c if c.isalnum() else "_" for c in root.resolve().name.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = "ml_" + name if name else "ml"
    root.mkdir(parents=True, exist_ok=True)
    created = init.run(root, name, example=args.example, force=args.force)
    print("\n".join(init.describe(created)), file=sys.stderr)
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from compiler.commands import explain

    if args.list:
        sys.stdout.write(explain.listing())
        return EXIT_OK
    if not args.code:
        raise UsageError("name a code, e.g. shipspec explain SS740, or list them: shipspec explain --list")
    sys.stdout.write(explain.explain(args.code))
    return EXIT_OK


def cmd_completion(args: argparse.Namespace) -> int:
    from compiler.commands import completion

    sys.stdout.write(completion.script(args.shell, build_parser()))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    checked = _Validated(_inputs(args.paths, args), _allow(args))
    _report(checked, args.format, sys.stdout)
    return EXIT_FAIL if _failed(checked, _strict(args)) else EXIT_OK


# pipeline._ECHOES_OF_MISSING_FILES: what a file that did not parse makes other files report.
_ECHOES_OF_MISSING_FILES = frozenset({"SS101", "SS109", "SS402", "SS502", "SS603"})


class _Validated:
    """What ``shipspec validate`` reports: ``pipeline.validate``'s diagnostics and spec texts,
    made without importing ``compiler.pipeline`` (its records, protocols and the output
    module: ~0.5 ms of a cold validate, issue 16). tests/unit/test_cold_validate.py holds it
    to ``pipeline.validate`` on every spec file of the repository."""

    def __init__(self, inputs: Sequence[Path], allow: frozenset[str]) -> None:
        from compiler import allowances
        from compiler.checks import check
        from compiler.diagnostics import Diagnostic, Sink
        from compiler.parse.sources import load
        from compiler.resolve import resolve

        loaded = load(inputs)
        sink = Sink()
        check(resolve(loaded.spec), sink)
        found = sink.items
        if any(d.code < "SS100" for d in loaded.diagnostics):
            # A file that did not parse may hold the definitions other files use.
            found = [d for d in found if d.code not in _ECHOES_OF_MISSING_FILES]
        merged = sorted(set(found) | set(loaded.diagnostics), key=Diagnostic.sort_key)
        self.diagnostics = allowances.apply(loaded.sources, merged, allow, rendered=False)
        self.texts = {s.path: s.text for s in loaded.sources}


def cmd_fmt(args: argparse.Namespace) -> int:
    from compiler.commands import fmt as fmt_command

    clean = fmt_command.run(_inputs(args.paths, args), check=args.check, write=args.write, out=sys.stdout)
    return EXIT_OK if clean else EXIT_FAIL


def cmd_export(args: argparse.Namespace) -> int:
    from compiler import serialize
    from compiler.commands.export import export
    from compiler.pipeline import validate

    checked = validate(_inputs(args.paths, args))
    if checked.has_errors:
        _report(checked, "auto", sys.stderr)
        return EXIT_FAIL
    doc = export(checked.spec)
    sys.stdout.write(serialize.to_json(doc) if args.format == "json" else serialize.to_yaml(doc))
    return EXIT_OK


def _build(args: argparse.Namespace, store: Store | None = None, read: Inputs | None = None) -> Build:
    """Build the spec; ``read``: its files as ``_settled`` read them (not read twice)."""
    from compiler.pipeline import build

    inputs, templates, allow = _inputs(args.paths, args), _templates(args), _allow(args)
    before = read.sources if read is not None else ()
    with Progress("compiling"):
        return build(
            inputs, templates, store=store, allow=allow, ci_install=_config(args).ci_install, read_before=before
        )


def _cache(args: argparse.Namespace, *, writable: bool = True) -> Cache | None:
    """The build cache under the output root, unless --no-cache."""
    if args.no_cache:
        return None
    from compiler.cache import Cache

    return Cache(_out(args), writable=writable)


def cmd_compile(args: argparse.Namespace) -> int:
    if args.watch:
        from compiler.commands import watch

        return watch.run(
            _inputs(args.paths, args),
            _out(args),
            _templates(args),
            args.force,
            lambda planned: _report_compile(planned, args),
            allow=_allow(args),
            ci_install=_config(args).ci_install,
        )
    store = _cache(args)
    try:
        return _compile_once(args, store)
    finally:
        if store is not None:
            store.close()


def _compile_once(args: argparse.Namespace, store: Cache | None) -> int:
    from compiler import emit_journal, pipeline

    # One compile works on a tree at a time (issue 17): an existing tree is locked for the
    # whole compile, since its cache is written while building; a new one only once the
    # build succeeded, so a failing compile creates nothing.
    out = _out(args)
    existed = out.is_dir()  # decided once: another compile may create the tree meanwhile
    with emit_journal.locked(out) if existed else contextlib.nullcontext(), contextlib.ExitStack() as held:
        hit, read, record = _settled(args, store, out) if existed else (None, None, None)
        if record is not None:
            held.callback(record.close)  # the tree's verification apart, if nothing took its verdict
        if hit is not None:
            if store is not None and read is not None:
                from compiler import settled

                settled.keep_specs(store, out, read)
            print(f"shipspec: 0 written, 0 removed, {hit.files} unchanged under {out}", file=sys.stderr)
            _report(hit, args.format, sys.stdout)
            return EXIT_FAIL if _failed(hit, _strict(args)) else EXIT_OK
        built = _build(args, store, read)
        # The recorded tree is read (and verified) only now: held through the build it was a
        # tenth of a one-model edit's peak memory (issue 16). The build writes only under the
        # cache's own directories, which the record does not vouch for.
        tree = _tree(store, out, record) if existed else None
        if built.has_errors:
            planned = pipeline.plan(built, out, force=args.force, store=store, tree=tree)
        else:
            with contextlib.nullcontext() if existed else emit_journal.locked(out):
                planned = pipeline.plan(built, out, force=args.force, store=store, tree=tree)
                p = planned.plan
                if tree is not None and tree.early and p is not None and not _holds(tree, out, p):
                    # Verified while it built: something it is about to change moved since. Plan
                    # over what is there, as a compile that verified it just now would have.
                    tree = None
                    planned = pipeline.plan(built, out, force=args.force, store=store)
                settles = store is not None and built.key is not None
                if pipeline.emit(planned, store, settles=settles) and settles:
                    assert store is not None and built.key is not None
                    from compiler import settled

                    # Keyed on what was built (the files as this build read them), not on an earlier read.
                    inputs = settled.Inputs(planned.checked.sources, settled.with_allowed(built.key, _allow(args)))
                    assert planned.plan is not None  # emit wrote it
                    if not settled.record(store, out, inputs, planned.checked.diagnostics, planned.plan, tree, read):
                        pipeline.observe(planned.plan, store)  # no record: the plain hints, then
    if store is None or not store.deferred:
        # A compile into a new tree writes its cache as the store closes, pickling what it
        # deferred: what the build made is let go first, as that is its peak (issue 16, target 6).
        _hold(built, planned, tree, read, record)
    return _report_compile(planned, args)


def _build_switches(args: argparse.Namespace) -> tuple[Path | None, bool, str | None, frozenset[str]]:
    """What a build reads besides the spec files (compiler.settled keys on them)."""
    return _templates(args), True, _config(args).ci_install, _allow(args)


def _settled(
    args: argparse.Namespace, store: Store | None, out: Path
) -> tuple[Settled | None, Inputs | None, Found | None]:
    """The last compile's outcome when nothing it depends on changed (compiler.settled); the
    spec files as read to find out (None when one did not read cleanly); the record read,
    whose tree a large one verifies in a child meanwhile (``settled.Found``: the caller closes it)."""
    if store is None:
        return None, None, None
    from compiler import settled

    record = settled.Found(store, out)
    try:
        known = settled.spec_texts(store, out)
        inputs = settled.read_inputs(_inputs(args.paths, args), *_build_switches(args), known)
        return (settled.lookup(store, out, inputs, record) if inputs is not None else None), inputs, record
    except BaseException:
        record.close()
        raise


def _tree(store: Store | None, out: Path, record: Found | None) -> Tree | None:
    """The output root as the last recorded compile left it, for an incremental plan
    (compiler.settled; ``record``: the record ``_settled`` read)."""
    if store is None:
        return None
    from compiler import settled

    return settled.tree(store, out, record)


def _holds(tree: Tree, out: Path, plan: Plan) -> bool:
    from compiler import settled

    return settled.holds(tree, out, [*plan.write, *plan.delete])


# What a command that builds the spec once made, held from the command's end to the process's
# when ``run`` ends it (``_end_now``): freed as the command returned, a one-model edit's compile
# at 1,000 models spent ~50-80 ms giving back memory the process was about to lose anyway.
# None wherever else ``main`` is called (a test, a library caller): nothing is held there.
_HELD: list[tuple[object, ...]] | None = None


def _hold(*made: object) -> None:
    if _HELD is not None:
        _HELD.append(made)


def _report_compile(planned: Planned, args: argparse.Namespace) -> int:
    if planned.plan is not None and not planned.has_errors:
        done = planned.plan
        print(
            f"shipspec: {len(done.write)} written, {len(done.delete)} removed, "
            f"{len(done.unchanged)} unchanged under {_out(args)}",
            file=sys.stderr,
        )
    _report(planned.checked, args.format, sys.stdout)
    return EXIT_FAIL if _failed(planned.checked, _strict(args)) else EXIT_OK


def _github(fmt: str) -> bool:
    return fmt == "github" or (fmt == "auto" and os.environ.get("GITHUB_ACTIONS") == "true")


def cmd_check(args: argparse.Namespace) -> int:
    store = _cache(args, writable=False)  # check never writes under the output root
    try:
        return _check_once(args, store)
    finally:
        if store is not None:
            store.close()


def _check_once(args: argparse.Namespace, store: Store | None) -> int:
    hit, read, record = _settled(args, store, _out(args))
    try:
        return _checked(args, store, hit, read, record)
    finally:
        if record is not None:
            record.close()  # the tree's verification apart, if nothing took its verdict


def _checked(
    args: argparse.Namespace, store: Store | None, hit: Settled | None, read: Inputs | None, record: Found | None
) -> int:
    from compiler import pipeline, report

    if hit is not None:  # the tree is what compiling this spec wrote: current
        _report(hit, args.format, sys.stderr if args.format not in ("json", "sarif") else sys.stdout)
        return EXIT_FAIL if _failed(hit, _strict(args)) else EXIT_OK
    built = _build(args, store, read)
    checked = pipeline.outcome(built)
    _hold(built, read, record)
    if built.has_errors:
        _report(checked, args.format, sys.stdout)
        return EXIT_FAIL
    found = pipeline.staleness(built, _out(args), store, tree=_tree(store, _out(args), record))
    if found.refused:  # issue 17: ledger entries and paths that are never read (so never diffed)
        from dataclasses import replace

        from compiler.diagnostics import Diagnostic

        diagnostics = tuple(sorted({*checked.diagnostics, *found.refused}, key=Diagnostic.sort_key))
        _report(replace(checked, diagnostics=diagnostics), args.format, sys.stdout)
        return EXIT_FAIL
    _report(checked, args.format, sys.stderr if args.format not in ("json", "sarif") else sys.stdout)
    if found.paths:
        if _github(args.format):
            report.stale_annotations(found.paths, sys.stdout)
        sys.stdout.write(found.diff)
        shown = ", ".join(found.paths[:5]) + (", ..." if len(found.paths) > 5 else "")
        print(
            f"shipspec: the rendered output is stale ({len(found.paths)} files: {shown}); run: shipspec compile",
            file=sys.stderr,
        )
        return EXIT_FAIL
    return EXIT_FAIL if _failed(checked, _strict(args)) else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from compiler.commands import diff as changes

    built = _build(args)
    if built.has_errors:
        _report(built.checked, "auto", sys.stderr)
        return EXIT_FAIL
    found = changes.against(
        args.base,
        _inputs(args.paths, args),
        _templates(args),
        built,
        args.format == "markdown",
        _config(args).ci_install,  # the base renders with the same settings: only the spec's changes show
    )
    if not found.base_compiles:
        print(f"shipspec: the spec at {args.base} does not compile; comparing against nothing", file=sys.stderr)
    sys.stdout.write(found.text)
    if args.comment is not None:
        from compiler.commands import pr_comment

        body = (
            found.text
            if args.format == "markdown"
            else changes.against(
                args.base, _inputs(args.paths, args), _templates(args), built, True, _config(args).ci_install
            ).text
        )
        env = os.environ
        if not env.get("GITHUB_TOKEN") or not env.get("GITHUB_REPOSITORY"):
            raise UsageError("--comment needs GITHUB_TOKEN and GITHUB_REPOSITORY in the environment")
        try:
            done = pr_comment.upsert(
                body,
                changes.MARKER,
                env["GITHUB_REPOSITORY"],
                args.comment,
                env["GITHUB_TOKEN"],
                env.get("GITHUB_API_URL", "https://api.github.com"),
            )
        except UsageError as exc:  # e.g. a fork's read-only token: the job summary still has the report
            print(f"shipspec: warning: the pull request comment was not posted: {exc}", file=sys.stderr)
        else:
            print(f"shipspec: pull request comment {done}", file=sys.stderr)
    return EXIT_OK


def gate_name(gate: str | None, source: str | None, target: str | None) -> str:
    """``FROM->TO`` from ``--gate`` or ``--from``/``--to``; a usage error for anything else."""
    if gate is not None and (source is not None or target is not None):
        raise UsageError("give either --gate 'FROM->TO' or --from and --to, not both")
    if gate is None:
        if source is None or target is None:
            raise UsageError("name the gate: --gate 'FROM->TO' (quoted) or --from ENV --to ENV")
        return f"{source}->{target}"
    if "->" not in gate:
        hint = ""
        if gate.endswith("-"):
            hint = (
                f"; the shell read '>' as a redirection (and may have created a file named after the target): "
                f"quote it, --gate '{gate}>TO', or use --from {gate[:-1]} --to TO"
            )
        raise UsageError(f"--gate {gate!r}: expected FROM->TO{hint}")
    return gate


def cmd_gate(args: argparse.Namespace) -> int:
    from compiler.commands import gate as gates
    from compiler.pipeline import validate

    if args.gate_command == "provenance":
        return _gate_provenance(args)
    gate = gate_name(args.gate, args.gate_from, args.gate_to)
    checked = validate(_inputs(args.paths, args))
    if checked.has_errors:
        _report(checked, "auto", sys.stderr)
        return EXIT_FAIL
    result = gates.run_check(
        checked.spec, gate, args.model, args.evidence, args.format, args.version, args.run, args.commit
    )
    sys.stdout.write(result.text)
    return EXIT_OK if result.passed else EXIT_FAIL


def _gate_provenance(args: argparse.Namespace) -> int:
    from compiler.commands import evidence

    datasets: dict[str, Path] = {}
    for item in args.dataset:
        name, sep, directory = item.partition("=")
        if not sep or not name or not directory:
            raise UsageError(f"--dataset {item!r}: expected NAME=DIR")
        datasets[name] = Path(directory)
    try:
        digests = evidence.stamp(args.evidence, args.run, args.commit, datasets)
    except evidence.EvidenceError as exc:
        raise InputError(f"malformed evidence: {exc}") from None
    for name, digest in digests.items():
        print(f"{name}: sha256 {digest}")
    return EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    from compiler.commands import load as loadtest

    s = loadtest.settings(args.rate, args.duration, args.percentile, args.timeout, args.threshold)
    binary = loadtest.find_perf_analyzer(args.perf_analyzer) if args.engine != "builtin" else None
    if args.engine == "perf_analyzer" and binary is None:
        raise UsageError(f"--engine perf_analyzer: no perf_analyzer on PATH or in ${loadtest.PERF_ANALYZER_ENV}")
    if args.from_perf_analyzer is not None:
        result = loadtest.read_profile_export(args.from_perf_analyzer, args.model, args.url, s.percentile)
    elif binary is not None:
        result = loadtest.run_perf_analyzer(
            binary, args.url, args.model, rate=s.rate, duration=s.duration, percentile=s.percentile,
            version=args.model_version, timeout=s.timeout,
        )  # fmt: skip
    else:
        result = loadtest.run(
            args.url,
            args.model,
            rate=s.rate,
            duration=s.duration,
            percentile=s.percentile,
            version=args.model_version,
            timeout=s.timeout,
        )
    if args.out is not None:
        loadtest.save(result, args.out)
    sys.stdout.write(loadtest.describe(result, s.threshold_ms))
    return EXIT_OK if loadtest.passed(result, s.threshold_ms) else EXIT_FAIL


def cmd_promote(args: argparse.Namespace) -> int:
    from compiler.commands import promote

    done = promote.run(_inputs(args.paths, args), args.model, args.to, args.version, _out(args), _templates(args))
    print("\n".join(done))
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from compiler.commands import record

    print("\n".join(record.run(_inputs(args.paths), args.model, args.version, args.artifact, args.out)))
    return EXIT_OK


def cmd_training_run(args: argparse.Namespace) -> int:
    from compiler.commands import training_run

    sys.stdout.write(
        training_run.manifest(args.job_file, args.name, args.dataset_version, args.dataset_sha256, args.git_sha)
    )
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from compiler import report
    from compiler.commands import import_triton as triton_import
    from compiler.diagnostics import Severity
    from compiler.fsutil import write_atomic

    base = args.artifact_base or triton_import.ARTIFACT_BASE
    result = triton_import.import_path(args.path, serve_in=args.serve, artifact_base=base, drop=args.drop)
    report.text(result.diagnostics, result.sources, sys.stderr, _colour(sys.stderr))
    if any(d.severity is Severity.ERROR for d in result.diagnostics):
        return EXIT_FAIL
    if args.out is not None:
        write_atomic(args.out, result.text.encode("utf-8"))
    else:
        sys.stdout.write(result.text)
    return EXIT_OK


def cmd_smoke(args: argparse.Namespace) -> int:
    from compiler.commands import smoke

    result = smoke.run(
        _inputs(args.paths, args), args.url.removeprefix("http://"), args.env, args.ignore, args.timeout, args.tree
    )
    sys.stdout.write(result.text())
    if result.unreachable:  # as `load`: a server that cannot be reached is not a failed check
        return EXIT_USAGE
    return EXIT_OK if result.ok else EXIT_FAIL


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from compiler.lsp import server
    except ImportError as exc:
        raise UsageError(f"the language server needs pygls: pip install 'shipspec[lsp]' ({exc})") from exc
    server.serve()
    return EXIT_OK


def _add_drift(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    """drift: the monitoring tier's drift job."""
    p = sub.add_parser("drift", help="compare recent feature logs with the training data; push drift metrics")
    p.add_argument("model", metavar="MODEL", help="the model whose inputs are compared")
    p.add_argument("paths", nargs="*", default=["specs"], metavar="PATH", help="spec files or directories")
    p.add_argument("--env", required=True, metavar="ENV", help="the environment whose requests were logged")
    p.add_argument(
        "--current",
        required=True,
        action="append",
        metavar="LOCATION",
        help="recent feature logs: a CSV / Parquet file, a directory, file:// or s3:// URI (repeatable)",
    )
    p.add_argument(
        "--reference",
        action="append",
        metavar="LOCATION",
        help="reference sample (default: the uri of the model's trained_on dataset)",
    )
    p.add_argument(
        "--namespace",
        metavar="NS",
        help="the environment's namespace (default: from the spec; with --reference no spec is read)",
    )
    p.add_argument("--pushgateway", metavar="URL", help="push the metrics to this Pushgateway")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the metrics in Prometheus' text format")
    p.add_argument("--bins", type=int, default=10, metavar="N", help="quantile bins of numeric features (default: 10)")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="the report: text or json (default: text)"
    )


def _add_relay(sub: _SubParsers[argparse.ArgumentParser]) -> None:
    """relay: the monitoring tier's webhook."""
    p = sub.add_parser("relay", help="serve an Alertmanager webhook that starts retrain workflows on GitHub")
    p.add_argument(
        "--listen",
        default="0.0.0.0:8080",
        metavar="HOST:PORT",
        help="where Alertmanager's webhook reaches the relay (default: 0.0.0.0:8080)",
    )
    p.add_argument("--repository", required=True, metavar="OWNER/REPO", help="the repository whose workflows start")
    p.add_argument(
        "--api-url",
        default="https://api.github.com",
        metavar="URL",
        help="GitHub's API (default: https://api.github.com)",
    )
    p.add_argument(
        "--token-env",
        default="GITHUB_TOKEN",
        metavar="VAR",
        help="environment variable holding the token (default: GITHUB_TOKEN)",
    )


def cmd_drift(args: argparse.Namespace) -> int:
    from compiler.commands import monitor

    result = monitor.drift_for(
        [Path(p) for p in args.paths], args.model, args.env, args.current, args.reference, args.namespace, args.bins
    )
    if args.out:
        args.out.write_text(result.exposition())
    if args.pushgateway:
        from compiler.commands import drift

        drift.push(args.pushgateway, result)
    if args.format == "json":
        report = {
            "model": result.model,
            "environment": result.environment,
            "rows": result.rows,
            "missing_features_ratio": result.missing_ratio,
            "drift": result.drift,
        }
        import json

        print(json.dumps(report, indent=2))
    else:
        sys.stdout.write(result.text())
    return EXIT_OK


def cmd_relay(args: argparse.Namespace) -> int:
    from compiler.commands import relay

    relay.serve(args.listen, args.repository, args.api_url, args.token_env)
    return EXIT_OK


# Each command's parser, in the order `shipspec --help` lists them.
_PARSERS: dict[str, Callable[[_SubParsers[argparse.ArgumentParser]], None]] = {
    "init": _add_init,
    "validate": _add_validate,
    "fmt": _add_fmt,
    "compile": lambda sub: _add_render(sub, "compile", "render the spec and write the output tree"),
    "check": lambda sub: _add_render(sub, "check", "exit 1 with a diff when the committed output is stale"),
    "diff": _add_diff,
    "export": _add_export,
    "lsp": _add_lsp,
    "explain": _add_explain,
    "completion": _add_completion,
    "gate": _add_gate,
    "load": _add_load,
    "training-run": _add_training_run,
    "record": _add_record,
    "promote": _add_promote,
    "import": _add_import,
    "smoke": _add_smoke,
    "drift": _add_drift,
    "relay": _add_relay,
}


def _command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names when only the global options ``--config FILE`` and
    ``--no-config`` come before it (written in full); else None (the full parser decides)."""
    i = 0
    while i < len(argv) and (argv[i] in ("--config", "--no-config") or argv[i].startswith("--config=")):
        i += 2 if argv[i] == "--config" else 1
    return argv[i] if i < len(argv) and argv[i] in _PARSERS else None


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "lsp": cmd_lsp,
    "init": cmd_init,
    "explain": cmd_explain,
    "completion": cmd_completion,
    "compile": cmd_compile,
    "check": cmd_check,
    "diff": cmd_diff,
    "validate": cmd_validate,
    "fmt": cmd_fmt,
    "export": cmd_export,
    "gate": cmd_gate,
    "load": cmd_load,
    "promote": cmd_promote,
    "training-run": cmd_training_run,
    "record": cmd_record,
    "import": cmd_import,
    "smoke": cmd_smoke,
    "drift": cmd_drift,
    "relay": cmd_relay,
}


def _template_error(exc: Exception) -> str | None:
    """``name:line`` when ``exc`` is a Jinja error (a user template that broke or broke the sandbox)."""
    import jinja2

    if not isinstance(exc, jinja2.TemplateError):
        return None
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or "?"
    return f"{name}:{getattr(exc, 'lineno', None) or '?'}"


# Commands that run briefly over input of bounded size (the pre-commit hooks' validate and fmt,
# explain, completion): run() holds the cyclic garbage collector off for them.
_BRIEF = frozenset({"validate", "fmt", "explain", "completion"})
# Commands that build the whole spec once and end. The cyclic collector walked their growing
# heap (the IR, the render-unit memo, 32k rendered files at 1,000 models) again and again and
# freed little: 1.2 s of a one-field edit's 4 s and a fifth of a cold compile's CPU, with the
# same peak memory without it (issue 16). ``compile --watch`` runs on, and collects between steps.
_ONE_BUILD = frozenset({"compile", "check", "diff", "export", "promote"})


def run() -> int:
    """The ``shipspec`` program (the console script and ``python -m compiler``): ``main`` in a
    process that ends when it returns.

    Issue 16, a cold ``shipspec validate`` in a pre-commit hook: while some 250 modules load,
    the cyclic garbage collector walked their new objects again and again and found nothing
    to free (~4 ms; a brief command's own cyclic garbage is small, so it stays off for them);
    and at exit, interpreter shutdown collected once more over every object (~10 ms), which
    ``gc.freeze`` spares: the process is ending, its memory goes with it. A command that builds
    the spec once (``_ONE_BUILD``) runs without the collector too, and with large C blocks
    given back as they are freed (``heap``: 19 MiB of a cold compile's peak); it ends as a
    validate does, holding what it built to the end (``_HELD``) rather than freeing it first."""
    import gc

    global _HELD
    command = _command(sys.argv[1:])
    one_build = command in _ONE_BUILD and "--watch" not in sys.argv[1:]
    if command in _BRIEF or one_build:
        gc.disable()
    if one_build:
        from compiler import heap

        heap.return_freed_memory()
        _HELD = []
    code = main()
    gc.freeze()
    if command == "validate" or one_build:
        _end_now(code)
    return code


def _end_now(code: int) -> None:
    """End a finished ``validate`` or one-build command here, without the interpreter's
    finalization (issue 16).

    After a cold ``shipspec validate`` of one file, finalization (clearing some 250 modules
    and freeing every object they hold) was ~2 ms of the ~40; after a compile, freeing what
    it built was more (``_HELD``). Nothing in it matters to a
    command that has written its report: the output is flushed here, and the process ends
    with ``code`` as it would. Where something is left for the exit to do, a registered
    ``atexit`` callback (coverage, a caller's own) or a thread, or where the output cannot
    be flushed (a closed pipe: Python reports that as it always does), this returns and the
    interpreter ends as usual."""
    import atexit

    if atexit._ncallbacks() or "threading" in sys.modules and len(sys.modules["threading"].enumerate()) > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - a closed pipe, no stream: the ordinary exit reports it
        return
    os._exit(code)


class _Plain:
    """The namespace argparse would make for a plain ``shipspec validate PATH...``."""

    def __init__(self, paths: list[str]) -> None:
        self.config: Path | None = None
        self.no_config = False
        self.command = "validate"
        self.paths = paths
        self.format = "auto"
        self.strict: bool | None = None
        self.allow: list[str] = []


def _plain_validate(argv: Sequence[str]) -> argparse.Namespace | None:
    """``validate`` followed only by paths (no argument starting with ``-``, which argparse
    would read as an option): its namespace, without building a parser; else None.

    Issue 16: the pre-commit hook's cold ``shipspec validate FILE...`` spent ~5 ms importing
    argparse (with gettext and locale) and shutil (which the help formatter asks for the
    terminal's width at every ``add_argument``) to read only paths. tests/unit/test_cli.py
    checks that the namespace is the parser's."""
    if not argv or argv[0] != "validate" or any(arg.startswith("-") for arg in argv[1:]):
        return None
    made: argparse.Namespace = _Plain(list(argv[1:]))  # type: ignore[assignment]
    return made


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    args = _plain_validate(given)
    if args is None:
        parser = build_parser(_command(given))
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
            return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except Refused as exc:
        print(f"shipspec: {args.command} refused: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except ShipspecError as exc:
        print(f"shipspec: error: {exc}", file=sys.stderr)
        return EXIT_FAIL if isinstance(exc, InputError) else EXIT_USAGE
    except OSError as exc:
        print(f"shipspec: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: no tracebacks for users
        if (where := _template_error(exc)) is not None:  # a --templates override failed (or was refused)
            print(f"shipspec: error: template {where}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"shipspec: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in shipspec; please report it with the input that caused it.",
            file=sys.stderr,
        )
        if os.environ.get("SHIPSPEC_DEBUG"):
            raise
        return EXIT_INTERNAL
