"""Python-backend stand-ins for rendered Triton models, so a real server can load them.

``standin_repository(rendered, dest)`` copies a rendered model repository
(``deploy/<env>/triton``) and replaces each model's artifact with a generated
``model.py`` implementing the declared signature. Only ``platform``/``backend``
change in ``config.pbtxt``; every other field is byte-for-byte what shipspec
rendered. One exception, only on a machine without an NVIDIA GPU: GPU instance
groups cannot load there at all, so with ``cpu_only=True`` (the default when no
GPU is visible) ``KIND_GPU`` becomes ``KIND_CPU`` and its ``gpus`` list is
dropped.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_TOP_BACKEND = re.compile(r'^(platform|backend)\s*:\s*"[^"]*"\s*\n', re.MULTILINE)
_NAME_LINE = re.compile(r'^name\s*:\s*"[^"]*"\s*\n', re.MULTILINE)
_KIND_GPU = re.compile(r"\bkind\s*:\s*KIND_GPU\b")
_GPUS = re.compile(r"^[ \t]*gpus\s*:\s*(\[[^\]]*\]|\d+)[ \t]*\n|\bgpus\s*:\s*(\[[^\]]*\]|\d+)", re.MULTILINE)


def gpu_present() -> bool:
    """Whether an NVIDIA GPU is visible to processes started here."""
    return Path("/dev/nvidia0").exists() or bool(os.environ.get("SHIPSPEC_TEST_GPU"))


def _parse(text: str):  # -> model_config_pb2.ModelConfig
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    return text_format.Parse(text, model_config_pb2.ModelConfig())


def _swap_backend(text: str, is_ensemble: bool, cpu_only: bool) -> str:
    if not is_ensemble:
        stripped = _TOP_BACKEND.sub("", text)
        match = _NAME_LINE.search(stripped)
        if match is None:
            raise ValueError("config has no top-level name line")
        text = stripped[: match.end()] + 'backend: "python"\n' + stripped[match.end() :]
    if cpu_only:
        text = _GPUS.sub("", _KIND_GPU.sub("kind: KIND_CPU", text))
    return text


_VERSION_DIR = re.compile(r"^#.*served from version directory (\d+)", re.MULTILINE)


def _versions(config, text: str) -> list[int]:
    """Version directories to create: the specific policy's, else the one shipspec's header names, else 1."""
    which = config.version_policy.WhichOneof("policy_choice")
    if which == "specific" and config.version_policy.specific.versions:
        return sorted(set(config.version_policy.specific.versions))
    match = _VERSION_DIR.search(text)
    return [int(match.group(1))] if match else [1]


def _tensor_spec(tensors, batched: bool) -> list[tuple[str, str, list[int], bool]]:
    from tritonclient.grpc import model_config_pb2

    out = []
    for t in tensors:
        dtype = model_config_pb2.DataType.Name(t.data_type).removeprefix("TYPE_")
        # The backend sees the reshaped shape; Triton maps it back to dims.
        dims = list(t.reshape.shape) if t.HasField("reshape") else list(t.dims)
        out.append((t.name, dtype, dims, bool(getattr(t, "optional", False))))
    return out


def standin_repository(rendered: Path, dest: Path, *, fail_fraction: float = 0.0, cpu_only: bool | None = None) -> Path:
    """Copy ``rendered`` (``<model>/config.pbtxt`` files) to ``dest`` with python stand-ins.

    ``fail_fraction`` > 0 makes each model instance fail exactly that fraction of
    its requests, deterministically (0.25: every 4th) with a ``TritonError``.
    Returns ``dest``.
    """
    if not 0.0 <= fail_fraction <= 1.0:
        raise ValueError("fail_fraction must be within [0, 1]")
    if cpu_only is None:
        cpu_only = not gpu_present()
    dest.mkdir(parents=True, exist_ok=True)
    for cfg_path in sorted(Path(rendered).glob("*/config.pbtxt")):
        text = cfg_path.read_text()
        config = _parse(text)
        name = cfg_path.parent.name
        target = dest / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        is_ensemble = config.platform == "ensemble"
        (target / "config.pbtxt").write_text(_swap_backend(text, is_ensemble, cpu_only))
        batched = config.max_batch_size > 0
        for version in _versions(config, text):
            vdir = target / str(version)
            vdir.mkdir()
            if not is_ensemble:
                (vdir / "model.py").write_text(
                    _model_source(
                        name,
                        _tensor_spec(config.input, batched),
                        _tensor_spec(config.output, batched),
                        batched,
                        fail_fraction,
                        config.model_transaction_policy.decoupled,
                    )
                )
    return dest


def _model_source(
    name: str,
    inputs: list[tuple[str, str, list[int], bool]],
    outputs: list[tuple[str, str, list[int], bool]],
    batched: bool,
    fail_fraction: float,
    decoupled: bool = False,
) -> str:
    return _TEMPLATE.format(
        decoupled=decoupled,
        name=name,
        inputs=repr([(n, d, dims, opt) for n, d, dims, opt in inputs]),
        outputs=repr([(n, d, dims) for n, d, dims, _ in outputs]),
        batched=batched,
        fail_fraction=repr(fail_fraction),
    )


_TEMPLATE = '''"""Generated stand-in for model {name!r}: declared signature, synthetic values."""

import math

import numpy as np
import triton_python_backend_utils as pb_utils

INPUTS = {inputs}
OUTPUTS = {outputs}
BATCHED = {batched}
DECOUPLED = {decoupled}  # responses go through each request's response sender; execute returns None
FAIL_FRACTION = {fail_fraction}

NUMPY = {{
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32,
    "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
    "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
    "STRING": np.object_,
}}


def _batch(request):
    """The request's batch size: the leading dim of any input it carries."""
    for name, _dtype, _dims, _optional in INPUTS:
        tensor = pb_utils.get_input_tensor_by_name(request, name)
        if tensor is not None:
            return tensor.as_numpy().shape[0] if BATCHED else None
    return 1 if BATCHED else None


