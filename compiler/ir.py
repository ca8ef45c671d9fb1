"""The typed intermediate representation every backend renders from.

Frozen dataclasses (records: ``compiler.records``), but for ``Ref``, a tuple (as a span
is: ~16,000 of them load without a call into Python); every node carries the span of
the source that produced it, and ``spans`` maps a statement keyword to its own span
so a diagnostic can point at the exact line. Units are normalised: durations in
seconds, sizes in bytes, percentages as ratios in [0, 1], rates in requests per second.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING

from compiler.diagnostics import Span
from compiler.records import Record, TupleRecord, record


def _no_spans() -> Mapping[str, Span]:
    # A plain dict (read-only by convention) so IR nodes pickle across processes.
    return {}


def _spans() -> Mapping[str, Span]:
    return field(default_factory=_no_spans, compare=False, hash=False, repr=False)


class Tier(enum.Enum):
    DEVELOPMENT = "development"
    TRAINING = "training"
    TESTING = "testing"
    STAGING = "staging"
    PREPROD = "preprod"
    PRODUCTION = "production"
    MONITORING = "monitoring"

    @property
    def rank(self) -> int:
        """Position along the promotion path; monitoring sits outside it."""
        return _TIER_RANK[self]


_TIER_RANK = {t: i for i, t in enumerate(Tier)}


class ModelFormat(enum.Enum):
    ONNX = "onnx"
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    TENSORRT = "tensorrt"
    PYTHON = "python"
    ENSEMBLE = "ensemble"


# Triton's tensor formats (``FORMAT_<upper>``).
TENSOR_FORMATS = ("none", "nchw", "nhwc")

DTYPES = (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
    "fp16", "fp32", "fp64", "bf16", "string",
)  # fmt: skip

COMPARATORS = ("<", "<=", ">", ">=", "==")


class Ref(tuple[str, Span], metaclass=TupleRecord):
    """A use of a name, kept with the span where it was written.

    A tuple of its fields (``records.TupleRecord``), equal and hashed as the record it was:
    the IR a one-shot compile at 1,000 models loads holds ~16,000 references (issue 16)."""

    __slots__ = ()
    __match_args__ = ("name", "span")

    if TYPE_CHECKING:

        def __new__(cls, name: str, span: Span) -> Ref: ...

        @property
        def name(self) -> str: ...

        @property
        def span(self) -> Span: ...


@record
class SecretRef(Record):
    """A reference to a secret in an external store; its value is never known here."""

    ref: str
    span: Span


@record
class EnvVar(Record):
    name: str
    value: str | SecretRef
    span: Span


@record
class Project(Record):
    name: str
    span: Span
    registry: str | None = None
    owners: tuple[str, ...] = ()
    triton_version: str = "2.73.0"  # targets.triton.DEFAULT_RELEASE (a test holds them equal)
    triton_digest: str | None = None  # "sha256:…" of the Triton image, pinned beside the tag
    kubernetes_version: str = "1.33"
    repository: str | None = None
    runbooks: str | None = None
    compiler: str | None = None
    cloud_role: str | None = None
    spans: Mapping[str, Span] = _spans()


@record
class Dataset(Record):
    name: str
    span: Span
    version: str | None = None
    uri: str | None = None
    sha256: str | None = None
    owners: tuple[str, ...] = ()
    spans: Mapping[str, Span] = _spans()


@record
class Resources(Record):
    span: Span
    cpu: float | None = None
    memory: int | None = None
    gpu: int = 0
    storage: int | None = None  # local disk for artifacts and scratch (bytes)


@record
class ReplicaRange(Record):
    min: int
    max: int
    span: Span


@record
class QueuePolicy(Record):
    span: Span
    timeout: float | None = None
    max_size: int | None = None
    on_timeout: str = "reject"
    # ``allow_override``: a request's own timeout may replace this policy's (allow_timeout_override).
    allow_override: bool = False


@record
class Batching(Record):
    span: Span
    max_batch_size: int = 0
    preferred: tuple[int, ...] = ()
    delay: float | None = None
    priority_levels: int | None = None
    default_priority: int | None = None
    queue: QueuePolicy | None = None
    # ``preserve_ordering``: responses leave in the order requests arrived.
    preserve_ordering: bool = False
    # ``queue LEVEL { … }``: the queue policy of one priority level (priority_queue_policy), by level.
    priority_queues: tuple[tuple[int, QueuePolicy], ...] = ()
    spans: Mapping[str, Span] = _spans()


# Sequence control kinds (``control start|end|ready|corrid``) -> Triton's CONTROL_SEQUENCE_<KIND>.
SEQUENCE_CONTROLS = ("start", "end", "ready", "corrid")
# A start/end/ready control's tensor type: its false/true values are [0, 1] (int32, fp32) or [false, true].
CONTROL_FLAG_DTYPES = ("int32", "fp32", "bool")


@record
class SequenceControl(Record):
    """``control KIND TENSOR: TYPE``: a tensor the sequence batcher fills in for the model."""

    kind: str
    tensor: str
    dtype: str
    span: Span


@record
class Sequence(Record):
    span: Span
    idle: float | None = None
    strategy: str = "direct"
    controls: tuple[SequenceControl, ...] = ()
    # Strategy settings (``strategy direct|oldest { … }``): delay for both; utilization for direct;
    # candidates, preferred and preserve_ordering for oldest.
    delay: float | None = None
    utilization: float | None = None
    candidates: int | None = None
    preferred: tuple[int, ...] = ()
    preserve_ordering: bool = False
    spans: Mapping[str, Span] = _spans()


# Triton's batch input kinds (BATCH_<KIND>) and its one batch output kind.
BATCH_INPUT_KINDS = (
    "element_count", "accumulated_element_count", "accumulated_element_count_with_zero",
    "max_element_count_as_shape", "item_shape", "item_shape_flatten",
)  # fmt: skip
BATCH_OUTPUT_KINDS = ("scatter_with_input_shape",)


@record
class BatchInput(Record):
    """``batch_input TARGET: TYPE from KIND SOURCE``: a tensor Triton computes from a batch (ragged batching)."""

    target: str
    dtype: str
    kind: str
    source: str
    span: Span


@record
class BatchOutput(Record):
    """``batch_output TARGET from KIND SOURCE``: an output Triton scatters back per request."""

    target: str
    kind: str
    source: str
    span: Span


@record
class Tensor(Record):
    name: str
    dtype: str
    dims: tuple[int, ...]
    span: Span
    reshape: tuple[int, ...] | None = None
    optional: bool = False
    # Triton's tensor ``format`` (``nchw``, ``nhwc``) and ``label_filename``.
    format: str | None = None
    labels: str | None = None


@record
class TensorMap(Record):
    """One arrow in an ensemble step: ``source -> target``."""

    source: str
    target: str
    span: Span


@record
class EnsembleStep(Record):
    model: Ref
    inputs: tuple[TensorMap, ...]
    outputs: tuple[TensorMap, ...]
    span: Span


@record
class Benchmark(Record):
    percentile: float
    threshold: float
    rate: float
    span: Span


@record
class Model(Record):
    name: str
    span: Span
    version: str | None = None
    format: ModelFormat | None = None
    artifact: str | None = None
    artifact_sha256: str | None = None  # verified by the pod's fetch init container
    identity: tuple[str, str] | None = None  # (aws | gcp | azure, role ARN / service account / client id)
    trained_on: Ref | None = None
    owners: tuple[str, ...] = ()
    inputs: tuple[Tensor, ...] = ()
    outputs: tuple[Tensor, ...] = ()
    batching: Batching | None = None
    sequence: Sequence | None = None
    resources: Resources | None = None
    serve_in: tuple[Ref, ...] = ()
    instances: int = 1
    env: tuple[EnvVar, ...] = ()
    steps: tuple[EnsembleStep, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    cache: bool = False
    version_policy: tuple[str, int | None] = ("latest", 1)
    tests: tuple[str, ...] = ()
    benchmarks: tuple[Benchmark, ...] = ()
    test_requirements: str | None = None
    evaluate: str | None = None
    # (``platform`` or ``backend``, value) when not the format's default runtime.
    runtime: tuple[str, str] | None = None
    # ``signature auto``: Triton completes inputs and outputs from the model file.
    auto_signature: bool = False
    # Verbatim ModelConfig fields (protobuf text), each replacing the field the other statements render.
    triton_fields: tuple[str, ...] = ()
    # ``decoupled``: the model may send any number of responses per request (model_transaction_policy).
    decoupled: bool = False
    batch_inputs: tuple[BatchInput, ...] = ()
    batch_outputs: tuple[BatchOutput, ...] = ()
    spans: Mapping[str, Span] = _spans()


@record
class Shadow(Record):
    source: Ref
    ratio: float
    span: Span


@record
class Override(Record):
    """Per-environment settings that replace the model's own."""

    model: Ref
    span: Span
    replicas: ReplicaRange | None = None
    resources: Resources | None = None
    batching: Batching | None = None
    instances: int | None = None
    # The model version this environment runs, pinned by ``shipspec promote``;
    # without it the environment runs the model's own version.
    version: str | None = None
    spans: Mapping[str, Span] = _spans()


