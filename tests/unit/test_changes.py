"""Which models an edit changed (``compiler.changes``), and a watching build that hands back
the blocks of a loop whose owners no edit changed (``memo.unit_each``/``group_each``
``owners``) without making their inputs: always a fresh build's result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler.cache import Memory
from compiler.changes import changed_models
from compiler.parse.sources import load
from compiler.pipeline import Build, build

REPO = Path(__file__).resolve().parents[2]


def _result(built: Build) -> tuple[object, ...]:
    return tuple((f.path, f.text, f.kind, f.source, f.config_map) for f in built.files), built.diagnostics


def _spec_dir(tmp_path: Path) -> Path:
    """The bundled specs, with the ensemble's members each in a file of their own: an edit
    of a member leaves the ensemble's records the objects they were."""
    specs = tmp_path / "specs"
    shutil.copytree(REPO / "specs", specs)
    text = (specs / "models" / "tickets.ship").read_text()
    cut = text.index("model ticket_classifier {")
    router = text.index("model ticket_router {")
    (specs / "models" / "tokenizer.ship").write_text(text[:cut])
    (specs / "models" / "classifier.ship").write_text(text[cut:router])
    (specs / "models" / "tickets.ship").write_text(text[router:])
    # And the fraud model's SLA, monitor and gates in a file of their own: their edits leave
    # the model's record the object it was.
    text = (specs / "models" / "fraud.ship").read_text()
    sla = text.index("sla fraud_detector in prod")
    (specs / "models" / "fraud.ship").write_text(text[:sla])
    (specs / "models" / "fraud-lifecycle.ship").write_text(text[sla:])
    return specs


class _Memo:
    """A watching process's IR of each file (``Memory``): unchanged files lower to the same objects."""

    def __init__(self, specs: Path) -> None:
        self.specs, self.store = specs, Memory()

    def spec(self) -> object:
        return load([self.specs], self.store).spec


def test_an_edit_of_one_model_changes_that_model_and_its_ensembles(tmp_path: Path) -> None:
    specs = _spec_dir(tmp_path)
    memo = _Memo(specs)
    first = memo.spec()
    assert changed_models(memo.spec(), first) == frozenset()  # nothing edited: nothing changed
    offers = specs / "models" / "offers.ship"
    offers.write_text(offers.read_text().replace("cpu ", "cpu 9", 1))
    second = memo.spec()
    assert changed_models(second, first) == {"offer_ranker"}
    tokenizer = specs / "models" / "tokenizer.ship"
    tokenizer.write_text(tokenizer.read_text().replace('version "0.9.0"', 'version "0.9.1"'))
    # The ensemble reads its members, and the other member's page names the ensemble.
    assert changed_models(memo.spec(), second) == {"ticket_tokenizer", "ticket_router", "ticket_classifier"}


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("environments.ship", "replicas", "replicas "),  # same IR, other text: the records are new objects
        ("project.ship", "owners", "owners @kestrel/more"),
        ("datasets.ship", "version", "version  "),
    ],
)
def test_an_edit_of_what_models_share_answers_nothing(tmp_path: Path, path: str, old: str, new: str) -> None:
    specs = _spec_dir(tmp_path)
    memo = _Memo(specs)
    first = memo.spec()
    file = specs / path
    assert old in file.read_text()
    file.write_text(file.read_text().replace(old, new, 1))
    assert changed_models(memo.spec(), first) is None


def test_a_model_that_comes_or_goes_answers_nothing(tmp_path: Path) -> None:
    specs = _spec_dir(tmp_path)
    memo = _Memo(specs)
    first = memo.spec()
    (specs / "models" / "tokenizer.ship").rename(tmp_path / "tokenizer.ship")
    gone = memo.spec()
    assert changed_models(gone, first) is None
    (tmp_path / "tokenizer.ship").rename(specs / "models" / "tokenizer.ship")
    assert changed_models(memo.spec(), gone) is None


def test_a_gate_sla_or_monitor_edit_changes_its_model_however_the_others_shift(tmp_path: Path) -> None:
    specs = _spec_dir(tmp_path)
    memo = _Memo(specs)
    first = memo.spec()
    fraud = specs / "models" / "fraud-lifecycle.ship"
    text = fraud.read_text()
    # A gate gone from one model and one more for another: as many gates, each at another place.
    start = text.index("gate staging -> preprod for fraud_detector")
    end = text.index("gate preprod -> prod for fraud_detector")
    fraud.write_text(text[:start] + text[end:])
    offers = specs / "models" / "offers.ship"
    offers.write_text(offers.read_text() + "\ngate dev -> staging for offer_ranker {\n  approval @kestrel/x\n}\n")
    changed = changed_models(memo.spec(), first)
    assert changed == {"fraud_detector", "offer_ranker"}
    # An SLA or a monitor edited in a file without its model: only that model.
    again = memo.spec()
    fraud.write_text(fraud.read_text().replace("availability 99.9%", "availability 99.5%"))
    assert changed_models(memo.spec(), again) == {"fraud_detector"}


