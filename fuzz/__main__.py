"""``python -m fuzz [--inputs N | --seconds S] [--seed K] [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fuzz.harness import run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    p.add_argument("--inputs", type=int, help="stop after this many inputs")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("fuzz-out"), help="report.json and one reproducer per site")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds before an input counts as a hang")
    p.add_argument("--compile-every", type=int, default=25, help="compile every Nth clean spec mutant (0: never)")
    args = p.parse_args(argv)
    if args.inputs is None and args.seconds is None:
        args.inputs = 1000
    stats = run(
        args.inputs,
        args.seconds,
        args.seed,
        args.out,
        args.timeout,
        args.compile_every,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(
        f"{stats.inputs} inputs in {stats.seconds:.0f} s ({stats.rate():.1f}/s), "
        f"{stats.clean} clean spec mutants, {stats.compiled} compiled, {len(stats.findings)} finding sites"
    )
    for f in stats.findings.values():
        print(f"  {f.site} x{f.count}: {f.message[:160]}")
    return 1 if stats.findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
