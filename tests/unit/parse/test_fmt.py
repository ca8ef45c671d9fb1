"""The canonical layout: idempotent, keeps comments, content-driven."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compiler.parse.printer import format_source
from compiler.parse.sources import load_text
from compiler.parse.syntax import parse_text
from tests.support.helpers import meaning
from tests.support.specs import MINIMAL

ROOT = Path(__file__).resolve().parents[3]


def fmt(text: str) -> str:
    source, diags = parse_text(text, "t.ship")
    assert diags == []
    return format_source(source)


MESSY = """# leading comment

model m {   version "1"  format onnx   # trailing on a line with two statements
artifact "s3://m/1/model.onnx"


  input x: fp32 [ 4 ]
  # own-line comment inside
  output y:fp32[-1,2]
  batching {
    max 8
    preferred [4,8]
  }
  step a {
  input x -> y }
  serve in a,
    b   # after a statement broken over lines
}
# closing comment
"""

EXPECTED = """# leading comment

model m {
  version "1"
  format onnx  # trailing on a line with two statements
  artifact "s3://m/1/model.onnx"

  input x: fp32[4]
  # own-line comment inside
  output y: fp32[-1, 2]
  batching { max 8  preferred [4, 8] }
  step a {
    input x -> y
  }
  serve in a, b  # after a statement broken over lines
}
# closing comment
"""


def test_messy_input_becomes_canonical() -> None:
    assert fmt(MESSY) == EXPECTED


def test_formatting_is_idempotent() -> None:
    assert fmt(EXPECTED) == EXPECTED
    for path in sorted((ROOT / "specs").rglob("*.ship")):
        text = path.read_text()
        assert fmt(fmt(text)) == fmt(text), path


def test_example_specs_are_canonical() -> None:
    for path in sorted((ROOT / "specs").rglob("*.ship")):
        assert fmt(path.read_text()) == path.read_text(), f"{path} is not formatted; run shipspec fmt --write"


def test_formatting_keeps_every_comment_and_the_meaning() -> None:
    out = fmt(MESSY)
    for line in MESSY.splitlines():
        if "#" in line:
            assert line[line.index("#") :].strip() in out

    before = meaning(load_text(MINIMAL).spec)
    after = meaning(load_text(fmt(MINIMAL)).spec)
    assert before == after


def test_long_nested_block_goes_multiline() -> None:
    text = "model m {\n  hyper { }\n}\n".replace(
        "hyper { }",
        "batching { max 8  preferred [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]"
        "  delay 1ms }",
    )
    out = fmt(text)
    assert "  batching {\n    max 8\n" in out


def shipspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_check_reports_a_diff_and_write_rewrites(tmp_path: Path) -> None:
    spec = tmp_path / "specs" / "a.ship"
    spec.parent.mkdir()
    spec.write_text(MESSY)
    r = shipspec("fmt", "--check", cwd=tmp_path)
    assert r.returncode == 1
    assert "--- a/specs/a.ship" in r.stdout and "+  format onnx  # trailing" in r.stdout
    assert spec.read_text() == MESSY  # --check never writes
    r = shipspec("fmt", "--write", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert spec.read_text() == EXPECTED
    assert list(spec.parent.iterdir()) == [spec]  # no temp files left behind
    assert shipspec("fmt", "--check", cwd=tmp_path).returncode == 0


def test_nothing_is_rewritten_when_one_file_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    good = tmp_path / "specs" / "good.ship"
    bad = tmp_path / "specs" / "bad.ship"
    good.write_text(MESSY)
    bad.write_text("model {")
    r = shipspec("fmt", "--write", cwd=tmp_path)
    assert r.returncode == 1 and "specs/bad.ship:1:7" in r.stderr
    assert good.read_text() == MESSY


@pytest.mark.parametrize("variant", ["\r\n", "\ufeff"])
def test_crlf_and_bom_inputs_format_to_lf(variant: str) -> None:
    text = EXPECTED.replace("\n", "\r\n") if variant == "\r\n" else "\ufeff" + EXPECTED
    from compiler.parse.syntax import read_source

    path = Path(__file__).parent / "_tmp_variant.ship"
    try:
        path.write_bytes(text.encode())
        decoded, _ = read_source(path, "x.ship")
        assert decoded is not None and fmt(decoded) == EXPECTED
    finally:
        path.unlink()
