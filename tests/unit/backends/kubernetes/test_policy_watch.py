"""``policy.verify_objects`` in a watching build (``Units.by_identity``): what it keeps of one
step for the next (``policy._Verified``) never changes what it reports.

The views it compares a changed file by hold all the checks read (the checks decide on views
as on the documents); after any edits a watching verification reports what a fresh one does,
in the same order; and it reads again only the files an edit made again, and checks again
only the namespaces whose views changed."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import ir
from compiler.backends.kubernetes import policy, quota
from compiler.backends.memo import Units
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.output import OutputFile
from tests.unit.backends.kubernetes.test_policy_facts import _paths, damage

Objects = list[tuple[dict[str, Any], Span]]


@pytest.fixture(scope="module")
def namespaces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Objects]:
    """The rendered objects of a synthetic spec (a development quota and limit range, a
    production namespace, Rollouts and KEDA scalers) by namespace, and those of ``_world``
    (a quota only an update's extra pods exceed)."""
    from bench.synth import generate
    from compiler.backends.render import Templates
    from compiler.pipeline import render, validate

    checked = validate([generate(tmp_path_factory.mktemp("synth"), 4)])
    files, sink = render(checked, Templates.load())
    assert not sink.has_errors
    by_ns: dict[str, Objects] = {}
    for f, world in [(f, "") for f in files] + [(f, "world ") for f in _world()]:
        for d in f.documents:
            ns = (d.get("metadata") or {}).get("namespace")
            if isinstance(ns, str):
                by_ns.setdefault(world + ns, []).append((d, f.source))
    # Production's routed canaries under a quota that holds them, but not a second set of pods
    # (``quota._surge``), and one of them with dynamicStableScale, which surges by maxSurge.
    routed = [copy.deepcopy(d) for d, _ in by_ns["ml-prod"] if d.get("kind") == "Rollout"][:2]
    assert routed and all("trafficRouting" in d["spec"]["strategy"]["canary"] for d in routed)
    routed[-1]["spec"]["strategy"]["canary"]["dynamicStableScale"] = True
    cpus = []
    for d in routed:
        d["spec"]["replicas"] = 3
        cpus.append(quota._pod_usage(d["spec"]["template"]["spec"], {}, {}, ["requests.cpu"])["requests.cpu"])
    # Every pod, and two more of the routed one's: short of its second set of three.
    hard = {"requests.cpu": str(sum(cpus) * 3 + cpus[0] * 2), "requests.memory": "8Ti"}
    routed.append(_doc("ResourceQuota", "quota", "ml-prod", hard=hard))
    by_ns["routed"] = [(d, Span.point("t.ship", 1)) for d in routed]
    assert ["stalls" in d.message for d in _reported(quota.verify_quota, "routed", by_ns["routed"])] == [True]
    return by_ns


# Values of other types, and of the same value in another type (1, True, 1.0; 2, 2.0, "2").
ODD = st.sampled_from([None, 0, 1, 2, 3, 2.0, 1.0, "2", "", "x", "250m", True, False, [], {}, ["ALL"], {"a": 1}])


def _reported(check: Any, ns: str, objects: Objects) -> list[Diagnostic]:
    sink = Sink()
    check(ns, objects, sink)
    return sink.items


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_checks_decide_on_views_as_on_the_documents(namespaces: dict[str, Objects], data: st.DataObject) -> None:
    """Random damage to a namespace's objects (a key removed, a value replaced by one of
    another type), mostly where the checks read (what the memo keeps of a document,
    ``backends.facts``, which holds all they read): the production check on
    ``production_view``s and the quota check on ``quota_view``s report what they report on
    the documents. So two documents of one view (by repr) are one verdict."""
    from compiler.backends.facts import facts

    ns = data.draw(st.sampled_from(sorted(namespaces)))
    objects = copy.deepcopy(namespaces[ns])
    for _ in range(data.draw(st.integers(1, 3))):
        doc = data.draw(st.sampled_from(objects))[0]
        read = data.draw(st.sampled_from([facts(doc), facts(doc), doc]))
        path = data.draw(st.sampled_from(_paths(read)[1:] or _paths(doc)[1:]))
        damage(data, doc, path, ODD)
    production = [(policy.production_view(d), s) for d, s in objects]
    quotas = [(quota.quota_view(d), s) for d, s in objects]
    assert _reported(policy._verify_production, ns, production) == _reported(policy._verify_production, ns, objects)
    assert _reported(quota.verify_quota, ns, quotas) == _reported(quota.verify_quota, ns, objects)


def test_a_cpu_edit_changes_no_production_view() -> None:
    deployment = _doc("Deployment", "a", "prod", template={"metadata": {"labels": {"app": "a"}}, "spec": _pod("1")})
    edited = copy.deepcopy(deployment)
    edited["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "2"
    assert repr(policy.production_view(edited)) == repr(policy.production_view(deployment))
    assert repr(quota.quota_view(edited)) != repr(quota.quota_view(deployment))


# --- A world of synthetic files: a development namespace with a quota, a staging and a
# production one, and a production environment with no objects.


def _pod(cpu: Any, secure: Any = True, token: bool = False) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "c",
        "securityContext": {
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {"limits": {"cpu": cpu, "memory": "1Gi"}},
    }
    if token:
        container["env"] = [{"name": "TOKEN", "value": "hunter2"}]
    return {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": secure, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "topologySpreadConstraints": [{"topologyKey": "topology.kubernetes.io/zone"}],
    }


def _doc(kind: str, name: str, ns: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _file(path: str, docs: list[dict[str, Any]], line: int = 1) -> OutputFile:
    return OutputFile(path, "", Span.point("t.ship", line), documents=tuple(docs))


def _model(name: str, ns: str, cpu: Any = "1") -> list[OutputFile]:
    labels = {"app": name}
    docs = [
        _doc("Deployment", name, ns, template={"metadata": {"labels": labels}, "spec": _pod(cpu)}),
        _doc("HorizontalPodAutoscaler", name, ns, scaleTargetRef={"name": name}, minReplicas=2),
        _doc("PodDisruptionBudget", name, ns, selector={"matchLabels": labels}),
        _doc("NetworkPolicy", name, ns, podSelector={"matchLabels": labels}, policyTypes=["Ingress"]),
    ]
    return [_file(f"deploy/{ns}/{d['kind'].lower()}-{name}.yaml", [d]) for d in docs]


def _quota(cpu: Any) -> OutputFile:
    hard = {"requests.cpu": cpu, "limits.cpu": cpu, "requests.memory": "64Gi", "limits.memory": "64Gi"}
    return _file("deploy/dev/resourcequota-quota.yaml", [_doc("ResourceQuota", "quota", "dev", hard=hard)], 2)


def _limits(cpu: Any) -> OutputFile:
    limits = [{"type": "Container", "default": {"cpu": cpu, "memory": "1Gi"}, "defaultRequest": {"cpu": cpu}}]
    return _file("deploy/dev/limitrange-defaults.yaml", [_doc("LimitRange", "defaults", "dev", limits=limits)], 2)


def _world() -> list[OutputFile]:
    """Staging first (production in some steps; without a default-deny policy, reported at
    its first object's span, not a workload's), then the development namespace, then
    production (one workload without a PodDisruptionBudget)."""
    deny = _doc("NetworkPolicy", "default-deny-ingress", "prod", podSelector={}, policyTypes=["Ingress"])
    files = [_file("deploy/stage/serviceaccount-a.yaml", [_doc("ServiceAccount", "a", "stage")])]
    files += [f for i in range(2) for f in _model(f"s{i}", "stage")]
    files += [_quota("4"), _limits("1")]
    dev = [f for i in range(2) for f in _model(f"d{i}", "dev")]
    # Two pods of each (their autoscalers' least) fill the quota: an update stalls, d0's of
    # as many pods again, d1's of its default (a quarter, rounded up). d1's CPU is the
    # limit range's default.
    dev[0].documents[0]["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%"}}
    del dev[4].documents[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
    files += dev
    files.append(_file("deploy/prod/networkpolicy-default-deny-ingress.yaml", [deny], 3))
    files += [f for i in range(2) for f in _model(f"p{i}", "prod")]
    files.remove(next(f for f in files if f.path == "deploy/prod/poddisruptionbudget-p1.yaml"))
    files.append(_file("deploy/namespace.yaml", [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}]))
    return files


def _spec(secret: bool, production: bool, shared: bool, cluster: bool = False) -> ir.Spec:
    """The spec as the verification reads it: its secret names (TOKEN, or none), its
    production namespaces (``edge``, which has no objects, ``prod``, ``stage`` where
    ``production``, and ``prod`` again where ``shared``: a second environment in it) and
    their clusters (where ``cluster``, ``stage`` and the second environment on one of their
    own: a ``prod`` there is another namespace than ``prod``'s)."""
    span = Span.point("t.ship")
    env = (ir.EnvVar("TOKEN", ir.SecretRef("vault:a#b", span), span),) if secret else ()
    environments = [
        ir.Environment("dev", span, ir.Tier.DEVELOPMENT),
        ir.Environment("edge", span, ir.Tier.PRODUCTION),
        ir.Environment("prod", span, ir.Tier.PRODUCTION),
        ir.Environment(
            "stage", span, ir.Tier.PRODUCTION if production else ir.Tier.STAGING, "east" if cluster else None
        ),
    ]
    if shared:
        environments.append(
            ir.Environment("twin", span, ir.Tier.PRODUCTION, "east" if cluster else None, namespace="prod")
        )
    return ir.Spec(models=(ir.Model("m", span, env=env),), environments=tuple(environments))


def _remade(f: OutputFile, docs: list[dict[str, Any]] | None = None, line: int | None = None) -> OutputFile:
    source = f.source if line is None else Span.point("t.ship", line)
    return OutputFile(f.path, f.text, source, documents=tuple(copy.deepcopy(f.documents) if docs is None else docs))


def _kinds(f: OutputFile) -> set[Any]:
    return {d.get("kind") for d in f.documents}


def _target(files: list[OutputFile], x: int, *kinds: str) -> int:
    """The place of the ``x``-th file (round) holding one of ``kinds``, or of any file."""
    places = [i for i, f in enumerate(files) if _kinds(f) & set(kinds)] or list(range(len(files)))
    return places[x % len(places)]


def _specs(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d["spec"] for d in docs if d.get("kind") == kind and isinstance(d.get("spec"), dict)]


def _pods(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s["template"]["spec"] for s in _specs(docs, "Deployment") if "template" in s]


# Values the checks tell apart though some are equal (1, 1.0 and True; 2, 2.0 and "2").
CPUS = ["1", "2", "3", "500m", 1, 2, 1.0, True, "x"]
REPLICAS = [2, 2.0, 1, True, 3, "2", None]
SURGES = [0, 1, "50%", "100%", True, None]
NAMESPACES = ["dev", "stage", "prod", "edge", "other"]
# Edits after which a watching verification goes on from the last step's (no file added or
# removed, at most two changed, the same secret names and production namespaces).
IN_PLACE = {
    *("remade", "cpu", "secure", "token", "replicas", "surge", "labels", "spread", "line", "first line"),
    *("retype", "quota", "limits", "swap", "namespace", "quota namespace", "documents"),
}
EDITS = sorted([*IN_PLACE, "add", "remove", "shuffle", "secret", "production", "shared", "cluster"])


def _edit(files: list[OutputFile], world: dict[str, bool], edit: str, x: int, y: int) -> None:
    """``edit`` of the ``x``-th file it applies to, to the ``y``-th value it chooses from."""
    i = x % len(files)
    if edit in ("cpu", "secure", "token", "surge", "spread"):
        i = _target(files, x, "Deployment")
    elif edit in ("replicas", "retype"):
        i = _target(files, x, "HorizontalPodAutoscaler", "Deployment")
    elif edit == "labels":
        i = _target(files, x, "PodDisruptionBudget", "NetworkPolicy", "Deployment")
    elif edit == "line" and y % 2:  # where diagnostics are reported, half the time
        i = _target(files, x, "Deployment", "ResourceQuota")
    elif edit in ("quota", "quota namespace"):
        i = _target(files, x, "ResourceQuota")
    elif edit == "limits":
        i = _target(files, x, "LimitRange")
    f = files[i]
    docs = copy.deepcopy(list(f.documents))
    if edit == "remade":
        files[i] = _remade(f)
    elif edit == "cpu":
        for pod in _pods(docs):
            pod["containers"][0]["resources"]["limits"]["cpu"] = CPUS[y % len(CPUS)]
    elif edit == "secure":
        for pod in _pods(docs):
            pod["securityContext"]["runAsNonRoot"] = [True, False, "true"][y % 3]
    elif edit == "token":
        for pod in _pods(docs):
            pod["containers"][0]["env"] = [{"name": "TOKEN", "value": "x"}] if y % 2 else []
    elif edit == "replicas":
        for spec in _specs(docs, "HorizontalPodAutoscaler"):
            spec["minReplicas"] = REPLICAS[y % len(REPLICAS)]
        for spec in _specs(docs, "Deployment"):
            spec["replicas"] = REPLICAS[y % len(REPLICAS)]
    elif edit == "retype":  # a value as another equal one the checks tell apart: 2 and 2.0, 1 and True
        for spec in _specs(docs, "HorizontalPodAutoscaler"):
            spec["minReplicas"] = 2.0 if type(spec.get("minReplicas")) is int else 2
        for pod in _pods(docs):
            limits = pod["containers"][0]["resources"]["limits"]
            limits["cpu"] = 1 if type(limits.get("cpu")) is bool else True
    elif edit == "surge":
        for spec in _specs(docs, "Deployment"):
            spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": SURGES[y % len(SURGES)]}}
    elif edit == "labels":
        app = ["other", "s0", "d0", "p0", "p1"][y % 5]
        for kind, key in (("PodDisruptionBudget", "selector"), ("NetworkPolicy", "podSelector")):
            for spec in _specs(docs, kind):
                spec[key] = {"matchLabels": {"app": app}} if y % 3 else {}
        for spec in _specs(docs, "Deployment"):
            spec["template"]["metadata"]["labels"] = {"app": app}
    elif edit == "spread":
        for pod in _pods(docs):
            pod["topologySpreadConstraints"] = [{"topologyKey": "topology.kubernetes.io/zone"}] if y % 2 else []
    elif edit == "line":
        files[i] = _remade(f, line=y % 4 + 1)
    elif edit == "first line":  # of the first file of staging (or of whatever is first now)
        files[0] = _remade(files[0], line=y % 4 + 1)
    elif edit == "quota":  # its CPU, or whether it limits memory
        for spec in _specs(docs, "ResourceQuota"):
            hard = spec["hard"]
            if y % 3 == 0 and "limits.memory" in hard:
                del hard["limits.memory"]
            elif y % 3 == 0:
                hard["limits.memory"] = "64Gi"
            else:
                hard["limits.cpu"] = hard["requests.cpu"] = CPUS[y % len(CPUS)] if y % 4 else "20"
    elif edit == "limits":
        for spec in _specs(docs, "LimitRange"):
            spec["limits"][0]["default"]["cpu"] = CPUS[y % len(CPUS)]
    elif edit == "swap":
        j = y % len(files)
        files[i], files[j] = files[j], files[i]
    elif edit in ("namespace", "quota namespace"):
        for d in docs:
            if isinstance(d.get("metadata"), dict) and y % 7:
                d["metadata"]["namespace"] = NAMESPACES[y % len(NAMESPACES)]
            elif isinstance(d.get("metadata"), dict):
                d["metadata"].pop("namespace", None)
    elif edit == "documents":  # two objects in one file, or none
        files[i] = _remade(f, [*docs, *copy.deepcopy(files[y % len(files)].documents)] if y % 3 else [])
    elif edit == "add":
        ns = NAMESPACES[y % len(NAMESPACES)]
        files[i:i] = _model(f"n{x}-{y}", ns, CPUS[y % len(CPUS)])[: y % 4 + 1]
    elif edit == "remove" and len(files) > 12:
        del files[i]
    elif edit == "shuffle":
        import random

        random.Random(y).shuffle(files)
    elif edit in world:
        world[edit] = not world[edit]
    if edit in {"cpu", "secure", "token", "replicas", "retype", "surge", "labels", "spread", "quota", "limits"} | {
        "namespace",
        "quota namespace",
    }:
        files[i] = _remade(f, docs)


def _next(units: Units) -> Units:
    """The next build's memo in a watching process: it carries this one's state."""
    after = Units()
    after.resume(units.step())
    return after


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, 999), st.integers(0, 999)), min_size=5, max_size=40))
def test_a_watching_verification_reports_what_a_fresh_one_does_after_any_edits(
    edits: list[tuple[str, int, int]],
) -> None:
    """Step by step over random edits (a file made again as it was; a pod's CPU, security or
    plain secret; an autoscaler's least replicas in another type; labels, selectors, spread; a
    file's span; the quota and the limit range; two files swapped, all shuffled; a file moved
    to another namespace, holding two objects or none; files added and removed; a secret
    name, a production namespace, an environment's cluster), a watching verification reports what a fresh verification
    of the same files reports, the same diagnostics in the same order; and after an edit in
    place it went on from the last step's (``_Verified.step``), not from nothing."""
    files = _world()
    world = {"secret": True, "production": True, "shared": False, "cluster": False}
    units = Units()
    units.resume(None)
    policy.verify_objects(_spec(**world), files, Sink(), units)
    stepped: list[object] = []
    original = policy._Verified.step

    def step(self: policy._Verified, *args: Any) -> policy._Verified | None:
        stepped.append(done := original(self, *args))
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(policy._Verified, "step", step)
        for n, (edit, x, y) in enumerate(edits):
            _edit(files, world, edit, x, y)
            spec = _spec(**world)
            fresh, watched = Sink(), Sink()
            policy.verify_objects(spec, files, fresh)
            stepped.clear()
            units = _next(units)
            policy.verify_objects(spec, files, watched, units)
            assert watched.items == fresh.items, (n, edit)
            if edit in IN_PLACE:
                assert stepped and stepped[0] is not None, (n, edit)


