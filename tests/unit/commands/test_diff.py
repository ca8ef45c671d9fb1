"""``shipspec diff``: the semantic report of what a spec change renders differently.

Both sides are real builds of real specs (pipeline.build), compared in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.commands import diff as d
from compiler.commands import structure
from compiler.output import OutputFile
from compiler.pipeline import build
from tests.support.specs import MINIMAL

ROOT = Path(__file__).resolve().parents[3]
CANARY = "  canary 10% for 10m, 50% for 10m\n"


def _build(tmp: Path, name: str, text: str):
    # One directory for both sides, as `shipspec diff` compiles the base at the same relative paths.
    (tmp / "specs").mkdir(exist_ok=True)
    (tmp / "specs" / "spec.ship").write_text(text)
    result = build([tmp / "specs"])
    assert not result.has_errors, result.diagnostics
    return result


def _report(tmp: Path, before: str, after: str, markdown: bool = True) -> str:
    return d.report(_build(tmp, "a", before), _build(tmp, "b", after), markdown)


def _changes(tmp: Path, before: str, after: str) -> list[d.Change]:
    a, b = _build(tmp, "a", before), _build(tmp, "b", after)
    return d.compare(list(a.files), list(b.files))


def _file(path: str, text: str) -> OutputFile:
    return OutputFile(path, text, source=__import__("compiler.diagnostics").diagnostics.Span.point("s.ship"))


def test_workflow_on_key_is_read_as_yaml_1_2_not_a_boolean():
    a = _file(".github/workflows/x.yml", "on:\n  workflow_dispatch:\n    inputs:\n      v: {default: '1'}\n")
    b = _file(".github/workflows/x.yml", "on:\n  workflow_dispatch:\n    inputs:\n      v: {default: '2'}\n")
    (change,) = d.compare([a], [b])
    assert [f.path for f in change.fields] == ["on.workflow_dispatch.inputs.v.default"]
    # The committed file has the two header lines: the input sits on line 6.
    assert change.fields[0].new_line == 6


def test_pbtxt_change_is_reported_on_its_own_line():
    text = (ROOT / "golden/example/expected/deploy/prod/triton/fraud_detector/config.pbtxt").read_text()
    body = "\n".join(text.splitlines()[2:]) + "\n"  # without the header emit adds back
    a = _file("deploy/prod/triton/fraud_detector/config.pbtxt", body)
    b = _file(a.path, body.replace("max_batch_size: 64", "max_batch_size: 32"))
    (change,) = d.compare([a], [b])
    (f,) = change.fields
    assert (f.path, f.old, f.new) == ("max_batch_size", 64, 32)
    committed_line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("max_batch_size"))
    assert f.new_line == committed_line != 1


def test_one_insertion_in_a_list_is_one_change_and_named_lists_match_by_name():
    base = {
        "spec": {
            "containers": [{"name": "a", "env": [{"name": "X", "value": "1"}]}, {"name": "b"}],
            "rules": [{"host": f"h{i}"} for i in range(12)],
        }
    }
    new = {
        "spec": {
            "containers": [
                {"name": "b"},
                {"name": "a", "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "1"}]},
            ],
            "rules": [{"host": f"h{i}"} for i in range(5)]
            + [{"host": "new"}]
            + [{"host": f"h{i}"} for i in range(5, 12)],
        }
    }
    fields = structure.diff(base, new)
    assert [(f.path, f.old, f.new) for f in fields] == [
        ("spec.containers[a].env[Y]", structure.ABSENT, {"name": "Y", "value": "2"}),
        ("spec.rules[5]", structure.ABSENT, {"host": "new"}),
    ]


def test_deployment_replaced_by_rollout_shows_content_and_the_controller_it_needs(tmp_path):
    before = MINIMAL.replace(CANARY, "")
    assert before != MINIMAL
    changes = _changes(tmp_path, before, MINIMAL)
    by_kind = {(c.kind, c.status): c for c in changes if c.group == "prod"}
    rollout = by_kind[("Rollout", "added")]
    assert ("Deployment", "removed") in by_kind
    assert any(f.path == "spec.strategy.canary.steps[0].setWeight" and f.new == 10 for f in rollout.fields)
    text = _report(tmp_path / "r", before, MINIMAL) if (tmp_path / "r").mkdir() is None else ""
    assert "new controller needed: `prod` now has a Rollout (argoproj.io): the Argo Rollouts controller" in text
    assert "**+ Rollout ml-prod/clf** added" in text and "+ 10" in text


def test_top_table_versions_and_risk_flags(tmp_path):
    after = (
        MINIMAL.replace('override clf { version "1.0.0" }', 'override clf { version "1.1.0" }')
        .replace("metric auc >= 0.9", "metric auc >= 0.85")
        .replace("latency p99 < 50ms", "latency p99 < 80ms")
        .replace("approval @demo/leads", "approval @demo/other")
    )
    text = _report(tmp_path, MINIMAL, after)
    assert text.startswith(d.MARKER + "\n")
    assert "| model | staging | prod |" in text
    assert "| clf | 1.0.0 | **1.0.0 → 1.1.0** |" in text
    risks = text.split("### Risks")[1].split("<details>")[0]
    assert "production touched: `prod`" in risks
    assert "gate loosened: `staging -> prod for clf`: auc >= 0.9 → >= 0.85" in risks
    assert "gate loosened: `staging -> prod for clf`: approval no longer needs @demo/leads" in risks
    assert "SLA loosened: `clf` in `prod`: p99 latency 50ms → 80ms" in risks
    # One collapsible section per environment, production marked.
    assert "<summary><b>prod</b> (production):" in text
    assert text.count("<details>") == text.count("</details>") >= 1


def test_the_catalog_has_its_own_section_after_the_environments(tmp_path):
    after = MINIMAL.replace('override clf { version "1.0.0" }', 'override clf { version "1.1.0" }')
    changes = _changes(tmp_path, MINIMAL, after)
    assert [c.group for c in changes][-2:] == [d.CATALOG_GROUP, d.CATALOG_GROUP]
    assert {c.new_path for c in changes if c.group == d.CATALOG_GROUP} == {
        "docs/catalog/README.md",
        "docs/catalog/models/clf.md",
    }
    text = d.render_report(changes, None, markdown=True)
    assert text.index("<summary><b>prod</b>") < text.index("<summary><b>docs/catalog</b>")
    assert '+ "| prod | production | `in-cluster/ml-prod` | 1.1.0 (pinned) |' in text


def test_tightening_is_not_flagged_and_no_change_says_so(tmp_path):
    stricter = MINIMAL.replace("metric auc >= 0.9", "metric auc >= 0.95")
    text = _report(tmp_path, MINIMAL, stricter)
    assert "gate loosened" not in text
    (tmp_path / "z").mkdir()
    same = _report(tmp_path / "z", MINIMAL, MINIMAL, markdown=False)
    assert "No model version moves." in same and "No rendered output changes." in same


def test_secret_values_are_never_shown_and_secret_changes_are_flagged():
    a = _file(
        "deploy/prod/secret-x.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: n}\nstringData: {password: hunter2}\n",
    )
    b = _file(a.path, a.text.replace("hunter2", "hunter3"))
    changes = d.compare([], [b]) + d.compare([a], [b])
    assert changes and all("hunter" not in repr(f.new) + repr(f.old) for c in changes for f in c.fields)


def test_identity_change_is_a_risk(tmp_path):
    after = MINIMAL.replace('  registry "ghcr.io/demo"\n', '  registry "ghcr.io/demo"\n') + (
        '\nmodel other {\n  version "1.0.0"\n  format onnx\n  artifact "s3://models/o/1.0.0/model.onnx"\n'
        "  input x: fp32[4]\n  output y: fp32[2]\n  resources { cpu 1  memory 1Gi }\n  serve in staging\n"
        '  env TOKEN = secret "vault:ml/o#token"\n}\n'
    )
    text = _report(tmp_path, MINIMAL, after)
    assert "secrets or identities changed" in text


def test_long_reports_fit_in_one_comment():
    changes = [
        d.Change(
            "prod",
            f"ConfigMap n/c{i}",
            "changed",
            "p.yaml",
            "p.yaml",
            tuple(structure.Field(f"data.k{j}", "x" * 50, "y" * 50, 1, 1) for j in range(40)),
        )
        for i in range(100)
    ]
    text = d.render_report(changes, None, markdown=True)
    assert len(text) < 65_536
    assert text.count("```") % 2 == 0 and text.count("<details>") == text.count("</details>")


@pytest.mark.parametrize("bad", ["a: [\n", "key: {unclosed\n"])
def test_unparseable_yaml_falls_back_to_lines(bad):
    a, b = _file("other/x.yaml", bad), _file("other/x.yaml", bad + "more\n")
    (change,) = d.compare([a], [b])
    assert change.fields[0].path.startswith("line")


def test_a_version_annotation_on_an_identity_is_not_an_identity_change():
    def change(kind: str, path: str, status: str = "changed") -> d.Change:
        f = structure.Field(path, "1", "2", 3, 3)
        return d.Change("dev", f"{kind} ns/x", status, "a.yaml", "a.yaml", (f,), kind, "")

    assert not d._identity_touched(change("ServiceAccount", 'metadata.annotations["shipspec.dev/version"]'))
    assert d._identity_touched(change("ServiceAccount", 'metadata.annotations["eks.amazonaws.com/role-arn"]'))
    assert d._identity_touched(change("ServiceAccount", "metadata.name", "added"))
    assert d._identity_touched(change("ServiceAccount", "automountServiceAccountToken"))
    assert d._identity_touched(change("Role", "rules[0].verbs"))
