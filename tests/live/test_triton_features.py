"""Every config feature shipspec renders, loaded by the real server (golden/triton-features),
and the version gate on latency histograms (model_metrics needs Triton 2.52)."""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from compiler.backends.render import Templates
from compiler.backends.triton.validate import parse_config
from compiler.commands.smoke import synthetic_inputs
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from tests.support.standin import standin_repository
from tests.support.triton_render import render_triton
from tests.support.triton_server import TritonServer, triton_missing

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "golden" / "triton-features" / "specs"
# Skipped where the server cannot run, except in CI, where a missing server must fail loudly.
pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(bool(triton_missing()) and not os.environ.get("CI"), reason=triton_missing() or ""),
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("features")
    assert render_triton(FEATURES, out) == ["dev", "prod", "staging"]
    return out


def _infer(client: object, source: Path, name: str, **kwargs: object) -> object:
    config = parse_config((source / name / "config.pbtxt").read_text())
    # A sequence batcher takes one request per sequence step (batch 1); Triton batches across sequences.
    batch = (1 if config.HasField("sequence_batching") else 2) if config.max_batch_size else None
    return client.infer(name, synthetic_inputs(config, batch), **kwargs)  # type: ignore[attr-defined]


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_features_load_and_answer(rendered: Path, tmp_path: Path, env: str) -> None:
    import tritonclient.http as httpclient

    source = rendered / "deploy" / env / "triton"
    with TritonServer(standin_repository(source, tmp_path / "repo")) as server:
        client = httpclient.InferenceServerClient(server.http_url)
        scores = _infer(client, source, "ranker", priority=1).as_numpy("scores")
        assert scores.shape == (2, 10) and scores.dtype == np.float32
        state = _infer(client, source, "session_scorer", sequence_id=7, sequence_start=True, sequence_end=True)
        assert state.as_numpy("state").shape == (1, 2)


def test_production_warmup_runs_and_cache_answers(rendered: Path, tmp_path: Path) -> None:
    import tritonclient.http as httpclient

    source = rendered / "deploy" / "prod" / "triton"
    repo = standin_repository(source, tmp_path / "repo")
    args = ["--log-verbose=1", "--cache-config=local,size=1048576"]
    with TritonServer(repo, extra_args=args) as server:
        # model_warmup, rendered for production only, ran on each of the two instances.
        assert len(re.findall(r"is running warmup sample 'ranker_warmup'", server.log_tail(100_000))) == 2
        client = httpclient.InferenceServerClient(server.http_url)
        for _ in range(2):
            _infer(client, source, "ranker")
        with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
            metrics = resp.read().decode()
    hits = re.search(r'nv_cache_num_hits_per_model\{model="ranker",version="2003001"\} (\d+)', metrics)
    assert hits and int(hits.group(1)) >= 1, metrics[:2000]
    # Why SS713 exists: a cached model gets no request-latency summary on this server.
    assert 'nv_inference_request_summary_us_count{model="ranker"' not in metrics


def _spec(triton: str) -> str:
    return (FEATURES / "features.ship").read_text().replace('triton "2.51.0"', f'triton "{triton}"')


def test_triton_2_51_refuses_model_metrics(tmp_path: Path) -> None:
    """Why the gate exists: the 2.51 server will not load a config carrying model_metrics."""
    checked = check_loaded(load_text(_spec("2.52.0"), "features.ship"))
    files, _ = render(checked, Templates.load(), only=["triton"])
    source = tmp_path / "rendered"
    for f in files:
        if f.path.startswith("deploy/prod/triton/ranker/"):
            (source / "ranker").mkdir(parents=True)
            (source / "ranker" / "config.pbtxt").write_text(f.text)
    repo = standin_repository(source, tmp_path / "repo")
    with pytest.raises(RuntimeError, match="model_metrics"):
        with TritonServer(repo):
            pass


def test_warmup_runs_for_a_model_without_batching(tmp_path: Path) -> None:
    spec = (
        'project p { triton "2.51.0" }\nenvironment prod { tier production namespace "p" replicas 2..3 }\n'
        'model m { version "1.0.0" format python artifact "s3://b/m.py" input x: fp32[4] input s: string[-1]'
        " output y: fp32[4] serve in prod }\n"
    )
    files, _ = render(check_loaded(load_text(spec, "t.ship")), Templates.load(), only=["triton"])
    source = tmp_path / "rendered" / "m"
    source.mkdir(parents=True)
    (source / "config.pbtxt").write_text(next(f.text for f in files if f.path.endswith(".pbtxt")))
    with TritonServer(standin_repository(source.parent, tmp_path / "repo"), extra_args=["--log-verbose=1"]) as server:
        assert "is running warmup sample 'm_warmup'" in server.log_tail(1_000_000)
