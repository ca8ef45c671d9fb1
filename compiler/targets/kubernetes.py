"""Kubernetes naming rules and secret references: the pure facts both the
checker (``shipspec validate``, which must stay light) and the kubernetes
backend need."""

from __future__ import annotations

import re
from dataclasses import dataclass


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


@dataclass(frozen=True, slots=True)
class SecretKey:
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


POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "runAsGroup": 1000,
    "fsGroup": 1000,
    "seccompProfile": {"type": "RuntimeDefault"},
}

CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
