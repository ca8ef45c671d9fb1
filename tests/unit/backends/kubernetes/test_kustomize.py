"""kustomization.yaml assembly without kubectl: generators land in the pods' namespace (what
``kubectl kustomize`` makes of it is tests/live/test_kustomize.py)."""

from __future__ import annotations

import yaml

from compiler.backends.base import OutputFile
from compiler.backends.kubernetes import kustomize as kz
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
