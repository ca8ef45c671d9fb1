"""The proof that ``pytest -m "not realtools"`` starts no external program.

Every run of this suite is guarded (tests/support/noexec.py, loaded by tests/conftest.py):
a test without ``@pytest.mark.realtools`` that starts a program fails, naming it. So a
passing fast run is itself the proof, provided the guard (1) is loaded by the suite's own
configuration and (2) really catches every way of starting a program while allowing what the
fast suite may do (fork workers, run this interpreter). These tests show both, by running
pytest in a subprocess; that is why they are ``realtools`` themselves.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.realtools
ROOT = Path(__file__).resolve().parents[2]

PROBES = textwrap.dedent("""
    import multiprocessing
    import os
    import subprocess
    import sys

    import pytest

    CHILD_STARTS_TRUE = "import subprocess; subprocess.run(['true'])"


    def test_popen_is_refused():
        subprocess.run(["true"])


    def test_a_caught_refusal_still_fails():
        try:
            subprocess.run(["true"])
        except Exception:
            pass


    def test_os_system_is_refused():
        os.system("true")


    def test_posix_spawn_is_refused():
        os.posix_spawn("/bin/true", ["true"], dict(os.environ))


    def test_exec_in_a_forked_child_is_refused():
        pid = os.fork()
        if pid == 0:
            try:
                os.execv("/bin/true", ["true"])
            finally:
                os._exit(7)
        os.waitpid(pid, 0)


    def test_a_program_started_by_a_child_interpreter_is_refused():
        subprocess.run([sys.executable, "-c", CHILD_STARTS_TRUE])


    def test_the_guard_follows_a_child_given_its_own_environment():
        subprocess.run([sys.executable, "-c", CHILD_STARTS_TRUE], env={"PATH": "/usr/bin:/bin"})


    def test_this_interpreter_is_allowed():
        r = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout == "42\\n", r.stderr


    def test_forked_workers_are_allowed():
        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert pool.map(abs, [-1, -2]) == [1, 2]


    @pytest.mark.realtools
    def test_a_realtools_test_may_start_programs():
        subprocess.run(["true"], check=True)
        assert os.system("true") == 0
""")

EXPECTED = {
    "test_popen_is_refused": "failed",
    "test_a_caught_refusal_still_fails": "failed",
    "test_os_system_is_refused": "failed",
    "test_posix_spawn_is_refused": "failed",
    "test_exec_in_a_forked_child_is_refused": "failed",
    "test_a_program_started_by_a_child_interpreter_is_refused": "failed",
    "test_the_guard_follows_a_child_given_its_own_environment": "failed",
    "test_this_interpreter_is_allowed": "passed",
    "test_forked_workers_are_allowed": "passed",
    "test_a_realtools_test_may_start_programs": "passed",
}


def _outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        out[case.attrib["name"]] = ("failed", bad.attrib.get("message", "")) if bad is not None else ("passed", "")
    return out


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist-workers"])
def test_the_guard_refuses_every_way_to_start_a_program(tmp_path: Path, workers: list[str]) -> None:
    # scripts/test runs the suite in xdist workers: the guard must refuse there too, and the
    # controller's summary must count what every worker saw.
    (tmp_path / "test_probes.py").write_text(PROBES)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    realtools: starts programs\n")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.support.noexec",
            "--rootdir",
            str(tmp_path),
            "-c",
            str(tmp_path / "pytest.ini"),
            f"--junitxml={tmp_path / 'junit.xml'}",
            *workers,
            str(tmp_path / "test_probes.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes = _outcomes(tmp_path / "junit.xml")
    assert {name: got for name, (got, _) in outcomes.items()} == EXPECTED, r.stdout[-4000:] + r.stderr[-2000:]
    for name, (got, message) in outcomes.items():
        if got == "failed":
            assert "without @pytest.mark.realtools" in message and "true" in message, (name, message)
    assert "noexec guard: 9 tests ran without realtools; external programs they started: 7" in r.stdout, r.stdout


def test_the_suite_configuration_loads_the_guard() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not realtools", "--collect-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "noexec guard: " in r.stdout, r.stdout[-2000:]
