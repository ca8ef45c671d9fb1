"""Generate a synthetic spec repository of N models for benchmarks.

Each model gets its own file (as a large team would lay it out), is served in
staging, preprod and prod plus dev for every fourth model, and has an SLA, a
monitor and two gates, so every backend has work to do.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HEADER = """\
project synth {
  registry "ghcr.io/synth"
  owners @synth/platform
  triton "2.51.0"
  kubernetes "1.33"
  repository "https://github.com/synth/gitops.git"
  runbooks "https://runbooks.synth.example"
}

dataset events {
  version "1"
  uri "s3://synth/events/1/"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
}

environment dev {
  tier development
  namespace "ml-dev"
  quota { cpu 64  memory 256Gi }
}

environment train {
  tier training
  namespace "ml-train"
}

environment staging {
  tier staging
  namespace "ml-staging"
  replicas 1..3
}

environment preprod {
  tier preprod
  namespace "ml-preprod"
  replicas 2..4
}

environment prod {
  tier production
  namespace "ml-prod"
  replicas 3..12
  gateway "istio-ingress"
}

environment observability {
  tier monitoring
  namespace "monitoring"
}
"""

MODEL = """\
model m{i:05d} {{
  version "1.{i}.0"
  format onnx
  artifact "s3://synth-models/m{i:05d}/1.{i}.0/model.onnx"
  trained_on events
  owners @synth/team{team}
  input features: fp32[{width}]
  output score: fp32[1]
  batching {{ max 32  preferred [8, 16]  delay 1ms }}
  resources {{ cpu 1  memory 2Gi }}
  serve in {envs}
}}

sla m{i:05d} in prod {{
  latency p99 < 80ms
  availability 99.9% over 30d
  error_rate < 0.5%
}}

monitor m{i:05d} in prod {{
  drift psi > 0.2 for 1h -> retrain
}}

gate staging -> preprod for m{i:05d} {{
  metric auc >= 0.8 on events
}}

gate preprod -> prod for m{i:05d} {{
  metric auc >= 0.8 on events
  canary 10% for 10m, 50% for 10m
  approval @synth/leads
}}
"""


DEV_QUOTA = "quota { cpu 64  memory 256Gi }"
assert DEV_QUOTA in HEADER


def model_text(i: int) -> str:
    envs = "dev, staging, preprod, prod" if i % 4 == 0 else "staging, preprod, prod"
    return MODEL.format(i=i, team=i % 10, width=16 + i % 48, envs=envs)


def generate(root: Path, models: int) -> Path:
    specs = root / "specs"
    (specs / "models").mkdir(parents=True, exist_ok=True)
    # The development quota admits every dev pod (a model of 1 CPU and 2Gi, every fourth
    # model) with room for a rolling update (SS527): HEADER's up to 128 models.
    dev = (models + 3) // 4
    quota = f"quota {{ cpu {max(64, 2 * dev)}  memory {max(256, 4 * dev)}Gi }}"
    (specs / "platform.ship").write_text(HEADER.replace(DEV_QUOTA, quota))
    for i in range(models):
        (specs / "models" / f"m{i:05d}.ship").write_text(model_text(i))
    return specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--models", type=int, default=1000)
    args = parser.parse_args()
    print(generate(args.root, args.models))


if __name__ == "__main__":
    main()
