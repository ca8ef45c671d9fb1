"""Every Mermaid diagram of the model catalog, parsed by Mermaid's own parser (npm
``mermaid`` 11, ``mermaid.parse`` and the flowchart database it fills, under node),
for every golden case and the repository's specs/: what GitHub's renderer will read."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.pipeline import build
from tests.support.golden import cases, expected
from tests.support.node_tools import mermaid_blocks, mermaid_label, parse_mermaid

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]


def _diagrams(files: dict[str, bytes]) -> dict[str, str]:
    out = {}
    for path, data in files.items():
        if path.startswith("docs/catalog/") and path.endswith(".md"):
            for i, block in enumerate(mermaid_blocks(data.decode())):
                out[f"{path}#{i}"] = block
    return out


def _catalog_cases() -> list[str]:
    return [c for c in cases() if any(p.startswith("docs/catalog/") for p in expected(c))]


def test_every_diagram_of_every_golden_case_parses() -> None:
    diagrams: dict[str, str] = {}
    pages = 0
    for case in _catalog_cases():
        files = expected(case)
        pages += sum(1 for p in files if p.startswith("docs/catalog/") and p.endswith(".md"))
        diagrams.update({f"{case}/{k}": v for k, v in _diagrams(files).items()})
    assert len(_catalog_cases()) >= 6
    assert len(diagrams) == pages  # one promotion graph per page: the index's and each model's
    results = parse_mermaid(diagrams)
    failed = {k: r["error"] for k, r in results.items() if not r["ok"]}
    assert not failed, failed
    assert {r["type"] for r in results.values()} == {"flowchart-v2"}


def test_the_parsed_graphs_are_the_specs_promotion_graphs() -> None:
    """What Mermaid builds from the example's pages: each model's environments as nodes
    (production marked), each gate an edge, its label the gate's conditions."""
    spec_dir = ROOT / "specs"
    result = build([spec_dir])
    assert not result.has_errors
    files = {f.path: f.text.encode() for f in result.files}
    r = result.checked.resolved
    diagrams = _diagrams(files)
    parsed = parse_mermaid(diagrams)
    for name, model in r.models.items():
        got = parsed[f"docs/catalog/models/{name}.md#0"]
        assert got["ok"], got["error"]
        gates = [g for g in r.spec.gates if g.model.name == name]
        envs = {e.name for e in r.served(model)} | {g.source.name for g in gates} | {g.target.name for g in gates}
        assert {v["id"] for v in got["vertices"]} == {f"env_{e}" for e in envs}
        assert sorted((e["start"], e["end"]) for e in got["edges"]) == sorted(
            (f"env_{g.source.name}", f"env_{g.target.name}") for g in gates
        )
        for v in got["vertices"]:
            env = r.environments[v["id"].removeprefix("env_")]
            assert ("production" in v["classes"]) == (env.tier is not None and env.tier.value == "production")
            if env.name in {e.name for e in r.served(model)}:
                assert mermaid_label(v["text"]).split("\n")[1] == r.place(model, env).version
    fraud = parsed["docs/catalog/models/fraud_detector.md#0"]
    into_prod = next(e for e in fraud["edges"] if e["end"] == "env_prod")
    assert mermaid_label(into_prod["text"]).split("\n") == [
        "metric auc >= 0.92 on transactions_holdout",
        "drift psi < 0.2",
        "fairness demographic_parity_difference < 0.05",
        "load p99 < 50ms at 300rps for 10m",
        "canary 10% for 30m → 50% for 30m",
        "approval @kestrel/ml-leads",
    ]
    index = parsed["docs/catalog/README.md#0"]
    assert {v["id"] for v in index["vertices"]} == {f"env_{e}" for e in r.environments}
    assert sorted((e["start"], e["end"]) for e in index["edges"]) == [
        ("env_preprod", "env_prod"),
        ("env_staging", "env_preprod"),
        ("env_staging", "env_prod"),
    ]


def test_text_from_the_spec_cannot_change_a_diagram(tmp_path: Path) -> None:
    """Versions are free text: quotes, brackets, arrows, entity codes and HTML in them
    stay label text (Mermaid shows them as written) and add no node or edge."""
    hostile = '1.0"] --> x["y #lt; <b>&amp;|`end`'
    escaped = hostile.replace("\\", "\\\\").replace('"', '\\"')
    (tmp_path / "spec.ship").write_text(
        f"""project p {{ owners @p/team }}
environment staging {{ tier staging }}
environment end {{ tier production  replicas 2..4 }}
model m {{
  version "{escaped}"
  format onnx
  artifact "s3://m/model.onnx"
  input x: fp32[4]
  output y: fp32[1]
  resources {{ cpu 1  memory 1Gi }}
  serve in staging, end
}}
sla m in end {{ latency p99 < 100ms  availability 99.9% over 30d }}
gate staging -> end for m {{ approval @p/leads }}
""",
        encoding="utf-8",
    )
    result = build([tmp_path])
    errors = [d for d in result.diagnostics if d.severity.name == "ERROR"]
    assert not errors, errors
    diagrams = _diagrams({f.path: f.text.encode() for f in result.files})
    parsed = parse_mermaid(diagrams)
    page = parsed["docs/catalog/models/m.md#0"]
    assert page["ok"], page["error"]
    assert {v["id"] for v in page["vertices"]} == {"env_staging", "env_end"}
    assert [(e["start"], e["end"]) for e in page["edges"]] == [("env_staging", "env_end")]
    labels = {v["id"]: mermaid_label(v["text"]).split("\n") for v in page["vertices"]}
    assert labels["env_end"] == ["end (production)", hostile]
    assert parsed["docs/catalog/README.md#0"]["ok"]


def test_the_parser_refuses_what_the_escaping_prevents() -> None:
    """The oracle can fail: a bare keyword as a node id, an unclosed label."""
    parsed = parse_mermaid(
        {
            "keyword": "flowchart LR\n  a --> end\n",
            "unclosed": 'flowchart LR\n  a["x] --> b\n',
            "fine": 'flowchart LR\n  env_end["end"] --> env_a["a"]\n',
        }
    )
    assert not parsed["keyword"]["ok"] and "Parse error" in parsed["keyword"]["error"]
    assert not parsed["unclosed"]["ok"]
    assert parsed["fine"]["ok"]
