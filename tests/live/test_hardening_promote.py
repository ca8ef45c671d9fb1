"""Issue 17, point 12: ``promote`` changes only the bytes of its edit — CRLF line
endings and a BOM survive, whether the promotion succeeds or is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.byte_splice import splice
from tests.live.test_promote import SPEC, repo, sh, shipspec, template  # noqa: F401 - fixtures

pytestmark = pytest.mark.realtools  # real processes (python -m compiler, git)

BOM = b"\xef\xbb\xbf"


def dos(text: str, bom: bool) -> bytes:
    return (BOM if bom else b"") + text.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("bom", [False, True])
def test_a_promotion_keeps_crlf_and_bom(repo: Path, bom: bool) -> None:
    path = repo / "specs/scorer.ship"
    path.write_bytes(dos(SPEC.replace("0.9.0", "1.0.0"), bom))
    assert shipspec(repo, "compile").returncode == 0
    sh(repo, "git", "commit", "-q", "-am", "crlf")
    text = SPEC.replace("0.9.0", "1.0.0").replace('version "1.0.0"  # the newest', 'version "1.1.0"  # the newest')
    path.write_bytes(dos(text, bom))
    assert shipspec(repo, "compile").returncode == 0
    sh(repo, "git", "commit", "-q", "-am", "release 1.1.0")
    run = shipspec(repo, "promote", "scorer", "--to", "prod")
    assert run.returncode == 0, run.stderr
    expected = text.replace('override scorer { version "1.0.0" }', 'override scorer { version "1.1.0" }')
    assert path.read_bytes() == dos(expected, bom)


@pytest.mark.parametrize("bom", [False, True])
def test_a_refused_promotion_leaves_the_file_byte_for_byte(repo: Path, bom: bool) -> None:
    path = repo / "specs/scorer.ship"
    path.write_bytes(dos(SPEC.replace('version "1.0.0"  # the', 'version "latest"  # the'), bom))
    sh(repo, "git", "commit", "-q", "-am", "bad release name, crlf")
    before = path.read_bytes()
    run = shipspec(repo, "promote", "scorer", "--to", "prod")
    assert run.returncode == 1 and "promote refused" in run.stderr
    assert path.read_bytes() == before


def test_splice_touches_only_the_changed_span() -> None:
    raw = BOM + b"a {\r\n  x 1\r\n}\r\n"
    assert splice(raw, "a {\n  x 2\n}\n") == BOM + b"a {\r\n  x 2\r\n}\r\n"
    assert splice(raw, "a {\n  x 1\n  y 2\n}\n") == BOM + b"a {\r\n  x 1\r\n  y 2\r\n}\r\n"
    assert splice(b"a\nb\r\nc\n", "a\nB\nc\n") == b"a\nB\r\nc\n"  # mixed: the untouched endings stay
    assert splice(raw, "a {\n  x 1\n}\n") is raw


def test_promote_does_not_act_on_a_tampered_ledger(repo: Path, tmp_path: Path) -> None:
    import hashlib
    import json

    victim = repo.parent / "victim.txt"
    victim.write_bytes(b"outside the tree\n")
    ledger = repo / ".shipspec/ledger.json"
    data = json.loads(ledger.read_text())
    data["files"]["../victim.txt"] = hashlib.sha256(victim.read_bytes()).hexdigest()
    ledger.write_text(json.dumps(data, indent=2) + "\n")
    (repo / "specs/scorer.ship").write_text(SPEC.replace("0.9.0", "1.0.0"))
    sh(repo, "git", "commit", "-q", "-am", "planted ledger entry")
    (repo / "specs/scorer.ship").write_text(
        SPEC.replace("0.9.0", "1.0.0").replace('version "1.0.0"  # the newest', 'version "1.1.0"  # the newest')
    )
    sh(repo, "git", "commit", "-q", "-am", "release 1.1.0")
    before = (repo / "specs/scorer.ship").read_bytes()
    run = shipspec(repo, "promote", "scorer", "--to", "prod")
    assert run.returncode == 1 and "SS904" in run.stderr
    assert victim.read_bytes() == b"outside the tree\n"
    assert (repo / "specs/scorer.ship").read_bytes() == before  # refused: the spec is unchanged
