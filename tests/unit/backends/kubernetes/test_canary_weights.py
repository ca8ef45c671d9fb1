"""Argo Rollouts' replica arithmetic for a canary without traffic routing
(issue 10, point 3). The cases are upstream's own table
(utils/replicaset/canary_test.go, TestApproximateWeightedNewStableReplicaCounts)."""

from __future__ import annotations

import pytest

from compiler.targets.kubernetes import canary_effective_weight, canary_replicas

UPSTREAM = [  # replicas, weight, maxSurge, canary, stable
    (0, 50, 1, 0, 0),
    (1, 1, 0, 0, 1),
    (1, 49, 0, 0, 1),
    (1, 50, 0, 1, 0),
    (1, 99, 0, 1, 0),
    (1, 1, 1, 1, 1),
    (1, 100, 1, 1, 0),
    (2, 1, 0, 1, 1),
    (2, 99, 0, 1, 1),
    (2, 100, 0, 2, 0),
    (2, 1, 1, 1, 2),
    (2, 50, 1, 1, 1),
    (2, 99, 1, 2, 1),
    (3, 10, 0, 1, 2),
    (3, 49, 0, 1, 2),
    (3, 50, 0, 2, 1),
    (3, 10, 1, 1, 3),
]


@pytest.mark.parametrize(("replicas", "weight", "surge", "canary", "stable"), UPSTREAM)
def test_replica_counts_match_argo_rollouts(replicas: int, weight: int, surge: int, canary: int, stable: int) -> None:
    assert canary_replicas(replicas, weight, surge) == (canary, stable)


def test_the_issues_examples() -> None:
    assert canary_effective_weight(3, 10) == 25.0  # canary 10% at 3 replicas
    assert canary_effective_weight(4, 5) == 20.0  # 5% at 4 replicas
    assert canary_effective_weight(10, 10) == 10.0
