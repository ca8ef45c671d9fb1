"""Peak memory of validate and compile: ``python -m bench.rss --models 1000 [--where]``.

Issue 16, target 6: peak RSS at 1,000 models at most 150 MiB. Each row is one
fresh process of the real command line on a ``bench/synth.py`` repository, run by a
fresh wrapper (``RUSAGE_CHILDREN``'s maximum never goes down, so one wrapper per
measurement), which reports two figures:

- **largest**: ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, the peak of the largest single
  process it waited for: the command itself or one of the workers it forked (parse
  and the Kubernetes render fork workers for large inputs; each is a process of its
  own, so this is *not* their sum);
- **tree**: the largest sum of the resident sets of the command and its descendants,
  sampled from ``/proc`` every 20 ms (Linux only; a peak shorter than that can be
  missed; pages a fork shares with its parent are counted in both).

The rows: ``python -c pass`` (for scale), ``validate`` of the spec tree, a cold
compile into an empty tree, a no-op compile (first the one that records the settled
stats, then a settled one), and a compile after one field of one model changed
(``cpu 1`` to ``cpu 2`` in ``m00001``, as ``bench/warm.py`` edits).

``--where`` then runs one cold compile in-process (``compiler.cli.run``) under
``tracemalloc`` (one frame per allocation) and prints the traced peak
(``tracemalloc.get_traced_memory()``), what was traced when the build was complete
(a snapshot taken on entry to ``pipeline.plan``, before emit) and the 15 largest
allocation sites of that snapshot grouped by file:line. Allocations made in forked
workers are not traced (they are other processes); tracemalloc sees only Python's
allocator, not the interpreter, C extensions' own buffers or fragmentation, so its
figures are below the RSS.

Measured figures: see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.synth import generate

BUDGET_MIB = 150  # issue 16, target 6

# Run by a fresh interpreter per measurement: the command, sampled, then its rusage.
_WRAPPER = r"""
import json, os, resource, subprocess, sys, time

def tree_rss(root):
    # the resident set of root and all its descendants, in bytes (Linux /proc)
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(name))
    total, todo, page = 0, [root], os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except OSError:
            pass
        todo.extend(children.get(pid, ()))
    return total

proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
peak = 0
sampling = os.path.isdir("/proc/self")
while proc.poll() is None:
    if sampling:
        peak = max(peak, tree_rss(proc.pid))
    time.sleep(0.02)
err = proc.stderr.read().decode(errors="replace")
if proc.returncode not in (0, 1):
    sys.exit(f"exit {proc.returncode}: {err[-2000:]}")
maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
largest = maxrss / 1024 if sys.platform != "darwin" else maxrss / (1 << 20)
print(json.dumps({"largest_mib": largest, "tree_mib": peak / (1 << 20) if sampling else None, "rc": proc.returncode}))
"""


def peak(cmd: Sequence[str]) -> dict[str, float | None]:
    """The peak RSS of ``cmd`` in MiB: the largest single process, and the sampled tree."""
    r = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, check=False, timeout=3600
    )
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}...: {r.stderr[-2000:]}")
    result: dict[str, float | None] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def edit_one_field(specs: Path) -> None:
    """One field of one model changed, as ``bench/warm.py`` edits it."""
    model = specs / "models" / "m00001.ship"
    text = model.read_text()
    if "cpu 1 " not in text:
        raise SystemExit(f"{model} has no 'cpu 1 ' to change")
    model.write_text(text.replace("cpu 1 ", "cpu 2 "))


def measure(models: int, root: Path) -> list[tuple[str, dict[str, float | None]]]:
    import time

    specs = generate(root, models)
    out = root / "out"
    shipspec = [sys.executable, "-m", "compiler"]
    compile_ = [*shipspec, "compile", str(specs), "--out", str(out), "--format", "json"]
    rows = [("python -c pass", peak([sys.executable, "-c", "pass"]))]
    rows.append(("validate", peak([*shipspec, "validate", str(specs), "--format", "json"])))
    rows.append(("cold compile", peak(compile_)))
    time.sleep(0.1)  # past the settle time, so the next compile records every file's stat (as bench/warm.py)
    rows.append(("no-op compile (records)", peak(compile_)))
    rows.append(("no-op compile", peak(compile_)))
    edit_one_field(specs)
    rows.append(("one field changed, compile", peak(compile_)))
    return rows


def rows_table(models: int, rows: list[tuple[str, dict[str, float | None]]]) -> list[str]:
    lines = [f"peak RSS at {models} models, MiB (fresh processes)", f"{'':>28} {'largest':>8} {'tree':>8}"]
    for name, r in rows:
        tree = f"{r['tree_mib']:8.1f}" if r.get("tree_mib") is not None else f"{'n/a':>8}"
        lines.append(f"{name:>28} {r['largest_mib']:8.1f} {tree}")
    lines.append(f"{'budget':>28} {BUDGET_MIB:8d}   (issue 16, target 6)")
    return lines


# -- --where: tracemalloc of one cold compile -------------------------------------------


def where(specs: Path, out: Path, top: int = 15, fork: bool = True) -> list[str]:
    """One cold compile in this process under tracemalloc: the traced peak and the
    ``top`` allocation sites (file:line) alive when the build is complete, before emit.
    ``fork=False`` runs the parse and render workers' share in this process instead
    (their pools replaced by none), so what they return is traced where it is made."""
    import linecache
    import os
    import tracemalloc

    from compiler import cli, pipeline

    if not fork:
        from compiler.backends.kubernetes import backend as kubernetes
        from compiler.parse import sources

        for module in (kubernetes, sources):
            setattr(module, "fork_pool", lambda workers, least=2: None)  # noqa: B010 - a name they imported

    from compiler.cache import Cache

    taken: list[tuple[tracemalloc.Snapshot, int, int]] = []
    phases: list[tuple[str, int, int, int]] = []  # name, traced at entry, peak within, traced at exit
    peak_before: list[int] = [0]  # the peak over what came before the phases (reset_peak loses it)

    def phase(name: str, fn: Any, snapshot: bool = False) -> Any:
        def measured(*args: Any, **kwargs: Any) -> Any:
            current, peak_so_far = tracemalloc.get_traced_memory()
            peak_before[0] = max(peak_before[0], peak_so_far)
            if snapshot and not taken:
                taken.append((tracemalloc.take_snapshot(), current, peak_before[0]))
            tracemalloc.reset_peak()
            try:
                return fn(*args, **kwargs)
            finally:
                after, peak_within = tracemalloc.get_traced_memory()
                phases.append((name, current, peak_within, after))
                peak_before[0] = max(peak_before[0], peak_within)
                tracemalloc.reset_peak()

        return measured

    plan, emit, close = pipeline.plan, pipeline.emit, Cache.close
    pipeline.plan = phase("plan (reads the tree)", plan, snapshot=True)
    pipeline.emit = phase("emit (writes the files)", emit)
    setattr(Cache, "close", phase("cache close (deferred entries pickled, written)", close))  # noqa: B010
    argv = sys.argv
    sys.argv = ["shipspec", "compile", str(specs), "--out", str(out), "--format", "json"]
    devnull = open(os.devnull, "w")  # the report is not wanted
    stdout = sys.stdout
    tracemalloc.start(1)
    try:
        sys.stdout = devnull
        rc = cli.run()
    finally:
        sys.stdout = stdout
        sys.argv = argv
        pipeline.plan, pipeline.emit = plan, emit
        setattr(Cache, "close", close)  # noqa: B010
        devnull.close()
    _, traced_peak = tracemalloc.get_traced_memory()
    traced_peak = max(traced_peak, peak_before[0])
    tracemalloc.stop()
    if rc != 0 or not taken:
        raise SystemExit(f"the in-process compile exited {rc} (snapshots: {len(taken)})")
    snapshot, current, peak_then = taken[0]
    mib = 1 << 20
    stats = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).statistics("lineno")
    how = "workers forked as usual" if fork else "no worker pools: all work in this process"
    lines = [
        f"tracemalloc, one cold compile in-process ({how}):",
        f"  peak traced {traced_peak / mib:.1f} MiB over the whole run; {peak_then / mib:.1f} MiB before emit;"
        f" {current / mib:.1f} MiB alive when the build was complete",
    ]
    for name, entry, within, exit_ in phases:
        lines.append(
            f"  {name}: {entry / mib:.1f} MiB at entry, peak {within / mib:.1f} MiB within, {exit_ / mib:.1f} at exit"
        )
    lines.append(f"top {top} allocation sites alive when the build was complete (MiB, blocks, file:line):")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        code = linecache.getline(frame.filename, frame.lineno).strip()
        name = _short(frame.filename)
        lines.append(f"{stat.size / mib:7.1f} {stat.count:9d}  {name}:{frame.lineno}  {code[:70]}")
    rest = sum(s.size for s in stats[top:])
    lines.append(f"{rest / mib:7.1f}            the other {len(stats) - top} sites")
    return lines


def _short(filename: str) -> str:
    """A site's file relative to the checkout, site-packages or the standard library."""
    import re

    if re.search(r"/(site-packages|lib/python3\.\d+)/", filename):
        return re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", filename)
    repo = str(Path(__file__).resolve().parents[1]) + "/"
    return filename[len(repo) :] if filename.startswith(repo) else filename


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--where", action="store_true", help="also: tracemalloc's top sites of a cold compile")
    parser.add_argument("--only-where", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rss-") as tmp:
        root = Path(tmp)
        if not args.only_where:
            print("\n".join(rows_table(args.models, measure(args.models, root / "rss"))), flush=True)
        if args.where or args.only_where:
            # a fresh process: nothing imported or cached by the measurements above
            specs = generate(root / "where", args.models)
            code = (
                "import sys\nfrom pathlib import Path\nfrom bench.rss import where\n"
                "print('\\n'.join(where(Path(sys.argv[1]), Path(sys.argv[2]), fork=sys.argv[3] == 'fork')))\n"
            )
            for how in ("fork", "in-process"):
                r = subprocess.run(
                    [sys.executable, "-c", code, str(specs), str(root / "where" / f"out-{how}"), how],
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=3600,
                )
                if r.returncode != 0:
                    raise SystemExit(r.stderr[-3000:])
                print(r.stdout, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
