"""Issue 17, point 8: ``import triton`` escapes every string it writes (no spec
injection), reports unknown enum values and oversized configs as SS812 (exit 1)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.commands.import_triton import import_path
from compiler.parse.sources import load_text

PAYLOAD = 'model.onnx"\n  env API_TOKEN = "stolen"\n  parameter "x" = "y'
CONFIG = """name: "clf"
platform: "onnxruntime_onnx"
max_batch_size: 8
default_model_filename: %s
input [ { name: "x" data_type: %s dims: [ 4 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] } ]
instance_group [ { count: 1 kind: %s } ]
parameters { key: %s value: { string_value: %s } }
"""


def config(tmp_path: Path, filename: str = "model.onnx", dtype: str = "TYPE_FP32", kind: str = "KIND_CPU",
           key: str = "k", value: str = "v") -> Path:  # fmt: skip
    from google.protobuf import text_encoding

    q = text_encoding.CEscape  # the pbtxt spelling of an arbitrary string
    d = tmp_path / "repo" / "clf"
    d.mkdir(parents=True)
    (d / "config.pbtxt").write_text(
        CONFIG % (f'"{q(filename, False)}"', dtype, kind, f'"{q(key, False)}"', f'"{q(value, False)}"')
    )
    return d


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("where", ["filename", "key", "value"])
def test_hostile_strings_stay_inside_their_string(tmp_path: Path, where: str) -> None:
    d = config(tmp_path, **{where: PAYLOAD})
    result = import_path(d)
    loaded = load_text(result.text, "imported.ship")
    assert not [x for x in loaded.diagnostics if x.code < "SS100"], result.text
    (model,) = loaded.spec.models
    assert model.env == ()
    expected = {"filename": {"k": "v"}, "key": {PAYLOAD: "v"}, "value": {"k": PAYLOAD}}[where]
    assert dict(model.parameters) == expected
    if where == "filename":
        assert model.artifact.endswith("/clf/1000000/" + PAYLOAD)


@pytest.mark.parametrize(("dtype", "kind", "field"), [("99", "KIND_CPU", "data_type"), ("TYPE_FP32", "7", "kind")])
def test_unknown_enum_numbers_are_a_clear_error(tmp_path: Path, dtype: str, kind: str, field: str) -> None:
    d = config(tmp_path, dtype=dtype, kind=kind)
    rc, out, err = cli("import", "triton", str(d))
    assert rc == 1 and out == ""
    assert "error[SS812]" in err and f"{field}: " in err and "is not a value Triton defines" in err
    assert "config.pbtxt:5:" in err or "config.pbtxt:7:" in err


def test_an_oversized_config_is_not_read(tmp_path: Path) -> None:
    d = tmp_path / "repo" / "clf"
    d.mkdir(parents=True)
    with open(d / "config.pbtxt", "wb") as f:
        f.truncate(2 * 1024**3)
    rc, _, err = cli("import", "triton", str(d))
    assert rc == 1 and "SS812" in err and "more than 4194304 bytes" in err
