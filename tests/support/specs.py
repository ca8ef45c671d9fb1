"""Small spec texts shared by the tests."""

from __future__ import annotations

# A minimal spec that checks clean: every tier rule satisfied.
MINIMAL = """\
project demo {
  registry "ghcr.io/demo"
  # Production runs the Triton image pinned by digest (SS526 otherwise).
  triton "2.51.0" digest "sha256:0000000000000000000000000000000000000000000000000000000000000051"
  owners @demo/ml
}

environment staging {
  tier staging
  namespace "ml-staging"
}

environment prod {
  tier production
  namespace "ml-prod"
  replicas 2..4
  gateway "istio-ingress"
  override clf { version "1.0.0" }
}

model clf {
  version "1.0.0"
  format onnx
  artifact "s3://models/clf/1.0.0/model.onnx"
  input x: fp32[4]
  output y: fp32[2]
  batching { max 8  preferred [4, 8]  delay 1ms }
  resources { cpu 1  memory 1Gi }
  serve in staging, prod
}

sla clf in prod {
  latency p99 < 50ms
  availability 99.9% over 30d
}

gate staging -> prod for clf {
  metric auc >= 0.9 on holdout
  load p99 < 40ms at 100rps for 5m
  canary 10% for 10m, 50% for 10m
  approval @demo/leads
}

dataset holdout {
  version "1"
  uri "s3://data/holdout/1/"
}
"""


def training(uri: str = "s3://data/clicks/v1/", sha256: str | None = "d" * 64, extra: str = "") -> str:
    """A training environment and a training of MINIMAL's model ``clf`` on dataset ``clicks`` (version v1)."""
    digest = f'  sha256 "{sha256}"\n' if sha256 else ""
    return f"""
dataset clicks {{
  version "v1"
  uri "{uri}"
{digest}}}

environment train {{
  tier training
  namespace "ml-train"
}}

training clf {{
  in train
  image "ghcr.io/acme/train:1.0.0"
  command ["python", "-m", "clf.train"]
  dataset clicks
{extra}}}
"""
