"""Hostile strings in a spec: YAML and Jinja metacharacters, newlines,
document markers, tags, unicode. Each either reaches the rendered Kubernetes
and Argo CD objects as exactly the same string, or the checker refuses it with
a diagnostic and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.k8s_support import compile_to, errors, write_spec

HOSTILE = [
    'quote " inside',
    "single ' quote",
    "key: value",
    "- item",
    "{{ secret }}",
    "{% raw %}x{% endraw %}",
    "${HOME} $(id)",
    "# not a comment",
    "&anchor *alias",
    "!!python/object:os.system",
    "line one\nline two",
    "tab\there",
    "ünïcödé ✓ 日本語 🚀",
    "back\\slash",
    "]}[{,",
    "---",
    "...",
    "null",
    "true",
    "0x1F",
    "1e3",
    "~",
    "trailing space ",
    " leading",
    "\u2028line separator",
    "\r\ncrlf",
    "%TAG ! tag:x",
    "@at `tick` |pipe >fold",
    "para one\n\npara two",
    "ends with a newline\n",
    "\n\nleading blank lines",
    "  indented\n    more\nless",
    "",
    "\u0000nul \u001bescape \u007fdel",
    "\ufeffbom",
]


def q(value: str) -> str:
    """A spec string literal holding exactly ``value`` (the language uses JSON escapes)."""
    return json.dumps(value, ensure_ascii=False)


def spec_text() -> str:
    env_lines = "\n".join(f"  env V{i} = {q(v)}" for i, v in enumerate(HOSTILE))
    hp_lines = " ".join(f"h{i} {q(v)}" for i, v in enumerate(HOSTILE))
    command = ", ".join(q(v) for v in HOSTILE)
    repo, cluster = q("https://git.example/a b?x={{y}}&z=\n#frag"), q('stg: {cluster} "1"\n- x')
    ds_version, ds_uri = q("v1: {{ x }}"), q('s3://data/"quoted" path/{{ x }}/\n')
    artifact, image = q('s3://models/clf/1.0.0/m: {{x}} "q"\n# no/model.onnx'), q("ghcr.io/demo/train:1.0 # {{ x }}")
    tracking, experiment = q('https://mlflow/"x"\n{% if %}'), q("exp: ünï ✓\n- {{ y }}")
    return f"""
project demo {{
  registry "ghcr.io/demo"
  owners @demo/ml
  repository {repo}
}}

environment staging {{
  tier staging
  cluster {cluster}
  namespace "ml-staging"
}}

environment train {{
  tier training
  namespace "ml-train"
}}

dataset d {{
  version {ds_version}
  uri {ds_uri}
}}

model clf {{
  version "1.0.0"
  format onnx
  artifact {artifact}
  input x: fp32[4]
  output y: fp32[2]
  resources {{ cpu 1  memory 1Gi }}
{env_lines}
  serve in staging
}}

training clf {{
  in train
  image {image}
  command [{command}]
  dataset d
  hyperparameters {{ {hp_lines} }}
  tracking {tracking}
  experiment {experiment}
}}
"""


def _walk_strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _walk_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _walk_strings(v)]
    return [node] if isinstance(node, str) else []


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("inject")
    diags = compile_to(write_spec(root / "specs", spec_text()), root / "out")
    assert errors(diags) == [], [d.message for d in errors(diags)]
    out = {}
    for path in sorted((root / "out" / "deploy").rglob("*.yaml")):
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        assert len(docs) == 1, path  # no value opened a second document
        out[path.relative_to(root / "out").as_posix()] = docs[0]
    return out


def test_env_values_arrive_exactly(rendered: dict[str, Any]) -> None:
    pod = rendered["deploy/staging/deployment-clf.yaml"]["spec"]["template"]["spec"]
    triton = next(c for c in pod["containers"] if c["name"] == "triton")
    env = {e["name"]: e["value"] for e in triton["env"]}
    assert env == {f"V{i}": v for i, v in enumerate(HOSTILE)}


def test_training_strings_arrive_exactly(rendered: dict[str, Any]) -> None:
    job = rendered["deploy/train/job-clf-train.yaml"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == HOSTILE
    assert container["image"] == "ghcr.io/demo/train:1.0 # {{ x }}"
    env = {e["name"]: e["value"] for e in container["env"]}
    for i, v in enumerate(HOSTILE):
        assert env[f"HP_H{i}"] == v
    assert env["MLFLOW_TRACKING_URI"] == 'https://mlflow/"x"\n{% if %}'
    assert env["MLFLOW_EXPERIMENT_NAME"] == "exp: ünï ✓\n- {{ y }}"
    assert env["DATASET_URI"] == 's3://data/"quoted" path/{{ x }}/\n'
    assert env["DATASET_VERSION"] == "v1: {{ x }}"


def test_artifact_cluster_and_repository_arrive_exactly(rendered: dict[str, Any]) -> None:
    pod = rendered["deploy/staging/deployment-clf.yaml"]["spec"]["template"]["spec"]
    fetch = next(c for c in pod["initContainers"] if c["name"] == "fetch-clf")
    # the URI is an argument of the script, never part of its text
    assert fetch["command"][-2] == 's3://models/clf/1.0.0/m: {{x}} "q"\n# no/model.onnx'
    assert "{{x}}" not in fetch["command"][2]
    app = rendered["deploy/argocd/application-staging.yaml"]
    assert app["spec"]["destination"]["name"] == 'stg: {cluster} "1"\n- x'
    assert app["spec"]["source"]["repoURL"] == "https://git.example/a b?x={{y}}&z=\n#frag"


def test_no_value_changed_the_shape_of_any_object(rendered: dict[str, Any]) -> None:
    for path, doc in rendered.items():
        if path.endswith("kustomization.yaml") or "/kustomizeconfig/" in path:
            continue
        assert set(doc) <= {"apiVersion", "kind", "metadata", "spec", "data", "automountServiceAccountToken"}, path
        # every key of every object is one the templates wrote, never spec text
        for s in _walk_strings(list(_keys(doc))):
            assert "\n" not in s and "{{" not in s, (path, s)


def _keys(node: Any) -> Any:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from _keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from _keys(v)


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ('namespace "ml-prod\\nkind: Secret"', "SS224"),
        ('namespace "ML Prod"', "SS224"),
        ('namespace "{{ ns }}"', "SS224"),
        ('node_selector "gpu: a" = "b"', "SS221"),
        ('node_selector "gpu" = "a\\nb"', "SS221"),
        ('toleration "nvidia.com/gpu\\n- key: evil"', "SS221"),
    ],
)
def test_values_kubernetes_cannot_hold_are_refused(tmp_path: Path, statement: str, code: str) -> None:
    text = spec_text().replace('  namespace "ml-staging"', f"  {statement}", 1)
    if not statement.startswith("namespace"):
        text = spec_text().replace('  namespace "ml-staging"', f'  namespace "ml-staging"\n  {statement}', 1)
    diags = compile_to(write_spec(tmp_path / "specs", text), tmp_path / "out")
    assert code in [d.code for d in errors(diags)]
    d = next(d for d in errors(diags) if d.code == code)
    assert d.span.file.endswith("spec.ship") and d.span.line > 1
    assert not (tmp_path / "out").exists()


def test_a_secret_reference_without_a_store_is_refused(tmp_path: Path) -> None:
    text = spec_text().replace("  env V0 =", '  env DB = secret "My Vault:ml/db\\n#x"\n  env V0 =', 1)
    diags = compile_to(write_spec(tmp_path / "specs", text), tmp_path / "out")
    assert "SS223" in [d.code for d in errors(diags)]
    assert not (tmp_path / "out").exists()
