"""Warm compiles: ``python -m bench.warm --models 1000``.

In fresh processes of the real command line (cache under ROOT/.shipspec/cache/):
a cold compile into an empty tree, a no-op compile and check, and a compile after
one field of one model changed (with the files it rewrote); then, in one
process, ``compile --watch``'s ``Watcher``: one edit recompiled from memory. The
watcher's first edit builds what later steps carry and is reported apart; the
median is of the ``--steps`` after it (as ``bench.ab`` leaves the first out). Each
median is also printed over the same run's no-op compile, which moves with the machine.
Compare within one run; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.synth import generate


def timed(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=3600)
    took = time.perf_counter() - t
    if r.returncode not in (0, 1):
        raise SystemExit(r.stderr[-2000:])
    return took, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="one-field one-shot compiles (median and range)")
    parser.add_argument("--steps", type=int, default=12, help="watch steps after the first (median and range)")
    args = parser.parse_args(argv)
    shipspec = [sys.executable, "-m", "compiler"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs = generate(root, args.models)
        out = root / "out"
        compile_ = [*shipspec, "compile", str(specs), "--out", str(out), "--format", "json"]
        base, _ = timed([sys.executable, "-c", "pass"])
        rows = [("python -c pass", base, "")]
        rows.append(("cold compile", *timed(compile_)))
        time.sleep(0.1)  # past the settle time, so the next compile records every file's stat
        rows.append(("no-op compile (records)", *timed(compile_)))
        rows.append(("no-op compile", *timed(compile_)))
        rows.append(("no-op check", *timed([*shipspec, "check", str(specs), "--out", str(out), "--format", "json"])))
        model = specs / "models" / "m00001.ship"
        cpu = iter(range(2, 10**6))
        # Each edit sets a value no build has seen (its units render, as a real edit's do); the
        # first of each run comes right after a write.
        shot = []
        for _ in range(args.rounds):
            _edit(model, next(cpu))
            shot.append(timed(compile_))
        rows += [("one field changed, compile", took, note) for took, note in shot]
        for name, took, note in rows:
            print(f"{name:>28}: {took:8.3f} s   {note}")
        _summary("one field changed, compile", [took for took, _ in shot])
        noop = next(took for name, took, _ in rows if name == "no-op compile")
        _ratio("one field / no-op compile", [took for took, _ in shot], noop)

        import gc

        from compiler.commands.watch import Watcher

        # As ``watch.run`` steps: the collector off, and a collection after each step's report.
        gc.disable()
        watcher = Watcher([specs], out)
        watcher.compile()
        gc.collect()
        steps = []
        for step in range(1 + args.steps):
            _edit(model, next(cpu))
            t = time.perf_counter()
            planned = watcher.step()
            took = time.perf_counter() - t
            assert planned is not None and planned.plan is not None
            name = "watch: one edit" if step else "watch: first edit"
            if step:
                steps.append(took)
            print(f"{name:>28}: {took:8.3f} s   {len(planned.plan.write)} written")
            gc.collect()
        gc.enable()
        _summary("watch: one edit", steps)
        _ratio("watch step / no-op compile", steps, noop)


def _edit(model: Path, cpu: int) -> None:
    """Set the model's cpu (its only ``cpu N``) to ``cpu``."""
    import re

    text, count = re.subn(r"\bcpu \d+ ", f"cpu {cpu} ", model.read_text(), count=1)
    assert count == 1, "the synthetic model has one cpu"
    model.write_text(text)


def _summary(name: str, took: list[float]) -> None:
    import statistics

    if len(took) > 1:
        print(f"{name:>28}: median {statistics.median(took):.3f} s of {len(took)} ({min(took):.3f}-{max(took):.3f})")


def _ratio(name: str, took: list[float], noop: float) -> None:
    """The median against the same run's no-op compile: the absolute figures follow the
    machine (a one-field compile took 0.78 s and 1.15 s in two windows of one morning, at
    2.9x and 3.1x the no-op compile), so a figure is read with the window it came from."""
    import statistics

    print(f"{name:>28}: {statistics.median(took) / noop:.2f}x (median over the no-op compile)")


if __name__ == "__main__":
    main()
