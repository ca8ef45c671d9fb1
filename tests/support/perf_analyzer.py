"""Triton's perf_analyzer for the live tests: the binary the tritonclient 2.51.0 wheel ships (the
release of the server the tests run), which scripts/bootstrap installs into a side directory
with the libraries it links (Debian's libb64-0d; libcudart.so.12 from PyPI's
nvidia-cuda-runtime-cu12, loaded but unused without a GPU). PyPI's perf-analyzer package serves
only a placeholder (0.1.0) to this platform."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIDE_BINARY = ROOT / ".venv" / "triton-releases" / "2.51.0" / "bin" / "perf_analyzer"
CUDA_RUNTIME = ROOT / ".venv" / "cuda-runtime" / "nvidia" / "cuda_runtime" / "lib"


def perf_analyzer_binary() -> Path | None:
    if SIDE_BINARY.is_file() and os.access(SIDE_BINARY, os.X_OK):
        return SIDE_BINARY
    found = shutil.which("perf_analyzer")
    return Path(found) if found else None


def perf_analyzer_missing() -> str | None:
    """Why perf_analyzer cannot run here (for ``pytest.skip``), or None."""
    if perf_analyzer_binary() is None:
        return f"no perf_analyzer at {SIDE_BINARY} or on PATH (scripts/bootstrap installs it)"
    if not any(Path(p, "libb64.so.0d").exists() for p in ("/usr/lib/x86_64-linux-gnu", "/usr/lib")):
        return "libb64.so.0d missing (apt-get install libb64-0d)"
    if not (CUDA_RUNTIME / "libcudart.so.12").exists() and not shutil.which("nvidia-smi"):
        return f"libcudart.so.12 missing under {CUDA_RUNTIME} (scripts/bootstrap installs it)"
    return None


def library_path() -> str:
    """LD_LIBRARY_PATH for perf_analyzer: the side CUDA runtime before what is set already."""
    return os.pathsep.join(p for p in (str(CUDA_RUNTIME), os.environ.get("LD_LIBRARY_PATH", "")) if p)
