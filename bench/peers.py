"""shipspec against its peers, writing the same files: ``python -m bench.peers --models 1000``.

Issue 16, target 2: a cold compile of 1,000 models into an empty tree within 1.5x the
CSafeDumper floor writing the same files, and faster than KCL per file written. Not
run in CI (KCL is installed on first use; a run at 1,000 models takes minutes).

Each measurement is a fresh process writing into an empty directory, timed from the
parent (start-up and imports included); earlier runs' trees are moved aside, not deleted,
until every run is done (``_set_aside``), and one untimed shipspec compile comes first
(``--no-warmup`` leaves it out): ext4 here allocates past inodes deleted in the last half
minute or so one by one (``recently_deleted``, seen with ``perf``), so creating files
right after a large deletion made by whatever ran before the benchmark was 40x slower,
and the first round's shipspec run, the first to create files, paid for it. The runs
alternate (shipspec, floor, durable floor, KCL) ``--rounds`` times, each after ``os.sync``
(untimed: no run waits for what an earlier one left unwritten); the table shows medians:

- **shipspec**: ``python -m compiler compile SPECS --out EMPTY --format json`` on a
  ``bench/synth.py`` repository (check, render, validate every file, write each file
  atomically and fdatasync it, the ledger and the build cache). Files: its ledger's.
- **floor**: ``python -m bench.floor``: the documents of every YAML/JSON file shipspec
  wrote (parsed by the parent *before* any timing and pickled; the timed process
  unpickles them) written to the same paths with ``yaml.dump_all(...,
  Dumper=yaml.CSafeDumper)``, other files (``config.pbtxt``, ``.md``) as their bytes.
  Reported twice: the whole process, and the writing alone (measured inside it).
- **floor+sync**: the same, fdatasyncing every file and each directory once, as
  shipspec's emit does (not part of the issue's floor; there for the reader).
- **KCL** (kcl-lib from the package index, in ``.tools/kcl``, made with ``python -m
  venv`` on first use): ``bench/kcl_driver.py`` runs ``bench/peers_kcl/main.k`` once
  through ``kcl_lib.api`` ``ExecProgram`` and writes each object it renders to its own
  file. For every model and environment it is served in: Deployment, Service, the
  Triton config as a ConfigMap, an HPA (environments with a replica range) and a
  PodDisruptionBudget (production), modelled on what shipspec writes under
  ``deploy/<env>/``; the model list is read from the synthetic spec files
  (``kcl_input``) into a JSON file before timing. **KCL validates nothing** (no
  schemas): shipspec validates every document it writes. KCL writes fewer files
  (no Rollout, ScaledObject, monitoring, CI or catalog files), hence ms per file.

Ratios: shipspec ÷ floor (whole process), and shipspec's ms per file ÷ KCL's. Each round
is printed as it ends (the ratio of two medians hides how rounds vary). ``--base REV``
also compiles with REV's code (unpacked as ``bench.ab`` unpacks it) in each round, beside
this tree's compile (then run from a copy beside REV's: ``bench.ab.working_copy``) and in
alternating order, and reports it as a row and per round.
The machine is shared and noisy: compare within one run.

Measured (2 shared cores, 2026-11-30, ``--rounds 2``; medians): see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.synth import generate

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
KCL_PROGRAM = BENCH / "peers_kcl" / "main.k"
KCL_DRIVER = BENCH / "kcl_driver.py"
KCL_VENV = REPO / ".tools" / "kcl"
KCL_REQUIREMENT = "kcl-lib==0.13.2"
FLOOR_TARGET = 1.5  # issue 16: a cold compile at most 1.5x the CSafeDumper floor


# -- the model list the KCL program renders ------------------------------------------

_ENV = re.compile(r"environment (\w+) \{(.*?)\n\}", re.S)
_MODEL = re.compile(r"^model (\w+) \{(.*?)\n\}", re.S | re.M)


def _field(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"no {pattern!r} in the synthetic spec")
    return found.group(1)


def kcl_input(specs: Path) -> dict[str, Any]:
    """What ``main.k`` renders, read from a ``bench/synth.py`` spec tree: the project,
    the environments models are served in (tier, namespace, replica range; 0..0 for
    none) and every model (name, version, artifact, tensors, batching, resources, the
    environments it is served in), in file order."""
    platform = (specs / "platform.ship").read_text()
    environments: dict[str, dict[str, Any]] = {}
    for name, body in _ENV.findall(platform):
        replicas = re.search(r"replicas (\d+)\.\.(\d+)", body)
        environments[name] = {
            "tier": _field(r"tier (\w+)", body),
            "namespace": _field(r'namespace "([^"]+)"', body),
            "min": int(replicas.group(1)) if replicas else 0,
            "max": int(replicas.group(2)) if replicas else 0,
        }
    models = []
    for path in sorted((specs / "models").glob("*.ship")):
        for name, body in _MODEL.findall(path.read_text()):
            version = _field(r'version "([^"]+)"', body)
            major, minor, patch = (int(p) for p in version.split("."))
            models.append(
                {
                    "name": name,
                    "version": version,
                    "major": major,
                    "minor": minor,
                    "patch": patch,
                    "artifact": _field(r'artifact "([^"]+)"', body),
                    "input": _field(r"input (\w+):", body),
                    "width": int(_field(r"input \w+: fp32\[(\d+)\]", body)),
                    "output": _field(r"output (\w+):", body),
                    "max_batch": int(_field(r"batching \{ max (\d+)", body)),
                    "preferred": [int(b) for b in _field(r"preferred \[([^\]]*)\]", body).split(",")],
                    "delay_us": int(_field(r"delay (\d+)ms", body)) * 1000,
                    "cpu": _field(r"resources \{ cpu (\S+)", body),
                    "memory": _field(r"memory (\S+) \}", body),
                    "envs": [e.strip() for e in _field(r"serve in ([\w, ]+)", body).split(",")],
                }
            )
    project = _field(r"project (\w+)", platform)
    return {"project": project, "environments": environments, "models": models}


def kcl_file_count(data: dict[str, Any]) -> int:
    """How many files ``main.k`` writes for ``data`` (Deployment, Service, ConfigMap per
    placement; an HPA where the environment has replicas; a PDB in production)."""
    envs = data["environments"]
    return sum(3 + (envs[e]["max"] > 0) + (envs[e]["tier"] == "production") for m in data["models"] for e in m["envs"])


def kcl_python() -> Path:
    """The side virtualenv's interpreter, with kcl-lib installed on first use."""
    python = KCL_VENV / "bin" / "python"
    marker = KCL_VENV / ".installed"
    if not python.exists() or not marker.exists() or marker.read_text().strip() != KCL_REQUIREMENT:
        print(f"peers: installing {KCL_REQUIREMENT} into {KCL_VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(KCL_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", KCL_REQUIREMENT], check=True)
        marker.write_text(KCL_REQUIREMENT + "\n")
    return python


