"""kustomization.yaml assembly without kubectl: generators land in the pods' namespace (what
``kubectl kustomize`` makes of it is tests/live/test_kustomize.py)."""

from __future__ import annotations

import pytest
import yaml

from compiler.backends.base import OutputFile
from compiler.backends.kubernetes import kustomize as kz
from compiler.backends.memo import Units
from compiler.diagnostics import Sink, Span
from tests.support.k8s_support import triton_files


def test_assembled_kustomization_names_generators_in_the_pods_namespace() -> None:
    out = {f.path: f for f in kz.assemble(triton_files('name: "m"\n'))}
    doc = yaml.safe_load(out["deploy/prod/kustomization.yaml"].text)
    assert doc["configurations"] == [kz.ROLLOUT_CONFIG]
    assert doc["configMapGenerator"][0] == {
        "name": "canaried-triton-config",
        "namespace": "ml-prod",
        "files": ["config.pbtxt=triton/canaried/config.pbtxt"],
    }
    assert "deploy/prod/kustomizeconfig/rollout.yaml" in out
    assert "kustomizeconfig/rollout.yaml" not in doc["resources"]


def _objects(n: int, top: str = "deploy/prod", generated: int = 0) -> list[OutputFile]:
    span = Span.point("t.ship")
    files = [
        OutputFile(
            f"{top}/cm-{i}.yaml",
            "",
            span,
            documents=({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}},),
        )
        for i in range(n)
    ]
    made = [f"{top}/models/m{i}/config.pbtxt" for i in range(generated)]
    files += [OutputFile(path, "", span, "pbtxt", config_map=f"m{i}") for i, path in enumerate(made)]
    return files


def test_an_environment_past_what_one_argo_cd_application_holds_is_warned() -> None:
    """Argo CD records every object's status in its Application, one etcd value (1.5 MiB):
    past about 3,000 objects it stops syncing. SS733 warns above 2,000, counting the
    ConfigMaps the generators make."""
    sink = Sink()
    kz.assemble(_objects(2000), None, sink)
    assert sink.items == []
    kz.assemble(_objects(1999, generated=2), None, sink)
    (warning,) = sink.items
    assert warning.code == "SS733"
    assert warning.message.startswith("deploy/prod: 2001 objects in one Argo CD Application")
    sink = Sink()
    kz.assemble(_objects(1500) + _objects(1500, "deploy/staging"), None, sink)
    assert sink.items == []


def test_only_files_two_levels_below_deploy_are_in_a_directory() -> None:
    """``_top_dir``: ``deploy/<dir>`` for a path with a file name below it, None for anything
    else, as splitting the path on '/' says."""

    def split(path: str) -> str | None:
        parts = path.split("/")
        return f"deploy/{parts[1]}" if len(parts) >= 3 and parts[0] == "deploy" else None

    paths = ["deploy/prod/x.yaml", "deploy/prod/triton/m/config.pbtxt", "deploy/x", "deploy/x/", "deploy//x",
             "deploy", "deploy/", "deployx/a/b", "docs/deploy/a/b", ".github/workflows/a.yml", ""]  # fmt: skip
    assert [kz._top_dir(p) for p in paths] == [split(p) for p in paths]
    assert kz._top_dir("deploy/prod/x.yaml") == "deploy/prod" and kz._top_dir("deploy/x") is None


def test_a_rollout_and_a_namespace_are_found_among_other_documents() -> None:
    """One pass over a file's documents finds both: a Rollout (of Argo's API only) asks for
    the Rollout configuration, the first Namespace names the generators' namespace."""
    span = Span.point("t.ship")
    docs = (
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}},
        {"apiVersion": "example.com/v1", "kind": "Rollout", "metadata": {"name": "not-argo"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-a"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-b"}},
    )
    files = [
        OutputFile("deploy/a/objects.yaml", "", span, documents=docs),
        OutputFile("deploy/a/triton/m/config.pbtxt", "", span, config_map="m-config"),
    ]
    out = {f.path: f for f in kz.assemble(files)}
    doc = yaml.safe_load(out["deploy/a/kustomization.yaml"].text)
    assert doc["configMapGenerator"][0]["namespace"] == "ml-a" and "configurations" not in doc
    argo = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"}}
    files[0] = OutputFile("deploy/a/objects.yaml", "", span, documents=(*docs, argo))
    out = {f.path: f for f in kz.assemble(files)}
    assert yaml.safe_load(out["deploy/a/kustomization.yaml"].text)["configurations"] == [kz.ROLLOUT_CONFIG]


