"""The release check takes one parse per config (``protos.names_apart``): a config that
names nothing the target release's ModelConfig and tritonclient's differ in holds in the
release exactly when tritonclient parses it, so that parse (which validation takes as
well) stands for the release's. Each verdict is checked here against the release's own
parse, over Triton's upstream configs and shipspec's golden ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import text_format

from compiler.backends import file_validators
from compiler.backends.render import Templates
from compiler.backends.triton import protos, validate
from compiler.backends.triton.protos import config_class, names_apart, parse_for_release
from compiler.backends.triton.validate import model_config_pb2, parse_config
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from compiler.targets.triton import RELEASES
from compiler.validate import validate_files
from tests.unit.backends.triton.test_triton_fidelity import HEAD, MODEL

ROOT = Path(__file__).resolve().parents[4]
UPSTREAM = ROOT.parent / "shared" / "triton-configs"


def _corpus() -> list[str]:
    found = sorted(UPSTREAM.rglob("*.pbtxt")) + sorted((ROOT / "golden").glob("*/expected/**/config.pbtxt"))
    return [p.read_text(encoding="utf-8") for p in found]


def _differing_fields(release: str) -> set[tuple[str, ...]]:
    """Where a field is that one ModelConfig has and the other has not (its path of field
    names), read from the descriptors here (not through ``names_apart``)."""
    found: set[tuple[str, ...]] = set()

    def walk(mine: object, theirs: object, path: tuple[str, ...], seen: set[str]) -> None:
        if mine.full_name in seen:  # type: ignore[attr-defined]
            return
        seen.add(mine.full_name)  # type: ignore[attr-defined]
        a, b = mine.fields_by_name, theirs.fields_by_name  # type: ignore[attr-defined]
        for name in set(a) ^ set(b):
            found.add((*path, name))
        for name in set(a) & set(b):
            if a[name].message_type is not None and b[name].message_type is not None:
                walk(a[name].message_type, b[name].message_type, (*path, name), seen)

    walk(model_config_pb2().ModelConfig.DESCRIPTOR, config_class(release).DESCRIPTOR, (), set())
    return found


def _nested(path: tuple[str, ...], value: str) -> str:
    return "".join(f"{name} {{ " for name in path[:-1]) + path[-1] + value + " }" * (len(path) - 1)


def _variants(text: str, release: str) -> Iterator[str]:
    """The text; the text setting each differing field, at its default value too (a proto3
    default leaves no trace in the parsed message: only the text names it); and texts
    neither ModelConfig parses (a field of neither, a brace left open)."""
    yield text
    for path in sorted(_differing_fields(release)):
        for value in (": 0", " {}", ": []", ': ""'):
            yield f"{text}\n{_nested(path, value)}\n"
    yield f"{text}\nnot_a_field: 1\n"
    yield f"{text}\ninput {{\n"


def _parses(text: str, parse: object) -> bool:
    try:
        parse(text)  # type: ignore[operator]
    except text_format.ParseError:
        return False
    return True


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_a_config_naming_nothing_apart_holds_in_the_release_exactly_when_tritonclient_parses_it(
    release: str,
) -> None:
    apart = names_apart(release)
    assert apart is not None
    corpus = _corpus()
    assert len(corpus) > 40, "the upstream and golden configs are the corpus"
    taken = refused = 0
    for original in corpus:
        for text in _variants(original, release):
            holds = _parses(text, lambda t: parse_for_release(t, release))
            refused += not holds
            if any(name in text.lower() for name in apart):
                continue  # parsed for the release: nothing to compare
            assert _parses(text, parse_config) == holds, (release, text)
            taken += holds
    assert taken > len(corpus) // 2, "most configs must take the one parse"
    assert refused > 0, "the corpus must hold configs the release refuses"
    assert {path[-1] for path in _differing_fields(release)} <= apart


def test_a_default_valued_field_the_release_lacks_is_refused_though_the_parsed_config_hides_it(
    tmp_path: Path,
) -> None:
    """An override template that writes ``max_inflight_requests: 0`` (tritonclient's default:
    absent from the parsed message) for a 2.51.0 target is SS702, as the release parse says."""
    assert ("ensemble_scheduling", "max_inflight_requests") in _differing_fields("2.51.0")
    shipped = (ROOT / "templates" / "triton" / "config.pbtxt.j2").read_text(encoding="utf-8")
    (tmp_path / "triton").mkdir()
    (tmp_path / "triton" / "config.pbtxt.j2").write_text(
        shipped.rstrip("\n") + "\nensemble_scheduling { max_inflight_requests: 0 }\n"
    )
    unbatched = MODEL.format(extra="").replace("  batching {{ max 4 }}\n".replace("{{", "{").replace("}}", "}"), "")
    for pin, refused in (('triton "2.51.0"', True), ('triton "2.73.0"', False)):
        checked = check_loaded(load_text(HEAD.format(pin=pin) + unbatched, "t.ship"))
        files, sink = render(checked, Templates.load(tmp_path), only=["triton"])
        validate_files(files, checked.resolved.project.kubernetes_version, sink, file_validators())
        config = next(f.text for f in files if f.path.endswith("config.pbtxt"))
        assert "max_inflight_requests" in config and "max_inflight_requests" not in str(parse_config(config))
        release = [d for d in sink.items if d.code == "SS702"]
        assert bool(release) == refused, (pin, sink.items)
        if refused:
            assert 'has no field named "max_inflight_requests"' in release[0].message


def test_each_config_is_parsed_once_for_the_release_check_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[str] = []
    real_parse = validate.parse_config
    release_parses: list[str] = []
    real_release = protos.parse_for_release

    def parse(text: str) -> object:
        parses.append(text)
        return real_parse(text)

    def release_parse(text: str, version: str) -> object:
        release_parses.append(text)
        return real_release(text, version)

    monkeypatch.setattr(validate, "parse_config", parse)
    monkeypatch.setattr(protos, "parse_for_release", release_parse)
    # Parses another test in this process kept (a render it did not validate) are not this one's.
    monkeypatch.setattr(validate, "_KEPT", {})
    envs = "".join(f'environment e{i} {{ tier staging namespace "n{i}" }}\n' for i in range(3))
    model = MODEL.format(extra="").replace("  serve in stg\n", "  serve in e0, e1, e2\n")
    checked = check_loaded(load_text('project p { triton "2.51.0" }\n' + envs + model, "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    files, sink = render(checked, Templates.load(), only=["triton"])
    validate_files(files, checked.resolved.project.kubernetes_version, sink, file_validators())
    configs = [f.text for f in files if f.path.endswith("config.pbtxt")]
    assert len(configs) == 3 and not sink.items
    assert sorted(parses) == sorted(configs) and release_parses == []
    assert not validate._KEPT, "a config validated lets go of its parse"