def test_the_world_reports_every_kind_of_check() -> None:
    """The equivalence above is over diagnostics that come and go: from the start, SS523 (a
    workload without a PodDisruptionBudget, namespaces without a default-deny policy) and
    SS527 (the development quota holds its pods, not an update's); SS522 after one edit."""
    files = _world()
    spec = _spec(secret=True, production=True, shared=False)
    sink = Sink()
    policy.verify_objects(spec, files, sink)
    assert {d.code for d in sink.items} == {"SS523", "SS527"}
    assert {d.span.file for d in sink.items if "default-deny" in d.message} == {"<spec>", "t.ship"}  # edge, staging
    _edit(files, {}, "token", 0, 1)
    sink = Sink()
    policy.verify_objects(spec, files, sink)
    assert {d.code for d in sink.items} == {"SS522", "SS523", "SS527"}


# --- The work a watching build's step does, in a whole build.


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What each verification reads and checks: the files it is given, the files it reads
    for themselves, the namespaces whose production and quota it checks, the pods whose
    usage its quota checks count."""
    counts: dict[str, list[Any]] = {"files": [], "examined": [], "production": [], "quota": [], "pods": []}
    verify, examined = policy.verify_objects, policy._examined
    production, quota_check, usage = policy._verify_production, policy.verify_quota, quota._pod_usage

    def counting_verify(spec: Any, files: Any, *rest: Any) -> None:
        counts["files"].append(files := list(files))
        verify(spec, files, *rest)

    def counting_examined(f: Any, secrets: Any, cluster: Any = None) -> Any:
        if secrets is not None:  # a file read for itself, not as the one it replaces
            counts["examined"].append(f)
        return examined(f, secrets, cluster)

    def counting_production(ns: str, *rest: Any, **named: Any) -> None:
        counts["production"].append(ns)
        production(ns, *rest, **named)

    def counting_quota(ns: str, *rest: Any, **named: Any) -> None:
        counts["quota"].append(ns)
        quota_check(ns, *rest, **named)

    def counting_usage(pod: dict[str, Any], *rest: Any) -> Any:
        counts["pods"].append(pod)
        return usage(pod, *rest)

    monkeypatch.setattr(quota, "_pod_usage", counting_usage)
    monkeypatch.setattr(policy, "verify_objects", counting_verify)
    monkeypatch.setattr(policy, "_examined", counting_examined)
    monkeypatch.setattr(policy, "_verify_production", counting_production)
    monkeypatch.setattr(policy, "verify_quota", counting_quota)
    return counts


def _set_cpu(model: Path, cpu: int) -> None:
    model.write_text(re.sub(r"\bcpu \d+ ", f"cpu {cpu} ", model.read_text(), count=1))


def test_a_one_model_edit_reads_again_only_its_files_and_checks_again_only_its_namespaces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In a watching build at 8 models: after a CPU edit of a model served in staging,
    preprod and prod, the files read again are that model's (its render units') and each
    environment's own few (Namespace, ServiceAccount, quota: rendered outside units, so
    never the same objects), and no namespace is checked again (no production view changed;
    those namespaces have no quota). After a CPU edit of a model also served in dev, the
    dev namespace's quota alone is checked again, counting again only that model's pod.
    After no edit, none. Each build reports what a fresh build does."""
    from bench.synth import generate
    from compiler.cache import Memory
    from compiler.pipeline import build

    specs = generate(tmp_path, 8)
    memory = Memory()
    counts = _counting(monkeypatch)
    last = build([specs], store=memory)
    [files] = counts["files"]
    for model, cpu in (("m00001", 2), ("m00004", 3), (None, 0)):
        if model is not None:
            _set_cpu(specs / "models" / f"{model}.ship", cpu)
        before = {id(f) for f in files}
        for seen in counts.values():
            seen.clear()
        now = build([specs], store=memory, earlier=last.checked.resolved)
        [files] = counts["files"]
        made = [f.path for f in files if id(f) not in before]
        assert [f.path for f in counts["examined"]] == made
        ours = {p for p in made if model is not None and model in p}
        assert bool(ours) == (model is not None)
        # Besides the edited model's: each environment's own objects, never another model's.
        assert not [p for p in made if p not in ours and re.search(r"m\d{5}", p)], made
        if model == "m00001":
            assert {p.split("/")[1] for p in ours} == {"staging", "preprod", "prod"}
            assert counts["production"] == counts["quota"] == []
        elif model == "m00004":
            assert "dev" in {p.split("/")[1] for p in ours}
            assert counts["production"] == [] and counts["quota"] == ["ml-dev"]
            # Of its pods, the quota counts again only the edited one's: the others' are as counted.
            assert len(counts["pods"]) == 1
        else:
            assert counts["production"] == counts["quota"] == []
        assert counts["pods"] == [] or model == "m00004"
        assert now.diagnostics == build([specs]).diagnostics
        last = now