def _edit(specs: Path, which: int, n: int) -> None:
    path, old, new = EDITS[which]
    file = specs / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new.replace("{n}", str(n)), 1))


# Edits that leave the other files alone, each keeping its old text (any can follow any): a
# member's version and shapes (its ensemble's pods load it), a model's CPU, an SLA, a gate,
# a model's owners, a monitor, and what models share (its spans alone, and production's replicas).
EDITS = [
    ("models/tokenizer.ship", 'version "0.9.', 'version "0.9.{n}'),
    ("models/tokenizer.ship", "int64[12", "int64[12{n}"),
    ("models/classifier.ship", "cpu 2", "cpu 2{n}"),
    ("models/offers.ship", "cpu ", "cpu {n}"),
    ("models/offers.ship", "owners @kestrel/growth-ml", "owners @kestrel/growth-ml @kestrel/o{n}"),
    ("models/fraud-lifecycle.ship", "latency p99 < ", "latency p99 < {n}"),
    ("models/fraud-lifecycle.ship", "approval @", "approval @kestrel/r{n} @"),
    ("models/fraud-lifecycle.ship", "missing_features > 1", "missing_features > 1{n}"),
    ("models/tickets.ship", "latency p99 < 2", "latency p99 < 2{n}"),
    # A gate's condition on a dataset: the gate's row of the catalog's index changes.
    (
        "models/fraud-lifecycle.ship",
        "  drift psi < 0.2\n",
        "  drift psi < 0.2\n  metric recall >= 0.{n} on support_tickets\n",
    ),
    ("environments.ship", "replicas", "replicas "),
    ("environments.ship", "replicas 3..1", "replicas 3..1{n}"),  # every model served in prod renders anew
]


@settings(max_examples=8, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(EDITS) - 1), st.integers(1, 8)), min_size=1, max_size=4),
    st.sampled_from([(1, 1), (4, 2), (6, 4)]),
)
@example([(3, 1), (3, 2), (0, 3), (3, 4)], (4, 2))  # one model edited again, parts around it handed back
@example([(3, 1), (4, 2), (3, 3), (6, 4)], (1, 1))  # CODEOWNERS as it was, then a model's and a gate's owners
@example([(9, 1), (3, 2), (9, 3)], (4, 2))  # a gate's datasets: its row of the index, its model's gates in order
def test_a_watching_build_that_hands_back_blocks_by_owner_is_a_fresh_build(
    edits: list[tuple[int, int]], sizes: tuple[int, int]
) -> None:
    """Blocks of one item (every loop over models hands back every model the edit left alone),
    and blocks of a few items in parts (a block an edit touched hands back its other parts)."""
    import tempfile

    from compiler.backends import memo

    was = memo.BLOCK, memo.PART
    memo.BLOCK, memo.PART = sizes
    try:
        with tempfile.TemporaryDirectory() as tmp:
            specs = _spec_dir(Path(tmp))
            store = Memory()
            last = build([specs], store=store)
            for which, n in edits:
                _edit(specs, which, n)
                now = build([specs], store=store, earlier=last.checked.resolved)
                assert _result(now) == _result(build([specs]))
                last = now
    finally:
        memo.BLOCK, memo.PART = was


# Three blocks of models (``memo.BLOCK`` is 64) and five or more of gates: the edited model's
# in the middle, so blocks on both sides of it are handed back, and parts on both sides of
# it within its block (``memo.PART`` is 8; the edited model is the 21st of the second block).
MODELS, EDITED = 130, 84


