"""An environment's rules file and PrometheusRule, written to the build's spool part by part
(``backends.spooled``) in a build with the cache on disk: the same files, bytes, digests,
documents and diagnostics as when each text is made whole (issue 16, target 6)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.synth import generate
from compiler.backends.facts import facts
from compiler.backends.memo import Spool
from compiler.backends.monitoring import backend as monitoring
from compiler.backends.spooled import spooled, streamed
from compiler.cache import Cache
from compiler.diagnostics import Span
from compiler.output import OutputFile, StoredFile, digest_of, file_bytes, stored
from compiler.pipeline import Build, build

RULES = ("/monitoring/rules.yml", "/monitoring/prometheusrule-slo.yaml")


def _ctx() -> Any:
    spool = Spool.open()
    assert spool is not None
    return SimpleNamespace(units=SimpleNamespace(spool=spool))


def _builds(tmp_path: Path, **kw: Any) -> tuple[Build, Build]:
    specs = generate(tmp_path, 4)
    (tmp_path / "out").mkdir()
    store = Cache(tmp_path / "out")
    try:
        with_spool = build([specs], store=store, **kw)
    finally:
        store.close()
    return with_spool, build([specs], **kw)


def _rules(built: Build) -> list[OutputFile]:
    return [f for f in built.files if f.path.endswith(RULES)]


def test_rules_files_in_the_spool_are_the_files_made_whole(tmp_path: Path) -> None:
    with_spool, whole = _builds(tmp_path)
    spooled_rules, whole_rules = _rules(with_spool), _rules(whole)
    assert len(whole_rules) >= 4 and all(isinstance(f, StoredFile) and not f.checked for f in spooled_rules)
    assert not any(isinstance(f, StoredFile) for f in whole_rules)
    for a, b in zip(spooled_rules, whole_rules, strict=True):
        assert (a.path, a.text, a.source, a.kind, a.config_map) == (b.path, b.text, b.source, b.kind, b.config_map)
        assert a == b and file_bytes(a) == file_bytes(b) and a.digest == digest_of(b)[0]
        # A unit's file taken into the memo keeps only its documents' facts (``backends.facts``).
        assert a.documents in (b.documents, tuple(map(facts, b.documents)))
    assert with_spool.diagnostics == whole.diagnostics


def test_a_rules_problem_is_reported_at_the_same_spec_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SS804 still comes from the rule groups as data, at the environment's SLA, spool or not."""
    made = monitoring._model_groups

    def with_a_bad_record(*args: Any) -> tuple[list[Any], str]:
        groups, text = made(*args)
        t = args[1]
        bad = {"name": f"{t.model}-{t.environment}:bad", "rules": [{"record": "not a metric", "expr": "1"}]}
        return [*groups, bad], text

    monkeypatch.setattr(monitoring, "_model_groups", with_a_bad_record)
    with_spool, whole = _builds(tmp_path, validate_output=False)
    found = [d for d in with_spool.diagnostics if d.code == "SS804"]
    assert found and found == [d for d in whole.diagnostics if d.code == "SS804"]
    assert all(d.message.endswith("/monitoring/rules.yml: 'not a metric': invalid metric name") for d in found)
    for d in found:  # at the environment's SLA (or monitor, or the environment), as before
        line = Path(d.span.file).read_text().splitlines()[d.span.line - 1].lstrip()
        assert line.startswith(("sla ", "monitor ", "environment ")), line


@pytest.mark.parametrize(
    "parts",
    [
        ["a: 1\n", "b: 2"],
        ["a\n", "\n", "b\n\n", "\n"],
        ["", "x", ""],
        [],
        ["é\n", "ü\n\n"],
        ["a\n" * 3000] * 700,  # past the batch size: several writes, one run of the spool
    ],
)
def test_a_text_streamed_in_parts_has_the_bytes_and_digest_of_the_whole(parts: list[str]) -> None:
    ctx = _ctx()
    source = Span("m.ship", 3, 1, 3, 4)
    plain = OutputFile("deploy/x/monitoring/rules.yml", "".join(parts), source, "prometheus-rules")
    made = streamed(ctx, plain.path, source, plain.kind, (), parts)
    assert isinstance(made, StoredFile) and not made.checked
    assert made.text == plain.text and file_bytes(made) == file_bytes(plain)
    assert (made.digest, made.size) == digest_of(plain)


def test_carriage_returns_and_crlf() -> None:
    """A part with a carriage return is left to the caller (CRLF across parts); a spooled
    text's bytes are made from the spool's bytes as ``file_bytes`` makes them from the text."""
    ctx = _ctx()
    source = Span("m.ship", 1, 1, 1, 2)
    assert streamed(ctx, "a.yaml", source, "yaml", (), ["a\r\n", "b"]) is None
    assert spooled(ctx, OutputFile("a.yaml", "a\r\n", source)).text == "a\r\n"
    for text in ("a\r\nb\r\n\r\n\n", "a\r\r\nb\r", "\n\n", "", "é\r\n"):
        plain = OutputFile("a.yaml", text, source)
        at = ctx.units.spool.add(text)
        made = stored(plain.path, (at.offset, at.length), source, "yaml", (), None, digest_of(plain), ctx.units.spool)
        assert file_bytes(made) == file_bytes(plain) and made.text == text


def test_without_a_spool_the_file_is_made_whole() -> None:
    f = OutputFile("a.yaml", "a: 1\n", Span("m.ship", 1, 1, 1, 2))
    assert spooled(SimpleNamespace(units=None), f) is f
    assert streamed(SimpleNamespace(units=None), f.path, f.source, f.kind, (), [f.text]) is None


def test_the_shared_prometheus_rule_is_kept_until_what_it_is_made_of_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each environment's shared PrometheusRule is a unit over its groups' key, the project
    and the Prometheus Operator's selecting labels: a one-model CPU edit takes every one from
    the memo (it was made again each build), and a new selecting label, which its labels are
    made of, makes each again, as a build without the cache makes it."""
    specs = generate(tmp_path, 4)
    out = tmp_path / "out"
    out.mkdir()
    made: list[str] = []
    real = monitoring._Backend._shared_rule

    def counted(self: Any, ctx: Any, env: Any, *rest: Any) -> Any:
        made.append(env.name)
        return real(self, ctx, env, *rest)

    monkeypatch.setattr(monitoring._Backend, "_shared_rule", counted)

    def built() -> Build:
        made.clear()
        with Cache(out) as store:
            return build([specs], store=store)

    first = built()
    assert len(made) >= 3
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 3 ", 1))
    edited = built()
    assert made == []
    assert _rules(edited) == _rules(first)
    platform = specs / "platform.ship"
    label = 'namespace "monitoring"\n  prometheus_label "release" = "kps"'
    platform.write_text(platform.read_text().replace('namespace "monitoring"', label))
    labelled = built()
    assert len(made) >= 3
    shared = [f for f in _rules(labelled) if f.path.endswith("prometheusrule-slo.yaml")]
    assert shared and all('"release": "kps"' in f.text for f in shared)
    made.clear()
    assert [(f.path, f.text) for f in _rules(labelled)] == [(f.path, f.text) for f in _rules(build([specs]))]