# -- runs --------------------------------------------------------------------------------


@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)  # seconds measured inside the process
    files: int = 0
    mib: float = 0.0  # bytes written (shipspec: its outputs, not .shipspec/)

    def add(self, wall: float, files: int, **parts: float) -> None:
        self.wall.append(wall)
        for name, seconds in parts.items():
            self.parts.setdefault(name, []).append(seconds)
        if self.files and files != self.files:
            raise SystemExit(f"file count changed between rounds: {self.files} then {files}")
        self.files = files

    def median(self, part: str | None = None) -> float:
        return statistics.median(self.wall if part is None else self.parts[part])


def timed(cmd: Sequence[str], cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    """Wall time of ``cmd`` in a fresh process and its standard output. What earlier runs
    left unwritten is written out first, untimed (``os.sync``): the floor and KCL leave
    their files to the kernel's writeback, and a shipspec compile that syncs its file
    system (``fsutil.sync_file_systems``) would otherwise wait for theirs too (with 330
    MiB left dirty by a copy of its tree, a cold compile took 14.9 s against 12-13 s)."""
    os.sync()
    t = time.perf_counter()
    r = subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=3600, cwd=cwd)
    took = time.perf_counter() - t
    if r.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:4])}... exited {r.returncode}: {r.stderr[-2000:]}")
    return took, r.stdout


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def tree_mib(root: Path) -> float:
    """MiB in the files under ``root``, shipspec's own ``.shipspec/`` left out."""
    total = 0
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".shipspec"]
        total += sum(os.path.getsize(os.path.join(directory, f)) for f in files)
    return total / (1 << 20)


