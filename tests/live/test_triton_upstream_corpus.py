"""The real tritonserver (2.51, the nvidia-pytriton wheel) agrees with shipspec's Triton rules
(``targets/triton_rules.py``) on every upstream config in ``../shared/triton-configs``.

- ``invalid/``: Triton's own negative cases (qa/L0_model_config). The checker refuses each, and the
  server refuses each too, with one of the messages upstream expects, in its log. As upstream's
  test does, the platform is replaced (by ``backend: "python"``) and auto-complete is off.
- ``valid/``: configs from Triton's repositories. The checker accepts each; the server loads each
  as a python stand-in (only ``platform``/``backend`` change, and the name follows the directory;
  ``KIND_GPU`` becomes ``KIND_CPU`` on a machine without a GPU; label files are created). A config
  with a field the 2.51 server's ModelConfig does not have (its release's protobuf, vendored in
  compiler/backends/triton/protos, says) is skipped with that reason; the counts are asserted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.backends.triton.protos import parse_for_release
from compiler.backends.triton.validate import parse_config
from compiler.targets.triton_rules import config_problems
from tests.support.standin import gpu_present, standin_model
from tests.support.triton_server import TritonServer, triton_missing

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "triton-configs"
pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(bool(triton_missing()) and not os.environ.get("CI"), reason=triton_missing() or ""),
    pytest.mark.skipif(not CORPUS.is_dir(), reason="shared triton-configs corpus not present"),
]

# The server the live tests run; a config with a field its ModelConfig lacks cannot load there.
SERVER_RELEASE = "2.51.0"


def _newer_than_server(text: str) -> str | None:
    """Why the 2.51 server cannot read ``text`` (its release's own protobuf says), or None."""
    from google.protobuf import text_format

    try:
        parse_for_release(text, SERVER_RELEASE)
    except text_format.ParseError as err:
        return f"not a Triton {SERVER_RELEASE} ModelConfig: {err}"
    return None


def _expected(case: Path) -> list[str]:
    """The messages upstream accepts for a negative case (its files are grep BRE: ``\\[`` is ``[``)."""
    return [p.read_text().strip().replace("\\[", "[").replace("\\]", "]") for p in sorted(case.glob("expected*"))]


def _server_config(config, name: str) -> str:
    """``config`` as the python stand-in the server loads: backend, name and (without a GPU) kinds change."""
    from google.protobuf import text_format

    served = type(config)()
    served.CopyFrom(config)
    served.name = name
    if served.platform != "ensemble":
        served.ClearField("platform")
        served.backend = "python"
    for group in served.instance_group:
        group.ClearField("profile")  # TensorRT optimization profiles: only the TensorRT backend takes them
    if not gpu_present():
        for group in served.instance_group:
            if group.kind == group.KIND_GPU:
                group.kind = group.KIND_CPU
                del group.gpus[:]
    return str(text_format.MessageToString(served))


def _members(config):
    """Python stand-ins for an ensemble's steps (the corpus has the ensembles, not their members).

    A member tensor bound to an ensemble input or output takes its type and dims; a tensor
    passed between steps is FP32 of variable length on both sides (any one type would do).
    """
    from tritonclient.grpc import model_config_pb2

    declared = {t.name: (t.data_type, list(t.dims)) for t in (*config.input, *config.output)}
    members = []
    for step in config.ensemble_scheduling.step:
        member = type(config)(name=step.model_name, backend="python", max_batch_size=config.max_batch_size)
        for kind, mapping in (("input", step.input_map), ("output", step.output_map)):
            for own, ensemble_tensor in sorted(mapping.items()):
                dtype, dims = declared.get(ensemble_tensor, (model_config_pb2.TYPE_FP32, [-1]))
                getattr(member, kind).add(name=own, data_type=dtype, dims=dims)
        members.append(member)
    return members


def _log_has(log: str, message: str) -> bool:
    # Triton's error lines start with E<MMDD>; upstream greps them for the expected text.
    return any(line.startswith("E") and message in line for line in log.splitlines())


def test_upstream_negative_cases_are_refused_by_checker_and_server(tmp_path: Path) -> None:
    cases = sorted(p for p in (CORPUS / "invalid").iterdir() if (p / "config.pbtxt").is_file())
    repo = tmp_path / "repo"
    for case in cases:
        (repo / case.name / "1").mkdir(parents=True)
        # Upstream deletes the platform line and appends one; the python backend is the one bundled here.
        text = (case / "config.pbtxt").read_text() + '\nbackend: "python"\n'
        (repo / case.name / "config.pbtxt").write_text(text)
        (repo / case.name / "1" / "model.py").write_text("class TritonPythonModel:\n    pass\n")
    checker_refused, server_refused, same_reason = [], [], []
    with TritonServer(repo, models=[], extra_args=["--disable-auto-complete-config"]) as server:
        for case in cases:
            config = parse_config((repo / case.name / "config.pbtxt").read_text())
            problems = [p.message for p in config_problems(config, case.name)]
            if problems:
                checker_refused.append(case.name)
            try:
                server.load(case.name)
            except RuntimeError:
                server_refused.append(case.name)
            log = server.log_tail(1_000_000)
            expected = _expected(case)
            # (upstream's expected texts are line prefixes: "... one or more GPU" for "... GPUs")
            said = [e for e in expected if _log_has(log, e)]
            if any(p in e or e in p for p in problems for e in said):
                same_reason.append(case.name)
    names = [c.name for c in cases]
    assert len(names) == 29
    assert checker_refused == names, sorted(set(names) - set(checker_refused))
    assert server_refused == names, sorted(set(names) - set(server_refused))
    # Both name the problem in Triton's words: the checker's message is the server's.
    assert same_reason == names, sorted(set(names) - set(same_reason))


def test_upstream_valid_configs_pass_the_checker_and_load_in_the_server(tmp_path: Path) -> None:
    import tritonclient.http as httpclient

    configs = sorted((CORPUS / "valid").glob("*.pbtxt"))
    repo = tmp_path / "repo"
    skipped, plain, ensembles = {}, [], []
    for path in configs:
        config = parse_config(path.read_text())
        assert config_problems(config, path.stem) == [], path.name
        if why := _newer_than_server(path.read_text()):
            skipped[path.stem] = why
            continue
        model = repo / path.stem
        (model / "1").mkdir(parents=True)
        (model / "config.pbtxt").write_text(_server_config(config, path.stem))
        for t in config.output:
            if t.label_filename:
                (model / t.label_filename).write_text("".join(f"label{i}\n" for i in range(1000)))
        if config.platform == "ensemble":
            ensembles.append(path.stem)
            for member in _members(config):
                assert not (repo / member.name).exists(), member.name
                (repo / member.name / "1").mkdir(parents=True)
                (repo / member.name / "config.pbtxt").write_text(_server_config(member, member.name))
                (repo / member.name / "1" / "model.py").write_text(standin_model(member))
        else:
            plain.append(path.stem)
            (model / "1" / "model.py").write_text(standin_model(parse_config(_server_config(config, path.stem))))
    loaded, refused = [], {}
    # Each unit (a plain model, or an ensemble with its members) loads, is checked READY and is
    # unloaded, one at a time. The 2.51 server can crash (SIGSEGV) just after it loaded a decoupled
    # model with a warmup sample (seen here, intermittently, for qa_warmup_decoupled): a unit whose
    # load the server's log shows completed before it died counts as loaded (that is the config's
    # verdict), and a fresh server takes the remaining units.
    units = [[name] for name in plain] + [
        [
            *(s.model_name for s in parse_config((repo / name / "config.pbtxt").read_text()).ensemble_scheduling.step),
            name,
        ]
        for name in ensembles
    ]
    crashed: list[str] = []
    restarts = 0
    while units:
        log = tmp_path / f"server-{restarts}.log"
        with TritonServer(repo, models=[], log_path=log) as server:
            client = httpclient.InferenceServerClient(server.http_url)
            while units:
                unit, name = units[0], units[0][-1]
                try:
                    for model in unit:
                        server.load(model)
                except RuntimeError as err:
                    if server.alive():
                        refused[name] = str(err).splitlines()[0]
                        units.pop(0)
                        continue
                    if f"successfully loaded '{name}'" in server.log_tail(1_000_000):
                        loaded.append(name)
                        crashed.append(name)
                        units.pop(0)
                    break  # the server died: a fresh one for the rest
                if client.is_model_ready(name):
                    loaded.append(name)
                for model in reversed(unit):
                    server.unload(model)  # one unit's python stubs at a time
                units.pop(0)
        restarts += 1
        assert restarts <= 3, f"tritonserver died {restarts} times; last log {log}"
    print(
        f"upstream valid configs: {len(configs)}; checker accepts {len(configs)}; "
        f"loaded by tritonserver 2.51 {len(loaded)}; skipped {skipped}; "
        f"refused {refused}; ensembles {ensembles}; server crashed right after loading {crashed}"
    )
    assert refused == {}
    assert loaded == plain + ensembles
    assert (len(configs), len(loaded)) == (30, 29)
    # The one skipped config sets model_metrics (from the 2.71 qa suite), which 2.51 does not have.
    assert list(skipped) == ["qa_model_metrics_v2_71"] and "model_metrics" in skipped["qa_model_metrics_v2_71"]
