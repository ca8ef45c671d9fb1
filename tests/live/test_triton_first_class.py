"""The first-class Triton statements (sequence controls and strategy settings, preserve_ordering,
per-priority queue policies, decoupled, batch inputs/outputs), rendered and loaded by the real
tritonserver (2.51, python stand-ins): each loads and is served with the fields shipspec wrote; each
broken variant the checker refuses (tests/unit/backends/triton/test_triton_first_class.py) is refused
by the server too, with the same words in its log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.backends.render import Templates
from compiler.backends.triton.validate import parse_config
from compiler.commands.smoke import subset_mismatches
from compiler.emit import file_bytes
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from tests.support.standin import standin_repository
from tests.support.triton_server import TritonServer, triton_missing
from tests.unit.backends.triton.test_triton_first_class import BROKEN, RAGGED, SEQUENCE, spec

pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(bool(triton_missing()) and not os.environ.get("CI"), reason=triton_missing() or ""),
]

PIN = 'triton "2.51.0"'  # the live server's release


def _render(text: str, out: Path, name: str) -> Path:
    """Render the spec's one model ``m`` (the checker's verdict set aside) as ``out/<name>/config.pbtxt``."""
    files, _ = render(check_loaded(load_text(text, "t.ship")), Templates.load(), only=["triton"])
    (config,) = [f for f in files if f.path.endswith("/m/config.pbtxt")]
    body = file_bytes(config).decode().replace('name: "m"', f'name: "{name}"', 1)
    (out / name).mkdir(parents=True)
    (out / name / "config.pbtxt").write_text(body)
    return out / name / "config.pbtxt"


def test_first_class_settings_load_and_are_served_as_written(tmp_path: Path) -> None:
    import tritonclient.http as httpclient
    from google.protobuf import json_format
    from tritonclient.grpc import model_config_pb2

    cases = {
        "ragged": RAGGED.replace("  decoupled\n", ""),
        "decoupled": "  decoupled",
        "sequence": SEQUENCE,
        "direct": "  sequence { strategy direct { delay 2ms  utilization 0.5 }  control ready READY: bool }",
    }
    rendered = {name: _render(spec(extra, pin=PIN), tmp_path / "rendered", name) for name, extra in cases.items()}
    repo = standin_repository(tmp_path / "rendered", tmp_path / "repo")
    with TritonServer(repo) as server:
        client = httpclient.InferenceServerClient(server.http_url)
        for name, path in rendered.items():
            assert client.is_model_ready(name), server.log_tail()
            served = json_format.ParseDict(
                client.get_model_config(name), model_config_pb2.ModelConfig(), ignore_unknown_fields=True
            )
            ours = parse_config(path.read_text())
            assert subset_mismatches(ours, served, "", frozenset({"backend", "platform"})) == [], name
        assert parse_config(rendered["decoupled"].read_text()).model_transaction_policy.decoupled
        # The sequence batcher takes a request with the sequence flags the controls carry.
        config = parse_config(rendered["sequence"].read_text())
        inp = httpclient.InferInput("x", [1, 3], "FP32")
        import numpy as np

        inp.set_data_from_numpy(np.ones((1, 3), dtype=np.float32))
        result = client.infer("sequence", [inp], sequence_id=7, sequence_start=True, sequence_end=True)
        assert result.as_numpy("y").shape == (1, 1) and config.sequence_batching.oldest.max_candidate_sequences == 8


def test_broken_settings_are_refused_by_the_server_too(tmp_path: Path) -> None:
    names = sorted(BROKEN)
    for case in names:
        _render(spec(BROKEN[case][0], pin=PIN), tmp_path / "rendered", case.replace("-", "_"))
    repo = standin_repository(tmp_path / "rendered", tmp_path / "repo")
    refused = {}
    with TritonServer(repo, models=[], log_path=tmp_path / "server.log") as server:
        for case in names:
            try:
                server.load(case.replace("-", "_"))
            except RuntimeError:
                refused[case] = True
        log = server.log_tail(1_000_000)
    assert sorted(refused) == names
    for case in names:
        # The server names the model it read; the spec's model is 'm'.
        message = BROKEN[case][1].replace(" model m ", f" model {case.replace('-', '_')} ")
        assert any(line.startswith("E") and message in line for line in log.splitlines()), (case, message)
