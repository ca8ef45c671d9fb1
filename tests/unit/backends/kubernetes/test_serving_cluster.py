"""Serving objects that do what the spec says in a real cluster (issue 10):
the behaviour of the controller that reads each object, encoded as tests of
what shipspec renders."""

from __future__ import annotations

import json
import re
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
from tests.support.specs import MINIMAL, training

NO_GATEWAY = MINIMAL.replace('  gateway "istio-ingress"\n', "")
TRAINING = training()


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

UPSTREAM_STRICT = {
    "VirtualService": "istio-virtualservice.strict.json",
    "ScaledObject": "scaledobject.strict.json",
    "AppProject": "appproject.strict.json",
}


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


# -- point 6: Argo CD settles ----------------------------------------------------------


def _tree(case: str) -> dict[str, dict[str, Any]]:
    root = GOLDEN / case / "expected"
    return {
        p.relative_to(root).as_posix(): yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(root.glob("deploy/**/*.yaml"))
        if p.name != "kustomization.yaml" and "kustomizeconfig" not in p.parts
    }


def test_each_application_is_confined_to_its_tiers_app_project() -> None:
    tree = _tree("example")
    projects = {o["metadata"]["name"]: o for o in tree.values() if o.get("kind") == "AppProject"}
    apps = {p: o for p, o in tree.items() if o.get("kind") == "Application"}
    assert apps and all(o["spec"]["project"] != "default" for o in apps.values())
    for path, app in apps.items():
        project = projects[app["spec"]["project"]]["spec"]
        dest = app["spec"]["destination"]
        assert any(d.items() <= dest.items() for d in project["destinations"]), path
        if app["spec"]["source"]["path"] == "deploy/argocd":
            continue  # the root: Applications and AppProjects in the argocd namespace only
        env_dir = app["spec"]["source"]["path"] + "/"
        cluster_scoped = {
            o["kind"] for p, o in tree.items() if p.startswith(env_dir) and "namespace" not in o["metadata"]
        }
        allowed = {k["kind"] for k in project.get("clusterResourceWhitelist", [])}
        assert cluster_scoped <= allowed == {"Namespace"}, path
        # Deleting the Application deletes what it deployed.
        assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
        # The destination namespace of every namespaced object is one the project allows.
        namespaces = {
            o["metadata"]["namespace"]
            for p, o in tree.items()
            if p.startswith(env_dir) and "namespace" in o["metadata"]
        }
        assert namespaces <= {d["namespace"] for d in project["destinations"]}, path


def test_ordering_relies_on_nothing_argo_cd_does_not_assess() -> None:
    """Argo CD has no Application health since 1.8: waves between child
    Applications would order nothing, so they all share one wave; AppProjects
    (applied, no health to wait for) come before the Applications naming them."""
    tree = _tree("example")
    wave = {o["kind"]: set() for o in tree.values()}
    for p, o in tree.items():
        if p.startswith("deploy/argocd/") and o["metadata"]["name"] != "kestrel-root":
            wave[o["kind"]].add(int(o["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0")))
    assert len(wave["Application"]) == 1
    assert max(wave["AppProject"]) < min(wave["Application"])


def test_superseded_config_maps_and_jobs_do_not_hold_a_sync() -> None:
    tree = _tree("example")
    prod = tree["deploy/argocd/application-prod.yaml"]
    assert prod["spec"]["syncPolicy"]["automated"]["prune"] is False
    kustomization = yaml.safe_load((GOLDEN / "example/expected/deploy/prod/kustomization.yaml").read_text())
    assert kustomization["configMapGenerator"]
    assert kustomization["generatorOptions"]["annotations"]["argocd.argoproj.io/compare-options"] == "IgnoreExtraneous"
    jobs = [o for o in tree.values() if o.get("kind") in ("Job", "PyTorchJob")]
    assert jobs
    for job in jobs:
        options = job["metadata"]["annotations"]["argocd.argoproj.io/sync-options"].split(",")
        assert {"Force=true", "Replace=true"} <= set(options)
    # Fields Argo Rollouts sets while a canary runs are not drift Argo CD puts back.
    assert "RespectIgnoreDifferences=true" in prod["spec"]["syncPolicy"]["syncOptions"]
    kinds = {d["kind"] for d in prod["spec"]["ignoreDifferences"]}
    assert kinds == {"VirtualService", "Service"}


# -- point 8: distributed training ---------------------------------------------------


