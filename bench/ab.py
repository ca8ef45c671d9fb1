"""Two versions of shipspec against each other: ``python -m bench.ab --base REV``.

The machines these figures come from drift by 2x within minutes, so a speed-up is only
seen in alternating runs of both versions in one window (issue 16, targets 3 and 4).
The base is ``git archive REV`` unpacked into a temporary directory; "now" is a copy of
this working tree beside it (``working_copy``: its tracked and untracked, not ignored,
files), so that both run from the same place: run from the repository itself, a cold
compile measured 2-19% slower against a base under ``/tmp`` than the same comparison with
both under ``/tmp``. Each version gets its own copy of the same ``bench/synth.py`` spec and
its own output tree and cache (compiled cold, then one edit, before anything is timed),
and runs with its own code first on ``PYTHONPATH``, in this interpreter.

- **one-shot** (target 3): ``--pairs`` rounds of one fresh ``shipspec compile`` per
  version, base first in even rounds and now first in odd ones, each after setting one
  model's CPU to a value no build has seen; the medians and the paired differences (now
  minus base, same round).
- **watch** (target 4): ``--watch`` rounds of one process per version (in the same turns),
  each a ``Watcher`` compiling, then ``--steps`` such edits, each timed around
  ``step()`` (the first step left out, as it builds what the next ones carry); the
  medians of all steps pooled.

Nothing here asserts a time: ``tests/bench/test_ab.py`` checks that it runs.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.synth import generate

REPO = Path(__file__).resolve().parent.parent
SIDES = ("base", "now")

# Run in a fresh process per version and round: a Watcher's steps, one edit each.
_WATCH = """
import gc, json, re, sys, time
from pathlib import Path
from compiler.commands.watch import Watcher
specs, out, steps, start = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
model = specs / "models" / "m00001.ship"
gc.disable()
w = Watcher([specs], out)
w.compile()
gc.collect()
took = []
for i in range(steps):
    text = re.sub(r"\\bcpu \\d+ ", f"cpu {start + i} ", model.read_text(), count=1)
    model.write_text(text)
    t = time.perf_counter()
    planned = w.step()
    took.append(time.perf_counter() - t)
    assert planned is not None and planned.plan is not None and not planned.has_errors
    gc.collect()
print(json.dumps(took))
"""


def working_copy(into: Path) -> Path:
    """This working tree's files as git sees them (tracked, and untracked but not ignored:
    uncommitted edits included, no virtualenv or caches) copied under ``into``."""
    import shutil

    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    for name in sorted({n for n in listed.decode().split("\0") if n}):
        source = REPO / name
        if source.is_file():  # (a tracked file deleted in the working tree is left out)
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def byte_compiled(code: Path) -> Path:
    """``code``'s package compiled to bytecode now, so that no timed run compiles it (an
    environment may forbid writing bytecode: ``PYTHONDONTWRITEBYTECODE``)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "compiler")], check=True)
    return code


def unpack(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (any name git knows) under ``into``."""
    data = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def _env(code: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(code)
    return env


def _edit(model: Path, cpu: int) -> None:
    text, count = re.subn(r"\bcpu \d+ ", f"cpu {cpu} ", model.read_text(), count=1)
    if count != 1:
        raise SystemExit(f"{model}: the synthetic model has no cpu to edit")
    model.write_text(text)


def _compile(code: Path, tree: Path) -> float:
    cmd = [sys.executable, "-m", "compiler", "compile", "specs", "--out", "out", "--format", "json"]
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=tree, env=_env(code), capture_output=True, text=True, check=False, timeout=3600)
    took = time.perf_counter() - t
    if r.returncode not in (0, 1):
        raise SystemExit(f"{code}: compile failed\n{r.stderr[-2000:]}")
    return took


def _watch(code: Path, tree: Path, steps: int, start: int) -> list[float]:
    cmd = [sys.executable, "-c", _WATCH, "specs", "out", str(steps), str(start)]
    r = subprocess.run(cmd, cwd=tree, env=_env(code), capture_output=True, text=True, check=False, timeout=3600)
    if r.returncode != 0:
        raise SystemExit(f"{code}: watch failed\n{r.stderr[-2000:]}")
    took: list[float] = json.loads(r.stdout.strip().splitlines()[-1])
    return took[1:]


Found = dict[str, dict[str, list[float]]]


def measure(base: str, models: int, pairs: int, watch: int, steps: int, root: Path) -> Found:
    """Each version's one-shot times (in round order) and pooled watch steps."""
    code = {
        "base": byte_compiled(unpack(base, root / "base-code")),
        "now": byte_compiled(working_copy(root / "now-code")),
    }
    trees = {}
    for side in SIDES:
        trees[side] = root / f"{side}-tree"
        generate(trees[side], models)
    cpu = iter(range(2, 10**6))
    for side in SIDES:  # cold, then one edit: what a timed edit finds is a warm cache
        _compile(code[side], trees[side])
        time.sleep(0.1)  # past the settle time: the next compile records every file's stat
        _edit(trees[side] / "specs" / "models" / "m00001.ship", next(cpu))
        _compile(code[side], trees[side])
    found: Found = {side: {"one-shot": [], "watch": []} for side in SIDES}
    for i in range(pairs):
        value = next(cpu)
        for side in _turns(i):
            _edit(trees[side] / "specs" / "models" / "m00001.ship", value)
            found[side]["one-shot"].append(_compile(code[side], trees[side]))
    for i in range(watch):
        start = next(cpu) * 1000
        for side in _turns(i):
            found[side]["watch"] += _watch(code[side], trees[side], steps, start)
    return found


def _turns(i: int) -> tuple[str, ...]:
    """The order of round ``i``: base first in even rounds, now first in odd ones (whichever
    runs second in a round was 5-10% faster in some windows)."""
    return SIDES if i % 2 == 0 else SIDES[::-1]


def report(found: Found) -> list[str]:
    lines = []
    for kind in ("one-shot", "watch"):
        for side in SIDES:
            took = sorted(found[side][kind])
            if took:
                lines.append(
                    f"{kind:>8} {side:>4}: median {statistics.median(took):.3f} s, 25th percentile "
                    f"{took[len(took) // 4]:.3f}, fastest {took[0]:.3f} ({len(took)} runs)"
                )
    paired = [n - b for b, n in zip(found["base"]["one-shot"], found["now"]["one-shot"], strict=True)]
    if paired:
        faster = sum(d < 0 for d in paired)
        lines.append(
            f"one-shot, now minus base in the same round: median {1000 * statistics.median(paired):+.0f} ms, "
            f"mean {1000 * statistics.mean(paired):+.0f} ms; now faster in {faster} of {len(paired)}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the version to compare with (a commit, tag or branch)")
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=30, help="one-shot rounds (one compile of each version)")
    parser.add_argument("--watch", type=int, default=4, help="watch rounds (one process of each version)")
    parser.add_argument("--steps", type=int, default=14, help="edits per watch process (the first is left out)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        found = measure(args.base, args.models, args.pairs, args.watch, args.steps, Path(tmp))
    print(f"{args.models} models, base {args.base} against this tree, alternating in one window")
    print("\n".join(report(found)))


if __name__ == "__main__":
    main()
