"""The monitoring tier's commands: ``shipspec drift`` (compute and push drift
metrics for one model) and ``shipspec relay`` (Alertmanager -> GitHub
repository_dispatch). Both run as rendered workloads in the monitoring tier
(docs/monitoring.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    from compiler.pipeline import validate
    from compiler.resolve import namespace

    if args.reference and args.namespace:  # the rendered CronJob: everything given, no spec in the image
        return _drift(args, args.model, args.env, args.namespace, args.reference)
    checked = validate([Path(p) for p in args.paths])
    r = checked.resolved
    model, env = r.models.get(args.model), r.environments.get(args.env)
    if model is None or env is None:
        print(
            f"shipspec drift: error: no {'model ' + args.model if model is None else 'environment ' + args.env} "
            "in the spec",
            file=sys.stderr,
        )
        return EXIT_USAGE
    reference = args.reference
    if not reference:
        dataset = r.datasets.get(model.trained_on.name) if model.trained_on else None
        if dataset is None or not dataset.uri:
            print(
                f"shipspec drift: error: {model.name} names no trained_on dataset with a uri; pass --reference",
                file=sys.stderr,
            )
            return EXIT_USAGE
        reference = [dataset.uri]
    return _drift(args, model.name, env.name, args.namespace or namespace(env), reference)


def _drift(args: argparse.Namespace, model: str, env: str, namespace: str, reference: list[str]) -> int:
    from compiler.commands import drift

    try:
        result = drift.compare(
            drift.read_table(reference),
            drift.read_table(args.current),
            model=model,
            environment=env,
            namespace=namespace,
            bins=args.bins,
        )
        if args.out:
            args.out.write_text(result.exposition())
        if args.pushgateway:
            drift.push(args.pushgateway, result)
    except drift.DriftError as exc:
        print(f"shipspec drift: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(
            json.dumps(
                {
                    "model": result.model,
                    "environment": result.environment,
                    "rows": result.rows,
                    "missing_features_ratio": result.missing_ratio,
                    "drift": result.drift,
                },
                indent=2,
            )
        )
    else:
        sys.stdout.write(result.text())
    return EXIT_OK


def cmd_relay(args: argparse.Namespace) -> int:
    from compiler.commands import relay

    return relay.serve(args.listen, args.repository, args.api_url, args.token_env)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"drift": cmd_drift, "relay": cmd_relay}
