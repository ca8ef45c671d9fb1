"""The catalog index is a render unit of the values it shows (``IndexInputs``, its view made
from them alone): made once per set of inputs, the same text as a fresh build's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.synth import generate
from compiler.backends.catalog import index as catalog_index
from compiler.cache import Memory
from compiler.pipeline import build
from compiler.targets import layout


def test_the_index_is_made_again_only_when_what_it_reads_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = catalog_index.view
    calls: list[int] = []

    def counted(inputs: Any) -> dict[str, object]:
        calls.append(1)
        return made(inputs)

    monkeypatch.setattr(catalog_index, "view", counted)
    specs = generate(tmp_path, 3)
    memory = Memory()
    build([specs], store=memory)
    assert len(calls) == 1
    build([specs], store=memory)
    assert len(calls) == 1
    platform = specs / "platform.ship"
    platform.write_text(platform.read_text().replace('namespace "ml-dev"', 'namespace "ml-dev2"'))
    edited = build([specs], store=memory)
    assert len(calls) == 2
    index = next(f for f in edited.files if f.path == layout.CATALOG_INDEX)
    assert "ml-dev2" in index.text
    assert index == next(f for f in build([specs]).files if f.path == layout.CATALOG_INDEX)
    # A field the index does not show: not made again, though the model's page is.
    model = specs / "models" / "m00001.ship"
    # A comment above its SLA moves the SLA's spans.
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 12 ").replace("\nsla ", "\n# moved\nsla ", 1))
    assert _result(build([specs], store=memory)) == _result(build([specs]))
    assert len(calls) == 4  # the two fresh builds'
    model.write_text(model.read_text().replace('version "1.1.0"', 'version "1.1.7"'))
    edited = build([specs], store=memory)
    assert len(calls) == 5 and "1.1.7" in next(f.text for f in edited.files if f.path == layout.CATALOG_INDEX)


def _result(built: Any) -> tuple[object, ...]:
    return tuple((f.path, f.text, f.source) for f in built.files), built.diagnostics


# Fields the index shows, one edit each (file, old text, new text, what the index then says).
SHOWN = {
    "model owners": ("models/m00002.ship", "owners @synth/team", "owners @synth/other", "@synth/other"),
    "model format": ("models/m00002.ship", "format onnx", "format pytorch", "pytorch"),
    "sla term": ("models/m00002.ship", "error_rate < 0.5%", "error_rate < 0.7%", "errors < 0.7%"),
    "gate approval": (
        "models/m00002.ship",
        "gate staging -> preprod for m00002 {\n",
        "gate staging -> preprod for m00002 {\n  approval @synth/leads\n",
        "m00002 (approval)",
    ),
    "dataset uri": ("platform.ship", 's3://synth/events/1/"', 's3://synth/events/9/"', "s3://synth/events/9/"),
    "environment namespace": ("platform.ship", 'namespace "ml-staging"', 'namespace "ml-stg"', "/ml-stg`"),
    "project runbooks": ("platform.ship", "runbooks.synth.example", "runbooks.synth.test", "runbooks.synth.test"),
}


@pytest.mark.parametrize("field", sorted(SHOWN))
def test_an_edit_to_a_field_the_index_shows_reaches_it_from_the_memo(tmp_path: Path, field: str) -> None:
    name, old, new, shown = SHOWN[field]
    specs = generate(tmp_path, 3)
    memory = Memory()
    before = _index_of(build([specs], store=memory))
    path = specs / name
    assert old in path.read_text(), (field, "the synthetic spec changed")
    path.write_text(path.read_text().replace(old, new, 1))
    cached = _index_of(build([specs], store=memory))
    assert cached == _index_of(build([specs]))
    assert cached != before and shown in cached, field


def _index_of(built: Any) -> str:
    return str(next(f.text for f in built.files if f.path == layout.CATALOG_INDEX))
