"""Whole-spec checks: each rule has a failing case (code and position) and a passing one."""

from __future__ import annotations

import pytest

from compiler.diagnostics import Severity
from tests.support.helpers import codes, diagnose, tuples, where
from tests.support.specs import MINIMAL, training


def edit(*pairs: tuple[str, str]) -> str:
    text = MINIMAL
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_minimal_spec_passes_every_check() -> None:
    assert diagnose(MINIMAL)[1] == []


def test_unknown_environment_with_did_you_mean() -> None:
    text = edit(("serve in staging, prod", "serve in staging, prdo"))
    d = next(d for d in diagnose(text)[1] if d.code == "SS101")
    assert (d.span.line, d.span.column) == where(text, "prdo")
    assert d.hint == "did you mean 'prod'?"


def test_reference_to_the_wrong_kind() -> None:
    text = edit(("metric auc >= 0.9 on holdout", "metric auc >= 0.9 on clf"))
    assert ("SS103", *where(text, "clf\n")) in tuples(text)


def test_duplicates_across_files_are_reported_at_the_second() -> None:
    text = MINIMAL + '\nmodel clf {\n  version "2"\n}\n'
    spec, diags = diagnose(text)
    dupes = [d for d in diags if d.code == "SS102"]
    assert len(dupes) == 1 and dupes[0].span.line == MINIMAL.count("\n") + 2
    assert dupes[0].hint is not None and "first defined at t.ship:" in dupes[0].hint


def test_each_kind_defined_twice_is_reported_once_at_the_second() -> None:
    """Models, SLAs, gates and trainings: each kind's second definition, and nothing for a
    record that differs from another only in what it is for (a gate between other places)."""
    sla = MINIMAL[MINIMAL.index("sla clf in prod") : MINIMAL.index("gate staging")]
    gate = MINIMAL[MINIMAL.index("gate staging") : MINIMAL.index("dataset holdout")]
    model = MINIMAL[MINIMAL.index("model clf") : MINIMAL.index("sla clf")]
    text = MINIMAL + training() + model + sla + gate + gate.replace("staging -> prod", "prod -> staging")
    text += training()[training().index("training clf") :]
    dupes = [d for d in diagnose(text)[1] if d.code in ("SS102", "SS406")]
    said = sorted(d.message for d in dupes)
    assert said == [
        "SLA is defined twice",
        "gate is defined twice",
        "model is defined twice",
        "training is defined twice",
    ]
    assert all(d.span.line > MINIMAL.count("\n") for d in dupes)


def test_names_must_be_lower_case_identifiers() -> None:
    text = edit(("model clf", "model Clf"), ("sla clf", "sla Clf"), ("for clf", "for Clf"))
    assert "SS105" in codes(text)


def test_missing_and_second_project() -> None:
    project = MINIMAL[MINIMAL.index("project demo {") : MINIMAL.index("}\n") + 2]
    assert "SS109" in codes(MINIMAL.replace(project, ""))
    assert "SS108" in codes(MINIMAL + "project other { }\n")


def test_production_deploy_must_be_reached_through_a_gate() -> None:
    text = edit(("gate staging -> prod for clf", "gate staging -> staging for clf"))
    found = codes(text)
    assert "SS402" in found  # prod no longer reached
    assert "SS401" in found  # a gate to itself


def test_gate_into_production_needs_approval() -> None:
    text = edit(("  approval @demo/leads\n", ""))
    assert ("SS403", *where(text, "gate staging")) in tuples(text)


def test_gate_must_go_up_the_tiers() -> None:
    text = MINIMAL + "gate prod -> staging for clf { }\n"
    assert "SS404" in codes(text)


def test_promotion_cycle_is_found() -> None:
    extra = """
environment stage_b {
  tier staging
  namespace "b"
}
gate staging -> stage_b for clf { }
gate stage_b -> staging for clf { }
"""
    text = edit(("serve in staging, prod", "serve in staging, stage_b, prod")) + extra
    found = [d for d in diagnose(text)[1] if d.code == "SS401"]
    assert len(found) == 1 and "cycle" in found[0].message


def test_chain_through_preprod_reaches_production() -> None:
    extra = """
environment pre {
  tier preprod
  namespace "pre"
  replicas 2..2
}
gate staging -> pre for clf { }
gate pre -> prod for clf { approval @demo/leads }
"""
    text = (
        edit(
            ("serve in staging, prod", "serve in staging, pre, prod"),
            ("gate staging -> prod for clf", "gate staging -> pre for other_clf_gate_removed"),
        )
        + extra
    )
    # The original gate now names an unknown model; prod is still reached through pre.
    assert "SS402" not in codes(text)


