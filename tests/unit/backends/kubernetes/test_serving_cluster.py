"""Serving objects that do what the spec says in a real cluster (issue 10):
the behaviour of the controller that reads each object, encoded as tests of
what shipspec renders."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import yaml

from compiler.backends import file_validators
from compiler.backends.render import Templates
from compiler.diagnostics import Diagnostic
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from compiler.resources import schemas_dir
from compiler.validate import validate_files
from tests.support.golden import GOLDEN
from tests.support.specs import MINIMAL

NO_GATEWAY = MINIMAL.replace('  gateway "istio-ingress"\n', "")


def rendered(text: str) -> tuple[dict[str, dict[str, Any]], list[Diagnostic]]:
    """Every rendered object by path, validated; and every diagnostic."""
    checked = check_loaded(load_text(text, "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    files, sink = render(checked, Templates.load())
    validate_files(files, "1.33", sink, file_validators())
    assert not sink.has_errors, sink.items
    objects = {f.path: f.documents[0] for f in files if f.documents}
    return objects, list(checked.diagnostics) + sink.items


# -- point 3: canary weights -------------------------------------------------------


def test_with_a_gateway_the_rollout_routes_exact_weights_through_istio() -> None:
    objects, diags = rendered(MINIMAL)
    assert "SS524" not in [d.code for d in diags]
    canary = objects["deploy/prod/rollout-clf.yaml"]["spec"]["strategy"]["canary"]
    istio = canary["trafficRouting"]["istio"]["virtualService"]
    assert (canary["stableService"], canary["canaryService"]) == ("clf-stable", "clf-canary")
    for name in ("clf-stable", "clf-canary"):
        service = objects[f"deploy/prod/service-{name}.yaml"]
        assert service["spec"]["selector"] == objects["deploy/prod/service-clf.yaml"]["spec"]["selector"]
    vs = objects[f"deploy/prod/virtualservice-{istio['name']}.yaml"]
    assert vs["metadata"]["namespace"] == "ml-prod"
    # Argo Rollouts edits exactly the routes it is given: every route splits stable/canary, nothing else.
    routes = {r["name"]: r for r in vs["spec"]["http"]}
    assert set(routes) == set(istio["routes"])
    for route in routes.values():
        hosts = [(d["destination"]["host"], d["weight"]) for d in route["route"]]
        assert hosts == [("clf-stable", 100), ("clf-canary", 0)]
    # Bound to the ingress gateway and to the mesh, so both kinds of client get the weights.
    assert vs["spec"]["gateways"] == ["istio-ingress/istio-ingress", "mesh"]


def test_without_a_gateway_the_replica_arithmetic_is_reported_on_the_canary_line() -> None:
    objects, diags = rendered(NO_GATEWAY)
    assert "trafficRouting" not in objects["deploy/prod/rollout-clf.yaml"]["spec"]["strategy"]["canary"]
    found = [d for d in diags if d.code == "SS524"]
    # canary 10% at 2 replicas (maxSurge 1): 1 canary + 2 stable pods = 33.3%; 50% at 2 replicas is exact.
    assert len(found) == 1
    line = NO_GATEWAY.splitlines()[found[0].span.line - 1]
    assert "canary 10% for 10m" in line
    assert "33.3%" in found[0].message


# -- point 4: the shadow mirror ------------------------------------------------------

PREPROD = """
environment preprod {
  tier preprod
  namespace "ml-preprod"
  replicas 2..4
  shadow from prod 50%
}
"""


def _with_preprod(text: str) -> str:
    return text.replace("serve in staging, prod", "serve in staging, preprod, prod") + PREPROD


def _admits(policy: dict[str, Any], namespace: str, port: int) -> bool:
    for rule in policy["spec"].get("ingress", []):
        sources = [f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for f in rule.get("from", [])]
        if namespace in sources and port in [p["port"] for p in rule.get("ports", [])]:
            return True
    return False


def test_the_mirror_is_bound_to_the_gateway_and_owned_by_production() -> None:
    no_canary = MINIMAL.replace("  canary 10% for 10m, 50% for 10m\n", "")
    objects, _ = rendered(_with_preprod(no_canary))
    assert not [p for p in objects if p.startswith("deploy/preprod/virtualservice")]
    vs = objects["deploy/prod/virtualservice-clf-shadow.yaml"]
    assert vs["metadata"]["namespace"] == "ml-prod"
    # Without the gateway in `gateways:` Istio applies it to sidecars only, and
    # production admits serving traffic from the gateway alone.
    assert vs["spec"]["gateways"] == ["istio-ingress/istio-ingress", "mesh"]
    policy = objects["deploy/prod/networkpolicy-clf.yaml"]
    assert _admits(policy, "istio-ingress", 8000) and not _admits(policy, "ml-prod", 8000)
    for route in vs["spec"]["http"]:
        assert route["mirror"]["host"] == "clf.ml-preprod.svc.cluster.local"
        assert route["mirrorPercentage"] == {"value": 50.0}
    # The mirrored copies reach preprod: no NetworkPolicy there refuses them.
    preprod_policies = [o for p, o in objects.items() if p.startswith("deploy/preprod/networkpolicy")]
    assert all(_admits(p, "istio-ingress", 8000) and _admits(p, "ml-prod", 8000) for p in preprod_policies)


def test_a_canaried_model_mirrors_through_its_one_virtual_service() -> None:
    objects, _ = rendered(_with_preprod(MINIMAL))
    hosts = [h for p, o in objects.items() if o.get("kind") == "VirtualService" for h in o["spec"]["hosts"]]
    assert len(hosts) == len(set(hosts)), "two VirtualServices for one host: Istio picks one"
    vs = objects["deploy/prod/virtualservice-clf.yaml"]
    assert all(r["mirror"]["host"] == "clf.ml-preprod.svc.cluster.local" for r in vs["spec"]["http"])


# -- upstream CRD schemas (converted by scripts/crd_schema.py) -------------------------

UPSTREAM_STRICT = {"VirtualService": "istio-virtualservice.strict.json", "ScaledObject": "scaledobject.strict.json",
                   "AppProject": "appproject.strict.json"}


def test_rendered_custom_resources_pass_the_upstream_strict_schemas() -> None:
    seen: set[str] = set()
    for path in sorted(GOLDEN.glob("*/expected/deploy/**/*.yaml")):
        obj = yaml.safe_load(path.read_text(encoding="utf-8"))
        name = UPSTREAM_STRICT.get(obj.get("kind", "")) if isinstance(obj, dict) else None
        if name is None:
            continue
        schema = json.loads((schemas_dir() / "crds" / name).read_text(encoding="utf-8"))
        problems = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(obj)]
        assert not problems, f"{path}: {problems[:3]}"
        seen.add(obj["kind"])
    assert "VirtualService" in seen
