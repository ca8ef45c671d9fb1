"""The catalog index is a value over the pages' render units and what else it reads
(``memo.over``): made once per set of inputs, the same text as a fresh build's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.synth import generate
from compiler.backends.catalog import backend as catalog
from compiler.cache import Memory
from compiler.pipeline import build
from compiler.targets import layout


def test_the_index_is_made_again_only_when_what_it_reads_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = catalog._Catalog.index_view
    calls: list[int] = []

    def counted(self: Any) -> dict[str, object]:
        calls.append(1)
        return made(self)

    monkeypatch.setattr(catalog._Catalog, "index_view", counted)
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
