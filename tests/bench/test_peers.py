"""The parts of bench/peers.py and bench/rss.py that decide what is compared, checked
without timing anything: the CSafeDumper floor writes exactly the files a compile
wrote, with the same documents; the KCL program's input is the synthetic repository's
models and environments; the RSS wrapper and the one-field edit work. KCL itself
runs only where bench/peers.py installed it (.tools/kcl); the rest needs no KCL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench import floor, peers, rss
from bench.synth import generate

MODELS = 5


def _files(root: Path) -> set[str]:
    return {
        os.path.relpath(os.path.join(d, f), root)
        for d, _, files in os.walk(root)
        for f in files
        if not os.path.relpath(d, root).startswith(".shipspec")
    }


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("peers")
    specs = generate(root, MODELS)
    out = root / "out"
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", str(specs), "--out", str(out), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return specs, out


@pytest.mark.skipif(not floor.has_c_dumper(), reason="PyYAML without libyaml: the floor is not measured")
@pytest.mark.parametrize("durable", [False, True])
def test_floor_writes_the_files_shipspec_wrote(compiled: tuple[Path, Path], tmp_path: Path, durable: bool) -> None:
    _, out = compiled
    entries = floor.collect(out)
    written = floor.written_paths(out)
    assert [path for path, _, _ in entries] == written
    assert set(written) == _files(out)  # the ledger lists every file but shipspec's own (.shipspec/)
    kinds = {kind for _, kind, _ in entries}
    assert kinds == {"yaml", "bytes"}
    placements = 3 * MODELS + (MODELS + 3) // 4  # staging, preprod, prod; dev for every fourth model
    assert sum(p.endswith("config.pbtxt") for p in written) == placements  # written as their bytes

    files, dump_s = floor.write(entries, tmp_path / "floor", durable=durable)
    assert files == len(written) and dump_s > 0
    assert _files(tmp_path / "floor") == set(written)
    for path, kind, _ in entries:
        ours, theirs = (out / path).read_bytes(), (tmp_path / "floor" / path).read_bytes()
        if kind == "yaml":
            assert list(yaml.load_all(theirs, Loader=yaml.CSafeLoader)) == list(
                yaml.load_all(ours, Loader=yaml.CSafeLoader)
            ), path
        else:
            assert theirs == ours, path


def test_floor_process_reads_the_pickle_and_reports(compiled: tuple[Path, Path], tmp_path: Path) -> None:
    import pickle

    _, out = compiled
    entries = tmp_path / "entries.pickle"
    entries.write_bytes(pickle.dumps(floor.collect(out)))
    took, files, parts = peers.floor_run(entries, tmp_path / "floor", durable=False)
    assert files == len(floor.written_paths(out)) and took > 0
    assert parts["write"] >= parts["dump_all"] > 0


def test_kcl_input_is_the_synthetic_repository(compiled: tuple[Path, Path]) -> None:
    specs, _ = compiled
    data = peers.kcl_input(specs)
    assert data["project"] == "synth"
    assert [m["name"] for m in data["models"]] == [f"m{i:05d}" for i in range(MODELS)]
    for i, model in enumerate(data["models"]):
        assert model["envs"] == (["dev"] if i % 4 == 0 else []) + ["staging", "preprod", "prod"]
        assert model["version"] == f"1.{i}.0" and (model["major"], model["minor"], model["patch"]) == (1, i, 0)
        assert model["width"] == 16 + i % 48 and model["preferred"] == [8, 16] and model["delay_us"] == 1000
        assert (model["cpu"], model["memory"]) == ("1", "2Gi")
    envs = data["environments"]
    assert (envs["staging"]["min"], envs["staging"]["max"], envs["prod"]["tier"]) == (1, 3, "production")
    assert envs["dev"]["max"] == 0 and envs["prod"]["namespace"] == "ml-prod"
    # per model: staging and preprod 4 files (with an HPA), prod 5 (and a PDB), dev 3
    assert peers.kcl_file_count(data) == 13 * MODELS + 3 * ((MODELS + 3) // 4)


def test_kcl_input_at_1000_models_counts_every_placement(tmp_path: Path) -> None:
    data = peers.kcl_input(generate(tmp_path, 1000))
    assert len(data["models"]) == 1000
    assert sum(len(m["envs"]) for m in data["models"]) == 3250  # 3.25 environments per model


@pytest.mark.realtools  # the side virtualenv's interpreter
@pytest.mark.skipif(not (peers.KCL_VENV / "bin" / "python").exists(), reason="KCL not installed (.tools/kcl)")
def test_kcl_program_renders_the_objects(compiled: tuple[Path, Path], tmp_path: Path) -> None:
    specs, _ = compiled
    data = peers.kcl_input(specs)
    models_json = tmp_path / "models.json"
    models_json.write_text(json.dumps(data))
    _, files, _ = peers.kcl_run(peers.KCL_VENV / "bin" / "python", models_json, tmp_path / "kcl")
    assert files == peers.kcl_file_count(data) == peers.count_files(tmp_path / "kcl")
    kinds: dict[str, int] = {}
    for path in _files(tmp_path / "kcl"):
        (doc,) = yaml.load_all((tmp_path / "kcl" / path).read_text(), Loader=yaml.SafeLoader)
        kinds[doc["kind"]] = kinds.get(doc["kind"], 0) + 1
    placements = sum(len(m["envs"]) for m in data["models"])
    assert kinds == {
        "Deployment": placements,
        "Service": placements,
        "ConfigMap": placements,
        "HorizontalPodAutoscaler": 3 * MODELS,
        "PodDisruptionBudget": MODELS,
    }


def test_rss_wrapper_and_edit(tmp_path: Path) -> None:
    figures = rss.peak([sys.executable, "-c", "x = bytearray(64 << 20)"])
    assert figures["largest_mib"] is not None and figures["largest_mib"] > 64
    if sys.platform == "linux":
        assert figures["tree_mib"] is not None  # sampled: a process this short may end before a sample
    specs = generate(tmp_path, 2)
    before = (specs / "models" / "m00001.ship").read_text().splitlines()
    rss.edit_one_field(specs)
    after = (specs / "models" / "m00001.ship").read_text().splitlines()
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [
        ("  resources { cpu 1  memory 2Gi }", "  resources { cpu 2  memory 2Gi }")
    ]


@pytest.mark.skipif(not floor.has_c_dumper(), reason="PyYAML without libyaml: the floor is not measured")
@pytest.mark.parametrize("warmup", [True, False])
def test_measure_warms_up_untimed_and_sets_trees_aside_until_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warmup: bool
) -> None:
    compiles: list[Path] = []
    aside: list[str] = []
    real_run, real_aside = peers.shipspec_run, peers._set_aside

    def run(specs: Path, out: Path, code: Path = peers.REPO) -> tuple[float, int]:
        compiles.append(out)
        return real_run(specs, out, code)

    def set_aside(root: Path, out: Path) -> None:
        aside.append(out.name)
        real_aside(root, out)

    monkeypatch.setattr(peers, "shipspec_run", run)
    monkeypatch.setattr(peers, "_set_aside", set_aside)
    runs = peers.measure(4, 2, kcl=False, durable=False, root=tmp_path, warmup=warmup)
    assert len(runs["shipspec"].wall) == len(runs["floor"].wall) == 2  # the warm-up is not a round
    assert [out.name for out in compiles] == ["warmup"] * warmup + ["shipspec", "shipspec"]
    assert aside == ["warmup"] * warmup + ["shipspec", "floor"] * 2  # nothing deleted between runs
    assert not (tmp_path / "spent").exists()  # all of it once every run is done


@pytest.mark.realtools  # git archive of the base
def test_each_round_is_said_with_its_ratios_and_a_base_alternates_with_this_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--base``: a compile by the base's code beside this tree's in each round (in alternating
    order), both writing the same files; every round is said as it ends, with its ratios."""
    said: list[str] = []
    order: list[Path] = []
    real = peers.shipspec_run

    def run(specs: Path, out: Path, code: Path = peers.REPO) -> tuple[float, int]:
        order.append(code)
        return real(specs, out, code)

    monkeypatch.setattr(peers, "shipspec_run", run)
    runs = peers.measure(2, 2, kcl=False, durable=False, root=tmp_path, base="HEAD", say=said.append)
    assert set(runs) == {"shipspec", "floor", "base"}
    assert runs["base"].files == runs["shipspec"].files > 0 and len(runs["base"].wall) == 2
    ours, base = order[0], order[1]  # the warm-ups, this tree's first
    assert ours != peers.REPO and ours.parent == base.parent == tmp_path  # copies side by side
    assert (ours / "compiler" / "pipeline.py").read_bytes() == (peers.REPO / "compiler" / "pipeline.py").read_bytes()
    assert order[2:] == [ours, base, base, ours] and ours != base  # then alternating
    assert len(said) == 2 and all(line.startswith(f"round {i + 1}: ") for i, line in enumerate(said))
    assert all("shipspec/base" in line and "shipspec/floor" in line for line in said)
    assert any(line.startswith("shipspec / base: ") for line in peers.table(2, runs))


def test_a_round_line_is_that_rounds_times_and_ratios() -> None:
    runs = {name: peers.Runs() for name in ("shipspec", "floor", "KCL", "base")}
    for name, walls, files in (("shipspec", (2.0, 3.0), 20), ("floor", (1.0, 1.0), 20), ("KCL", (1.0, 2.0), 10)):
        for wall in walls:
            runs[name].add(wall, files)
    runs["base"].add(4.0, 20)
    runs["base"].add(6.0, 20)
    assert peers.round_line(1, runs) == (
        "round 2: shipspec 3.00 s floor 1.00 s KCL 2.00 s base 6.00 s shipspec/floor 3.00x "
        "shipspec/KCL per file 0.75x base/KCL per file 1.50x shipspec/base 0.50x"
    )