def _watching() -> Units:
    return Units(by_identity=True)


def _step(units: Units) -> Units:
    """The next build's memo in a watching process: it carries this one's state."""
    following = Units()
    following.resume(units.step())
    return following


def _seen(files: list[OutputFile], sink: Sink) -> list[tuple[str, str, Span]]:
    return [(f.path, f.text, f.source) for f in files] + [(d.code, d.message, d.span) for d in sink.items]


def test_a_watching_assembly_is_the_assembly_of_the_files_after_any_edits() -> None:
    """Step by step over random edits (a file made again unchanged, its documents, its
    Rollout or Namespace, its config map, a file added or removed, the first file's source,
    the order), what a watching build assembles from last step's parts is what a fresh
    assembly of the same files makes, SS733 included."""
    import random

    rng = random.Random(16)
    # Most steps change a file or two in place (and take the shortcut); the rest add, remove,
    # move or reorder files.

    def made(path: str, docs: int, kind: str = "Service", cm: str | None = None, line: int = 1) -> OutputFile:
        documents = tuple(
            {"apiVersion": "argoproj.io/v1alpha1" if kind == "Rollout" else "v1", "kind": kind,
             "metadata": {"name": f"n{i}"}} for i in range(docs)
        )  # fmt: skip
        return OutputFile(path, "", Span.point("t.ship", line), documents=documents, config_map=cm)

    files = [made(f"deploy/{d}/f{i}.yaml", 1) for d in ("a", "b", "c") for i in range(4)]
    files.append(made("deploy/a/triton/m/config.pbtxt", 0, cm="m-config"))
    units = _watching()
    for step in range(200):
        i = rng.randrange(len(files))
        old = files[i]
        change = rng.randrange(9)
        if change == 0:
            files[i] = OutputFile(old.path, old.text, old.source, documents=old.documents, config_map=old.config_map)
        elif change == 1:
            files[i] = made(old.path, rng.randrange(3))
        elif change == 2:
            files[i] = made(old.path, 1, rng.choice(["Rollout", "Namespace", "Deployment"]))
        elif change == 3:
            files[i] = made(old.path, 0, cm=rng.choice([None, "x-config", "y-config"]))
        elif change == 4:
            files.append(made(f"deploy/{rng.choice('abd')}/new{step}.yaml", rng.randrange(1, 3)))
        elif change == 5 and len(files) > 2:
            files.pop(i)
        elif change == 6:
            files[i] = made(old.path, len(old.documents) or 1, line=rng.randrange(1, 4))
        elif change == 7:  # in its place, a file of another directory, or of none
            files[i] = made(rng.choice(["deploy/b/moved.yaml", "deploy/d/moved.yaml", "README.md"]), 1)
        else:
            rng.shuffle(files)
        fresh_sink, sink = Sink(), Sink()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(kz, "APPLICATION_OBJECTS", 5)  # SS733 comes and goes with the edits
            fresh = kz.assemble(files, None, fresh_sink)
            units = _step(units)
            watched = kz.assemble(files, units, sink)
        assert _seen(watched, sink) == _seen(fresh, fresh_sink), step


def test_a_watching_assembly_makes_again_only_the_directories_an_edit_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work an edit causes: none for files made again as they were (a CPU edit's), one
    directory's for a file added to it."""
    made: list[str] = []
    original = kz._directory

    def counting(top: str, *rest: object) -> object:
        made.append(top)
        return original(top, *rest)

    monkeypatch.setattr(kz, "_directory", counting)
    files = _objects(10, "deploy/prod") + _objects(10, "deploy/staging")
    units = _watching()
    kz.assemble(files, units)
    assert made == ["deploy/prod", "deploy/staging"]
    fresh = [f.text for f in kz.assemble(files)]
    made.clear()
    again = [OutputFile(f.path, f.text, f.source, documents=f.documents, config_map=f.config_map) for f in files]
    units = _step(units)
    assert [f.text for f in kz.assemble(again, units)] == fresh
    assert made == []
    units = _step(units)
    added = OutputFile("deploy/staging/added.yaml", "", Span.point("t.ship"), documents=again[0].documents)
    kz.assemble([*again, added], units)
    assert made == ["deploy/staging"]
