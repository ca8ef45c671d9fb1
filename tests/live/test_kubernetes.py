"""The kubernetes and argocd backends on the repository's own specs/: every
environment builds with the real ``kubectl kustomize`` and yields the objects
the spec implies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.k8s_support import KUBECTL, SPECS, by_kind, compile_to, errors, kustomize, load_dir

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]

ENVS = ("ci", "dev", "observability", "preprod", "prod", "staging", "train")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    diags = compile_to(SPECS, root)
    assert errors(diags) == []
    return root


@pytest.fixture(scope="module")
def built(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {env: kustomize(out / "deploy" / env) for env in ENVS}


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def _triton(obj: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in _pod(obj)["containers"] if c["name"] == "triton")


def test_every_environment_has_a_directory_and_builds(out: Path, built: dict[str, list[dict[str, Any]]]) -> None:
    assert sorted(p.name for p in (out / "deploy").iterdir()) == sorted([*ENVS, "argocd"])
    for env, objects in built.items():
        kinds = {o["kind"] for o in objects}
        assert {"Namespace", "ServiceAccount"} <= kinds, env
        sa = next(iter(by_kind(objects, "ServiceAccount").values()))
        assert sa["automountServiceAccountToken"] is False
        ns = next(iter(by_kind(objects, "Namespace").values()))
        assert ns["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-2"
        # Namespaces sync first: every other object is in a later wave.
        for o in objects:
            wave = int((o["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "0"))
            assert o["kind"] == "Namespace" or wave > -2, (env, o["kind"], o["metadata"]["name"])


def test_production_uses_rollouts_where_a_gate_has_canary_steps(built: dict[str, list[dict[str, Any]]]) -> None:
    prod = built["prod"]
    rollouts, deployments = by_kind(prod, "Rollout"), by_kind(prod, "Deployment")
    assert sorted(rollouts) == ["fraud-detector", "offer-ranker"]
    assert sorted(deployments) == ["ticket-classifier", "ticket-router", "ticket-tokenizer"]
    # gate preprod -> prod for fraud_detector: canary 10% for 30m, 50% for 30m
    assert rollouts["fraud-detector"]["spec"]["strategy"]["canary"]["steps"] == [
        {"setWeight": 10},
        {"pause": {"duration": "30m"}},
        {"setWeight": 50},
        {"pause": {"duration": "30m"}},
    ]
    # gate staging -> prod for offer_ranker: canary 5% for 15m, 25% for 30m, 50% for 1h
    steps = rollouts["offer-ranker"]["spec"]["strategy"]["canary"]["steps"]
    assert steps[::2] == [{"setWeight": 5}, {"setWeight": 25}, {"setWeight": 50}]
    assert [s["pause"]["duration"] for s in steps[1::2]] == ["15m", "30m", "1h"]
    analysis = rollouts["fraud-detector"]["spec"]["strategy"]["canary"]["analysis"]
    assert analysis["templates"] == [{"templateName": "fraud-detector-slo"}]
    assert analysis["args"] == [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]
    # In staging (no canary gate into it) the same model is a plain Deployment.
    assert "fraud-detector" in by_kind(built["staging"], "Deployment")


def test_generated_config_map_hash_reaches_rollouts_and_deployments(built: dict[str, list[dict[str, Any]]]) -> None:
    prod = built["prod"]
    generated = set(by_kind(prod, "ConfigMap"))
    assert any(n.startswith("fraud-detector-triton-config-") for n in generated)
    for kind in ("Rollout", "Deployment"):
        for name, obj in by_kind(prod, kind).items():
            refs = [v["configMap"]["name"] for v in _pod(obj)["volumes"] if "configMap" in v]
            assert refs, name
            assert set(refs) <= generated, (kind, name, refs)


def test_analysis_template_comes_from_the_target_sla_and_no_data_fails(built: dict[str, list[dict[str, Any]]]) -> None:
    templates = by_kind(built["prod"], "AnalysisTemplate")
    fraud = {m["name"]: m for m in templates["fraud-detector-slo"]["spec"]["metrics"]}
    assert sorted(fraud) == ["error-ratio", "latency-p99"]
    err = fraud["error-ratio"]
    assert "nv_inference_request_failure" in err["provider"]["prometheus"]["query"]
    assert err["successCondition"].endswith("result[0] <= 0.001")  # error_rate < 0.1%
    lat = fraud["latency-p99"]
    # specs/ targets Triton 2.73: latency is read from the first-response histogram, in milliseconds.
    assert lat["provider"]["prometheus"]["query"].startswith("histogram_quantile(0.99, ")
    assert "nv_inference_first_response_histogram_ms_bucket" in lat["provider"]["prometheus"]["query"]
    assert lat["successCondition"].endswith("result[0] <= 50")  # 50ms
    for metric in [*fraud.values(), *templates["offer-ranker-slo"]["spec"]["metrics"]]:
        # no data (empty vector, or NaN from 0/0 without traffic) is a failure, never a pass
        assert metric["failureCondition"].startswith("len(result) == 0 || isNaN(result[0])")
        assert metric["successCondition"].startswith("len(result) > 0 && !isNaN(result[0])")
        assert metric["inconclusiveLimit"] == 0
        assert "{{args.canary-hash}}" in metric["provider"]["prometheus"]["query"]
    offers = {m["name"]: m for m in templates["offer-ranker-slo"]["spec"]["metrics"]}
    assert sorted(offers) == ["error-ratio", "latency-p95", "latency-p99"]
    # no error_rate in the SLA: the availability objective 99.5% gives the error budget
    assert offers["error-ratio"]["successCondition"].endswith("<= 0.005")
    assert offers["latency-p95"]["successCondition"].endswith("<= 80")


def test_triton_pod(built: dict[str, list[dict[str, Any]]]) -> None:
    fraud = by_kind(built["prod"], "Rollout")["fraud-detector"]
    triton = _triton(fraud)
    # The tag (specs/ targets 2.73.0) and the digest specs/project.ship pins.
    assert triton["image"].startswith("nvcr.io/nvidia/tritonserver:26.08-py3@sha256:")
    assert "--metrics-config=summary_latencies=true" in triton["args"]
    assert "--metrics-config=histogram_latencies=true" in triton["args"]
    assert {p["name"]: p["containerPort"] for p in triton["ports"]} == {"http": 8000, "grpc": 8001, "metrics": 8002}
    assert triton["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert triton["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert triton["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    # resources { storage 5Gi }: the models volume plus 1Gi of /tmp, as ephemeral storage.
    assert triton["resources"]["limits"] == {
        "cpu": "2",
        "memory": "4Gi",
        "nvidia.com/gpu": "1",
        "ephemeral-storage": "6Gi",
    }
    pod = _pod(fraud)
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    fetch = next(c for c in pod["initContainers"] if c["name"] == "fetch-fraud-detector")
    # URI, target, and the spec's sha256, which the script checks after the download.
    assert fetch["command"][4:] == [
        "s3://kestrel-models/fraud/1.4.2/model.onnx",
        "/models/fraud_detector/1004002/model.onnx",
        "3b9f2d0c6a1e4f7b8c5d2e9a0f1b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
    ]
    mounts = {m["mountPath"]: m for m in triton["volumeMounts"]}
    assert mounts["/models/fraud_detector/config.pbtxt"]["subPath"] == "config.pbtxt"
    # A CPU-only model gets no GPU node selection.
    ranker = _pod(by_kind(built["prod"], "Rollout")["offer-ranker"])
    assert "nodeSelector" not in ranker and "tolerations" not in ranker


def test_ensemble_pod_loads_its_members(built: dict[str, list[dict[str, Any]]]) -> None:
    router = by_kind(built["prod"], "Deployment")["ticket-router"]
    args = _triton(router)["args"]
    loads = sorted(a.split("=", 1)[1] for a in args if a.startswith("--load-model="))
    assert loads == ["ticket_classifier", "ticket_router", "ticket_tokenizer"]
    mounted = sorted(m["mountPath"] for m in _triton(router)["volumeMounts"] if m.get("subPath"))
    assert mounted == [f"/models/{m}/config.pbtxt" for m in loads]
    fetched = sorted(c["name"] for c in _pod(router)["initContainers"] if c["name"].startswith("fetch-"))
    assert fetched == ["fetch-ticket-classifier", "fetch-ticket-tokenizer"]  # the ensemble has no artifact


def test_production_objects(built: dict[str, list[dict[str, Any]]]) -> None:
    prod = built["prod"]
    pdbs, policies = by_kind(prod, "PodDisruptionBudget"), by_kind(prod, "NetworkPolicy")
    # Models with a latency SLA scale on queue time through KEDA (which owns their HPA).
    scaled = by_kind(prod, "ScaledObject")
    ranker, router = scaled["offer-ranker"]["spec"], scaled["ticket-router"]["spec"]
    assert ranker["minReplicaCount"] == 4 and ranker["maxReplicaCount"] == 20
    assert scaled["offer-ranker"]["spec"]["scaleTargetRef"]["kind"] == "Rollout"
    assert router["minReplicaCount"] == 3 and router["maxReplicaCount"] == 12
    assert scaled["ticket-router"]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    for name in ("fraud-detector", "offer-ranker", "ticket-classifier", "ticket-router", "ticket-tokenizer"):
        assert pdbs[name]["spec"]["maxUnavailable"] == 1
        ingress = policies[name]["spec"]["ingress"]
        allowed = {
            r["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]: sorted(
                p["port"] for p in r["ports"]
            )
            for r in ingress
        }
        assert allowed == {"istio-ingress": [8000, 8001], "monitoring": [8002]}
        workload = {**by_kind(prod, "Rollout"), **by_kind(prod, "Deployment")}[name]
        assert "replicas" not in workload["spec"]  # the HPA owns it
        zones = [
            c for c in _pod(workload)["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"
        ]
        assert zones and zones[0]["whenUnsatisfiable"] == "DoNotSchedule"


def test_development_tier(built: dict[str, list[dict[str, Any]]]) -> None:
    dev = built["dev"]
    quota = by_kind(dev, "ResourceQuota")["quota"]["spec"]["hard"]
    assert (
        quota["requests.cpu"] == "16" and quota["limits.memory"] == "64Gi" and quota["requests.nvidia.com/gpu"] == "1"
    )
    assert "defaults" in by_kind(dev, "LimitRange")
    ranker = by_kind(dev, "Deployment")["offer-ranker"]
    assert ranker["spec"]["replicas"] == 1 and not by_kind(dev, "HorizontalPodAutoscaler")
    assert not by_kind(dev, "PodDisruptionBudget") and not by_kind(dev, "NetworkPolicy")


def test_preprod_shadow_mirrors_production(built: dict[str, list[dict[str, Any]]]) -> None:
    # The mirror lives in production's tree (its Application owns ml-prod), in the canary's
    # VirtualService (one per host), bound to the gateway and the mesh.
    assert not by_kind(built["preprod"], "VirtualService")
    vs = by_kind(built["prod"], "VirtualService")["fraud-detector"]
    assert vs["metadata"]["namespace"] == "ml-prod"
    assert "fraud-detector.ml-prod.svc.cluster.local" in vs["spec"]["hosts"]
    assert vs["spec"]["gateways"] == ["istio-ingress/istio-ingress", "mesh"]
    for route in vs["spec"]["http"]:
        assert route["mirror"]["host"] == "fraud-detector.ml-preprod.svc.cluster.local"
        assert route["mirrorPercentage"] == {"value": 100}
        hosts = [d["destination"]["host"] for d in route["route"]]
        assert hosts == ["fraud-detector-stable", "fraud-detector-canary"]


def test_training_tier(built: dict[str, list[dict[str, Any]]]) -> None:
    train = built["train"]
    job = by_kind(train, "PyTorchJob")["fraud-detector-train"]  # nodes 2
    specs = job["spec"]["pytorchReplicaSpecs"]
    assert specs["Master"]["replicas"] == 1 and specs["Worker"]["replicas"] == 1
    assert job["spec"]["nprocPerNode"] == "8"
    container = specs["Worker"]["template"]["spec"]["containers"][0]
    assert container["name"] == "pytorch"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "8"
    env = {e["name"]: e for e in container["env"]}
    assert env["DATASET_URI"]["value"] == "s3://kestrel-data/transactions/2026-10-01/"
    assert env["MLFLOW_TRACKING_URI"]["value"] == "https://mlflow.kestrel.example"
    assert env["MLFLOW_EXPERIMENT_NAME"]["value"] == "fraud-detector"
    assert env["HP_LR"]["value"] == "0.001" and env["HP_OPTIMIZER"]["value"] == "adamw"
    assert env["DB_PASSWORD"] == {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "fraud-detector-train-vault", "key": "DB_PASSWORD"}},
    }
    assert specs["Worker"]["template"]["spec"]["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    claim = by_kind(train, "PersistentVolumeClaim")["fraud-detector-train-checkpoints"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "200Gi"
    external = by_kind(train, "ExternalSecret")["fraud-detector-train-vault"]["spec"]
    assert external["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault"}
    assert external["data"] == [{"secretKey": "DB_PASSWORD", "remoteRef": {"key": "ml/fraud", "property": "db"}}]
    assert env["CHECKPOINT_DIR"]["value"] == "/checkpoints"
    volumes = {v["name"]: v for v in specs["Worker"]["template"]["spec"]["volumes"]}
    assert volumes["checkpoints"]["persistentVolumeClaim"]["claimName"] == "fraud-detector-train-checkpoints"
    single = by_kind(train, "Job")["offer-ranker-train"]  # nodes 1
    assert single["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # no checkpoint size: still a checkpoint directory, for the pod's lifetime
    assert {"name": "checkpoints", "emptyDir": {}} in single["spec"]["template"]["spec"]["volumes"]
    assert single["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "1"}


def test_secrets_are_never_values(out: Path, built: dict[str, list[dict[str, Any]]]) -> None:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("name") == "DB_PASSWORD":
                assert "value" not in node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for objects in built.values():
        walk(objects)
    assert not any(o["kind"] == "Secret" for objects in built.values() for o in objects)


def test_argocd_applications(out: Path) -> None:
    apps = load_dir(out / "deploy" / "argocd")
    root = apps.pop("app-of-apps.yaml")
    assert root["spec"]["source"]["path"] == "deploy/argocd"
    assert root["spec"]["source"]["repoURL"] == "https://github.com/kestrel-bank/ml-gitops.git"
    assert root["spec"]["syncPolicy"]["automated"]["prune"] is False
    projects = {n: apps.pop(n) for n in list(apps) if n.startswith("appproject-")}
    assert sorted(apps) == [f"application-{e}.yaml" for e in ENVS]
    assert {p["metadata"]["name"] for p in projects.values()} == {a["spec"]["project"] for a in [root, *apps.values()]}
    waves = {}
    for name, app in apps.items():
        env = name.removeprefix("application-").removesuffix(".yaml")
        spec = app["spec"]
        assert spec["source"]["path"] == f"deploy/{env}"
        assert spec["syncPolicy"]["automated"]["prune"] is (env != "prod"), env
        assert spec["syncPolicy"]["automated"]["selfHeal"] is True
        waves[env] = int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    assert apps["application-prod.yaml"]["spec"]["destination"] == {"name": "prod-eu-1", "namespace": "ml-prod"}
    assert apps["application-train.yaml"]["spec"]["destination"] == {"name": "gpu-eu-1", "namespace": "ml-training"}
    # No Application health in Argo CD since 1.8: waves between children would order nothing.
    assert len(set(waves.values())) == 1
    assert int(root["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < min(waves.values())
    listed = kustomize(out / "deploy" / "argocd")
    assert len(by_kind(listed, "Application")) == len(ENVS) + 1
