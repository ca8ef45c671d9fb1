"""Kubernetes naming rules and secret references: the pure facts both the
checker (``shipspec validate``, which must stay light) and the kubernetes
backend need."""

from __future__ import annotations

import math
import re

from compiler.records import Record, record

# The Kubernetes API version manifests are validated against when the project names none.
DEFAULT_VERSION = "1.33"

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_REF = re.compile(r"^(?P<store>[a-z0-9]([-a-z0-9]*[a-z0-9])?):(?P<key>[^#\s]+)(#(?P<property>[^#\s]+))?$")


_DNS = re.compile(r"[^a-z0-9-]+")


def k8s_name(value: str) -> str:
    """A spec name as a Kubernetes object name (``fraud_detector`` -> ``fraud-detector``)."""
    return _DNS.sub("-", value.lower().replace("_", "-")).strip("-")


def is_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_QUALIFIED.match(name))


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and bool(LABEL_VALUE.match(value))


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and bool(DNS_LABEL.match(value))


@record
class SecretKey(Record):
    """Where a secret reference lands: an ExternalSecret fills Secret ``secret``
    with key ``key`` from ``store`` (a ClusterSecretStore) at ``remote``/``property``."""

    store: str
    remote: str
    property: str | None


def parse_secret(ref: str) -> SecretKey | None:
    """``vault:ml/fraud#db`` -> store ``vault``, remote key ``ml/fraud``, property ``db``."""
    m = SECRET_REF.match(ref)
    if m is None:
        return None
    return SecretKey(m["store"], m["key"], m["property"])


# -- conventions shipspec applies to every object it renders --------------------

MANAGED_BY = "shipspec"
# Argo CD orders a sync by these waves: namespaces before what lives in them.
WAVE_NAMESPACE = "-2"
WAVE_SETUP = "-1"
WAVE_WORKLOAD = "0"


def labels(project: str, component: str, name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": k8s_name(project),
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def selector(name: str) -> dict[str, str]:
    """The stable subset of a workload's labels (selectors are immutable)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "triton"}


def wave(value: str) -> dict[str, str]:
    return {"argocd.argoproj.io/sync-wave": value}


# A UID/GID of 10000 or more: no clash with a host user's (checkov CKV_K8S_40); no
# image shipspec runs needs its own user's passwd entry (HOME is /tmp where one is read).
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}

CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


# -- the ingress gateway ----------------------------------------------------------
# ``gateway "NS"`` or ``gateway "NS/NAME"``: NS is the namespace of the ingress
# gateway's pods (what NetworkPolicies admit); NAME the Istio ``Gateway`` object
# VirtualServices bind to, in NS, named like its namespace when not given.


def gateway_namespace(gateway: str) -> str:
    return gateway.partition("/")[0]


def gateway_ref(gateway: str) -> str:
    """The ``namespace/name`` of the Istio Gateway a VirtualService lists in ``gateways:``."""
    ns, _, name = gateway.partition("/")
    return f"{ns}/{name or ns}"


# Istio's reserved gateway name for every sidecar of the mesh.
MESH_GATEWAY = "mesh"


# -- Argo Rollouts' basic canary (no trafficRouting) -------------------------------
# Without trafficRouting, Argo Rollouts approximates a step's setWeight by replica
# counts: approximateWeightedCanaryStableReplicaCounts in upstream
# utils/replicaset/canary.go (v1.x) chooses, among ceil/floor of replicas x
# weight over replicas and (with maxSurge > 0) replicas + 1 pods, the canary
# count closest to the weight; floor 0 only at weight 0 or 100 or one replica
# without surge; on a tie the larger canary count.

ROLLOUT_MAX_SURGE = 1  # what the rendered Rollout sets (templates/kubernetes/rollout.yaml.j2)


def canary_replicas(
    replicas: int, weight: int, max_surge: int = ROLLOUT_MAX_SURGE, max_weight: int = 100
) -> tuple[int, int]:
    """(canary pods, stable pods) Argo Rollouts runs for ``setWeight: weight``."""
    if replicas == 0:
        return 0, 0
    exact = replicas * weight / max_weight
    ceil, floor = math.ceil(exact), math.floor(exact)
    zero_allowed = weight in (0, max_weight) or (replicas == 1 and max_surge == 0)
    options: list[tuple[int, int]] = []
    if ceil < replicas or zero_allowed:
        options.append((ceil, replicas))
    if not _tied(weight, max_weight, replicas) and (floor != 0 or zero_allowed):
        options.append((floor, replicas))
    if max_surge > 0:
        options.append((ceil, replicas + 1))
        if not _tied(weight, max_weight, replicas + 1) and (floor != 0 or zero_allowed):
            options.append((floor, replicas + 1))
    if not options:
        return 0, replicas
    best = options[0]
    for option in options[1:]:  # the first of equally close options wins, as upstream
        if _delta(weight, max_weight, *option) < _delta(weight, max_weight, *best):
            best = option
    return best[0], best[1] - best[0]


def _tied(weight: int, max_weight: int, total: int) -> bool:
    return math.modf(total * (weight / max_weight))[0] == 0.5


def _delta(weight: int, max_weight: int, canary: int, total: int) -> float:
    return abs(canary * max_weight / total - weight)


def canary_effective_weight(replicas: int, weight: int, max_surge: int = ROLLOUT_MAX_SURGE) -> float:
    """The share of traffic (percent) the canary pods get without traffic routing."""
    canary, stable = canary_replicas(replicas, weight, max_surge)
    return 100.0 * canary / (canary + stable) if canary + stable else 0.0


# -- workload identity -------------------------------------------------------------
# A model's ServiceAccount annotations (and pod labels) per cloud: AWS IRSA reads
# the role ARN annotation (EKS Pod Identity needs none: its association names the
# ServiceAccount); GKE Workload Identity the Google service account; Azure
# Workload Identity the client id, and only for pods labelled to use it.
IDENTITY_ANNOTATION = {
    "aws": "eks.amazonaws.com/role-arn",
    "gcp": "iam.gke.io/gcp-service-account",
    "azure": "azure.workload.identity/client-id",
}
IDENTITY_POD_LABELS = {"azure": {"azure.workload.identity/use": "true"}}