def test_production_policy() -> None:
    assert ("SS501", *where(edit(("replicas 2..4", "replicas 1..4")), "replicas 1..4")) in tuples(
        edit(("replicas 2..4", "replicas 1..4"))
    )
    assert "SS501" in codes(edit(("  replicas 2..4\n", "")))
    assert "SS502" in codes(edit(("sla clf in prod", "sla clf in staging")))
    assert "SS503" in codes(edit(("  resources { cpu 1  memory 1Gi }\n", "")))


def test_mutable_latest_is_an_error_in_production_only() -> None:
    text = edit(('artifact "s3://models/clf/1.0.0/model.onnx"', 'artifact "s3://models/clf/latest/model.onnx"'))
    [d] = [d for d in diagnose(text)[1] if d.code == "SS504"]
    assert d.severity is Severity.ERROR
    staging_only = edit(
        ('artifact "s3://models/clf/1.0.0/model.onnx"', 'artifact "s3://models/clf/latest/model.onnx"'),
        ("serve in staging, prod", "serve in staging"),
    )
    found = [d for d in diagnose(staging_only)[1] if d.code == "SS504"]
    assert found and found[0].severity is Severity.WARNING


def test_tier_fit() -> None:
    text = (
        MINIMAL
        + 'environment tr {\n  tier training\n  namespace "t"\n}\ntraining clf {\n  in staging\n  image "i:1"\n}\n'
    )
    assert ("SS505", *where(text, "staging\n  image")) in tuples(text)
    shadow = edit(("  replicas 2..4\n", "  replicas 2..4\n  shadow from staging 10%\n"))
    assert codes(shadow).count("SS505") == 2  # not preprod, and not from production


def test_load_gate_looser_than_sla_is_a_warning() -> None:
    text = edit(("load p99 < 40ms", "load p99 < 80ms"))
    [d] = [d for d in diagnose(text)[1] if d.code == "SS601"]
    assert d.severity is Severity.WARNING and (d.span.line, d.span.column) == where(text, "load p99")


def test_canary_without_sla_is_a_warning() -> None:
    text = edit(("sla clf in prod {\n  latency p99 < 50ms\n  availability 99.9% over 30d\n}\n", ""))
    assert "SS602" in codes(text)


def test_sla_for_an_environment_that_does_not_serve_the_model() -> None:
    sla = "sla clf in staging { error_rate < 1% }\n"
    assert "SS603" not in codes(MINIMAL + sla)  # staging serves clf: the SLA is fine
    text = edit(("serve in staging, prod", "serve in prod")) + sla
    assert ("SS603", *where(text, "staging { error_rate")) in tuples(text)
    assert "SS405" in codes(text)  # the gate source no longer serves it either


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("preferred [4, 8]", "preferred [4, 16]", "SS604"),
        ("input x: fp32[4]", "input x: fp32[4] reshape [3]", "SS604"),
        ("output y: fp32[2]", "output x: fp32[2]", "SS102"),
    ],
)
def test_tensor_and_batching_consistency(old: str, new: str, code: str) -> None:
    assert code in codes(edit((old, new)))


ENSEMBLE = """
model pre {
  version "1.0.0"
  format python
  artifact "s3://m/pre/1/model.py"
  input raw: string[1]
  output ids: fp32[4]
  batching { max 8 }
  resources { cpu 1  memory 1Gi }
  serve in staging
}
model ens {
  version "1.0.0"
  format ensemble
  input text: string[1]
  output y: fp32[2]
  batching { max 8 }
  step pre {
    input text -> raw
    output ids -> ids
  }
  step clf {
    input ids -> x
    output y -> y
  }
  serve in staging
}
"""


def test_ensemble_steps_map_every_tensor() -> None:
    assert diagnose(MINIMAL + ENSEMBLE)[1] == []
    broken = (MINIMAL + ENSEMBLE).replace("input ids -> x", "input idz -> x").replace("output y -> y", "output z -> y")
    found = tuples(broken)
    assert ("SS605", *where(broken, "input idz")) in found
    assert ("SS605", *where(broken, "output z -> y")) in found
    assert len([c for c in found if c[0] == "SS605"]) == 2
    unproduced = (MINIMAL + ENSEMBLE).replace("    output y -> y\n", "")
    assert ("SS605", *where(unproduced, "output y: fp32[2]", 2)) in tuples(unproduced)


def test_all_problems_are_collected_not_just_the_first() -> None:
    text = edit(
        ("serve in staging, prod", "serve in stagin, prod"),
        ("replicas 2..4", "replicas 1..4"),
        ("load p99 < 40ms", "load p99 < 80ms"),
    )
    assert {"SS101", "SS501", "SS601"} <= set(codes(text))


def test_an_unpinned_environment_behind_a_gate_is_a_warning() -> None:
    text = edit(('  override clf { version "1.0.0" }\n', ""))
    [d] = diagnose(text)[1]
    assert (d.code, d.severity) == ("SS640", Severity.WARNING)
    assert (d.span.line, d.span.column) == where(text, "prod for clf")
    assert 'override clf { version "1.0.0" }' in (d.hint or "")


