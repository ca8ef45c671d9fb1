"""The golden cases' objects find each other the way the controllers that read them look.

Each reference between rendered objects is resolved by some program at run time, and a
reference that resolves to nothing fails silently: a Service whose selector or named
``targetPort`` matches no pod has no endpoints (the endpoints controller); a ServiceMonitor
whose selector or ``port`` names no Service scrapes nothing (the Prometheus Operator); an
Istio route to a host or port no Service has answers 503; a Rollout names its canary and
stable Services and its VirtualService and routes (Argo Rollouts refuses to progress); a
PodDisruptionBudget or NetworkPolicy that selects no pod protects nothing; an autoscaler's
``scaleTargetRef`` names its workload; a pod's ConfigMap volume names a generated ConfigMap
(kustomize rewrites only names it generated). Checked here for every golden case.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
import yaml

from tests.support.golden import GOLDEN

CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected" / "deploy").is_dir())
WORKLOADS = ("Deployment", "Rollout")


def _objects(case: str) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
    """Rendered objects by namespace; and every ConfigMap a kustomization generates."""
    by_ns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    generated: set[str] = set()
    for path in sorted((GOLDEN / case / "expected" / "deploy").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "Kustomization":
                generated |= {g["name"] for g in doc.get("configMapGenerator", [])}
            elif "metadata" in doc:
                by_ns[doc["metadata"].get("namespace", "")].append(doc)
    return by_ns, generated


def _of(objects: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [d for d in objects if d["kind"] in kinds]


def _named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any] | None:
    return next((d for d in objects if d["kind"] == kind and d["metadata"]["name"] == name), None)


def _pods(objects: list[dict[str, Any]], match: dict[str, str]) -> list[dict[str, Any]]:
    """The pod templates of the workloads whose pods ``match`` selects."""
    assert match, "an empty selector selects every pod"
    templates = [w["spec"]["template"] for w in _of(objects, *WORKLOADS)]
    return [t for t in templates if match.items() <= t["metadata"]["labels"].items()]


def _container_ports(template: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}


def _service_ports(service: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["port"] for p in service["spec"]["ports"]}


@pytest.mark.parametrize("case", CASES)
def test_every_reference_between_rendered_objects_resolves(case: str) -> None:
    by_ns, generated = _objects(case)
    problems: list[str] = []
    seen = defaultdict(int)
    for ns, objects in by_ns.items():
        for svc in _of(objects, "Service"):
            name = f"{ns}/Service {svc['metadata']['name']}"
            pods = _pods(objects, svc["spec"]["selector"])
            if not pods:
                problems.append(f"{name}: its selector matches no pod")
            for port in svc["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                for pod in pods:
                    ports = _container_ports(pod)
                    if target not in (ports if isinstance(target, str) else ports.values()):
                        problems.append(f"{name}: targetPort {target} is no port of its pods")
            seen["Service"] += 1
        for monitor in _of(objects, "ServiceMonitor"):
            name = f"{ns}/ServiceMonitor {monitor['metadata']['name']}"
            namespaces = monitor["spec"].get("namespaceSelector", {}).get("matchNames", [ns])
            match = monitor["spec"]["selector"]["matchLabels"]
            # The operator selects Services by their own labels, not by the pods they select.
            services = [
                s
                for n in namespaces
                for s in _of(by_ns.get(n, []), "Service")
                if match.items() <= s["metadata"].get("labels", {}).items()
            ]
            if not services:
                problems.append(f"{name}: its selector matches no Service's labels in {namespaces}")
            for endpoint in monitor["spec"]["endpoints"]:
                for s in services:
                    if endpoint["port"] not in _service_ports(s):
                        problems.append(f"{name}: port {endpoint['port']} is no port of {s['metadata']['name']}")
            seen["ServiceMonitor"] += 1
        for vs in _of(objects, "VirtualService"):
            name = f"{ns}/VirtualService {vs['metadata']['name']}"
            for route in vs["spec"].get("http", []):
                targets = [d["destination"] for d in route.get("route", [])]
                targets += [route["mirror"]] if "mirror" in route else []
                for dest in targets:
                    host, _, rest = dest["host"].partition(".")
                    where = rest.split(".")[0] if rest else ns
                    service = _named(by_ns.get(where, []), "Service", host)
                    if service is None:
                        problems.append(f"{name}: host {dest['host']} is no rendered Service")
                    elif dest.get("port", {}).get("number") not in _service_ports(service).values():
                        problems.append(f"{name}: {dest['host']} has no port {dest.get('port')}")
            seen["VirtualService"] += 1
        for rollout in _of(objects, "Rollout"):
            name = f"{ns}/Rollout {rollout['metadata']['name']}"
            canary = rollout["spec"]["strategy"].get("canary", {})
            for key in ("canaryService", "stableService"):
                if key in canary and _named(objects, "Service", canary[key]) is None:
                    problems.append(f"{name}: {key} {canary[key]} is no Service")
            istio = canary.get("trafficRouting", {}).get("istio", {}).get("virtualService")
            if istio:
                vs = _named(objects, "VirtualService", istio["name"])
                routes = {r.get("name") for r in vs["spec"]["http"]} if vs else set()
                if vs is None or not set(istio["routes"]) <= routes:
                    problems.append(f"{name}: VirtualService {istio['name']} routes {istio['routes']} not found")
            seen["Rollout"] += 1
        for pdb in _of(objects, "PodDisruptionBudget"):
            if not _pods(objects, pdb["spec"]["selector"]["matchLabels"]):
                problems.append(f"{ns}/PodDisruptionBudget {pdb['metadata']['name']}: selects no pod")
            seen["PodDisruptionBudget"] += 1
        for policy in _of(objects, "NetworkPolicy"):
            match = policy["spec"]["podSelector"].get("matchLabels", {})
            if not match:
                continue  # the namespace-wide default deny
            pods = _pods(objects, match)
            name = f"{ns}/NetworkPolicy {policy['metadata']['name']}"
            if not pods:
                problems.append(f"{name}: selects no pod")
            for rule in policy["spec"].get("ingress", []):
                for port in rule.get("ports", []):
                    for pod in pods:
                        ports = _container_ports(pod)
                        if port["port"] not in (ports if isinstance(port["port"], str) else ports.values()):
                            problems.append(f"{name}: port {port['port']} is no port of its pods")
            seen["NetworkPolicy"] += 1
        for scaler in _of(objects, "HorizontalPodAutoscaler", "ScaledObject"):
            ref = scaler["spec"]["scaleTargetRef"]
            if _named(objects, ref.get("kind", "Deployment"), ref["name"]) is None:
                problems.append(f"{ns}/{scaler['kind']} {scaler['metadata']['name']}: targets no {ref}")
            seen[scaler["kind"]] += 1
        for workload in _of(objects, *WORKLOADS):
            for volume in workload["spec"]["template"]["spec"].get("volumes", []):
                config_map = volume.get("configMap", {}).get("name")
                if (
                    config_map is not None
                    and config_map not in generated
                    and _named(objects, "ConfigMap", config_map) is None
                ):
                    problems.append(
                        f"{ns}/{workload['kind']} {workload['metadata']['name']}: no ConfigMap {config_map}"
                    )
    assert problems == []
    assert seen["Service"] and seen["ServiceMonitor"], (case, dict(seen))
