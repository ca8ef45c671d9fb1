"""View models for a model served in an environment: the Triton pod, its
Deployment or Argo Rollout, Service, HPA, and in production the PDB and
NetworkPolicy. Each function returns plain data; templates lay it out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

from compiler import ir
from compiler.backends.base import ObjectMeta
from compiler.backends.kubernetes import common as kc
from compiler.resolve import Placement, Project, Resolved
from compiler.targets import kubernetes as k8s
from compiler.targets import promql
from compiler.targets import triton as triton_target
from compiler.targets.kubernetes import k8s_name
from compiler.targets.layout import ARTIFACT_FILE, MODEL_REPOSITORY, triton_config_map, triton_version_dir

HTTP, GRPC, METRICS = 8000, 8001, 8002

# One small, pinned fetcher image per artifact URI scheme. Credentials come from
# the pod's ServiceAccount (workload identity), never from the spec.
FETCHERS: dict[str, tuple[str, str]] = {
    "s3": ("public.ecr.aws/aws-cli/aws-cli:2.22.35", 'aws s3 cp --only-show-errors {rec}"$1" "$2"'),
    "gs": ("gcr.io/google.com/cloudsdktool/google-cloud-cli:502.0.0-slim", 'gcloud storage cp {rec}"$1" "$2"'),
    "https": ("docker.io/curlimages/curl:8.11.1", 'curl -fsSL --retry 3 -o "$2" "$1"'),
    "http": ("docker.io/curlimages/curl:8.11.1", 'curl -fsSL --retry 3 -o "$2" "$1"'),
}
# The cloud CLIs write their config under HOME; the root filesystem is read-only.
FETCHER_ENV = ({"name": "HOME", "value": "/tmp"}, {"name": "CLOUDSDK_CONFIG", "value": "/tmp/gcloud"})
BUSYBOX = "docker.io/library/busybox:1.37.0"

# -- the views the Kubernetes templates receive (nested Kubernetes fragments stay plain data) --

K8s = dict[str, Any]  # a fragment of a Kubernetes object, laid out as the API reads it


Meta = ObjectMeta


class ObjectView(TypedDict):
    meta: Meta


class PodView(TypedDict):
    labels: dict[str, str]
    service_account: str
    pod_security: K8s
    container_security: K8s
    node_selector: dict[str, str]
    tolerations: list[dict[str, str]]
    spread: list[K8s]
    init_containers: list[K8s]
    image: str
    args: list[str]
    env: list[Any]
    resources: K8s
    mounts: list[K8s]
    volumes: list[K8s]
    ports: dict[str, int]


class WorkloadView(TypedDict):
    meta: Meta
    replicas: int | None
    selector: dict[str, str]
    steps: list[K8s]
    analysis: K8s | None
    traffic: K8s | None


class ServiceView(TypedDict):
    meta: Meta
    selector: dict[str, str]
    affinity: K8s | None
    ports: list[K8s]


class VirtualServiceView(TypedDict):
    meta: Meta
    hosts: list[str]
    gateways: list[str]
    http: list[K8s]


class HpaView(TypedDict):
    meta: Meta
    target: dict[str, str]
    min: int
    max: int


class ScaledObjectView(HpaView):
    triggers: list[K8s]


class SelectorView(TypedDict):
    meta: Meta
    selector: dict[str, str]


class NetworkPolicyView(SelectorView):
    sources: list[K8s]


# Triton's summary metrics carry these quantiles by default.
SUMMARY_QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)


@dataclass(frozen=True, slots=True)
class Served:
    """The kubernetes backend's view of one placement: the model in an environment,
    as the resolve stage decided it, with the spec-wide facts it needs."""

    project_record: Project
    placement: Placement

    @property
    def env(self) -> ir.Environment:
        return self.placement.env

    @property
    def model(self) -> ir.Model:
        return self.placement.model

    @property
    def replicas(self) -> ir.ReplicaRange | None:
        return self.placement.replicas

    @property
    def resources(self) -> ir.Resources | None:
        return self.placement.resources

    @property
    def canary(self) -> ir.Gate | None:
        return self.placement.canary

    @property
    def sla(self) -> ir.Sla | None:
        return self.placement.sla

    @property
    def name(self) -> str:
        return self.placement.name

    @property
    def namespace(self) -> str:
        return self.placement.namespace

    @property
    def production(self) -> bool:
        return self.placement.production

    @property
    def kind(self) -> str:
        return "Rollout" if self.canary is not None else "Deployment"

    @property
    def gpu(self) -> int:
        return self.placement.gpu

    @property
    def project(self) -> str:
        return self.project_record.name

    @property
    def triton_version(self) -> str:
        return self.project_record.triton_version

    @property
    def identity(self) -> tuple[str, str] | None:
        """The pod's cloud identity: its own model's, else the first member's that has one."""
        return next((p.model.identity for p in (self.placement, *self.placement.pod_models) if p.model.identity), None)


