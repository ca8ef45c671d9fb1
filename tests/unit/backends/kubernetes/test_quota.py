"""SS527: a namespace's ResourceQuota admits the pods rendered into it, counted as the API
server's admission counts them (defaulting, the LimitRanger, then the quota)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from compiler.backends.kubernetes.quota import _pod_usage, quantity, verify_quota
from compiler.backends.render import Templates
from compiler.diagnostics import Sink, Span
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from tests.support.specs import MINIMAL


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250m", Fraction(1, 4)),
        ("2", Fraction(2)),
        ("1.5", Fraction(3, 2)),
        ("2Gi", Fraction(2 << 30)),
        ("512Mi", Fraction(512 << 20)),
        ("1G", Fraction(10**9)),
        ("1e3", Fraction(1000)),
        (3, Fraction(3)),
        ("two", None),
        ("1Qi", None),
        (True, None),
    ],
)
def test_quantities_read_as_kubernetes_reads_them(text: Any, value: Fraction | None) -> None:
    assert quantity(text) == value


def _usage(pod: dict[str, Any], default: dict[str, Any], default_request: dict[str, Any], key: str) -> Any:
    return _pod_usage(pod, default, default_request, [key])[key]


def _container(**resources: dict[str, str]) -> dict[str, Any]:
    return {"name": "c", "resources": resources}


def test_a_pod_counts_the_larger_of_its_containers_and_any_one_init_container() -> None:
    pod = {
        "containers": [_container(limits={"cpu": "1"}), _container(requests={"cpu": "500m"}, limits={"cpu": "2"})],
        "initContainers": [_container(limits={"cpu": "2"}), _container(limits={"cpu": "1"})],
    }
    # A request left out is the limit: 1 + 0.5 in the containers, 2 in the larger init container.
    assert _usage(pod, {}, {}, "requests.cpu") == 2
    assert _usage(pod, {}, {}, "limits.cpu") == 3
    # An extended resource no container asks for counts as none; cpu left out cannot be admitted.
    assert _usage(pod, {}, {}, "requests.nvidia.com/gpu") == 0
    bare = {"containers": [{"name": "c"}]}
    assert _usage(bare, {}, {}, "limits.cpu") is None
    # The LimitRanger's defaults fill in what the container leaves out.
    assert _usage(bare, {"cpu": "1"}, {"cpu": "250m"}, "limits.cpu") == 1
    assert _usage(bare, {"cpu": "1"}, {"cpu": "250m"}, "requests.cpu") == Fraction(1, 4)


def _deployment(replicas: int, cpu: str, surge: object = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "template": {"spec": {"containers": [_container(limits={"cpu": cpu})]}},
    }
    if surge is not None:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge}}
    return {"kind": "Deployment", "metadata": {"name": "d"}, "spec": spec}


def _codes(*docs: dict[str, Any]) -> list[str]:
    sink = Sink()
    verify_quota("ns", [(d, Span.point("t")) for d in docs], sink)
    return [d.message for d in sink.items if d.code == "SS527"]


def test_the_quota_must_hold_every_replica_and_a_rolling_update() -> None:
    quota = {"kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": "4"}}}
    assert _codes(quota, _deployment(3, "1", surge=1)) == []
    [stalls] = _codes(quota, _deployment(4, "1", surge=1))
    assert "rolling update" in stalls and "stalls" in stalls
    # maxSurge 25 % (the default) of 4 rounds up to one pod.
    assert _codes(quota, _deployment(3, "1")) == []
    assert len(_codes(quota, _deployment(4, "1"))) == 1
    [refused] = _codes(quota, _deployment(5, "1", surge=0))
    assert "refuses the pods" in refused and "requests.cpu 5" in refused
    bare = {"kind": "Deployment", "metadata": {"name": "b"}, "spec": {"template": {"spec": {"containers": [{}]}}}}
    [left_out] = _codes(quota, bare)
    assert "leaves out" in left_out


def _diagnostics(quota: str, dev_cpu: str = "1") -> list[str]:
    text = MINIMAL.replace(
        "environment staging {",
        f'environment dev {{\n  tier development\n  namespace "ml-dev"\n  quota {{ {quota} }}\n}}\n\n'
        "environment staging {",
    )
    text = text.replace("resources { cpu 1 ", f"resources {{ cpu {dev_cpu} ").replace(
        "serve in staging, prod", "serve in dev, staging, prod"
    )
    checked = check_loaded(load_text(text, "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    _files, sink = render(checked, Templates.load())
    return [f"{d.span.line}: {d.message}" for d in sink.items if d.code == "SS527"]


def test_a_development_quota_too_small_for_its_models_is_an_error_at_the_quota() -> None:
    # One pod of 1 CPU (its init containers ask for no more) and 1Gi, rolled with one extra pod.
    assert _diagnostics("cpu 2  memory 8Gi") == []
    # Reported at the quota's line, for the requests and the limits alike.
    stalls = _diagnostics("cpu 1  memory 8Gi", dev_cpu="1")
    assert sorted(m.split(" need ")[1].split(" ")[0] for m in stalls) == ["limits.cpu", "requests.cpu"], stalls
    assert all("ml-dev" in m and "stalls" in m for m in stalls), stalls
    refused = _diagnostics("cpu 2  memory 8Gi", dev_cpu="3")
    assert len(refused) == 2 and all("refuses the pods" in m and "cpu 3 " in m for m in refused), refused


def test_the_memo_facts_decide_the_quota_as_the_documents() -> None:
    """The memo keeps only a document's facts (backends/facts.py): they carry what the
    quota admission counts."""
    from dataclasses import replace

    from compiler.backends.facts import facts
    from compiler.backends.kubernetes.policy import verify_objects

    text = MINIMAL.replace(
        "environment staging {",
        'environment dev {\n  tier development\n  namespace "ml-dev"\n  quota { cpu 1  memory 1Gi }\n}\n\n'
        "environment staging {",
    ).replace("serve in staging, prod", "serve in dev, staging, prod")
    checked = check_loaded(load_text(text, "t.ship"))
    files, _ = render(checked, Templates.load())
    kept = [replace(f, documents=tuple(facts(d) for d in f.documents)) for f in files]
    verdicts = []
    for version in (files, kept):
        sink = Sink()
        verify_objects(checked.spec, version, sink)
        verdicts.append(sorted(d.message for d in sink.items if d.code == "SS527"))
    assert verdicts[0] and verdicts[0] == verdicts[1], verdicts


def test_an_autoscaled_workload_counts_at_its_autoscalers_least_replicas() -> None:
    quota = {"kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": "4"}}}
    scaled = _deployment(1, "1", surge=0)
    del scaled["spec"]["replicas"]
    hpa = {"kind": "HorizontalPodAutoscaler", "spec": {"scaleTargetRef": {"name": "d"}, "minReplicas": 5}}
    [refused] = _codes(quota, scaled, hpa)
    assert "requests.cpu 5" in refused
    keda = {"kind": "ScaledObject", "spec": {"scaleTargetRef": {"name": "d"}, "minReplicaCount": 0}}
    assert _codes(quota, scaled, keda) == []  # scaled to zero, but starts with one pod
    assert _codes(quota, scaled) == []


def test_a_quota_counts_only_the_pods_of_its_own_cluster() -> None:
    """The development quota of ``ml-x`` on cluster ``a`` holds its one pod and an update's
    (2 CPUs); staging's pod in an ``ml-x`` of cluster ``b`` is not its to count (counted by
    name alone it was: SS527, an error that stopped the compile). Past the quota, the
    diagnostic names the cluster, as the name alone is ambiguous."""
    shared = MINIMAL.replace('namespace "ml-staging"', 'namespace "ml-x"\n  cluster "b"')

    def quota_errors(cpu: str) -> list[str]:
        text = shared.replace(
            "environment staging {",
            'environment dev {\n  tier development\n  cluster "a"\n  namespace "ml-x"\n'
            f"  quota {{ cpu {cpu}  memory 8Gi }}\n}}\n\n"
            "environment staging {",
        ).replace("serve in staging, prod", "serve in dev, staging, prod")
        checked = check_loaded(load_text(text, "t.ship"))
        assert not checked.has_errors, checked.diagnostics
        _files, sink = render(checked, Templates.load())
        return [d.message for d in sink.items if d.code == "SS527"]

    assert quota_errors("2") == []
    stalls = quota_errors("1")
    assert len(stalls) == 2 and all(m.startswith("namespace ml-x on cluster 'a': its pods need ") for m in stalls), (
        stalls
    )
    assert all("cpu 1 and a rolling update 1 more" in m for m in stalls), stalls


def _rendered_rollout() -> dict[str, Any]:
    """The Rollout the MINIMAL spec renders into prod (a gateway: its canary is routed by Istio)."""
    checked = check_loaded(load_text(MINIMAL, "t.ship"))
    files, _ = render(checked, Templates.load())
    [rollout] = [d for f in files for d in f.documents if d.get("kind") == "Rollout"]
    assert rollout["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]
    assert rollout["spec"]["strategy"]["canary"]["maxSurge"] == 1
    return rollout


def test_a_routed_canary_needs_room_for_a_second_set_of_pods() -> None:
    """Argo Rollouts keeps a routed canary's stable ReplicaSet at full scale while the canary's
    grows with its weight, to full scale once the steps are done (``maxSurge`` is not read),
    and scales the old one down only after scaleDownDelaySeconds: a namespace must hold every
    replica twice. A basic canary (no routing) and one with dynamicStableScale surge by
    ``maxSurge``."""
    import copy

    rollout = _rendered_rollout()
    rollout["spec"]["replicas"] = 3
    cpu = _pod_usage(rollout["spec"]["template"]["spec"], {}, {}, ["requests.cpu"])["requests.cpu"]
    assert cpu is not None and cpu > 0

    def quota(pods: int) -> dict[str, Any]:
        return {"kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": str(cpu * pods)}}}

    assert _codes(quota(6), rollout) == []
    [stalls] = _codes(quota(5), rollout)
    assert f"requests.cpu {float(cpu * 3):g} and a rolling update {float(cpu * 3):g} more" in stalls, stalls
    for unrouted in ("basic", "dynamic"):
        other = copy.deepcopy(rollout)
        canary = other["spec"]["strategy"]["canary"]
        if unrouted == "basic":
            del canary["trafficRouting"]
        else:
            canary["dynamicStableScale"] = True
        assert _codes(quota(4), other) == [], unrouted
        assert len(_codes(quota(3), other)) == 1, unrouted


def test_the_memo_facts_of_a_routed_canary_decide_the_quota_as_the_document() -> None:
    from compiler.backends.facts import facts
    from compiler.backends.kubernetes.quota import quota_view

    rollout = _rendered_rollout()
    rollout["spec"]["replicas"] = 3
    cpu = _pod_usage(rollout["spec"]["template"]["spec"], {}, {}, ["requests.cpu"])["requests.cpu"]
    assert cpu is not None
    q = {"kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": str(cpu * 5)}}}
    for read in (rollout, facts(rollout), quota_view(rollout)):
        assert len(_codes(q, read)) == 1