def shipspec_run(specs: Path, out: Path, code: Path = REPO) -> tuple[float, int]:
    """A cold compile by the shipspec whose package is under ``code`` (this tree's by default)."""
    cmd = [sys.executable, "-m", "compiler", "compile", str(specs), "--out", str(out), "--format", "json"]
    took, _ = timed(cmd, cwd=code)
    ledger = json.loads((out / ".shipspec" / "ledger.json").read_text())
    return took, len(ledger["files"])


def floor_run(entries: Path, out: Path, durable: bool) -> tuple[float, int, dict[str, float]]:
    cmd = [sys.executable, "-m", "bench.floor", str(entries), str(out)] + (["--durable"] if durable else [])
    took, stdout = timed(cmd, cwd=REPO)
    report = json.loads(stdout.strip().splitlines()[-1])
    if count_files(out) != report["files"]:
        raise SystemExit("the floor wrote a different number of files than it reports")
    return took, int(report["files"]), {"write": report["write_s"], "dump_all": report["dump_s"]}


def kcl_run(python: Path, models_json: Path, out: Path) -> tuple[float, int, dict[str, float]]:
    took, stdout = timed([str(python), str(KCL_DRIVER), str(KCL_PROGRAM), str(models_json), str(out)])
    report = json.loads(stdout.strip().splitlines()[-1])
    return took, int(report["files"]), {"ExecProgram": report["exec_s"], "write": report["write_s"]}


def _fresh(root: Path, name: str) -> Path:
    out = root / name
    if out.exists():
        _set_aside(root, out)
    return out


def _set_aside(root: Path, out: Path) -> None:
    """Move a finished run's tree out of the way, to be deleted once every run is done. On
    this project's machines (ext4, mounted with ``discard``) creating 33,000 files right
    after deleting 33,000 took 17-19 s of kernel time; after moving them aside, 0.4 s.
    Deleted between runs, each tree slowed whichever run came next (the floor, after
    shipspec's tree), more than anything being compared."""
    spent = root / "spent"
    spent.mkdir(exist_ok=True)
    out.rename(spent / f"{out.name}-{len(os.listdir(spent))}")


def measure(
    models: int,
    rounds: int,
    kcl: bool,
    durable: bool,
    root: Path,
    warmup: bool = True,
    base: str | None = None,
    say: Any = print,
) -> dict[str, Runs]:
    from bench import floor

    if not floor.has_c_dumper():
        raise SystemExit("PyYAML has no CSafeDumper here (built without libyaml): no floor to measure against")
    specs = generate(root, models)
    data = kcl_input(specs)
    models_json = root / "models.json"
    models_json.write_text(json.dumps(data))
    python = kcl_python() if kcl else None
    entries = root / "entries.pickle"
    runs: dict[str, Runs] = {"shipspec": Runs(), "floor": Runs()}
    if durable:
        runs["floor+sync"] = Runs()
    if kcl:
        runs["KCL"] = Runs()
    codes = {"shipspec": REPO}
    if base is not None:
        from bench.ab import byte_compiled, unpack, working_copy

        # Both from copies in one place (``bench.ab``: where the code runs from showed).
        codes = {
            "shipspec": byte_compiled(working_copy(root / "now-code")),
            "base": byte_compiled(unpack(base, root / "base-code")),
        }
        runs["base"] = Runs()
    if warmup:  # untimed; see the module docstring
        for code in codes.values():
            shipspec_run(specs, _fresh(root, "warmup"), code)
            _set_aside(root, root / "warmup")
    for i in range(rounds):
        for name in list(codes) if i % 2 == 0 else list(codes)[::-1]:
            out = _fresh(root, name)
            runs[name].add(*shipspec_run(specs, out, codes[name]))
            runs[name].mib = tree_mib(out)
            if i == 0 and name == "shipspec":  # what the floor writes: shipspec's files, parsed before any timing
                with entries.open("wb") as f:
                    pickle.dump(floor.collect(out), f, protocol=pickle.HIGHEST_PROTOCOL)
            _set_aside(root, out)
        took, files, parts = floor_run(entries, _fresh(root, "floor"), durable=False)
        runs["floor"].add(took, files, **parts)
        runs["floor"].mib = tree_mib(root / "floor")
        if durable:
            took, files, parts = floor_run(entries, _fresh(root, "floor"), durable=True)
            runs["floor+sync"].add(took, files, **parts)
            runs["floor+sync"].mib = tree_mib(root / "floor")
        _set_aside(root, root / "floor")
        if python is not None:
            out = _fresh(root, "kcl")
            took, files, parts = kcl_run(python, models_json, out)
            if count_files(out) != files or files != kcl_file_count(data):
                raise SystemExit(f"KCL wrote {count_files(out)} files, expected {kcl_file_count(data)}")
            runs["KCL"].add(took, files, **parts)
            runs["KCL"].mib = tree_mib(out)
            _set_aside(root, out)
        say(round_line(i, runs))
    shutil.rmtree(root / "spent", ignore_errors=True)
    return runs


