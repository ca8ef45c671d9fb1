"""Issue 17: resource bounds. Big and deep specs complete, with a clear
diagnostic past a limit (no wall-clock assertions: completion, counts, codes)."""

from __future__ import annotations

import sys

from compiler.checks.graph import check_reachability
from compiler.diagnostics import Sink
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded
from compiler.resolve import resolve
from tests.support.specs import MINIMAL

HEAD = (
    MINIMAL.split("environment staging")[0]
    + """
environment staging {
  tier staging
  namespace "ml-staging"
}

environment prod {
  tier production
  namespace "ml-prod"
  replicas 2..4
}
"""
)


def ladder(levels: int, width: int, broken: bool = False) -> str:
    """``width`` preprod environments per level, every one gated to every one of the next."""
    names = [[f"e{lv}x{i}" for i in range(width)] for lv in range(levels)]
    envs = "".join(
        f'environment {n} {{\n  tier preprod\n  namespace "ns-{n.replace("x", "-")}"\n}}\n'
        for level in names
        for n in level
    )
    served = ", ".join(["staging", "prod", *(n for level in names for n in level)])
    gates = [] if broken else [f"gate staging -> {n} for clf {{ }}\n" for n in names[0]]
    for a, b in zip(names, names[1:], strict=False):
        gates += [f"gate {x} -> {y} for clf {{ }}\n" for x in a for y in b]
    gates += [f"gate {x} -> prod for clf {{ approval @demo/leads }}\n" for x in names[-1]]
    model = f"""
model clf {{
  version "1.0.0"
  format onnx
  artifact "s3://models/clf/1.0.0/model.onnx"
  input x: fp32[4]
  output y: fp32[2]
  resources {{ cpu 1  memory 1Gi }}
  serve in {served}
}}
sla clf in prod {{
  latency p99 < 50ms
  availability 99.9% over 30d
}}
"""
    return HEAD + envs + model + "".join(gates)


def reach(text: str) -> list[str]:
    loaded = load_text(text, "big.ship")
    assert not [d for d in loaded.diagnostics if d.code < "SS100"], loaded.diagnostics[:3]
    sink = Sink()
    check_reachability(resolve(loaded.spec), sink)
    return [d.code for d in sink.items]


def test_a_chain_of_1000_environments_is_checked_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    text = ladder(1000, 1)
    assert reach(text) == []
    assert reach(ladder(1000, 1, broken=True)) == ["SS402"]
    assert sys.getrecursionlimit() == limit


def test_an_all_to_all_ladder_is_linear_not_exponential() -> None:
    # 40 levels of 2: 2**40 paths, once 35 s at 24 levels and doubling per level.
    assert reach(ladder(40, 2)) == []
    assert reach(ladder(40, 2, broken=True)) == ["SS402"]


def test_the_whole_front_half_completes_on_a_long_chain() -> None:
    checked = check_loaded(load_text(ladder(300, 1), "big.ship"))
    codes = {d.code for d in checked.diagnostics}
    assert "SS402" not in codes and "SS404" in codes  # preprod -> preprod goes sideways: reported, not a crash


def _cli(*argv: str) -> tuple[int, str]:
    import contextlib
    import io

    from compiler.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(list(argv))
    return rc, out.getvalue()


def test_an_endless_spec_is_refused_by_size_without_reading_it() -> None:
    rc, out = _cli("validate", "/dev/zero", "--format", "text")
    assert rc == 1 and "/dev/zero:1:1: error[SS003]: file is larger than 4194304 bytes" in out


def test_a_sparse_two_gigabyte_spec_is_refused_by_its_size(tmp_path) -> None:
    import resource

    big = tmp_path / "big.ship"
    with open(big, "wb") as f:
        f.truncate(2 * 1024**3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rc, out = _cli("validate", str(big), "--format", "text")
    assert rc == 1 and "error[SS003]" in out
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB: nothing like 2 GB was read


def test_did_you_mean_compares_a_bounded_number_of_candidates() -> None:
    from compiler.diagnostics import HINT_CANDIDATES, did_you_mean, hint_candidates

    pool = [f"model_{i:05d}_" + "x" * (i % 300) for i in range(10_000)] + ["fraud_detector"]
    assert len(hint_candidates("fraud_detectr", pool)) <= HINT_CANDIDATES
    assert did_you_mean("fraud_detectr", pool) == "did you mean 'fraud_detector'?"
    assert did_you_mean("q" * 100_000, pool) is None


def test_many_unknown_long_names_against_many_long_definitions_complete() -> None:
    # Once 230 s: 200 unknown x 200 defined long names, an 800 KB spec.
    long = "a" * 1500
    envs = "".join(f"environment e{i}{long} {{\n  tier staging\n}}\n" for i in range(200))
    served = ", ".join(f"u{i}{long}" for i in range(200))
    model = f'model clf {{\n  version "1"\n  format onnx\n  artifact "s3://m/1/m.onnx"\n  serve in {served}\n}}\n'
    text = HEAD + envs + model
    assert len(text) > 600_000
    loaded = load_text(text, "big.ship")
    checked = check_loaded(loaded)
    unknown = [d for d in checked.diagnostics if d.code == "SS101"]
    assert len(unknown) == 200 and all(d.hint and d.hint.startswith("did you mean 'e") for d in unknown[:5])


def _models(n: int) -> str:
    return "".join(
        f'model m{i} {{\n  version "1.0.0"\n  format onnx\n  artifact "s3://m/m{i}/1.0.0/model.onnx"\n'
        f"  input x: fp32[4]\n  output y: fp32[1]\n  serve in staging\n}}\n"
        for i in range(n)
    )


def test_a_ten_thousand_model_spec_validates_completely() -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    checked = check_loaded(load_text(HEAD + _models(10_000), "big.ship"))
    assert len(checked.spec.models) == 10_000
    assert [d for d in checked.diagnostics if d.severity.value == "error"] == []
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 1024 * 1024  # KiB: under 1 GiB more


def test_a_hundred_thousand_model_file_is_refused_by_size(tmp_path) -> None:
    path = tmp_path / "huge.ship"
    path.write_text(HEAD + _models(100_000))
    rc, out = _cli("validate", str(path), "--format", "text")
    assert rc == 1 and "error[SS003]: file is larger than 4194304 bytes" in out and "split the spec" in out


def test_huge_comment_blocks_validate_and_format_in_one_pass(tmp_path) -> None:
    from compiler.parse.printer import format_source
    from compiler.parse.syntax import parse_text

    block = "".join(f"# {i:07d} " + "c" * 60 + "\n" for i in range(50_000))  # 3.5 MB of comments
    text = block + MINIMAL + block[:200_000]
    source, errors = parse_text(text, "c.ship")
    assert errors == [] and len(source.comments) > 50_000
    out = format_source(source)
    assert out.count("\n# ") >= 50_000 - 1
    again, _ = parse_text(out, "c.ship")
    assert format_source(again) == out


def test_ten_thousand_commented_statements_format_like_validate() -> None:
    from compiler.parse.printer import format_source
    from compiler.parse.syntax import parse_text

    body = "".join(f'  # note {i}\n  env V{i} = "x"  # trailing {i}\n' for i in range(10_000))
    text = MINIMAL.replace("  serve in staging, prod\n", body + "  serve in staging, prod\n")
    source, errors = parse_text(text, "c.ship")
    assert errors == []
    out = format_source(source)
    assert out.count("# note ") == 10_000 and out.count("# trailing ") == 10_000
