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


