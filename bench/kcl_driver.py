"""The KCL peer's driver: ``.tools/kcl/bin/python bench/kcl_driver.py MAIN_K MODELS_JSON OUT``.

Runs in the side virtualenv where ``bench.peers`` installs kcl-lib (never in the
project's own environment): one ``ExecProgram`` of the KCL program (the model list
file's JSON text passed as ``option("models")``; KCL's own ``file.read`` refuses paths
outside the program's directory), then each ``{path, text}`` of its ``files``
written under OUT (each directory made once, nothing fsynced, no validation).
Prints ``{"exec_s": ..., "write_s": ..., "files": ...}``; the parent times the whole
process. Only the standard library and kcl-lib.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any


def run(main_k: str, models_json: str, out: str) -> dict[str, Any]:
    api: Any = importlib.import_module("kcl_lib.api")
    t = time.perf_counter()
    args = api.ExecProgramArgs(
        k_filename_list=[main_k],
        args=[api.Argument(name="models", value=open(models_json, encoding="utf-8").read())],
        disable_yaml_result=True,
    )
    result = api.API().exec_program(args)
    if result.err_message:
        raise SystemExit(f"kcl: {result.err_message}")
    files = json.loads(result.json_result)["files"]
    exec_s = time.perf_counter() - t
    t = time.perf_counter()
    made: set[str] = set()
    for f in files:
        target = os.path.join(out, f["path"])
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(f["text"])
    return {"exec_s": exec_s, "write_s": time.perf_counter() - t, "files": len(files)}


def main(argv: Sequence[str] | None = None) -> int:
    main_k, models_json, out = sys.argv[1:] if argv is None else argv
    print(json.dumps(run(main_k, models_json, out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
