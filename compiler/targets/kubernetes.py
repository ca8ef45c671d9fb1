"""Kubernetes naming rules, Triton image releases and secret references: the
pure facts both the checker (``shipspec validate``, which must stay light) and
the kubernetes backend need."""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler import ir

# Triton's container releases are monthly and each bumps the server's minor
# version by one: 2.40.0 shipped as 23.11, 2.51.0 as 24.10 (the version the
# tests run), 2.59.0 as 25.06. Only that known span is mapped; outside it the
# checker refuses the version rather than guess an image tag.
TRITON_MINOR_MIN = 40
TRITON_MINOR_MAX = 59
_TRITON_ANCHOR = (51, 2024, 10)  # minor 51 -> 24.10
HISTOGRAM_MINOR = 52  # nv_inference_*_histogram_ms exist from 2.52 on

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_REF = re.compile(r"^(?P<store>[a-z0-9]([-a-z0-9]*[a-z0-9])?):(?P<key>[^#\s]+)(#(?P<property>[^#\s]+))?$")


def triton_minor(version: str) -> int | None:
    """The minor number of a ``2.MINOR.PATCH`` Triton version, or None."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[0] != "2":
        return None
    return int(parts[1])


def triton_release(version: str) -> str | None:
    """The NGC container release (``YY.MM``) that ships a Triton server version."""
    minor = triton_minor(version)
    if minor is None or not TRITON_MINOR_MIN <= minor <= TRITON_MINOR_MAX:
        return None
    anchor_minor, year, month = _TRITON_ANCHOR
    months = year * 12 + (month - 1) + (minor - anchor_minor)
    return f"{months // 12 % 100:02d}.{months % 12 + 1:02d}"


def is_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_QUALIFIED.match(name))


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and bool(LABEL_VALUE.match(value))


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and bool(DNS_LABEL.match(value))


def namespace(env: ir.Environment) -> str:
    """An environment's namespace; the environment's own name when none is given."""
    return env.namespace if env.namespace is not None else env.name.replace("_", "-")


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


