"""Issue 17, points 6, 10, 15, 16: strings are screened when lowering — secrets by
name and value, GitHub expressions, values that become paths, lone surrogates;
and the nesting pre-scan reads strings and comments as the lexer does."""

from __future__ import annotations

import pytest

from compiler.lower.secrets_scan import name_problem, value_problem
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded
from tests.support.specs import MINIMAL

TRAINING = """
environment train {
  tier training
  namespace "ml-train"
}

training clf {
  in train
  image "ghcr.io/demo/train:1.0"
  command ["python", "train.py"]
  dataset holdout
  hyperparameters { lr 0.01 }
}
"""
BASE = MINIMAL + TRAINING


def codes(text: str) -> list[tuple[str, str]]:
    checked = check_loaded(load_text(text, "x.ship"))
    return [(d.code, d.message) for d in checked.diagnostics if d.severity.value == "error"]


def test_the_base_spec_is_clean() -> None:
    assert codes(BASE) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('run "x"', None),
        ('version "1"\n  uri', 'version "${{ github.event.pull_request.title }}"\n  uri'),
        ('uri "s3://data/holdout/1/"', 'uri "s3://data/${{ github.head_ref }}/"'),
        ('version "1.0.0"\n  format', 'version "1.0.0${{ secrets.X }}"\n  format'),
        ('command ["python", "train.py"]', 'command ["python", "${{ github.actor }}"]'),
    ],
    ids=["test-run", "dataset-version", "dataset-uri", "model-version", "command"],
)
def test_github_expressions_are_refused_wherever_they_are(old: str, new: str | None) -> None:
    if new is None:
        run = "  tests { run \"pytest -k '${{ github.event.pull_request.title }}'\" }\n"
        text = BASE.replace("  serve in staging, prod\n", "  serve in staging, prod\n" + run)
    else:
        assert old in BASE
        text = BASE.replace(old, new, 1)
    assert "SS206" in {c for c, _ in codes(text)}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hyperparameters { lr 0.01 }", 'hyperparameters { lr 0.01  api_token "x" }'),
        ("hyperparameters { lr 0.01 }", 'hyperparameters { lr 0.01  db_password "x" }'),
        ('image "ghcr.io/demo/train:1.0"', 'image "admin:hunter2@ghcr.io/demo/train:1.0"'),
        ('image "ghcr.io/demo/train:1.0"', 'image "https://bot:s3cr3tpass@ghcr.io/demo/train:1.0"'),
        ('command ["python", "train.py"]', 'command ["python", "train.py", "--password=hunter22"]'),
        ('uri "s3://data/holdout/1/"', 'uri "postgres://admin:pw@db/holdout"'),
        ('registry "ghcr.io/demo"', 'registry "ghcr.io/demo?token=ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"'),
    ],
    ids=[
        "hp-token-name",
        "hp-password-name",
        "image-user-pass",
        "image-uri-pass",
        "command-assignment",
        "dataset-uri-pass",
        "github-token",
    ],
)
def test_secrets_are_refused_where_they_reach_output(old: str, new: str) -> None:
    assert old in BASE
    found = codes(BASE.replace(old, new, 1))
    assert "SS507" in {c for c, _ in found}, found


@pytest.mark.parametrize(
    "name",
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "db_passwd",
        "PGPASS",
        "GH_PAT",
        "dbPassword",
        "CLIENT_SECRET",
        "slack-token",
        "SESSION_COOKIE",
        "SENTRY_DSN",
    ],
)
def test_secret_names(name: str) -> None:
    assert name_problem(name)


@pytest.mark.parametrize(
    "name",
    [
        "BATCH_SIZE",
        "PATH",
        "PASSTHROUGH_MODE",
        "MAX_TOKENS_PER_BATCH_SIZE_X"[:10],
        "LEARNING_RATE",
        "MODEL_PATH",
        "COMPASS",
        "PATTERN",
        "KEYBOARD",
        "AUTHOR",
    ],
)
def test_names_that_are_not_secrets(name: str) -> None:
    assert not name_problem(name)


@pytest.mark.parametrize(
    "value",
    [
        "s3://models/clf/1.0.0/model.onnx",
        "ghcr.io/demo/train@sha256:" + "ab12" * 16,
        "https://mlflow.internal:5000",
        "python -m pytest tests/",
        "1.4.2",
        "vault:ml/fraud#db",
        "s3://data/transactions/2026-10-01/part-000001.parquet",
        "TritonServerModelRepositoryPathForEnsembles",
    ],
)
def test_values_that_are_not_secrets(value: str) -> None:
    assert value_problem(value) is None


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ('version "1.0.0"\n  format', 'version "../../other/9.9.9"\n  format', "SS204"),
        ('version "1.0.0"\n  format', 'version "1.0.0\\\\..\\\\x"\n  format', "SS204"),
        ('artifact "s3://models/clf/1.0.0/model.onnx"', 'artifact ""', "SS204"),
        ('uri "s3://data/holdout/1/"', 'uri "  "', "SS204"),
        ("owners @demo/ml\n}", 'owners @demo/ml\n  kubernetes "' + "1" * 300 + '"\n}', "SS204"),
        ('registry "ghcr.io/demo"', 'registry "ghcr\\ud800.io/demo"', "SS013"),
        ('namespace "ml-staging"', 'namespace "ml-\\udfffstaging"', "SS013"),
    ],
    ids=[
        "version-dotdot",
        "version-backslash",
        "empty-artifact",
        "blank-uri",
        "long-kubernetes",
        "surrogate",
        "low-surrogate",
    ],
)
def test_values_that_would_escape_a_path_or_break_utf8(old: str, new: str, code: str) -> None:
    assert old in BASE
    assert code in {c for c, _ in codes(BASE.replace(old, new, 1))}


