"""While a canary runs, Argo Rollouts owns fields of objects Argo CD syncs; each golden
Application's ``ignoreDifferences`` must hide exactly those from Argo CD's diff, or Argo CD
reports the Application OutOfSync and self-heal puts the stable weights back mid-canary.

What each program does, as read upstream:

- Argo Rollouts (``rollout/trafficrouting/istio``), at a ``setWeight`` step: in each HTTP
  route of the VirtualService that the Rollout names, a destination whose host (up to its
  first dot) is the canary Service gets the step's weight and one that is the stable Service
  gets the rest. It adds ``rollouts-pod-template-hash`` to both Services' selectors and marks
  them with its ``managed-by-rollouts`` annotation.
- Argo CD (``util/argo/normalizers/diff_normalizer.go``) normalises both the desired and the
  live object before diffing: for each rule whose group and kind (and name, namespace when
  given) match, a JSON pointer is removed (RFC 6902 ``remove``) and a jq path expression is
  applied as ``del(<expr>)`` (gojq); a rule that fails on an object (a missing path, a jq
  error such as iterating null) is skipped, silently; then empty objects and arrays are
  dropped. The diff is three-way against what was last applied: a field only the live
  object has (an annotation another controller added) is no drift.

The jq expressions run in libjq (the ``jq`` package): the expressions rendered are plain
paths, where jq and gojq agree. A rule that is skipped, one that hides too much (a route's
destination port, a Service's port) and one that is missing each fail a test here.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from typing import Any

import jq
import pytest
import yaml

from tests.support.golden import GOLDEN

CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected" / "deploy" / "argocd").is_dir())
CANARY_WEIGHT = 30  # a setWeight step
HASH_LABEL = "rollouts-pod-template-hash"
MANAGED_BY = "argo-rollouts.argoproj.io/managed-by-rollouts"


class _Skipped(Exception):
    """A normalizer patch that does not apply (Argo CD logs it at debug level and goes on)."""


def _group(obj: dict[str, Any]) -> str:
    api = str(obj.get("apiVersion", ""))
    return api.rpartition("/")[0]


def _remove_pointer(doc: Any, pointer: str) -> None:
    """RFC 6902 ``remove`` at an RFC 6901 pointer; a missing path does not apply."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _Skipped(pointer)
    last = parts[-1]
    if isinstance(node, dict) and last in node:
        del node[last]
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        del node[int(last)]
    else:
        raise _Skipped(pointer)


def _jq_delete(doc: Any, expression: str) -> Any:
    try:
        results = jq.compile(f"del({expression})").input_value(doc).all()
    except ValueError as e:  # a jq error (iterating null, a wrong type): the patch is skipped
        raise _Skipped(f"{expression}: {e}") from e
    if len(results) != 1:
        raise _Skipped(f"{expression}: {len(results)} results")
    return results[0]


def _drop_empty(obj: dict[str, Any]) -> None:
    for key in list(obj):
        value = obj[key]
        if isinstance(value, dict):
            _drop_empty(value)
            if not value:
                del obj[key]
        elif isinstance(value, list):
            kept = []
            for item in value:
                if isinstance(item, dict):
                    _drop_empty(item)
                    if item:
                        kept.append(item)
                else:
                    kept.append(item)
            obj[key] = kept
            if not kept:
                del obj[key]


def normalize(obj: dict[str, Any], rules: list[dict[str, Any]], skipped: list[str]) -> dict[str, Any]:
    """``obj`` as Argo CD's ignore normalizer leaves it under ``rules`` (the patches that did
    not apply go to ``skipped``)."""
    meta = obj.get("metadata", {})
    matched = [
        r
        for r in rules
        if fnmatch.fnmatchcase(_group(obj), r.get("group", ""))
        and fnmatch.fnmatchcase(str(obj.get("kind")), r["kind"])
        and r.get("name") in (None, "", meta.get("name"))
        and r.get("namespace") in (None, "", meta.get("namespace"))
    ]
    if not matched:
        return obj
    doc = json.loads(json.dumps(obj))
    for rule in matched:
        for pointer in rule.get("jsonPointers", []):
            try:
                _remove_pointer(doc, pointer)
            except _Skipped as e:
                skipped.append(str(e))
        for expression in rule.get("jqPathExpressions", []):
            try:
                doc = _jq_delete(doc, expression)
            except _Skipped as e:
                skipped.append(str(e))
    _drop_empty(doc)
    return doc


