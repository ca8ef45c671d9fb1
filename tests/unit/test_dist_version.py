"""The cache's version reads the fingerprinted libraries' versions as ``importlib.metadata``
does, without importing it (``cache.dist_version``)."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from compiler import cache


def test_the_fingerprinted_libraries_versions_are_importlib_metadatas() -> None:
    for dist in cache.FINGERPRINTED:
        assert cache.dist_version(dist) == metadata.version(dist)
    assert cache.dist_version("surely-not-installed-shipspec-test") == "none"


def test_the_first_dist_info_on_the_path_wins_by_its_normalised_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "Fancy_Lib-2.0.dist-info").mkdir(parents=True)
    (second / "fancy_lib-1.0.dist-info").mkdir(parents=True)
    (second / "other-3.0.dist-info").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(first), str(second)])
    assert cache.dist_version("fancy-lib") == "2.0"
    assert cache.dist_version("Fancy.Lib") == "2.0"
    assert cache.dist_version("other") == "3.0"
    monkeypatch.setattr(sys, "path", [str(second)])
    assert cache.dist_version("fancy-lib") == "1.0"


def test_an_egg_is_asked_of_importlib_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    egg = tmp_path / "eggy.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: eggy\nVersion: 4.5\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert cache.dist_version("eggy") == "4.5"