def test_a_model_overridden_twice_in_one_environment() -> None:
    text = edit(
        (
            '  override clf { version "1.0.0" }\n',
            '  override clf { version "1.0.0" }\n  override clf { replicas 2..3 }\n',
        )
    )
    assert ("SS102", *where(text, "override clf { replicas")) in tuples(text)


def _shadowed(preprod_cluster: str, prod_cluster: str, served: str = "serve in staging, preprod, prod") -> str:
    return edit(
        ("environment prod {\n  tier production\n", f"environment prod {{\n  tier production\n{prod_cluster}"),
        (
            "environment prod {",
            f'environment preprod {{\n  tier preprod\n  namespace "ml-preprod"\n{preprod_cluster}'
            "  shadow from prod 50%\n}\n\nenvironment prod {",
        ),
        ("serve in staging, prod", served),
    )


def test_a_shadow_mirrors_nothing_without_a_model_in_both_or_across_clusters() -> None:
    """SS620: preprod gets no mirrored request where no model is served in both environments,
    or where it is on another cluster than its source: the mirror is a route of the source's
    VirtualService to a host Istio resolves in the source's own cluster."""
    assert "SS620" not in codes(_shadowed("", ""))
    assert "SS620" not in codes(_shadowed('  cluster "eu"\n', '  cluster "eu"\n'))
    [none] = [d for d in diagnose(_shadowed("", "", "serve in staging, prod"))[1] if d.code == "SS620"]
    assert "no model is served in both" in none.message
    text = _shadowed('  cluster "stg"\n', '  cluster "prd"\n')
    [across] = [d for d in diagnose(text)[1] if d.code == "SS620"]
    assert across.severity is Severity.WARNING
    assert (across.span.line, across.span.column) == where(text, "shadow from prod")
    assert "clf.ml-preprod.svc.cluster.local" in across.message and "cluster 'prd'" in across.message
    assert "SS620" in codes(_shadowed("", '  cluster "prd"\n'))  # Argo CD's own cluster is another one


def _monitored(prod_cluster: str, home_cluster: str | None) -> str:
    text = edit(("environment prod {\n  tier production\n", f"environment prod {{\n  tier production\n{prod_cluster}"))
    if home_cluster is not None:
        text += f'\nenvironment observability {{\n  tier monitoring\n{home_cluster}  namespace "monitoring"\n}}\n'
    return text


def test_an_sla_on_another_cluster_than_the_monitoring_stack_is_a_warning() -> None:
    """SS621: an SLA's rules and ServiceMonitor are synced into its environment's cluster, and
    its canary analysis and KEDA autoscaler query Prometheus from there; the spec puts the
    monitoring stack on another cluster. Quiet on one cluster, without clusters, and without a
    monitoring environment."""
    assert "SS621" not in codes(_monitored('  cluster "eu"\n', '  cluster "eu"\n'))
    assert "SS621" not in codes(_monitored("", ""))
    assert "SS621" not in codes(_monitored('  cluster "eu"\n', None))
    text = _monitored('  cluster "prd"\n', '  cluster "obs"\n')
    [d] = [d for d in diagnose(text)[1] if d.code == "SS621"]
    assert d.severity is Severity.WARNING
    assert (d.span.line, d.span.column) == where(text, "sla clf in prod")
    assert "'prod' (cluster 'prd')" in d.message and "'observability' is on cluster 'obs'" in d.message
    # MINIMAL's prod has a canary gate with analysis and an autoscaled SLA with latency.
    assert "canary analysis" in d.message and "KEDA autoscaler" in d.message
    assert "SS621" in codes(_monitored('  cluster "prd"\n', ""))  # Argo CD's own cluster is another one


def test_a_second_monitoring_environment_has_no_effect() -> None:
    """SS606 at the second: the monitoring stack (the namespace analyses, autoscalers and
    network policies reach, the rules' labels, the alerting) is the first's
    (``Resolved.monitoring_env``); the second renders only its namespace."""
    one = MINIMAL + '\nenvironment obs1 {\n  tier monitoring\n  namespace "mon1"\n}\n'
    assert "SS606" not in codes(one)
    two = one + '\nenvironment obs2 {\n  tier monitoring\n  namespace "mon2"\n}\n'
    [d] = [d for d in diagnose(two)[1] if d.code == "SS606"]
    assert d.severity is Severity.WARNING and (d.span.line, d.span.column) == where(
        two, 'tier monitoring\n  namespace "mon2"'
    )
    assert "'obs2' is a second monitoring environment" in d.message and "'obs1''s" in d.message
    from compiler.resolve import resolve

    home = resolve(diagnose(two)[0]).monitoring_env
    assert home is not None and home.name == "obs1"