@record
class Environment(Record):
    name: str
    span: Span
    tier: Tier | None = None
    cluster: str | None = None
    namespace: str | None = None
    replicas: ReplicaRange | None = None
    shadow: Shadow | None = None
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[str, ...] = ()
    quota: Resources | None = None
    gateway: str | None = None
    overrides: tuple[Override, ...] = ()
    runner: tuple[str, ...] = ()
    # Labels the Prometheus Operator selects ServiceMonitors/PrometheusRules by (monitoring tier).
    prometheus_labels: tuple[tuple[str, str], ...] = ()
    spans: Mapping[str, Span] = _spans()


@record
class Hyperparameter(Record):
    name: str
    value: str | float
    span: Span


@record
class Training(Record):
    model: Ref
    span: Span
    environment: Ref | None = None
    image: str | None = None
    command: tuple[str, ...] = ()
    dataset: Ref | None = None
    nodes: int = 1
    gpus: int = 0
    hyperparameters: tuple[Hyperparameter, ...] = ()
    env: tuple[EnvVar, ...] = ()
    tracking: str | None = None
    experiment: str | None = None
    checkpoint: int | None = None
    checkpoint_class: str | None = None  # the checkpoint volume's StorageClass (RWX across nodes)
    resources: Resources | None = None
    spans: Mapping[str, Span] = _spans()