def test_a_watching_build_makes_the_inputs_of_the_edited_models_blocks_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After a one-model edit at ``MODELS`` models, a step makes the inputs of a block of gates, of
    pages and of served models only where the edited model is (the others are last step's)."""
    from compiler.backends.catalog import backend as catalog
    from compiler.backends.github import views

    made: list[str] = []
    gate_inputs, page_inputs = views.gate_inputs, catalog._Catalog.page_inputs
    monkeypatch.setattr(views, "gate_inputs", lambda r, g: made.append("gate") or gate_inputs(r, g))
    monkeypatch.setattr(catalog._Catalog, "page_inputs", lambda self, *a: made.append("page") or page_inputs(self, *a))
    specs = generate(tmp_path, MODELS)
    store = Memory()
    first = build([specs], store=store)
    gates, pages = made.count("gate"), made.count("page")
    assert gates > MODELS and pages == MODELS
    made.clear()
    model = specs / "models" / f"m{EDITED:05d}.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 7 ", 1))
    second = build([specs], store=store, earlier=first.checked.resolved)
    from compiler.backends.memo import PART

    # Of the edited model's blocks, only its parts (a model's gates may straddle two).
    assert 0 < made.count("gate") <= 2 * PART and 0 < made.count("page") <= PART
    assert _result(second) == _result(build([specs]))
    # A model of a block the last step handed back whole: its parts were kept with it.
    made.clear()
    model = specs / "models" / "m00010.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 7 ", 1))
    second = build([specs], store=store, earlier=second.checked.resolved)
    assert 0 < made.count("gate") <= 2 * PART and 0 < made.count("page") <= PART
    assert _result(second) == _result(build([specs]))
    made.clear()
    platform = specs / "platform.ship"
    platform.write_text(platform.read_text().replace("replicas 3..12", "replicas 4..12", 1))
    third = build([specs], store=store, earlier=second.checked.resolved)
    assert made.count("gate") == gates and made.count("page") == pages  # shared records changed: all made
    assert _result(third) == _result(build([specs]))


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(EDITS) - 1), st.integers(1, 8)), min_size=1, max_size=4))
@example([(len(EDITS) - 1, 5), (0, 2)])  # what models share, then a member: always tried
def test_a_one_shot_build_finding_blocks_by_their_owners_files_is_a_fresh_build(edits: list[tuple[int, int]]) -> None:
    """Each build with a cache object of its own, as a new process has: blocks of one item are
    found by what their owners' records, and what models share, are made of
    (``changes.owner_states``), without making their inputs."""
    import tempfile

    from compiler.backends import memo
    from compiler.cache import Cache

    was = memo.BLOCK
    memo.BLOCK = 1
    try:
        with tempfile.TemporaryDirectory() as tmp:
            specs = _spec_dir(Path(tmp))
            out = Path(tmp) / "out"
            out.mkdir()
            with Cache(out) as store:  # a cold build keeps every body
                build([specs], store=store)
            for which, n in edits:
                _edit(specs, which, n)
                with Cache(out) as store:
                    now = build([specs], store=store)
                assert _result(now) == _result(build([specs]))
    finally:
        memo.BLOCK = was


def test_a_one_shot_build_makes_the_inputs_of_the_edited_models_blocks_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As ``test_a_watching_build_makes_the_inputs_of_the_edited_models_blocks_only``, for
    builds in processes of their own (a cache object each)."""
    from compiler.backends.catalog import backend as catalog
    from compiler.backends.github import views
    from compiler.backends.memo import BLOCK
    from compiler.cache import Cache

    made: list[str] = []
    gate_inputs, page_inputs = views.gate_inputs, catalog._Catalog.page_inputs
    monkeypatch.setattr(views, "gate_inputs", lambda r, g: made.append("gate") or gate_inputs(r, g))
    monkeypatch.setattr(catalog._Catalog, "page_inputs", lambda self, *a: made.append("page") or page_inputs(self, *a))
    specs = generate(tmp_path, MODELS)
    out = tmp_path / "out"
    out.mkdir()
    with Cache(out) as store:  # a cold build makes every block's inputs, and keeps the blocks
        build([specs], store=store)
    gates, pages = made.count("gate"), made.count("page")
    assert gates > MODELS and pages == MODELS
    made.clear()
    with Cache(out) as store:  # nothing changed: every block handed back, none of their inputs made
        build([specs], store=store)
    assert made == []
    for path, old, new in [
        (f"models/m{EDITED:05d}.ship", "cpu 1 ", "cpu 7 "),
        ("platform.ship", "replicas 3..12", "replicas 4..12"),
    ]:
        made.clear()
        file = specs / path
        file.write_text(file.read_text().replace(old, new, 1))
        with Cache(out) as store:
            now = build([specs], store=store)
        if path.startswith("models/"):
            assert 0 < made.count("gate") <= BLOCK and 0 < made.count("page") <= BLOCK
        else:  # what models share changed: every block's inputs are made
            assert made.count("gate") == gates and made.count("page") == pages
        assert _result(now) == _result(build([specs]))