def test_an_escaped_quote_or_a_comment_does_not_count_as_nesting() -> None:
    brackets = "{" * 70
    text = BASE.replace('registry "ghcr.io/demo"', f'registry "ghcr.io/demo\\"{brackets}"\n  # [[[[{"[" * 70}', 1)
    assert "SS014" not in {c for c, _ in codes(text)}
    deep = BASE + "model deep " + "{" * 70
    assert "SS014" in {d.code for d in load_text(deep, "x.ship").diagnostics}


def test_a_surrogate_spec_never_reaches_compile(tmp_path) -> None:
    import contextlib
    import io

    from compiler.cli import main

    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "x.ship").write_text(BASE.replace('namespace "ml-staging"', 'namespace "ml\\ud800"'))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["compile", str(specs), "--out", str(tmp_path / "out"), "--format", "text"])
    assert rc == 1 and "SS013" in out.getvalue() and not (tmp_path / "out").exists()


# Issue 16: a value pattern is compiled only when the value holds one of its needles;
# that is only right if every match holds one. Strings built of the needles' own
# pieces, the token alphabets and separators try to find a match without one.
_PIECES = [
    "AKI", "A", "ASIA", "gh", "p_", "o_", "_", "github", "pat", "glpat", "-", "xo", "x", "b-", "sk", "AI",
    "za", "ey", "J", ".", "-----", "BEGIN", " ", "PRIVATE", "KEY", "://", "http", "user", ":", "pass", "@",
    "host", "example", "com", "a1B2c3D4e5F6g7H8", "0123456789", "ZZZZZZZZZZZZZZZZ", "\n", "/",
]  # fmt: skip


def test_a_value_pattern_never_matches_without_one_of_its_needles() -> None:
    import random
    import re

    from compiler.lower.secrets_scan import _VALUE_PATTERNS

    rng = random.Random(16)
    values = ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 14))) for _ in range(20000)]
    matched = 0
    for pattern, flags, needles, _what in _VALUE_PATTERNS:
        compiled = re.compile(pattern, flags)
        for value in values:
            if compiled.search(value):
                matched += needles is not None
                assert needles is None or any(n in value for n in needles), (pattern, value)
    assert matched > 30  # the pieces do make matches


@pytest.mark.parametrize(
    "value",
    [
        "Authorization: Bearer abcdefgh1234",
        "authorization: BASIC dXNlcjpwYXNzd29yZA==",
        "ToKeN   abcdefghijkl",
        "password=hunter22",
        "PassWord: hunter22",
        "db_passwd=abc",
        "PWD=abcd",
        "client secret: xyz123",
        "api_key=abcdef",
        "API-KEY: abcdef",
        "apikey:abcdef",
        "Access-Key = abcdef",
        "\u212aey: x",  # the Kelvin sign: not ASCII, so the caseless patterns are always tried
        "bearer \u212a" * 3,
        "token",
        "s3://models/clf/1.0.0/model.onnx",
        "https://user:pass@example.com/x",
        "ok",
    ],
)
def test_caseless_needles_only_skip_values_their_patterns_cannot_match(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case-insensitive patterns are compiled only for a value holding one of their words
    (issue 16): the verdict is the one trying every pattern gives."""
    from compiler.lower import secrets_scan

    found = value_problem(value)
    monkeypatch.setattr(secrets_scan, "_CASELESS_NEEDLES", {})
    assert found == value_problem(value)


def test_every_caseless_pattern_has_needles() -> None:
    from compiler.lower import secrets_scan

    always = [pattern for pattern, _, needles, _ in secrets_scan._VALUE_PATTERNS if needles is None]
    assert sorted(always) == sorted(secrets_scan._CASELESS_NEEDLES)


_SAMPLES = [
    "", "a", "a\n", "a\n\n", "\n", "fraud_detector", "Fraud", "_x", "a-b", "a b", "x" * 41, "é", "a\u0660",
    "1.0.0", "1.0.0\n", "999.999.999", "1000.0.0", "1..0", "1.0", "1.0.0.0", "\u0661.\u0662.\u0663", "１.２.３",
    "1.33", "1.33\n", "12.345", "123.4", "1.3333", ".1", "1.", " 1.33", "1.33 ", "v1.33",
    "s3://m/1/model.onnx", "a..b", "a\\b", "a\x00", "a\x1f", "a\x7f", "a\x80", "a/b", "..", ".", "latest",
    ":latest", "img:latest", "img:latest\n", "s3://m/latest/x", "s3://m/latest", "s3://m/latestx", "ghcr.io/a/b:1",
]  # fmt: skip


@pytest.mark.parametrize("value", _SAMPLES)
def test_string_checks_answer_as_their_regular_expressions(value: str) -> None:
    """The checks written without compiling a regular expression in every cold start (issue
    16) answer as the expressions they stand for."""
    import re

    from compiler.checks import names, policy
    from compiler.checks import triton as triton_checks
    from compiler.lower import secrets_scan

    assert names._is_name(value) == bool(re.match(names._NAME, value))
    assert triton_checks._semver(value) == bool(re.fullmatch(triton_checks._SEMVER, value))
    assert secrets_scan._pathy(value) == bool(re.search(secrets_scan._PATHY, value))
    assert secrets_scan._k8s_version(value) == bool(re.match(secrets_scan._K8S_VERSION, value))
    assert policy._latest(value) == bool(re.search(policy._LATEST, value))