def test_a_watching_build_crossing_the_quota_is_a_fresh_build(tmp_path: Path) -> None:
    """A CPU edit of a dev model past the development quota (SS527, an error), and back: each
    watching build is a fresh build, files and diagnostics."""
    from bench.synth import generate
    from compiler.cache import Memory
    from compiler.pipeline import build

    specs = generate(tmp_path, 8)  # dev: m00000 and m00004, in a quota of 64 CPUs
    memory = Memory()
    last = build([specs], store=memory)
    seen = []
    for cpu in (64, 40, 1, 70, 1):
        _set_cpu(specs / "models" / "m00004.ship", cpu)
        now = build([specs], store=memory, earlier=last.checked.resolved)
        fresh = build([specs])
        assert [(f.path, f.text) for f in now.files] == [(f.path, f.text) for f in fresh.files]
        assert now.diagnostics == fresh.diagnostics
        seen.append({d.message.rsplit(": ", 1)[1] for d in now.diagnostics if d.code == "SS527"})
        last = now
    # One pod of each (m00000's of 1 CPU): 65 CPUs, past the quota; 41 and an update's 40, past it
    # only in an update; 2, within it.
    refused, stalls = "the API server refuses the pods past it", "the next change of the largest workload stalls"
    assert seen == [{refused}, {stalls}, set(), {refused}, set()]
