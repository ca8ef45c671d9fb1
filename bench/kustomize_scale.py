"""What Argo CD pays to build one environment: ``python -m bench.kustomize_scale --models 100 200 400``.

Each environment is one Argo CD Application built by kustomize from ``deploy/<env>/`` (its
kustomization lists every object, with a configMapGenerator per served model). For each size
this compiles a ``bench/synth.py`` repository and times ``kubectl kustomize deploy/prod`` (the
kustomize Argo CD's repo server runs), printing the objects it made and the seconds it took.
Argo CD gives manifest generation 90 s (the repo server's exec timeout) and the controller
waits 60 s for the repo server by default: an environment whose build takes longer never
syncs. ``--timeout`` stops a build (default 600 s). Not run in CI: minutes at 400 models.

Measured on the shared 2-core machine (kubectl 1.32, kustomize 5.5.0), 2026-12-01:

==========  ==============  ==========
models      objects         seconds
==========  ==============  ==========
100         1,404           5.8
200         2,804           19.2
400         5,604           111.4
1,000       (10,007 files)  over 300
==========  ==============  ==========

The build grows faster than the objects (2x the objects, 3.3x the time; again 2x, 5.8x):
the monolithic environment stops syncing between 200 and 400 production models, about
where the Application's status outgrows etcd too (SS733). Sharding an environment into Applications of
a bounded size is the fix this measures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.synth import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--env", default="prod")
    args = parser.parse_args(argv)
    print(f"{'models':>7} {'objects':>8} {'seconds':>9}")
    for n in args.models:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            specs = generate(root, n)
            out = root / "out"
            compiled = subprocess.run(
                [sys.executable, "-m", "compiler", "compile", str(specs), "--out", str(out), "--format", "json"],
                capture_output=True,
                text=True,
                timeout=3600,
            )
            if compiled.returncode not in (0, 1):
                raise SystemExit(compiled.stderr[-2000:])
            t = time.perf_counter()
            try:
                built = subprocess.run(
                    ["kubectl", "kustomize", str(out / "deploy" / args.env)],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                )
            except subprocess.TimeoutExpired:
                print(f"{n:>7} {'?':>8} {'>' + format(args.timeout, 'g'):>9}")
                continue
            took = time.perf_counter() - t
            if built.returncode != 0:
                raise SystemExit(built.stderr[-2000:])
            objects = sum(1 for line in built.stdout.splitlines() if line.startswith("kind: "))
            print(f"{n:>7} {objects:>8} {took:9.1f}")


if __name__ == "__main__":
    main()