def round_line(i: int, runs: dict[str, Runs]) -> str:
    """Round ``i``'s times (each run's ``i``-th) and its ratios, as ``table`` gives the medians'."""
    ship, floor = runs["shipspec"], runs["floor"]
    said = [f"round {i + 1}:"] + [f"{name} {r.wall[i]:.2f} s" for name, r in runs.items()]
    said.append(f"shipspec/floor {ship.wall[i] / floor.wall[i]:.2f}x")
    if "KCL" in runs:
        kcl = runs["KCL"]
        for name in ("shipspec", "base"):
            if name in runs:
                r = runs[name]
                said.append(f"{name}/KCL per file {(r.wall[i] / r.files) / (kcl.wall[i] / kcl.files):.2f}x")
    if "base" in runs:
        said.append(f"shipspec/base {ship.wall[i] / runs['base'].wall[i]:.2f}x")
    return " ".join(said)


def table(models: int, runs: dict[str, Runs]) -> list[str]:
    ship = runs["shipspec"]
    lines = [f"{models} models, medians of {len(ship.wall)} alternating rounds (fresh processes, wall from the parent)"]
    lines.append(f"{'':>12} {'wall s':>8} {'files':>7} {'MiB':>6} {'ms/file':>8}   inside the process (s)")
    for name, r in runs.items():
        parts = ", ".join(f"{part} {r.median(part):.3f}" for part in r.parts)
        per_file = r.median() / r.files * 1000
        lines.append(f"{name:>12} {r.median():8.3f} {r.files:7d} {r.mib:6.1f} {per_file:8.3f}   {parts}")
    floor = runs["floor"]
    lines.append(f"shipspec / floor, whole process: {ship.median() / floor.median():.2f}x (target <= {FLOOR_TARGET})")
    lines.append(f"shipspec / floor, writing alone: {ship.median() / floor.median('write'):.2f}x")
    if "floor+sync" in runs:
        lines.append(f"shipspec / floor+sync, whole process: {ship.median() / runs['floor+sync'].median():.2f}x")
    if "KCL" in runs:
        kcl = runs["KCL"]
        per_file = (ship.median() / ship.files) / (kcl.median() / kcl.files)
        per_mib = (ship.median() / ship.mib) / (kcl.median() / kcl.mib)
        lines.append(f"shipspec / KCL: {ship.median() / kcl.median():.2f}x wall, {per_file:.2f}x per file (target < 1)")
        lines.append(f"shipspec / KCL per MiB written: {per_mib:.2f}x (KCL's files are larger on average)")
    if "base" in runs:
        base = runs["base"]
        paired = [s / b for s, b in zip(ship.wall, base.wall, strict=True)]
        lines.append(
            f"shipspec / base: {ship.median() / base.median():.2f}x of the medians; per round "
            + ", ".join(f"{x:.2f}" for x in paired)
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-kcl", action="store_true", help="skip KCL (no side virtualenv)")
    parser.add_argument("--no-sync-floor", action="store_true", help="skip the floor that fdatasyncs every file")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed compile before the first round")
    parser.add_argument("--base", help="also compile with this version's code each round (a commit, tag or branch)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        runs = measure(
            args.models,
            args.rounds,
            not args.no_kcl,
            not args.no_sync_floor,
            Path(tmp),
            warmup=not args.no_warmup,
            base=args.base,
            say=lambda line: print(line, flush=True),
        )
    print("\n".join(table(args.models, runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
