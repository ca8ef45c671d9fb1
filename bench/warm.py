"""Warm compiles: ``python -m bench.warm --models 1000``.

In fresh processes of the real command line (cache under ROOT/.shipspec/cache/):
a cold compile into an empty tree, a no-op compile and check, and a compile after
one field of one model changed (with the files it rewrote); then, in one
process, ``compile --watch``'s ``Watcher``: one edit recompiled from memory.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=1000)
    args = parser.parse_args()
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
        for before, after in (("cpu 1 ", "cpu 2 "), ("cpu 2 ", "cpu 3 ")):  # the second: right after a write
            model.write_text(model.read_text().replace(before, after))
            rows.append(("one field changed, compile", *timed(compile_)))
        for name, took, note in rows:
            print(f"{name:>28}: {took:8.3f} s   {note}")

        from compiler.commands.watch import Watcher

        watcher = Watcher([specs], out)
        watcher.compile()
        for before, after in (("cpu 3 ", "cpu 4 "), ("cpu 4 ", "cpu 5 ")):
            model.write_text(model.read_text().replace(before, after))
            t = time.perf_counter()
            planned = watcher.step()
            took = time.perf_counter() - t
            assert planned is not None and planned.plan is not None
            print(f"{'watch: one edit':>28}: {took:8.3f} s   {len(planned.plan.write)} written")


if __name__ == "__main__":
    main()
