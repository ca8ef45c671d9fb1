"""Started by a test's child interpreter (tests/support/noexec.py put this folder on
PYTHONPATH): install the same no-external-program hook, logging to the parent's log."""

import importlib.util
import os
import sys

if os.environ.get("SHIPSPEC_NOEXEC_LOG"):
    _spec = importlib.util.spec_from_file_location(
        "_shipspec_noexec", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "noexec_hook.py")
    )
    assert _spec is not None and _spec.loader is not None
    _guard = importlib.util.module_from_spec(_spec)
    sys.modules["_shipspec_noexec"] = _guard
    _spec.loader.exec_module(_guard)
    _guard.install(os.environ["SHIPSPEC_NOEXEC_LOG"], active=True)
