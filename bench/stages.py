"""Time each pipeline stage on a synthetic repository: ``python -m bench.stages --models 1000``.

Prints one line per stage (seconds) and the per-model cost, then the time to
recompile after one spec file changed (everything is rendered again: there is
no render cache). ``--backends`` also times each backend's render alone (the
kubernetes backend forks per environment from 400 served models). Compare
ratios within one run; the machine is noisy, emit (file creation and one sync)
the noisiest.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.synth import generate, model_text
from compiler.backends import file_validators


def backend_times(checked: object) -> dict[str, float]:
    """Each backend's render alone, in seconds."""
    from compiler.backends import BACKENDS
    from compiler.backends.base import RenderContext
    from compiler.backends.render import Templates
    from compiler.diagnostics import Sink

    templates = Templates.load()
    times: dict[str, float] = {}
    for backend in BACKENDS:
        t = time.perf_counter()
        backend.render(RenderContext(checked.resolved, templates, Sink()))  # type: ignore[attr-defined]
        times[f"render {backend.name}"] = time.perf_counter() - t
    return times


def run(models: int, backends: bool = False, recompile: bool = True) -> dict[str, float]:
    from compiler import emit, validate
    from compiler.backends.render import Templates
    from compiler.diagnostics import Sink
    from compiler.parse.sources import load
    from compiler.pipeline import check_loaded, render

    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs = generate(root, models)
        t = time.perf_counter()
        loaded = load([specs])
        times["parse+lower"] = time.perf_counter() - t
        t = time.perf_counter()
        checked = check_loaded(loaded)
        times["check"] = time.perf_counter() - t
        assert not checked.has_errors, checked.diagnostics[:3]
        t = time.perf_counter()
        files, sink = render(checked, Templates.load())
        times["render"] = time.perf_counter() - t
        t = time.perf_counter()
        validate.validate_files(files, "1.33", sink, file_validators())
        times["validate"] = time.perf_counter() - t
        assert not sink.has_errors, sink.items[:3]
        t = time.perf_counter()
        plan = emit.plan(files, root / "out", Sink())
        emit.apply(plan)
        times["emit"] = time.perf_counter() - t
        times["files"] = len(files)
        if not recompile:
            return times
        # one spec file changes; everything is recompiled (no cache yet)
        (specs / "models" / "m00001.ship").write_text(model_text(1).replace("1.1.0", "1.1.1"))
        t = time.perf_counter()
        checked = check_loaded(load([specs]))
        files, sink = render(checked, Templates.load())
        validate.validate_files(files, "1.33", sink, file_validators())
        plan = emit.plan(files, root / "out", Sink())
        emit.apply(plan)
        times["recompile after one change"] = time.perf_counter() - t
        times["files rewritten"] = len(plan.write)
        if backends:
            times.update(backend_times(checked))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--backends", action="store_true", help="also time each backend's render alone")
    args = parser.parse_args()
    times = run(args.models, args.backends)
    total = sum(v for k, v in times.items() if k in ("parse+lower", "check", "render", "validate", "emit"))
    for name, value in times.items():
        if name.startswith("files"):
            print(f"{name:>28}: {int(value)}")
        else:
            print(f"{name:>28}: {value:8.3f} s   {value / args.models * 1000:7.3f} ms/model")
    print(f"{'total compile':>28}: {total:8.3f} s")


if __name__ == "__main__":
    main()
