"""Policy: production objects carry a PodDisruptionBudget, zone spread, a
NetworkPolicy, an HPA of at least two replicas and a restricted security
context; a spec or a template override that would break that is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import ir
from compiler.backends.base import OutputFile
from compiler.backends.kubernetes import policy as k8s_policy
from compiler.diagnostics import Sink, Span
from compiler.resources import templates_dir
from tests.support.helpers import codes
from tests.support.k8s_support import compile_to, errors, write_spec
from tests.support.specs import MINIMAL

SPEC = MINIMAL.replace("  replicas 2..4\n}", '  replicas 2..4\n  gateway "istio-ingress"\n}', 1)


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("policy")
    assert errors(compile_to(write_spec(root / "s", SPEC), root / "out")) == []
    return {p.name: yaml.safe_load(p.read_text()) for p in (root / "out/deploy/prod").glob("*.yaml")}


def test_production_objects_carry_the_policy(prod: dict[str, dict[str, Any]]) -> None:
    pod = prod["rollout-clf.yaml"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for c in pod["initContainers"] + pod["containers"]:
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    assert (
        prod["poddisruptionbudget-clf.yaml"]["spec"]["selector"]["matchLabels"]
        == prod["rollout-clf.yaml"]["spec"]["selector"]["matchLabels"]
    )
    assert prod["networkpolicy-default-deny-ingress.yaml"]["spec"]["podSelector"] == {}
    assert prod["networkpolicy-clf.yaml"]["spec"]["policyTypes"] == ["Ingress"]
    assert prod["scaledobject-clf.yaml"]["spec"]["minReplicaCount"] == 2  # KEDA: queue time (the SLA has latency)
    ns = prod["namespace-ml-prod.yaml"]["metadata"]["labels"]
    assert ns["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_production_spec_with_one_replica_is_refused(tmp_path: Path) -> None:
    diags = compile_to(write_spec(tmp_path / "s", SPEC.replace("replicas 2..4", "replicas 1..4")), tmp_path / "out")
    assert "SS501" in [d.code for d in errors(diags)]
    assert not (tmp_path / "out").exists()


def test_production_without_gateway_warns_and_admits_only_its_namespace(tmp_path: Path) -> None:
    diags = compile_to(write_spec(tmp_path / "s", MINIMAL.replace('  gateway "istio-ingress"\n', "")), tmp_path / "out")
    assert errors(diags) == [] and "SS520" in [d.code for d in diags]
    policy = yaml.safe_load((tmp_path / "out/deploy/prod/networkpolicy-clf.yaml").read_text())
    sources = [
        r["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for r in policy["spec"]["ingress"]
    ]
    assert sources == ["ml-prod", "monitoring"]


def test_two_environments_in_one_namespace_are_refused() -> None:
    text = SPEC.replace('namespace "ml-prod"', 'namespace "ml-staging"')
    assert "SS225" in codes(text)
    assert "SS225" not in codes(SPEC)


def test_unfetchable_artifact_is_refused() -> None:
    assert "SS226" in codes(SPEC.replace('"s3://models/clf/1.0.0/model.onnx"', '"ftp://models/clf/model.onnx"'))


@pytest.mark.parametrize(
    ("template", "old", "new", "code", "words"),
    [
        (
            "triton-pod.yaml.j2",
            "    securityContext:\n      {{ p.container_security | yaml(6) }}\n",
            "",
            "SS522",
            "container triton: root filesystem is writable",
        ),
        ("triton-pod.yaml.j2", "  automountServiceAccountToken: false\n", "", "SS522", "token is mounted"),
        ("triton-pod.yaml.j2", "{% if p.spread %}", "{% if false %}", "SS523", "zone topology spread"),
        (
            "poddisruptionbudget.yaml.j2",
            "      {{ o.selector | yaml(6) }}",
            "      app: other",
            "SS523",
            "a PodDisruptionBudget",
        ),
        (
            "networkpolicy-default-deny.yaml.j2",
            "  podSelector: {}",
            "  podSelector: {matchLabels: {a: b}}",
            "SS523",
            "default-deny",
        ),
        # Shapes an override can render that the policy reads past (they crashed it): an
        # error with the spec line, never an internal error.
        ("rollout.yaml.j2", "    {{ pod(4) }}", "    spec:\n      containers: 5", "SS522", "runAsNonRoot"),
        ("scaledobject.yaml.j2", "  minReplicaCount: {{ o.min }}", '  minReplicaCount: "3"', "SS523", "an HPA"),
        ("rollout.yaml.j2", "  {{ o.meta | yaml(2) }}", "  - not a mapping", "SS802", "$.metadata"),
    ],
)
def test_a_template_override_that_drops_policy_is_refused(
    tmp_path: Path, template: str, old: str, new: str, code: str, words: str
) -> None:
    override = tmp_path / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    text = (templates_dir() / "kubernetes" / template).read_text()
    assert old in text
    (override / template).write_text(text.replace(old, new))
    diags = compile_to(write_spec(tmp_path / "s", SPEC), tmp_path / "out", templates=tmp_path / "tpl")
    found = [d for d in errors(diags) if d.code == code]
    assert any(words in d.message for d in found), [d.message for d in errors(diags)]
    assert not (tmp_path / "out").exists()


def test_verify_objects_reports_a_plain_secret_value() -> None:
    spec = ir.Spec(
        models=(
            ir.Model(
                "m",
                Span.point("t.ship"),
                env=(ir.EnvVar("TOKEN", ir.SecretRef("vault:a#b", Span.point("t.ship")), Span.point("t.ship")),),
            ),
        )
    )
    pod = {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "env": [{"name": "TOKEN", "value": "hunter2"}],
                "securityContext": {
                    "readOnlyRootFilesystem": True,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    doc = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "n"},
        "spec": {"template": {"spec": pod}},
    }
    sink = Sink()
    k8s_policy.verify_objects(
        spec, [OutputFile("deploy/x/job-j.yaml", "", Span.point("t.ship", 3), documents=(doc,))], sink
    )
    assert [(d.code, d.span.line) for d in sink.items] == [("SS522", 3)]
    assert "secret TOKEN is not a secretKeyRef" in sink.items[0].message


def test_verify_objects_reads_documents_of_any_shape() -> None:
    """An override template can render any shape (schema validation reports it, SS802): a kind
    that is a list or a mapping, a spec that is no mapping. The policy reads past them, and
    still finds the pods of workloads among them."""
    odd: list[dict[str, Any]] = [
        {"kind": ["Deployment"], "metadata": {"name": "a", "namespace": "n"}},
        {"kind": {"Deployment": 1}, "metadata": "n"},
        {"kind": "Deployment", "metadata": {"name": "b", "namespace": "n"}, "spec": ["x"]},
        {"kind": "Job", "metadata": {"name": "j", "namespace": "n"}, "spec": {"template": {"spec": {}}}},
    ]
    sink = Sink()
    k8s_policy.verify_objects(
        ir.Spec(), [OutputFile("deploy/x/odd.yaml", "", Span.point("t.ship"), documents=tuple(odd))], sink
    )
    # The two whose kind names pods: each pod lacks its three pod-level settings.
    assert {d.code for d in sink.items} == {"SS522"}
    assert sorted(d.message.split(": ")[1] for d in sink.items) == ["Deployment b"] * 3 + ["Job j"] * 3


# One namespace name on two clusters: Argo CD syncs each environment's deploy/<env>/ into its
# own cluster (the Application's destination), so they are two namespaces.
ON_TWO_CLUSTERS = SPEC.replace('  namespace "ml-staging"\n', '  namespace "ml-prod"\n  cluster "stg-eu-1"\n').replace(
    '  namespace "ml-prod"\n  replicas', '  namespace "ml-prod"\n  cluster "prod-eu-1"\n  replicas'
)


def test_a_namespace_name_on_two_clusters_is_two_namespaces(tmp_path: Path) -> None:
    """Staging's Deployment in ``ml-prod`` on its own cluster is not held to production's
    rules (counted by name alone it was: SS523, no zone spread, an error that stopped the
    compile); production's objects still are, and where its workload lacks what production
    needs the diagnostic names its cluster, as the name alone is ambiguous."""
    assert "SS225" not in codes(ON_TWO_CLUSTERS)
    diags = compile_to(write_spec(tmp_path / "s", ON_TWO_CLUSTERS), tmp_path / "out")
    assert errors(diags) == []
    staging = yaml.safe_load((tmp_path / "out/deploy/staging/deployment-clf.yaml").read_text())
    assert staging["metadata"]["namespace"] == "ml-prod"
    assert "topology.kubernetes.io/zone" not in str(staging["spec"]["template"]["spec"])

    override = tmp_path / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    text = (templates_dir() / "kubernetes" / "triton-pod.yaml.j2").read_text()
    (override / "triton-pod.yaml.j2").write_text(text.replace("{% if p.spread %}", "{% if false %}"))
    diags = compile_to(write_spec(tmp_path / "t", ON_TWO_CLUSTERS), tmp_path / "out2", templates=tmp_path / "tpl")
    assert [d.message for d in errors(diags)] == [
        "production Rollout ml-prod/clf on cluster 'prod-eu-1' lacks zone topology spread"
    ]


def test_a_default_deny_policy_on_one_cluster_does_not_cover_another(tmp_path: Path) -> None:
    """Two production environments with one namespace name on two clusters: each cluster's
    namespace needs its own default-deny policy (one cluster's did not cover the other's)."""
    from compiler.parse.sources import load_text
    from compiler.pipeline import check_loaded

    text = ON_TWO_CLUSTERS.replace('namespace "ml-prod"\n  cluster "stg-eu-1"', 'namespace "ml-staging"').replace(
        "environment staging {",
        'environment prod_us {\n  tier production\n  cluster "prod-us-1"\n  namespace "ml-prod"\n'
        '  replicas 2..4\n  gateway "istio-ingress"\n}\n\nenvironment staging {',
    )
    checked = check_loaded(load_text(text, "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    from compiler.backends.render import Templates
    from compiler.pipeline import render

    files, sink = render(checked, Templates.load())
    assert not [d for d in sink.items if d.code == "SS523"]
    deny = "deploy/prod_us/networkpolicy-default-deny-ingress.yaml"
    assert deny in {f.path for f in files}
    kept = [f for f in files if f.path != deny]
    sink = Sink()
    k8s_policy.verify_objects(checked.spec, [f for f in kept if f.path.startswith("deploy/")], sink)
    assert [d.message for d in sink.items if d.code == "SS523"] == [
        "production namespace ml-prod on cluster 'prod-us-1': no default-deny ingress NetworkPolicy"
    ]