def test_a_pytorchjob_launches_every_rank_through_torchrun() -> None:
    tree = _tree("example")
    job = tree["deploy/train/pytorchjob-fraud-detector-train.yaml"]
    nproc = int(job["spec"]["nprocPerNode"])
    nodes = sum(r["replicas"] for r in job["spec"]["pytorchReplicaSpecs"].values())
    for spec in job["spec"]["pytorchReplicaSpecs"].values():
        pod = spec["template"]["spec"]
        (container,) = pod["containers"]
        command = container["command"]
        # WORLD_SIZE counts nodes x nprocPerNode: one process per pod would wait for peers for ever.
        assert command[0] == "torchrun"
        assert f"--nnodes={nodes}" in command and f"--nproc-per-node={nproc}" in command
        assert "--master-addr=$(MASTER_ADDR)" in command and command[-2:] == ["-m", "fraud.train"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["HOME"] == "/tmp" and container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    claim = tree["deploy/train/persistentvolumeclaim-fraud-detector-train-checkpoints.yaml"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"] and claim["spec"]["storageClassName"] == "efs-sc"


def test_every_training_pod_fetches_and_verifies_its_dataset_before_training() -> None:
    tree = _tree("example")
    job = tree["deploy/train/pytorchjob-fraud-detector-train.yaml"]
    for spec in job["spec"]["pytorchReplicaSpecs"].values():
        pod = spec["template"]["spec"]
        fetch, verify = pod["initContainers"]
        (container,) = pod["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        # The init containers read the same dataset the trainer is told about (training-run swaps all of them).
        for init in (fetch, verify):
            init_env = {e["name"]: e.get("value") for e in init["env"]}
            for key in ("DATASET_URI", "DATASET_VERSION", "DATASET_SHA256", "DATASET_DIR"):
                assert init_env[key] == env[key], (init["name"], key)
            assert init["securityContext"]["readOnlyRootFilesystem"] is True
        assert env["DATASET_URI"].startswith("s3://") and "aws s3 cp --recursive" in fetch["command"][2]
        assert '"$DATASET_SHA256"' in verify["command"][2] and verify["image"].startswith("docker.io/library/busybox:")
        # The trainer reads the verified copy, read-only; every emptyDir is bounded.
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["dataset"]["mountPath"] == env["DATASET_DIR"] and mounts["dataset"]["readOnly"] is True
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["dataset"]["emptyDir"]["sizeLimit"] and volumes["tmp"]["emptyDir"]["sizeLimit"] == "10Gi"
        assert container["resources"]["requests"]["ephemeral-storage"]


def test_a_dataset_without_a_digest_is_fetched_not_verified_and_none_is_not_fetched() -> None:
    base = MINIMAL + TRAINING
    objects, _ = rendered(base)
    pod = objects["deploy/train/job-clf-train.yaml"]["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["fetch-dataset", "verify-dataset"]
    objects, _ = rendered(MINIMAL + training(sha256=None))
    pod = objects["deploy/train/job-clf-train.yaml"]["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["fetch-dataset"]
    objects, _ = rendered(base.replace("  dataset clicks\n", ""))
    pod = objects["deploy/train/job-clf-train.yaml"]["spec"]["template"]["spec"]
    assert "initContainers" not in pod and "dataset" not in {v["name"] for v in pod["volumes"]}
    assert pod["containers"][0]["resources"]["requests"]["ephemeral-storage"] == "10Gi"


def test_a_dataset_the_training_pod_cannot_fetch_is_warned_on_the_dataset_line() -> None:
    text = MINIMAL + training("file:///mnt/clicks/v1/")
    checked = check_loaded(load_text(text, "t.ship"))
    (d,) = [d for d in checked.diagnostics if d.code == "SS227"]
    line = text.splitlines()[d.span.line - 1]
    assert line.strip() == "dataset clicks" and d.span.file == "t.ship" and d.severity.value == "warning"
    objects, _ = rendered(text)  # rendered, but nothing pretends to verify it
    pod = objects["deploy/train/job-clf-train.yaml"]["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert "DATASET_DIR" not in {e["name"] for e in pod["containers"][0]["env"]}  # no copy there to read


# -- point 9: monitoring plumbing -------------------------------------------------------


def test_the_shared_monitoring_namespace_is_warned_not_enforced() -> None:
    tree = _tree("example")
    labels = tree["deploy/observability/namespace-monitoring.yaml"]["metadata"]["labels"]
    assert "pod-security.kubernetes.io/enforce" not in labels
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert (
        tree["deploy/prod/namespace-ml-prod.yaml"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )


def test_prometheus_selects_what_the_spec_says() -> None:
    tree = _tree("example")
    selected = [o for o in tree.values() if o["kind"] in ("ServiceMonitor", "PrometheusRule")]
    assert selected
    assert all(o["metadata"]["labels"]["release"] == "kube-prometheus-stack" for o in selected)
    objects, _ = rendered(MINIMAL)  # no monitoring environment: no selector label invented
    assert all(
        "release" not in o["metadata"]["labels"]
        for o in objects.values()
        if o.get("kind") in ("ServiceMonitor", "PrometheusRule")
    )


def test_gpu_panels_show_the_models_own_pods() -> None:
    config_map = _tree("example")["deploy/prod/monitoring/dashboard-fraud-detector.yaml"]
    board = json.loads(next(iter(config_map["data"].values())))
    gpu = next(p for p in board["panels"] if p["title"] == "GPU utilisation")
    expr = gpu["targets"][0]["expr"]
    pods = re.search(r'pod=~"([^"]+)"', expr)
    assert pods is not None
    pattern = re.compile(pods.group(1))
    assert pattern.fullmatch("fraud-detector-6d4cf56db6-x2x7k")
    assert not pattern.fullmatch("offer-ranker-6d4cf56db6-x2x7k")
    assert not pattern.fullmatch("fraud-detector-v2-6d4cf56db6-x2x7k")


# -- point 10: sequence batching ----------------------------------------------------------


def test_a_sequence_model_keeps_each_client_on_one_replica() -> None:
    tree = _tree("triton-features")
    services = {p: o for p, o in tree.items() if o["kind"] == "Service"}
    sticky = {p for p, o in services.items() if o["spec"].get("sessionAffinity") == "ClientIP"}
    assert sticky == {p for p in services if p.endswith("/service-session-scorer.yaml")} != set()
    for path in sticky:
        # sequence { idle 30s }: the client stays on its replica longer than Triton keeps the sequence.
        assert services[path]["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] >= 30


# -- point 7: identity and supply chain ---------------------------------------------------


def test_each_model_has_its_own_service_account_with_its_cloud_identity() -> None:
    tree = _tree("example")
    for path, obj in tree.items():
        if obj["kind"] not in ("Deployment", "Rollout") or "/monitoring/" in path:
            continue
        env = path.split("/")[1]
        pod = obj["spec"]["template"]["spec"]
        account = tree[f"deploy/{env}/serviceaccount-{pod['serviceAccountName']}.yaml"]
        assert pod["serviceAccountName"] == obj["metadata"]["name"]  # the model's own, not the project's
        if obj["metadata"]["labels"]["shipspec.dev/model"] == "fraud_detector":
            assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
                ":role/kestrel-fraud-detector"
            )
    for provider, annotation in (
        ("gcp", "iam.gke.io/gcp-service-account"),
        ("azure", "azure.workload.identity/client-id"),
    ):
        text = MINIMAL.replace("  serve in staging, prod\n", f'  serve in staging, prod\n  identity {provider} "who"\n')
        objects, _ = rendered(text)
        assert objects["deploy/prod/serviceaccount-clf.yaml"]["metadata"]["annotations"][annotation] == "who"
        labels = objects["deploy/prod/rollout-clf.yaml"]["spec"]["template"]["metadata"]["labels"]
        assert (labels.get("azure.workload.identity/use") == "true") == (provider == "azure")


def test_local_volumes_are_bounded_and_requested() -> None:
    tree = _tree("example")
    for path, obj in tree.items():
        if obj["kind"] not in ("Deployment", "Rollout") or "/monitoring/" in path:
            continue
        pod = obj["spec"]["template"]["spec"]
        assert all("sizeLimit" in v["emptyDir"] for v in pod["volumes"] if "emptyDir" in v), path
        triton = next(c for c in pod["containers"] if c["name"] == "triton")
        assert "ephemeral-storage" in triton["resources"]["requests"], path
    fraud = tree["deploy/prod/rollout-fraud-detector.yaml"]["spec"]["template"]["spec"]
    models = next(v for v in fraud["volumes"] if v["name"] == "models")
    assert models["emptyDir"]["sizeLimit"] == "5Gi"  # resources { storage 5Gi }


def test_production_without_an_image_digest_is_warned() -> None:
    _, diags = rendered(MINIMAL)
    assert "SS526" not in [d.code for d in diags]
    pin = MINIMAL[MINIMAL.index('  triton "2.51.0" digest') : MINIMAL.index("  owners @demo/ml")]
    unpinned = MINIMAL.replace(pin, "")
    _, diags = rendered(unpinned)
    assert [d.code for d in diags].count("SS526") == 1


# -- point 5: autoscaling on the queue -------------------------------------------------------


def test_models_with_a_latency_sla_scale_on_queue_time_through_keda() -> None:
    tree = _tree("example")
    scaled = {p: o for p, o in tree.items() if o["kind"] == "ScaledObject"}
    hpas = {p: o for p, o in tree.items() if o["kind"] == "HorizontalPodAutoscaler"}
    # KEDA creates and owns the HPA: a workload never has both.
    targets = [o["spec"]["scaleTargetRef"]["name"] + p.split("/")[1] for p, o in scaled.items()]
    assert not set(targets) & {o["spec"]["scaleTargetRef"]["name"] + p.split("/")[1] for p, o in hpas.items()}
    so = scaled["deploy/prod/scaledobject-fraud-detector.yaml"]["spec"]
    triggers = {t.get("name", t["type"]): t for t in so["triggers"]}
    queue = triggers["queue-time"]
    # sla fraud_detector in prod: latency p99 < 50ms -> the queue may take a quarter: 12.5 ms.
    assert float(queue["metadata"]["threshold"]) == 0.0125 and queue["metricType"] == "Value"
    assert 'model="fraud_detector"' in queue["metadata"]["query"]
    assert "nv_inference_queue_duration_us" in queue["metadata"]["query"]
    assert triggers["cpu"]["metadata"]["value"] == "70"
    assert "gpu-utilisation" in triggers  # a GPU model: GPU utilisation as a second signal
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (3, 12)
    # Without a latency SLA there is no budget to derive a queue target from: CPU only.
    assert "deploy/staging/horizontalpodautoscaler-fraud-detector.yaml" in hpas


# -- a GPU model in development ------------------------------------------------------

DEV_GPU = (
    MINIMAL.replace(
        "environment staging {",
        'environment dev {\n  tier development\n  namespace "ml-dev"\n}\n\nenvironment staging {',
    )
    .replace("resources { cpu 1  memory 1Gi }", "resources { cpu 1  memory 1Gi  gpu 1 }")
    .replace("serve in staging, prod", "serve in dev, staging, prod")
    .replace('  namespace "ml-staging"\n', '  namespace "ml-staging"\n  toleration "nvidia.com/gpu"\n')
    .replace('  gateway "istio-ingress"\n', '  gateway "istio-ingress"\n  toleration "nvidia.com/gpu"\n')
)


def _gpus_requested(pod: dict[str, Any]) -> int:
    """What the ResourceQuota admission counts as ``requests.nvidia.com/gpu`` for a pod: an
    extended resource's request defaults to its limit (requests may not differ), and the pod
    needs the larger of its containers' sum and any one init container's."""

    def of(c: dict[str, Any]) -> int:
        res = c.get("resources", {})
        return int(res.get("requests", {}).get("nvidia.com/gpu", res.get("limits", {}).get("nvidia.com/gpu", 0)))

    containers = sum(of(c) for c in pod.get("containers", []))
    return max([containers, *(of(c) for c in pod.get("initContainers", []))])


def test_a_gpu_model_in_development_runs_on_cpu_in_a_pod_that_asks_for_no_gpu() -> None:
    objects, diags = rendered(DEV_GPU)
    assert "SS711" in [d.code for d in diags]
    quota = objects["deploy/dev/resourcequota-quota.yaml"]["spec"]["hard"]
    assert quota["requests.nvidia.com/gpu"] == "0"  # the development default
    dev = objects["deploy/dev/deployment-clf.yaml"]["spec"]["template"]["spec"]
    # Triton runs CPU instances there; a GPU in the pod would sit idle, and the quota above
    # makes the API server refuse a pod that asks for one.
    assert _gpus_requested(dev) == 0
    assert "nodeSelector" not in dev and "tolerations" not in dev
    staging = objects["deploy/staging/deployment-clf.yaml"]["spec"]["template"]["spec"]
    assert _gpus_requested(staging) == 1
    assert staging["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    # Nor does its dashboard chart GPU utilisation there: no GPU reports any.
    dashboards = {env: json.dumps(objects[f"deploy/{env}/monitoring/dashboard-clf.yaml"]) for env in ("dev", "staging")}
    assert "nv_gpu_utilization" not in dashboards["dev"] and "nv_gpu_utilization" in dashboards["staging"]
