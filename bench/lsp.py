"""One keystroke in the language server's workspace on an N-model spec: re-parse the edited
file, merge, resolve and check. ``python -m bench.lsp [--models 1000]`` prints seconds per edit."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.synth import generate
from compiler.lsp.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        specs = generate(Path(tmp), args.models)
        ws = Workspace()
        ws.load_dir(specs)
        ws.analyse()
        edited = str(next(iter(sorted(specs.rglob("m00001.ship")))))
        times = []
        for i in range(args.edits):
            text = ws.files[edited].text.replace("cpu 1 ", f"cpu {i + 2} ", 1)
            start = time.perf_counter()
            ws.update(edited, text)
            ws.analyse()
            times.append(time.perf_counter() - start)
        print(
            f"{args.models} models: one edit re-checks in {min(times):.3f}s (best of {args.edits}), "
            f"median {sorted(times)[len(times) // 2]:.3f}s"
        )


if __name__ == "__main__":
    main()
