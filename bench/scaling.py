"""Per-model compile cost at two sizes: ``python -m bench.scaling --small 200 --large 2000``.

Each size compiles (load, check, render, validate, emit into an empty tree) in a
fresh process, alternating small and large ``--rounds`` times, so both see the
same machine load; prints each stage's ms/model and the large/small ratio of the
whole. Linear means a ratio near 1.0 (the target is <= 1.2). Operation counts
are asserted in tests/unit/test_scaling.py; this is the wall-clock view.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence

STAGES = ("parse+lower", "check", "render", "validate", "emit")


def one(models: int) -> dict[str, float]:
    """One compile of ``models`` models, in a fresh process (its stage times in seconds)."""
    code = f"import json, sys\nfrom bench.stages import run\nprint(json.dumps(run({models}, recompile=False)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=3600)
    times: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    runs: dict[int, list[dict[str, float]]] = {args.small: [], args.large: []}
    for _ in range(args.rounds):
        for n in (args.small, args.large):
            runs[n].append(one(n))
    per_model: dict[int, dict[str, float]] = {}
    for n, results in runs.items():
        per_model[n] = {s: statistics.median(r[s] for r in results) / n * 1000 for s in STAGES}
        per_model[n]["total"] = sum(per_model[n][s] for s in STAGES)
    print(f"{'ms/model':>12} {args.small:>10} {args.large:>10} {'ratio':>7}")
    for stage in (*STAGES, "total"):
        a, b = per_model[args.small][stage], per_model[args.large][stage]
        print(f"{stage:>12} {a:10.3f} {b:10.3f} {b / a if a else float('nan'):7.2f}")
    ratio = per_model[args.large]["total"] / per_model[args.small]["total"]
    print(f"per-model cost at {args.large} is {ratio:.2f}x that at {args.small} (target <= 1.2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