@record
class LatencyObjective(Record):
    percentile: float
    threshold: float
    span: Span


@record
class Availability(Record):
    objective: float
    window: float
    span: Span
    windows: float | None = None  # the period whose burn-rate window table is used (``windows 7d``)


@record
class Sla(Record):
    model: Ref
    environment: Ref
    span: Span
    latency: tuple[LatencyObjective, ...] = ()
    availability: Availability | None = None
    error_rate: float | None = None
    throughput: float | None = None
    spans: Mapping[str, Span] = _spans()


@record
class MonitorRule(Record):
    signal: str
    statistic: str | None
    op: str
    threshold: float
    duration: float
    action: str | None
    span: Span
    is_ratio: bool = False


@record
class Monitor(Record):
    model: Ref
    environment: Ref
    span: Span
    rules: tuple[MonitorRule, ...] = ()


@record
class Condition(Record):
    """A metric, drift or fairness condition of a gate."""

    kind: str
    metric: str
    op: str
    threshold: float
    span: Span
    dataset: Ref | None = None


@record
class LoadTest(Record):
    percentile: float
    threshold: float
    rate: float
    duration: float
    span: Span


@record
class CanaryStep(Record):
    weight: float
    duration: float
    span: Span


@record
class Gate(Record):
    source: Ref
    target: Ref
    model: Ref
    span: Span
    conditions: tuple[Condition, ...] = ()
    load: LoadTest | None = None
    canary: tuple[CanaryStep, ...] = ()
    approval: tuple[str, ...] = ()
    spans: Mapping[str, Span] = _spans()


@record
class Spec(Record):
    """A whole spec: every ``*.ship`` file of a directory, merged.

    Collections are sorted by name (then by source position), so the order of
    files on disk never changes the result.
    """

    files: tuple[str, ...] = ()
    project: Project | None = None
    projects: tuple[Project, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    environments: tuple[Environment, ...] = ()
    models: tuple[Model, ...] = ()
    trainings: tuple[Training, ...] = ()
    slas: tuple[Sla, ...] = ()
    monitors: tuple[Monitor, ...] = ()
    gates: tuple[Gate, ...] = ()
