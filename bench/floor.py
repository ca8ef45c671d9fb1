"""The CSafeDumper floor of ``bench/peers.py``: the same files, written by PyYAML's C emitter.

``collect(out)`` reads the output tree a shipspec compile wrote (the files its ledger
lists; ``.shipspec/`` itself, the ledger and the build cache, is left out) into
entries: the parsed documents of every YAML or JSON file (CSafeLoader, ``json``) and
the bytes of every other file (``config.pbtxt``, ``.md``, ``CODEOWNERS``). ``write``
writes those entries into an empty tree: each YAML/JSON file with
``yaml.dump_all(documents, Dumper=yaml.CSafeDumper)`` (to a string, then written, so
the emitter's share can be timed), the others as their bytes, each directory made
once. Nothing is fsynced (shipspec fdatasyncs every file it writes; ``durable=True``
adds that cost to the floor for comparison, syncing as shipspec does).

``python -m bench.floor ENTRIES.pickle OUT`` is the timed process: it unpickles the
entries (not timed inside the process; the parent reads and parses the tree before
any timing), moves them out of the garbage collector's sight (``gc.freeze``), writes
them, and prints ``{"write_s": ..., "dump_s": ..., "files": ...}``: the writing alone,
and within it the time in ``yaml.dump_all``. The parent times the
whole process (start-up, imports, unpickling, writing).
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json",)

# (relative path, "yaml" with a list of documents | "bytes" with the file's bytes)
Entry = tuple[str, str, Any]


def has_c_dumper() -> bool:
    """Whether PyYAML was built with libyaml (the floor means nothing without it)."""
    return hasattr(yaml, "CSafeDumper") and hasattr(yaml, "CSafeLoader")


def written_paths(out: Path) -> list[str]:
    """The files a compile wrote into ``out``: its ledger's list (sorted)."""
    ledger = json.loads((out / ".shipspec" / "ledger.json").read_text())
    return sorted(ledger["files"])


def collect(out: Path) -> list[Entry]:
    """The entries to write: parsed documents of YAML/JSON files, bytes of the rest."""
    entries: list[Entry] = []
    for path in written_paths(out):
        data = (out / path).read_bytes()
        if path.endswith(YAML_SUFFIXES):
            entries.append((path, "yaml", list(yaml.load_all(data, Loader=yaml.CSafeLoader))))
        elif path.endswith(JSON_SUFFIXES):
            entries.append((path, "yaml", [json.loads(data)]))
        else:
            entries.append((path, "bytes", data))
    return entries


def write(entries: Sequence[Entry], root: Path, durable: bool = False) -> tuple[int, float]:
    """Write ``entries`` under ``root`` (empty or absent): the number of files written
    and the seconds spent in ``yaml.dump_all`` alone (the rest is the kernel's). With
    ``durable``, each file's data and each directory are synced as shipspec's emit syncs
    them: a batch of files at a time, ``fsutil.IN_FLIGHT`` syncs in flight."""
    from compiler.fsutil import Syncs

    made: set[str] = set()
    dump_s = 0.0
    batch: list[int] = []
    with Syncs() as syncs:
        for path, kind, payload in entries:
            target = os.path.join(root, path)
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            if kind == "yaml":
                t = time.perf_counter()
                data = yaml.dump_all(
                    payload, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
                ).encode("utf-8")
                dump_s += time.perf_counter() - t
            else:
                data = payload
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if not durable:
                os.close(fd)
                continue
            batch.append(fd)
            if len(batch) == BATCH:
                _synced(syncs, batch)
        if durable:
            _synced(syncs, batch)
    if durable:
        with Syncs(os.fsync) as directories:
            for directory in sorted(made):
                batch.append(os.open(directory, os.O_RDONLY))
                if len(batch) == BATCH:
                    _synced(directories, batch)
            _synced(directories, batch)
    return len(entries), dump_s


BATCH = 256  # as compiler.emit's batches


def _synced(syncs: Any, fds: list[int]) -> None:
    try:
        syncs.each(fds)
    finally:
        for fd in fds:
            os.close(fd)
        fds.clear()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    durable = "--durable" in args
    pickled, out = (a for a in args if a != "--durable")
    with open(pickled, "rb") as f:
        entries = pickle.load(f)  # our own file, written by bench.peers
    # The input is not the floor's work: the collector need not walk it again and again
    # (at 1,000 models it made yaml.dump_all a quarter slower and superlinear).
    gc.freeze()
    t = time.perf_counter()
    files, dump_s = write(entries, Path(out), durable=durable)
    took = time.perf_counter() - t
    print(json.dumps({"write_s": took, "dump_s": dump_s, "files": files}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