def served(r: Resolved, env: ir.Environment, model: ir.Model) -> Served:
    return Served(r.project, r.place(model, env))


RESPONSE_CACHE_BYTES = 64 * 1024 * 1024
# Local disk for a pod's model files when no model in it declares `storage`, and for /tmp.
DEFAULT_MODEL_STORAGE = 10 << 30
TMP_STORAGE = 1 << 30


def triton_args(version: str, models: list[ir.Model]) -> list[str]:
    args = [
        f"--model-repository={MODEL_REPOSITORY}",
        # Explicit control: the pod loads exactly the models rendered for it and
        # fails readiness if one does not load; no repository polling.
        "--model-control-mode=explicit",
        *(f"--load-model={m.name}" for m in models),
        "--exit-on-error=true",
        "--strict-readiness=true",
        f"--http-port={HTTP}",
        f"--grpc-port={GRPC}",
        f"--metrics-port={METRICS}",
        "--allow-gpu-metrics=true",
        # The SLA rules and canary analysis read summary quantiles (2.51 has no
        # latency histograms); histograms are added where the server has them.
        "--metrics-config=summary_latencies=true",
    ]
    minor = triton_target.triton_minor(version)
    if minor is not None and minor >= triton_target.HISTOGRAM_MINOR:
        args.append("--metrics-config=histogram_latencies=true")
    if any(m.cache for m in models):
        # A model's `response_cache { enable: true }` does nothing unless the
        # server has a cache; it is carved out of the pod's memory limit.
        args.append(f"--cache-config=local,size={RESPONSE_CACHE_BYTES}")
    return args


def artifact(m: ir.Model, version: str | None) -> str | None:
    """The artifact an environment runs. When it pins another version than the
    model's own, a ``/<model version>/`` path segment of the URI follows the pin."""
    if not m.artifact or not m.version or not version or version == m.version:
        return m.artifact
    return m.artifact.replace(f"/{m.version}/", f"/{version}/")


def _fetch_container(p: Placement) -> dict[str, Any] | None:
    m, version = p.model, p.version
    uri = artifact(m, version)
    if m.format is None or m.format is ir.ModelFormat.ENSEMBLE or not uri:
        return None
    scheme = uri.split("://", 1)[0]
    image, script = FETCHERS[scheme]
    file = ARTIFACT_FILE[m.format.value]
    recursive = file.endswith(".savedmodel") or uri.endswith("/")
    target = f"{MODEL_REPOSITORY}/{m.name}/{triton_version_dir(version)}/{file}"
    script = script.format(rec="--recursive " if recursive and scheme in ("s3", "gs") else "")
    # The artifact's sha256 (when the spec gives it for the version this
    # environment runs) is checked before Triton ever reads the file: a
    # mismatch fails the init container and the pod never becomes ready.
    digest = m.artifact_sha256 if uri == m.artifact and not recursive else None
    verify = ' && echo "$3  $2" | sha256sum -c -' if digest else ""
    return {
        "name": f"fetch-{k8s_name(m.name)}"[:63],
        "image": image,
        # The URI, target and digest are positional arguments, never part of the script text.
        "command": [
            "sh",
            "-c",
            f'mkdir -p "$(dirname "$2")" && {script}{verify}',
            "fetch",
            uri,
            target,
            *([digest] if digest else []),
        ],
        "env": list(FETCHER_ENV),
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "securityContext": kc.CONTAINER_SECURITY,
        "volumeMounts": [{"name": "models", "mountPath": MODEL_REPOSITORY}, {"name": "tmp", "mountPath": "/tmp"}],
    }


