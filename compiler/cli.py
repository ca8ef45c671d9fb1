"""The ``shipspec`` command: argument parsing, dispatch and exit codes.

Only this module knows exit codes. It parses the arguments, calls the pipeline
(``compiler.pipeline``) or a command (``compiler.commands``), and maps their
typed results, and the one root error class (``compiler.errors.ShipspecError``),
to exit codes: 0 clean; 1 errors, drift, unformatted specs, malformed evidence or
a refused promotion; 2 usage, configuration or I/O problems; 3 an internal error
(a bug: please report it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from compiler import __version__
from compiler.commands import monitor as monitor_commands
from compiler.errors import InputError, Refused, ShipspecError, UsageError

if TYPE_CHECKING:
    from compiler.cache import Cache
    from compiler.parse.sources import Store
    from compiler.pipeline import Build, Checked, Planned

__all__ = ["EXIT_FAIL", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
DEFAULT_SPECS = Path("specs")


def _inputs(paths: Sequence[str]) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    if not DEFAULT_SPECS.is_dir():
        raise UsageError(f"no spec files given and no '{DEFAULT_SPECS}/' directory here")
    return [DEFAULT_SPECS]


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="spec files or directories (default: specs/)")


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=("auto", "text", "json", "github"),
        default="auto",
        help="diagnostic output; auto is github under GitHub Actions, else text",
    )
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shipspec", description="Validate ML lifecycle specs and render them for GitOps."
    )
    parser.add_argument("--version", action="version", version=f"shipspec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="parse and check specs")
    _add_inputs(p)
    _add_format(p)

    p = sub.add_parser("fmt", help="print specs in the canonical layout")
    _add_inputs(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 and print a diff when a file is not formatted")
    mode.add_argument("--write", action="store_true", help="rewrite files in place")

    for name, text in (
        ("compile", "render the spec and write the output tree"),
        ("check", "exit 1 with a diff when the committed output is stale"),
    ):
        p = sub.add_parser(name, help=text)
        _add_inputs(p)
        _add_format(p)
        p.add_argument("--out", type=Path, default=Path("."), metavar="ROOT", help="output root (default: .)")
        p.add_argument("--templates", type=Path, metavar="DIR", help="directory of template overrides")
        p.add_argument("--no-cache", action="store_true",
                       help="neither read nor write the build cache (ROOT/.shipspec/cache/, safe to delete)")
        if name == "compile":
            p.add_argument("--force", action="store_true", help="overwrite or prune hand-edited generated files")
            p.add_argument("--watch", action="store_true",
                           help="keep running: recompile (from memory) whenever a spec file changes")

    p = sub.add_parser("diff", help="show per environment what the spec renders differently from REV")
    _add_inputs(p)
    p.add_argument("--base", required=True, metavar="REV", help="git revision to compare against, e.g. origin/main")
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    p.add_argument("--templates", type=Path, metavar="DIR", help="directory of template overrides")
    p.add_argument(
        "--comment",
        type=int,
        metavar="PR",
        help="also post the markdown report as one comment on pull request PR, updated in place on later runs "
        "(GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL from the environment)",
    )

    p = sub.add_parser("export", help="print the checked IR as JSON or YAML")
    _add_inputs(p)
    p.add_argument("--format", choices=("json", "yaml"), default="json")
    sub.add_parser("lsp", help="run the language server on stdio (for editors; needs shipspec[lsp])")
    _add_lifecycle(sub)
    _add_triton(sub)
    monitor_commands.add_parsers(sub)
    return parser


def _add_triton(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """import triton and smoke: bringing existing Triton configs in, checking a running server."""
    imp = sub.add_parser("import", help="turn existing configs into spec text").add_subparsers(
        dest="import_kind", required=True
    )
    p = imp.add_parser("triton", help="config.pbtxt files (a file, a model directory or a repository) -> models")
    p.add_argument("path", type=Path, metavar="PATH")
    p.add_argument("--serve", action="append", default=[], metavar="ENV", help="add 'serve in ENV' (repeatable)")
    p.add_argument("--artifact-base", default=None, metavar="URI", help="where artifacts live (default: a placeholder)")
    p.add_argument("--drop", action="append", default=[], metavar="FIELD",
                   help="import without this config field (dotted: input.allow_ragged_batch); reported, repeatable")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the spec text here instead of stdout")

    p = sub.add_parser("smoke", help="check a running Triton against the spec for one environment")
    _add_inputs(p)
    p.add_argument("--url", required=True, metavar="HOST:PORT", help="Triton's HTTP endpoint")
    p.add_argument("--env", required=True, metavar="ENV")
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


def _add_lifecycle(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """gate check, load and promote: the commands the promotion workflows run."""
    gate = sub.add_parser("gate", help="promotion gates").add_subparsers(dest="gate_command", required=True)
    p = gate.add_parser("check", help="evaluate a gate's conditions against evidence (docs/evidence.md)")
    _add_inputs(p)
    p.add_argument("--gate", required=True, metavar="FROM->TO", help="e.g. staging->prod")
    p.add_argument("--model", required=True, metavar="MODEL")
    p.add_argument("--evidence", required=True, action="append", metavar="FILE", help="YAML or JSON; repeatable")
    p.add_argument("--version", metavar="V", help="fail unless the evidence names this model version")
    p.add_argument("--run", metavar="URL", help="fail unless the evidence's provenance names this workflow run")
    p.add_argument("--commit", metavar="SHA", help="fail unless the evidence's provenance names this commit")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    p = gate.add_parser("provenance", help="record where evaluation evidence comes from (run, commit, datasets)")
    p.add_argument("evidence", type=Path, metavar="FILE", help="the evaluation's evidence file, rewritten")
    p.add_argument("--run", required=True, metavar="URL", help="the workflow run that measured it")
    p.add_argument("--commit", required=True, metavar="SHA", help="the commit it ran at")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME=DIR",
                   help="a dataset it read; its digest is computed from DIR (repeatable)")  # fmt: skip

    p = sub.add_parser("load", help="bounded open-loop load test of a Triton endpoint; writes evidence")
    p.add_argument("--url", required=True, help="host:port or http://host:port (HTTP), grpc://host:port (gRPC)")
    p.add_argument("--model", required=True)
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

    p = sub.add_parser(
        "training-run", help="print one uniquely named run of a rendered training job (what retrain-*.yml starts)"
    )
    p.add_argument("job_file", type=Path, metavar="JOB_FILE", help="the rendered Job or PyTorchJob")
    p.add_argument("--name", required=True, help="the run's name, unique per run")
    p.add_argument("--dataset-version", metavar="V", help="train on this dataset version instead of the pinned one")
    p.add_argument("--dataset-sha256", metavar="DIGEST", help="the digest of that dataset version")

    p = sub.add_parser("record", help="record a retrained model's new version and artifact in the spec, then recompile")
    p.add_argument("model", metavar="MODEL")
    _add_inputs(p)
    p.add_argument("--version", required=True, metavar="V", help="the new model version")
    p.add_argument("--artifact", required=True, metavar="URI", help="where the retrained model was written")
    p.add_argument("--out", type=Path, default=Path("."), metavar="ROOT", help="output root (default: .)")

    p = sub.add_parser("promote", help="edit the spec to promote a model through a gate, then recompile")
    p.add_argument("model", metavar="MODEL")
    _add_inputs(p)  # after MODEL: `promote MODEL [PATH...] --to ENV`
    p.add_argument("--to", required=True, metavar="ENV")
    p.add_argument("--version", metavar="V", help="the version to promote (default: what runs in the gate's source)")
    p.add_argument("--out", type=Path, default=Path("."), metavar="ROOT", help="output root (default: .)")


def _colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _report(checked: Checked, fmt: str, out: TextIO) -> None:
    from compiler import report

    if fmt == "auto":
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    if fmt == "json":
        report.as_json(checked.diagnostics, out)
    elif fmt == "github":
        report.github(checked.diagnostics, out)
    else:
        report.text(checked.diagnostics, checked.texts, out, _colour(out))


def _failed(checked: Checked, strict: bool) -> bool:
    from compiler.diagnostics import Severity

    bad = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(d.severity in bad for d in checked.diagnostics)


def cmd_validate(args: argparse.Namespace) -> int:
    from compiler.pipeline import validate

    checked = validate(_inputs(args.paths))
    _report(checked, args.format, sys.stdout)
    return EXIT_FAIL if _failed(checked, args.strict) else EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    from compiler.commands import fmt as fmt_command

    clean = fmt_command.run(_inputs(args.paths), check=args.check, write=args.write, out=sys.stdout)
    return EXIT_OK if clean else EXIT_FAIL


def cmd_export(args: argparse.Namespace) -> int:
    from compiler import serialize
    from compiler.commands.export import export
    from compiler.pipeline import validate

    checked = validate(_inputs(args.paths))
    if checked.has_errors:
        _report(checked, "auto", sys.stderr)
        return EXIT_FAIL
    doc = export(checked.spec)
    sys.stdout.write(serialize.to_json(doc) if args.format == "json" else serialize.to_yaml(doc))
    return EXIT_OK


def _build(args: argparse.Namespace, store: Store | None = None) -> Build:
    from compiler.pipeline import build

    if args.templates is not None and not args.templates.is_dir():
        raise UsageError(f"--templates {args.templates}: not a directory")
    return build(_inputs(args.paths), args.templates, store=store)


def _cache(args: argparse.Namespace, *, writable: bool = True) -> Cache | None:
    """The build cache under the output root, unless --no-cache."""
    if args.no_cache:
        return None
    from compiler.cache import Cache

    return Cache(args.out, writable=writable)


def cmd_compile(args: argparse.Namespace) -> int:
    if args.watch:
        from compiler.commands import watch

        return watch.run(_inputs(args.paths), args.out, args.templates, args.force,
                         lambda planned: _report_compile(planned, args))
    store = _cache(args)
    try:
        return _compile_once(args, store)
    finally:
        if store is not None:
            store.close()


def _compile_once(args: argparse.Namespace, store: Store | None) -> int:
    from compiler import emit_journal, pipeline

    # One compile works on a tree at a time (issue 17): an existing tree is locked for the
    # whole compile, since its cache is written while building; a new one only once the
    # build succeeded, so a failing compile creates nothing.
    with emit_journal.locked(args.out) if args.out.is_dir() else contextlib.nullcontext():
        built = _build(args, store)
        if built.has_errors:
            planned = pipeline.plan(built, args.out, force=args.force, store=store)
        else:
            with emit_journal.locked(args.out) if not args.out.is_dir() else contextlib.nullcontext():
                planned = pipeline.plan(built, args.out, force=args.force, store=store)
                pipeline.emit(planned, store)
    return _report_compile(planned, args)


def _report_compile(planned: Planned, args: argparse.Namespace) -> int:
    if planned.plan is not None and not planned.has_errors:
        assert planned.plan is not None
        done = planned.plan
        print(
            f"shipspec: {len(done.write)} written, {len(done.delete)} removed, "
            f"{len(done.unchanged)} unchanged under {args.out}",
            file=sys.stderr,
        )
    _report(planned.checked, args.format, sys.stdout)
    return EXIT_FAIL if _failed(planned.checked, args.strict) else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    store = _cache(args, writable=False)  # check never writes under the output root
    try:
        return _check_once(args, store)
    finally:
        if store is not None:
            store.close()


def _check_once(args: argparse.Namespace, store: Store | None) -> int:
    from compiler import pipeline

    built = _build(args, store)
    checked = pipeline.outcome(built)
    if built.has_errors:
        _report(checked, args.format, sys.stdout)
        return EXIT_FAIL
    patch, refused = pipeline.check_tree(built, args.out, store)
    if refused:  # issue 17: ledger entries and paths that are never read (so never diffed)
        from dataclasses import replace

        from compiler.diagnostics import Diagnostic

        found = tuple(sorted({*checked.diagnostics, *refused}, key=Diagnostic.sort_key))
        _report(replace(checked, diagnostics=found), args.format, sys.stdout)
        return EXIT_FAIL
    _report(checked, args.format, sys.stderr)
    if patch:
        sys.stdout.write(patch)
        print("shipspec: the rendered output is stale; run: shipspec compile", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_FAIL if _failed(checked, args.strict) else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from compiler.commands import diff as changes

    built = _build(args)
    if built.has_errors:
        _report(built.checked, "auto", sys.stderr)
        return EXIT_FAIL
    found = changes.against(args.base, _inputs(args.paths), args.templates, built, args.format == "markdown")
    if not found.base_compiles:
        print(f"shipspec: the spec at {args.base} does not compile; comparing against nothing", file=sys.stderr)
    sys.stdout.write(found.text)
    if args.comment is not None:
        from compiler.commands import pr_comment

        body = found.text if args.format == "markdown" else changes.against(
            args.base, _inputs(args.paths), args.templates, built, True).text
        env = os.environ
        if not env.get("GITHUB_TOKEN") or not env.get("GITHUB_REPOSITORY"):
            raise UsageError("--comment needs GITHUB_TOKEN and GITHUB_REPOSITORY in the environment")
        try:
            done = pr_comment.upsert(body, changes.MARKER, env["GITHUB_REPOSITORY"], args.comment,
                                     env["GITHUB_TOKEN"], env.get("GITHUB_API_URL", "https://api.github.com"))
        except UsageError as exc:  # e.g. a fork's read-only token: the job summary still has the report
            print(f"shipspec: warning: the pull request comment was not posted: {exc}", file=sys.stderr)
        else:
            print(f"shipspec: pull request comment {done}", file=sys.stderr)
    return EXIT_OK


def cmd_gate(args: argparse.Namespace) -> int:
    from compiler.commands import gate as gates
    from compiler.pipeline import validate

    if args.gate_command == "provenance":
        return _gate_provenance(args)
    checked = validate(_inputs(args.paths))
    if checked.has_errors:
        _report(checked, "auto", sys.stderr)
        return EXIT_FAIL
    result = gates.run_check(
        checked.spec, args.gate, args.model, args.evidence, args.format, args.version, args.run, args.commit
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

    done = promote.run(_inputs(args.paths), args.model, args.to, args.version, args.out)
    print("\n".join(done))
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from compiler.commands import record

    print("\n".join(record.run(_inputs(args.paths), args.model, args.version, args.artifact, args.out)))
    return EXIT_OK


def cmd_training_run(args: argparse.Namespace) -> int:
    from compiler.commands import training_run

    sys.stdout.write(training_run.manifest(args.job_file, args.name, args.dataset_version, args.dataset_sha256))
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
        _inputs(args.paths), args.url.removeprefix("http://"), args.env, args.ignore, args.timeout, args.tree
    )
    sys.stdout.write(result.text())
    return EXIT_OK if result.ok else EXIT_FAIL


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from compiler.lsp import server
    except ImportError as exc:
        raise UsageError(f"the language server needs pygls: pip install 'shipspec[lsp]' ({exc})") from exc
    server.serve()
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "lsp": cmd_lsp,
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
    **monitor_commands.COMMANDS,
}


def _template_error(exc: Exception) -> str | None:
    """``name:line`` when ``exc`` is a Jinja error (a user template that broke or broke the sandbox)."""
    import jinja2

    if not isinstance(exc, jinja2.TemplateError):
        return None
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or "?"
    return f"{name}:{getattr(exc, 'lineno', None) or '?'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
