"""``shipspec drift``: which reference sample, namespace and logs a model in an
environment is compared with, and the comparison (``compiler.commands.drift``).
``shipspec relay`` is ``compiler.commands.relay``. Both run as rendered workloads
in the monitoring tier (docs/monitoring.md); ``compiler.cli`` parses their
arguments and prints their results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compiler.commands import drift
from compiler.errors import UsageError


def drift_for(
    paths: Sequence[Path],
    model: str,
    env: str,
    current: list[str],
    reference: list[str] | None = None,
    namespace: str | None = None,
    bins: int = 10,
) -> drift.Result:
    """Compare ``current`` feature logs with the reference sample. With ``reference`` and
    ``namespace`` (the rendered CronJob) no spec is read; otherwise the model's
    ``trained_on`` dataset and the environment's namespace come from the spec.
    Raises UsageError (an unknown name, no reference, unreadable input)."""
    if not (reference and namespace):
        from compiler.pipeline import validate
        from compiler.resolve import namespace as namespace_of

        r = validate(list(paths)).resolved
        m, e = r.models.get(model), r.environments.get(env)
        if m is None or e is None:
            raise UsageError(f"drift: no {'model ' + model if m is None else 'environment ' + env} in the spec")
        if not reference:
            dataset = r.datasets.get(m.trained_on.name) if m.trained_on else None
            if dataset is None or not dataset.uri:
                raise UsageError(f"drift: {m.name} names no trained_on dataset with a uri; pass --reference")
            reference = [dataset.uri]
        namespace = namespace or namespace_of(e)
    return drift.compare(
        drift.read_table(reference),
        drift.read_table(current),
        model=model,
        environment=env,
        namespace=namespace,
        bins=bins,
    )