def _output(name, dtype, dims, batch, first):
    shape = [1 if d < 0 else d for d in dims]
    if batch is not None:
        shape = [batch] + shape
    if dtype == "STRING":
        value = np.array([b"standin"] * int(np.prod(shape, dtype=np.int64)), dtype=np.object_)
        return pb_utils.Tensor(name, value.reshape(shape))
    value = np.full(shape, first, dtype=NUMPY[dtype])
    return pb_utils.Tensor(name, value)


class TritonPythonModel:
    def initialize(self, args):
        self.count = 0

    def execute(self, requests):
        responses = []
        for request in requests:
            self.count += 1
            if FAIL_FRACTION and math.floor(self.count * FAIL_FRACTION) > math.floor((self.count - 1) * FAIL_FRACTION):
                # Raised, not returned as an error response: Triton 2.51 counts an error
                # response in nv_inference_request_success, a raised exception in
                # nv_inference_request_failure (reason BACKEND), which SLO rules read.
                # It fails every request of this execute(); send one at a time for exact fractions.
                raise pb_utils.TritonModelException("stand-in: deliberate failure")
            batch = _batch(request)
            # A value taken from the first numeric input, so callers can see data flow.
            first = 1
            for name, dtype, _dims, _optional in INPUTS:
                tensor = pb_utils.get_input_tensor_by_name(request, name)
                if tensor is not None and dtype not in ("STRING", "BOOL"):
                    arr = tensor.as_numpy()
                    if arr.size:
                        first = arr.reshape(-1)[0]
                    break
            outs = [_output(n, d, dims, batch, first) for n, d, dims in OUTPUTS]
            response = pb_utils.InferenceResponse(output_tensors=outs)
            if DECOUPLED:
                sender = request.get_response_sender()
                sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            else:
                responses.append(response)
        return None if DECOUPLED else responses
'''


def standin_model(config) -> str:
    """A python ``model.py`` implementing ``config``'s declared inputs and outputs."""
    batched = config.max_batch_size > 0
    decoupled = config.model_transaction_policy.decoupled
    return _model_source(
        config.name, _tensor_spec(config.input, batched), _tensor_spec(config.output, batched), batched, 0.0, decoupled
    )
