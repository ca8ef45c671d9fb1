"""The fetch init container verifies the artifact's sha256 (issue 10, point 7):
its rendered command runs under a real ``sh`` with a stand-in ``aws`` that copies
a local file, and a file whose digest differs from the spec's fails it."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.k8s_support import compile_to, errors, write_spec
from tests.support.specs import MINIMAL

pytestmark = pytest.mark.realtools


def _fetch_command(tmp: Path, digest: str) -> list[str]:
    spec = MINIMAL.replace(
        'artifact "s3://models/clf/1.0.0/model.onnx"', f'artifact "s3://models/clf/1.0.0/model.onnx" sha256 "{digest}"'
    )
    out = tmp / "out"
    assert not errors(compile_to(write_spec(tmp / "specs", spec), out))
    obj: dict[str, Any] = yaml.safe_load((out / "deploy/staging/deployment-clf.yaml").read_text())
    (fetch,) = [c for c in obj["spec"]["template"]["spec"]["initContainers"] if c["name"].startswith("fetch-")]
    return fetch["command"]


def _run(tmp: Path, command: list[str], content: bytes) -> tuple[subprocess.CompletedProcess[str], Path]:
    source = tmp / "bucket-object"
    source.write_bytes(content)
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "aws"  # `aws s3 cp [--flags] SRC DST`: the last two arguments
    stub.write_text(f'#!/bin/sh\nfor last; do :; done\ncp "{source}" "$last"\n')
    stub.chmod(0o755)
    models = tmp / "models"
    args = [a.replace("/models/", f"{models}/") for a in command]
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, env=env)
    return done, models


def test_a_matching_artifact_passes_and_a_tampered_one_fails(tmp_path: Path) -> None:
    content = b"onnx model bytes"
    command = _fetch_command(tmp_path, hashlib.sha256(content).hexdigest())
    assert "sha256sum -c" in command[2]
    done, models = _run(tmp_path, command, content)
    assert done.returncode == 0, done.stderr
    assert (models / "clf" / "1000000" / "model.onnx").read_bytes() == content
    tampered, _ = _run(tmp_path, command, content + b"!")
    assert tampered.returncode != 0
