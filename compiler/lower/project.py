"""The project and dataset blocks: names, registries, pinned versions, owners."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from compiler import ir
from compiler.diagnostics import Span
from compiler.lark_standalone import Token, Tree
from compiler.lower.values import Lowering, args


def lower_project(cx: Lowering, tree: Tree[Token]) -> ir.Project:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    single = frozenset(
        {"registry", "triton_version", "kubernetes_version", "repository", "runbooks", "owners", "compiler_source",
         "cloud_role"}
    )  # fmt: skip
    for kind, stmt in cx.statements(tree, single):
        spans[kind] = cx.span(stmt)
        if kind == "owners":
            f["owners"] = tuple(str(t) for t in args(stmt))
        elif kind == "compiler_source":
            f["compiler"] = source = cx.string(args(stmt)[0])
            if not pinned_source(source):
                cx.sink.report(
                    "SS250",
                    f"compiler {source!r} can change under the workflows: name a git commit "
                    "(git+https://HOST/REPO@<40-hex commit>) or an archive URL ending in #sha256=<64-hex digest>",
                    cx.span(stmt),
                )
        elif kind == "cloud_role":
            f["cloud_role"] = role = cx.string(args(stmt)[0])
            if not (_pattern(AWS_ROLE).fullmatch(role) or _pattern(GCP_PROVIDER).fullmatch(role)):
                cx.sink.report(
                    "SS251",
                    f"cloud_role {role!r} is neither an AWS IAM role ARN (arn:aws:iam::<account>:role/NAME) nor a "
                    "GCP workload identity provider (projects/<number>/locations/global/workloadIdentityPools/"
                    "POOL/providers/PROVIDER)",
                    cx.span(stmt),
                )
        else:
            f[kind] = cx.string(args(stmt)[0])
            if kind == "triton_version" and len(args(stmt)) > 1:  # triton "2.51.0" digest "sha256:HEX"
                digest = cx.string(args(stmt)[1])
                if digest.startswith("sha256:") and _is_sha256(digest.removeprefix("sha256:")):
                    f["triton_digest"] = digest
                else:
                    cx.sink.report(
                        "SS204", "an image digest is sha256: and 64 hexadecimal characters", cx.span(args(stmt)[1])
                    )
    return ir.Project(name=str(name), span=cx.span(tree), spans=spans, **f)


# A compiler source CI can install twice and get the same code: a git commit, or an
# archive whose digest pip checks (https://pip.pypa.io "hash-checking": a #sha256= fragment).
# Compiled on first use (_pattern): only a spec that names a compiler source or a cloud
# role needs them, and compiling the four was ~0.8 ms of a cold validate (issue 16).
_GIT_COMMIT = r"git\+[a-z]+://[^\s@#]+(?:@[^\s@#/]+)?/[^\s@#]*@[0-9a-f]{40}"
_ARCHIVE = r"[a-z]+://[^\s#]+\.(?:whl|tar\.gz|zip)#sha256=[0-9a-f]{64}"
AWS_ROLE = r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+"
GCP_PROVIDER = r"projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+"


@cache
def _pattern(regexp: str) -> re.Pattern[str]:
    return re.compile(regexp)


def pinned_source(source: str) -> bool:
    return bool(_pattern(_GIT_COMMIT).fullmatch(source) or _pattern(_ARCHIVE).fullmatch(source))


def lower_dataset(cx: Lowering, tree: Tree[Token]) -> ir.Dataset:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    for kind, stmt in cx.statements(tree, frozenset({"version", "uri", "sha256", "owners"})):
        spans[kind] = cx.span(stmt)
        if kind == "owners":
            f["owners"] = tuple(str(t) for t in args(stmt))
        else:
            f[kind] = cx.string(args(stmt)[0])
    if (digest := f.get("sha256")) is not None and not _is_sha256(digest):
        cx.sink.report("SS204", "sha256 must be 64 hexadecimal characters", spans["sha256"])
    cx.require(f, ("version", "uri"), f"dataset '{name}'", name)
    return ir.Dataset(name=str(name), span=cx.span(tree), spans=spans, **f)


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower())
