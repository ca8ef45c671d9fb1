"""``sources.file_key``: the digest of a spec file's path and text, whatever was keyed before,
made once for each text a process holds: a watching step hands its build the texts it did
not read again, and keys again only those it read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.synth import generate
from compiler import cache
from compiler.commands.watch import Watcher
from compiler.parse.sources import file_key


def test_a_file_key_is_the_digest_of_its_path_and_text() -> None:
    text = "".join(["model a { version 1 }", "\n"])  # made here: no other string is this object
    equal = "".join(["model a { version 1 }", "\n"])
    other = "model b { version 1 }\n"
    assert file_key("x.ship", text) == cache.digest("x.ship", text)
    assert file_key("x.ship", other) == cache.digest("x.ship", other)
    assert file_key("x.ship", equal) == file_key("x.ship", text) == cache.digest("x.ship", equal)
    assert file_key("y.ship", text) == cache.digest("y.ship", text)
    assert file_key("x.ship", other) != file_key("x.ship", text)


def test_a_watching_step_keys_only_the_files_it_read_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    specs = generate(tmp_path, 12)
    keyed: list[str] = []
    digest = cache.digest

    def counted(*parts: str) -> str:
        if parts and parts[0].endswith(".ship"):
            keyed.append(parts[0])
        return digest(*parts)

    monkeypatch.setattr(cache, "digest", counted)
    watcher = Watcher([specs], tmp_path / "out")
    assert not watcher.compile().has_errors
    assert len(set(keyed)) == 13  # every file, at first
    keyed.clear()
    model = specs / "models" / "m00007.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 7 ", 1))
    done = watcher.step()
    assert done is not None and not done.has_errors and done.plan is not None and done.plan.write
    assert len(keyed) == 1 and keyed[0].endswith("models/m00007.ship")  # once, though the build keys twice
