"""Cold-process time of ``shipspec validate`` on one file: ``python -m bench.cold [--runs 30]``.

Like hyperfine: a few warm-up runs (to fill the OS file cache), then N timed runs of a
fresh process each, ``python -c pass`` and ``shipspec validate`` alternating run by run
(a load that comes and goes falls on both); prints min, median, mean and max of the
wall-clock time and of the CPU time (user + system, which a busy machine disturbs less),
and the ratio of the medians to the bare interpreter start (issue 16: at most 4x). The
budget (DESIGN.md) is 0.3 s median on a 2-core machine. ``--file`` validates a given spec
file instead of a generated one.

The ratio depends on how shipspec is installed: an editable install (``pip install -e``,
what scripts/bootstrap makes) has site import its finder, and with it pathlib, re and
urllib, in every interpreter start, ``python -c pass`` included, which makes the
baseline about 10 ms longer than a regular install's; the line ``install`` says which.
Run it with a regular install's interpreter for what users see: build a wheel, install
it in a fresh venv and run ``/path/to/venv/bin/python -m bench.cold`` from the checkout
(the ``shipspec`` console script next to that interpreter is what it times).

Measured on the shared 2-core machine (medians of 30-40 alternating runs; before is
1087eca, each install in its own venv, measured in the same window as after; the
editable "before" venv held shipspec alone, "after" is scripts/bootstrap's .venv):

=================================  ==========  ===========  =========================
install                            -c pass     validate     ratio (wall-clock, CPU)
=================================  ==========  ===========  =========================
regular (wheel), before            9.3 ms      68.2 ms      7.3x, 7.5x
regular (wheel), after             9.3 ms      50.5 ms      5.4x, 5.4x
editable, before                   19.1 ms     70.3 ms      3.7x, 3.7x
editable, after                    22.6 ms     55.1 ms      2.4x, 2.5x
=================================  ==========  ===========  =========================

What the regular install's ~50 ms still is (``-X importtime``, cProfile): the interpreter
(~9.5 ms); the console script's own ``import re`` (~5 ms); the standard library the
compiler's modules need: typing, pathlib (which brings urllib.parse and ipaddress),
dataclasses (which imports inspect, ast, dis and tokenize: ~5 ms), enum, decimal, json
(~15 ms together); lark's standalone runtime and ``compiler.targets`` (~5 ms); the
compiler's own modules (~8 ms) and the work: loading the parser, lexing, lowering,
checking and printing (~8 ms). dataclasses and inspect stay because the generated
``compiler/lark_standalone.py`` imports both and ``compiler.pipeline`` calls
``dataclasses.replace``; 4x (~37 ms) needs more than the validate path's own modules.

The processes run without ``PYTHONDONTWRITEBYTECODE``: an installed shipspec has its
bytecode compiled, and with the variable set an editable checkout would recompile
every module of ``compiler`` in every run (the warm-up runs write the bytecode).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.synth import HEADER, model_text

BUDGET_S = 0.3
RATIO_TARGET = 4.0  # issue 16: cold validate of one file at most 4x the bare interpreter start


def one_file_spec(root: Path) -> Path:
    """A complete spec in one file: the synthetic platform and one model."""
    path = root / "spec.ship"
    path.write_text(HEADER + "\n" + model_text(0))
    return path


def shipspec_command() -> list[str]:
    """The installed console script when it sits next to this interpreter, else ``-m compiler``."""
    script = Path(sys.executable).with_name("shipspec")
    return [str(script)] if script.exists() else [sys.executable, "-m", "compiler"]


def install_kind() -> str:
    """How shipspec is installed for this interpreter: the ratio reads differently for each."""
    import json
    import sysconfig
    from importlib import metadata

    # The environment's own site-packages: a checkout's shipspec.egg-info is not an install.
    found = list(metadata.distributions(name="shipspec", path=[sysconfig.get_paths()["purelib"]]))
    if not found:
        return "not installed (python -m compiler from the working directory)"
    direct = found[0].read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        # site imports the editable install's finder (pathlib, re, urllib...) in every start.
        return "editable (its finder loads at every start of this interpreter, python -c pass's too)"
    return "regular (what users install)"


# As installed: bytecode cached. With PYTHONDONTWRITEBYTECODE (set in some CI and sandboxes)
# an editable checkout would compile every module of ``compiler`` from source in every run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _one(cmd: Sequence[str]) -> tuple[float, float]:
    """One run's wall-clock and CPU (user + system) seconds; a loaded machine disturbs the
    CPU time far less than the wall-clock time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, check=False, timeout=60, env=ENV)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.decode(errors='replace')[-500:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def time_runs(commands: Sequence[Sequence[str]], runs: int, warmup: int) -> list[tuple[list[float], list[float]]]:
    """(wall-clock, CPU) seconds of each command's runs, the commands alternating run by run
    so that what else the machine does falls on all of them alike."""
    for _ in range(warmup):
        for cmd in commands:
            _one(cmd)
    times: list[tuple[list[float], list[float]]] = [([], []) for _ in commands]
    for _ in range(runs):
        for cmd, (wall, cpu) in zip(commands, times, strict=True):
            w, c = _one(cmd)
            wall.append(w)
            cpu.append(c)
    return times


def summary(name: str, times: list[float]) -> str:
    return (
        f"{name:>28}: median {statistics.median(times) * 1000:7.1f} ms   min {min(times) * 1000:7.1f}"
        f"   mean {statistics.fmean(times) * 1000:7.1f}   max {max(times) * 1000:7.1f}   ({len(times)} runs)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--file", type=Path, help="spec file to validate (default: a generated one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        spec = args.file or one_file_spec(Path(tmp))
        (baseline, base_cpu), (validate, validate_cpu) = time_runs(
            [[sys.executable, "-c", "pass"], [*shipspec_command(), "validate", str(spec)]], args.runs, args.warmup
        )
    print(f"{'install':>28}: {install_kind()}")
    print(summary("python -c pass", baseline))
    print(summary("shipspec validate (1 file)", validate))
    print(summary("python -c pass (CPU)", base_cpu))
    print(summary("shipspec validate (CPU)", validate_cpu))
    median = statistics.median(validate)
    ratio = median / statistics.median(baseline)
    cpu_ratio = statistics.median(validate_cpu) / statistics.median(base_cpu)
    print(
        f"{'ratio':>28}: {ratio:.1f}x python -c pass wall-clock, {cpu_ratio:.1f}x CPU "
        f"(medians; issue 16: at most {RATIO_TARGET:.0f}x)"
    )
    verdict = "within" if median <= BUDGET_S else "OVER"
    print(f"{'budget':>28}: {verdict} {BUDGET_S * 1000:.0f} ms (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