def _version_dirs(placed: tuple[Placement, ...]) -> dict[str, Any]:
    """Ensembles have no artifact but Triton still needs their version directory."""
    dirs = [f"{MODEL_REPOSITORY}/{p.model.name}/{triton_version_dir(p.version)}" for p in placed]
    return {
        "name": "model-dirs",
        "image": BUSYBOX,
        "command": ["mkdir", "-p", *dirs],
        "resources": {"requests": {"cpu": "50m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}},
        "securityContext": kc.CONTAINER_SECURITY,
        "volumeMounts": [{"name": "models", "mountPath": MODEL_REPOSITORY}],
    }


def pod(s: Served, service_account: str, secret_prefix: str) -> PodView:
    """The pod template view of a Triton pod."""
    placed = s.placement.pod_models
    models = [p.model for p in placed]
    labels = {**kc.labels(s.project, "triton", s.name), **kc.selector(s.name)}
    if s.identity is not None:
        labels.update(k8s.IDENTITY_POD_LABELS.get(s.identity[0], {}))
    config_volumes = [
        {"name": f"config-{i}", "configMap": {"name": triton_config_map(m.name)}} for i, m in enumerate(models)
    ]
    mounts = [{"name": "models", "mountPath": MODEL_REPOSITORY, "readOnly": True}]
    mounts += [
        {
            "name": f"config-{i}",
            "mountPath": f"{MODEL_REPOSITORY}/{m.name}/config.pbtxt",
            "subPath": "config.pbtxt",
            "readOnly": True,
        }
        for i, m in enumerate(models)
    ]
    mounts += [{"name": "tmp", "mountPath": "/tmp"}, {"name": "shm", "mountPath": "/dev/shm"}]
    fetchers = [_fetch_container(p) for p in placed]
    pod_res = s.placement.pod_resources
    models_size = pod_res.storage if pod_res is not None and pod_res.storage else DEFAULT_MODEL_STORAGE
    # emptyDirs count against the node's ephemeral storage: bounded, and requested, so
    # the scheduler places the pod where the artifacts fit and the kubelet evicts
    # a runaway pod rather than filling the node.
    ephemeral = kc.quantity_bytes(models_size + TMP_STORAGE)
    resources = kc.resources(pod_res)
    resources.setdefault("requests", {})["ephemeral-storage"] = ephemeral
    resources.setdefault("limits", {})["ephemeral-storage"] = ephemeral
    init = [_version_dirs(placed)] + [c for c in fetchers if c is not None]
    env_vars: list[Any] = []
    for m in models:
        env_vars += kc.env_vars(m.env, secret_prefix)
    # The pod carries the union of what its models need (resolve.Placement.pod_resources).
    gpu_pod = s.placement.pod_gpu > 0
    spread = []
    if s.production:
        spread = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": kc.selector(s.name)},
            },
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": kc.selector(s.name)},
            },
        ]
    return {
        "labels": labels,
        "service_account": service_account,
        "pod_security": kc.POD_SECURITY,
        "container_security": kc.CONTAINER_SECURITY,
        "node_selector": dict(sorted(s.env.node_selector)) if gpu_pod else {},
        "tolerations": kc.tolerations(s.env) if gpu_pod else [],
        "spread": spread,
        "init_containers": init,
        "image": kc.triton_image(s.triton_version, s.project_record.triton_digest),
        "args": triton_args(s.triton_version, models),
        "env": env_vars,
        "resources": resources,
        "mounts": mounts,
        "volumes": [
            {"name": "models", "emptyDir": {"sizeLimit": kc.quantity_bytes(models_size)}},
            {"name": "tmp", "emptyDir": {"sizeLimit": kc.quantity_bytes(TMP_STORAGE)}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
            *config_volumes,
        ],
        "ports": {"http": HTTP, "grpc": GRPC, "metrics": METRICS},
    }


def service_account(s: Served) -> ObjectView:
    """The model's own ServiceAccount (one per served model: a model reads only
    its own artifacts), with its cloud identity's annotation."""
    view = meta(s, "identity")
    view["annotations"] = {**view["annotations"], **kc.wave(kc.WAVE_SETUP)}  # before the pods that use it
    if s.identity is not None:
        provider, value = s.identity
        view["annotations"] = {**view["annotations"], k8s.IDENTITY_ANNOTATION[provider]: value}
    return {"meta": view}


def meta(s: Served, component: str, name: str | None = None) -> Meta:
    return {
        "name": name or s.name,
        "namespace": s.namespace,
        "labels": {
            **kc.labels(s.project, component, s.name),
            "shipspec.dev/model": s.model.name,
            "shipspec.dev/environment": s.env.name,
        },
        "annotations": {**kc.wave(kc.WAVE_WORKLOAD), "shipspec.dev/version": s.placement.version or "unversioned"},
    }


def workload(s: Served, analysis: bool) -> WorkloadView:
    """Deployment or Rollout view: replicas are fixed only when no HPA owns them;
    ``analysis`` says whether an AnalysisTemplate judges the canary."""
    hpa = s.replicas is not None
    view: WorkloadView = {
        "meta": meta(s, "triton"),
        "replicas": None if hpa else 1,
        "selector": kc.selector(s.name),
        "steps": [],
        "analysis": None,
        "traffic": None,
    }
    if s.canary is not None:
        steps: list[dict[str, Any]] = []
        for step in s.canary.canary:
            steps.append({"setWeight": int(round(step.weight * 100))})
            steps.append({"pause": {"duration": kc.duration(step.duration)}})
        view["steps"] = steps
        if s.env.gateway:
            # Exact weights: Argo Rollouts sets the VirtualService's route weights
            # between the stable and canary Services instead of counting pods.
            view["traffic"] = {
                "canary": f"{s.name}-canary",
                "stable": f"{s.name}-stable",
                "routing": {"istio": {"virtualService": {"name": s.name, "routes": [r for r, _ in ROUTES]}}},
            }
        if analysis:
            view["analysis"] = {
                "templates": [{"templateName": f"{s.name}-slo"}],
                "startingStep": 1,
                "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
            }
    return view


# How long kube-proxy keeps a client on its replica after its last request: the
# sequence's idle timeout (Triton then frees the sequence slot) with a margin.
AFFINITY_FLOOR_SECONDS = 60


def session_affinity(s: Served) -> dict[str, Any] | None:
    """Every request of a sequence must reach the replica holding its state
    (Triton's sequence batcher keeps it per instance). kube-proxy's ClientIP
    affinity keeps a client on one pod for the timeout; gRPC clients that keep a
    sequence on one connection are pinned anyway. None for stateless models."""
    sequence = next((p.model.sequence for p in s.placement.pod_models if p.model.sequence is not None), None)
    if sequence is None:
        return None
    idle = int(math.ceil(sequence.idle)) if sequence.idle else 0
    return {"clientIP": {"timeoutSeconds": max(AFFINITY_FLOOR_SECONDS, 2 * idle)}}


def service(s: Served) -> ServiceView:
    return {
        "meta": meta(s, "triton"),
        "selector": kc.selector(s.name),
        "affinity": session_affinity(s),
        "ports": [
            {"name": "http", "port": HTTP, "targetPort": "http", "protocol": "TCP", "appProtocol": "http"},
            {"name": "grpc", "port": GRPC, "targetPort": "grpc", "protocol": "TCP", "appProtocol": "grpc"},
            {
                "name": "http-metrics",
                "port": METRICS,
                "targetPort": "metrics",
                "protocol": "TCP",
                "appProtocol": "http",
            },
        ],
    }


# Routes of a canaried model's VirtualService: gRPC (port 8001 in the mesh, the
# gRPC content type through the gateway) first, everything else to HTTP.
ROUTES = (("grpc", GRPC), ("http", HTTP))


def canary_services(s: Served) -> list[ServiceView]:
    """The stable and canary Services Argo Rollouts points at the two ReplicaSets."""
    # Component "routing", not "triton": the ServiceMonitor selects the main Service
    # only, or every pod would be scraped three times.
    return [{**service(s), "meta": meta(s, "routing", f"{s.name}-{role}")} for role in ("stable", "canary")]


def canary_virtual_service(s: Served, mirror: Any = None) -> VirtualServiceView:
    """The VirtualService whose weights Argo Rollouts sets at each canary step,
    bound to the environment's gateway and to the mesh (in-cluster clients).
    ``mirror(port)``, where preprod shadows this environment, gives each route's
    mirror fields: one VirtualService per host, as Istio requires."""
    assert s.env.gateway is not None
    gateway = k8s.gateway_ref(s.env.gateway)
    host = f"{s.name}.{s.namespace}.svc.cluster.local"
    http = []
    for route, port in ROUTES:
        match = (
            [
                {"port": port, "gateways": [k8s.MESH_GATEWAY]},
                {"gateways": [gateway], "headers": {"content-type": {"prefix": "application/grpc"}}},
            ]
            if route == "grpc"
            else []
        )
        destinations = [
            {"destination": {"host": f"{s.name}-{role}", "port": {"number": port}}, "weight": weight}
            for role, weight in (("stable", 100), ("canary", 0))
        ]
        http.append(
            {
                "name": route,
                **({"match": match} if match else {}),
                "route": destinations,
                **(mirror(port) if mirror is not None else {}),
            }
        )
    return {"meta": meta(s, "routing"), "hosts": [s.name, host], "gateways": [gateway, k8s.MESH_GATEWAY], "http": http}


def hpa(s: Served) -> HpaView:
    assert s.replicas is not None
    target = (
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": s.name}
        if s.canary
        else {"apiVersion": "apps/v1", "kind": "Deployment", "name": s.name}
    )
    return {"meta": meta(s, "autoscaling"), "target": target, "min": s.replicas.min, "max": s.replicas.max}


# Autoscaling on Triton's queue: KEDA ScaledObjects with a Prometheus trigger
# (not prometheus-adapter: a per-model object in the model's own tree and
# Application, plain PromQL, no cluster-wide adapter rules or APIService to own).
# The mean time a request waits in Triton's queue over a minute is the load
# signal; the target is this share of the strictest latency objective (queueing
# must leave the rest of the budget to the model itself).
QUEUE_SHARE_OF_BUDGET = 0.25
CPU_UTILISATION, GPU_UTILISATION = 70, 0.8
SCALE_WINDOW = "1m"


def queue_target_seconds(s: Served) -> float | None:
    """The mean queue time per request the autoscaler holds, or None without a latency SLA."""
    if s.sla is None or not s.sla.latency:
        return None
    return round(min(o.threshold for o in s.sla.latency) * QUEUE_SHARE_OF_BUDGET, 6)


def _selector(s: Served) -> str:
    """The model's series in its namespace (inside a PromQL selector's braces)."""
    return promql.selector(promql.eq("namespace", s.namespace), promql.eq("model", s.model.name), sep=",")[1:-1]


def scaled_object(s: Served, prometheus: str) -> ScaledObjectView | None:
    """A KEDA ScaledObject (its own HPA) on queue time, CPU and, for GPU pods,
    GPU utilisation as secondary signals; None where no SLA gives a budget."""
    target_seconds = queue_target_seconds(s)
    if target_seconds is None or s.replicas is None:
        return None
    sel = _selector(s)
    # Mean queue time per request (seconds); "Value": the HPA scales by current / target.
    queue = (
        f"sum(rate(nv_inference_queue_duration_us{{{sel}}}[{SCALE_WINDOW}])) / 1e6 / "
        f"clamp_min(sum(rate(nv_inference_request_success{{{sel}}}[{SCALE_WINDOW}])), 1e-9)"
    )
    triggers: list[dict[str, Any]] = [
        {
            "type": "prometheus",
            "name": "queue-time",
            "metricType": "Value",
            "metadata": {
                "serverAddress": prometheus,
                "query": queue,
                "threshold": _decimal(target_seconds),
                "ignoreNullValues": "true",
            },
        },
        {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(CPU_UTILISATION)}},
    ]
    if s.placement.pod_gpu > 0 and s.placement.uses_gpu:
        pods = promql.selector(
            promql.eq("namespace", s.namespace), promql.matches("pod", f"{s.name}-[a-z0-9]+-[a-z0-9]{{5}}"), sep=","
        )
        gpu = f"avg(nv_gpu_utilization{pods})"
        triggers.append(
            {
                "type": "prometheus",
                "name": "gpu-utilisation",
                "metricType": "Value",
                "metadata": {
                    "serverAddress": prometheus,
                    "query": gpu,
                    "threshold": _decimal(GPU_UTILISATION),
                    "ignoreNullValues": "true",
                },
            }
        )
    view = hpa(s)
    return {**view, "triggers": triggers}


def _decimal(value: float) -> str:
    text = format(value, "f").rstrip("0").rstrip(".")
    return text or "0"


def pdb(s: Served) -> SelectorView:
    return {"meta": meta(s, "availability"), "selector": kc.selector(s.name)}


def network_policy(s: Served, monitoring_ns: str) -> NetworkPolicyView:
    """Ingress only from the gateway (serving ports) and monitoring (metrics)."""
    # Without a gateway, only clients in the model's own namespace get through.
    client = k8s.gateway_namespace(s.env.gateway) if s.env.gateway else s.namespace
    sources = [{"namespace": client, "ports": [HTTP, GRPC]}, {"namespace": monitoring_ns, "ports": [METRICS]}]
    return {"meta": meta(s, "network"), "selector": kc.selector(s.name), "sources": sources}
