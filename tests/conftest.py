"""Suite-wide configuration: hypothesis profiles and the no-external-program guard.

- Hypothesis: the ``default`` profile caps examples so the suite stays quick and
  repeatable (derandomised, no example database); ``--hypothesis-profile long``
  (or ``HYPOTHESIS_PROFILE=long``) runs a deep random search.
- The guard (tests/support/noexec.py): a test without ``@pytest.mark.realtools``
  that starts an external program fails. Tests that start real tools live in
  tests/live/, each module marked (its conftest holds the fixtures they share).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.support.noexec import (  # noqa: F401  (pytest hooks, registered by being here)
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_protocol,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    pytest_unconfigure,
)

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
