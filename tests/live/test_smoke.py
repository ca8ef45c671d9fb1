"""``shipspec smoke`` against a real tritonserver serving stand-ins of the rendered repository."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.standin import gpu_present, standin_repository
from tests.support.triton_render import render_triton, server_specs
from tests.support.triton_server import TritonServer, triton_missing

ROOT = Path(__file__).resolve().parents[2]
# Skipped where the server cannot run, except in CI, where a missing server must fail loudly.
pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(bool(triton_missing()) and not os.environ.get("CI"), reason=triton_missing() or ""),
]

# Stand-ins run the python backend; on a machine without a GPU their GPU groups run as CPU.
IGNORE = ["--ignore", "backend", "--ignore", "platform"] + ([] if gpu_present() else ["--ignore", "kind"])


# specs/ targets the current release; the live server is 2.51: a copy pinned to it (made once).
_PINNED: list[Path] = []


def _pinned_specs() -> str:
    if not _PINNED:
        _PINNED.append(server_specs(ROOT / "specs", Path(tempfile.mkdtemp(prefix="smoke-specs-")) / "specs"))
    return str(_PINNED[0])


def smoke(url: str, env: str, *extra: str, specs: str = "") -> subprocess.CompletedProcess[str]:
    specs = specs or _pinned_specs()
    return subprocess.run(
        [sys.executable, "-m", "compiler", "smoke", specs, "--url", url, "--env", env, "--timeout", "5", *IGNORE,
         *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    render_triton(Path(_pinned_specs()), out)
    return out


def test_smoke_passes_on_a_faithful_server(rendered: Path, tmp_path: Path) -> None:
    repo = standin_repository(rendered / "deploy" / "staging" / "triton", tmp_path / "repo")
    with TritonServer(repo) as server:
        r = smoke(server.http_url, "staging")
        # Against the committed tree: one file edited there no longer matches what is served.
        cfg = rendered / "deploy" / "staging" / "triton" / "offer_ranker" / "config.pbtxt"
        original = cfg.read_text()
        cfg.write_text(original.replace("max_batch_size: 32", "max_batch_size: 16"))
        try:
            drift = smoke(server.http_url, "staging", "--tree", str(rendered))
        finally:
            cfg.write_text(original)
        same = smoke(server.http_url, "staging", "--tree", str(rendered))
    assert drift.returncode == 1 and "FAIL offer_ranker: served config differs from Git: max_batch_size" in drift.stdout
    assert same.returncode == 0, same.stdout
    assert r.returncode == 0, r.stdout + r.stderr
    for model in ("fraud_detector", "offer_ranker", "ticket_classifier", "ticket_router", "ticket_tokenizer"):
        assert f"ok   {model}: READY" in r.stdout
        assert f"ok   {model}: served config matches Git" in r.stdout
        assert f"ok   {model}: inference answered" in r.stdout
    assert "0 failed" in r.stdout
    assert 'ok   server version 2.51.0 matches the spec\'s triton "2.51.0"' in r.stdout


def test_smoke_reports_drift_and_missing_models(rendered: Path, tmp_path: Path) -> None:
    repo = standin_repository(rendered / "deploy" / "prod" / "triton", tmp_path / "repo")
    cfg = repo / "fraud_detector" / "config.pbtxt"
    cfg.write_text(cfg.read_text().replace("preferred_batch_size: [ 8, 16, 32 ]", "preferred_batch_size: [ 8, 16 ]"))
    # ticket_router (and so nothing that depends on it) is left unloaded.
    loaded = ["fraud_detector", "offer_ranker", "ticket_classifier", "ticket_tokenizer"]
    with TritonServer(repo, models=loaded) as server:
        r = smoke(server.http_url, "prod")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL fraud_detector: served config differs from Git: dynamic_batching.preferred_batch_size" in r.stdout
    assert "FAIL ticket_router: not READY" in r.stdout
    assert "ok   offer_ranker: served config matches Git" in r.stdout


def test_smoke_drives_a_sequence_model(tmp_path: Path) -> None:
    """golden/triton-features: a sequence-batched model answers one whole sequence."""
    out = tmp_path / "rendered"
    render_triton(ROOT / "golden" / "triton-features" / "specs", out)
    repo = standin_repository(out / "deploy" / "staging" / "triton", tmp_path / "repo")
    with TritonServer(repo) as server:
        r = smoke(server.http_url, "staging", specs="golden/triton-features/specs")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok   session_scorer: inference answered" in r.stdout