def drift(desired: Any, live: Any, at: str = "") -> list[str]:
    """The paths where ``live`` differs from ``desired`` in a three-way diff whose last
    applied configuration is ``desired``: what desired sets and live lacks or has otherwise;
    a field only live has is no drift."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return [at or "/"]
        return [p for k, v in desired.items() for p in (drift(v, live[k], f"{at}/{k}") if k in live else [f"{at}/{k}"])]
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            return [at or "/"]
        return [p for i, (d, v) in enumerate(zip(desired, live, strict=True)) for p in drift(d, v, f"{at}/{i}")]
    return [] if desired == live else [at]


def _host(host: str) -> str:
    return host.split(".", 1)[0]


def mid_canary(
    objects: dict[tuple[str, str], dict[str, Any]], rollout: dict[str, Any], weight: int
) -> dict[tuple[str, str], dict[str, Any]]:
    """The live objects while ``rollout`` is at a ``setWeight: weight`` step."""
    live = copy.deepcopy(objects)
    canary = rollout["spec"]["strategy"]["canary"]
    istio = canary["trafficRouting"]["istio"]
    services = {"canary": canary["canaryService"], "stable": canary["stableService"]}
    virtual_services = istio.get("virtualServices") or [istio["virtualService"]]
    for ref in virtual_services:
        vs = live[("VirtualService", ref["name"])]
        named = set(ref.get("routes", []))
        for route in vs["spec"]["http"]:
            if route.get("name") not in named:
                continue
            for destination in route["route"]:
                host = _host(destination["destination"]["host"])
                if host == services["canary"]:
                    destination["weight"] = weight
                elif host == services["stable"]:
                    destination["weight"] = 100 - weight
    for role, name in services.items():
        svc = live[("Service", name)]
        svc["spec"]["selector"][HASH_LABEL] = f"{role}-5f7c9d"
        svc["metadata"].setdefault("annotations", {})[MANAGED_BY] = rollout["metadata"]["name"]
    return live


def _applications(case: str) -> list[tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]]:
    """Each Application of ``case`` with a canary routed by Istio, and the objects of its path."""
    expected = GOLDEN / case / "expected"
    found = []
    for path in sorted((expected / "deploy" / "argocd").glob("application-*.yaml")):
        app = yaml.safe_load(path.read_text())
        objects: dict[tuple[str, str], dict[str, Any]] = {}
        for file in sorted((expected / app["spec"]["source"]["path"]).rglob("*.yaml")):
            for doc in yaml.safe_load_all(file.read_text()):
                if isinstance(doc, dict) and "metadata" in doc and doc.get("kind") != "Kustomization":
                    objects[(doc["kind"], doc["metadata"]["name"])] = doc
        if any(_istio_rollout(o) for o in objects.values()):
            found.append((app, objects))
    return found


def _istio_rollout(obj: dict[str, Any]) -> bool:
    if obj.get("kind") != "Rollout":
        return False
    canary = obj["spec"]["strategy"].get("canary") or {}
    return "istio" in (canary.get("trafficRouting") or {})


CANARY_APPS = [(case, app, objects) for case in CASES for app, objects in _applications(case)]


def test_some_golden_case_routes_a_canary_through_istio() -> None:
    assert len(CANARY_APPS) >= 2, "nothing below would be exercised"


@pytest.mark.parametrize(
    ("case", "app", "objects"), CANARY_APPS, ids=[f"{c}-{a['metadata']['name']}" for c, a, _ in CANARY_APPS]
)
def test_argo_cd_sees_no_drift_while_a_canary_runs(
    case: str, app: dict[str, Any], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    rules = app["spec"].get("ignoreDifferences", [])
    # Sync leaves the ignored fields alone too (else a manual or automated sync resets the weights).
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
    for rollout in [o for o in objects.values() if _istio_rollout(o)]:
        live = mid_canary(objects, rollout, CANARY_WEIGHT)
        changed = [key for key in objects if objects[key] != live[key]]
        assert {kind for kind, _ in changed} == {"VirtualService", "Service"}
        for key in changed:
            # Without the rules, what Rollouts changed is drift (so this test can tell).
            if key[0] == "VirtualService":
                assert drift(objects[key], live[key]), key
            # Every matching rule applies to the live object: a skipped one hides nothing. (On
            # the desired one the selector hash is not there to remove, which Argo CD skips.)
            skipped: list[str] = []
            live_n = normalize(live[key], rules, skipped)
            assert skipped == [], (case, key, skipped)
            assert drift(normalize(objects[key], rules, []), live_n) == [], (case, key)
            if key[0] == "Service":
                assert HASH_LABEL not in live_n["spec"]["selector"]


@pytest.mark.parametrize(
    ("case", "app", "objects"), CANARY_APPS, ids=[f"{c}-{a['metadata']['name']}" for c, a, _ in CANARY_APPS]
)
def test_drift_rollouts_did_not_make_is_still_reported(
    case: str, app: dict[str, Any], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    """The rules hide the weights and the selector hash, not the routes or the ports."""
    rules = app["spec"]["ignoreDifferences"]
    rollout = next(o for o in objects.values() if _istio_rollout(o))
    canary = rollout["spec"]["strategy"]["canary"]
    live = mid_canary(objects, rollout, CANARY_WEIGHT)
    vs_name = (canary["trafficRouting"]["istio"].get("virtualService") or {}).get("name")
    vs = live[("VirtualService", vs_name)]
    vs["spec"]["http"][0]["route"][0]["destination"]["port"]["number"] += 1
    svc = live[("Service", canary["stableService"])]
    svc["spec"]["ports"][0]["port"] += 1
    svc["spec"]["selector"]["app.kubernetes.io/name"] = "another-model"
    for key in (("VirtualService", vs_name), ("Service", canary["stableService"])):
        found = drift(normalize(objects[key], rules, []), normalize(live[key], rules, []))
        assert found, (case, key)
    assert any(
        p.endswith("/port/number")
        for p in drift(normalize(objects[("VirtualService", vs_name)], rules, []), normalize(vs, rules, []))
    )


def test_a_rule_that_does_not_apply_is_seen() -> None:
    """The normalizer model itself: a jq error and a missing pointer are skipped, as Argo CD
    skips them, and reported here."""
    vs = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "a"}, "spec": {}}
    skipped: list[str] = []
    rules = [
        {
            "group": "networking.istio.io",
            "kind": "VirtualService",
            "jqPathExpressions": [".spec.http[].route[].weight"],
            "jsonPointers": ["/spec/gone"],
        }
    ]
    assert normalize(vs, rules, skipped) == {k: v for k, v in vs.items() if k != "spec"}
    assert len(skipped) == 2
