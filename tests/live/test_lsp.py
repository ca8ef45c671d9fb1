"""``shipspec lsp`` driven over stdio by pygls' real LSP client: what an editor sees."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.realtools


async def _session(root: Path, body):
    client = LanguageClient("test", "1")
    published: dict[str, list[t.Diagnostic]] = {}
    changed = asyncio.Event()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diags(params: t.PublishDiagnosticsParams) -> None:
        published[params.uri] = params.diagnostics
        changed.set()

    await client.start_io(sys.executable, "-m", "compiler", "lsp", cwd=str(root))
    try:
        await asyncio.wait_for(
            client.initialize_async(
                t.InitializeParams(capabilities=t.ClientCapabilities(), root_uri=from_fs_path(str(root)))
            ),
            30,
        )
        client.initialized(t.InitializedParams())
        await body(client, published, changed)
        await asyncio.wait_for(client.shutdown_async(None), 30)
        client.exit(None)
    finally:
        await asyncio.wait_for(client.stop(), 30)


def _open(client, path: Path, text: str | None = None) -> str:
    uri = from_fs_path(str(path))
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            t.TextDocumentItem(uri=uri, language_id="shipspec", version=1, text=text or path.read_text())
        )
    )
    return uri


async def _wait_for(published, changed, uri, pred, timeout=30.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred(published.get(uri)):
        changed.clear()
        await asyncio.wait_for(changed.wait(), max(0.1, end - loop.time()))
    return published[uri]


def _pos(text: str, needle: str, nth: int = 1, offset: int = 0) -> t.Position:
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at)
    return t.Position(line, at - (text.rfind("\n", 0, at) + 1))


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    return tmp_path / "specs"


def test_editor_session_over_stdio(specs: Path) -> None:
    fraud = specs / "models" / "fraud.ship"
    envs = specs / "environments.ship"
    text = fraud.read_text()

    async def body(client, published, changed):
        uri = _open(client, fraud)
        # Diagnostics as you type: a typo in a dataset name -> SS101 with the hint, then fixed again.
        bad = text.replace("trained_on transactions\n", "trained_on transactionz\n")
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=uri, version=2),
                [t.TextDocumentContentChangeWholeDocument(text=bad)],
            )
        )
        diags = await _wait_for(published, changed, uri, lambda d: d and any(x.code == "SS101" for x in d))
        d = next(x for x in diags if x.code == "SS101")
        assert d.range.start.line == _pos(bad, "transactionz").line
        assert "did you mean 'transactions'" in d.message
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=uri, version=3),
                [t.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        await _wait_for(published, changed, uri, lambda d: d is not None and not any(x.code == "SS101" for x in d))

        # Go to definition: `transactions` in the model -> the dataset in datasets.ship.
        loc = await client.text_document_definition_async(
            t.DefinitionParams(t.TextDocumentIdentifier(uri), _pos(text, "trained_on transactions", offset=12))
        )
        assert loc.uri.endswith("datasets.ship") and loc.range.start.line == 0
        assert loc.range.start.character == len("dataset ")

        # Find references of the environment `prod`: the SLA, monitor, gates here, and its own definition.
        refs = await client.text_document_references_async(
            t.ReferenceParams(
                text_document=t.TextDocumentIdentifier(uri),
                position=_pos(text, "sla fraud_detector in prod", offset=22),
                context=t.ReferenceContext(include_declaration=True),
            )
        )
        where = {(Path(r.uri).name, r.range.start.line) for r in refs}
        assert ("environments.ship", _pos(envs.read_text(), "environment prod").line) in where
        assert ("fraud.ship", _pos(text, "sla fraud_detector in prod").line) in where
        assert ("offers.ship", _pos((specs / "models/offers.ship").read_text(), "serve in dev").line) in where

        # Hover: the model's definition and its effective settings per environment (the prod pin, replicas).
        hov = await client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), _pos(text, "model fraud_detector", offset=8))
        )
        value = hov.contents.value
        assert "**model fraud_detector**" in value and "format `onnx`" in value
        assert "- **prod** (production): version `1.4.2`, replicas 3..12" in value
        assert "- **staging** (staging): version `1.4.2`, replicas 1..3" in value

        # Completion: statement keywords inside a model, names in scope.
        inside = _pos(text, "  format onnx")
        comp = await client.text_document_completion_async(t.CompletionParams(t.TextDocumentIdentifier(uri), inside))
        labels = {i.label for i in comp.items}
        assert {"batching", "serve", "artifact", "trained_on"} <= labels and "gate" not in labels
        assert {"prod", "transactions", "offer_ranker"} <= labels
        top = await client.text_document_completion_async(
            t.CompletionParams(t.TextDocumentIdentifier(uri), t.Position(0, 0))
        )
        assert {"model", "gate", "sla", "dataset", "environment"} <= {i.label for i in top.items}

        # Document symbols.
        syms = await client.text_document_document_symbol_async(t.DocumentSymbolParams(t.TextDocumentIdentifier(uri)))
        assert {(s.detail, s.name) for s in syms} >= {
            ("model", "fraud_detector"),
            ("sla", "fraud_detector in prod"),
            ("gate", "preprod -> prod for fraud_detector"),
        }

        # Formatting: the fmt printer's text as one edit; nothing for a formatted file.
        messy = text.replace("  format onnx\n", "     format    onnx\n")
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=uri, version=4),
                [t.TextDocumentContentChangeWholeDocument(text=messy)],
            )
        )
        edits = await client.text_document_formatting_async(
            t.DocumentFormattingParams(
                text_document=t.TextDocumentIdentifier(uri), options=t.FormattingOptions(tab_size=2, insert_spaces=True)
            )
        )
        assert len(edits) == 1 and edits[0].new_text == text

        # Hover on a diagnostic explains its code.
        unpinned = text.replace('version "1.4.2"\n  format', 'version "latest"\n  format', 1)
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=uri, version=5),
                [t.TextDocumentContentChangeWholeDocument(text=unpinned)],
            )
        )
        diags = await _wait_for(published, changed, uri, lambda d: d and any(x.code == "SS504" for x in d))
        d = next(x for x in diags if x.code == "SS504")
        hov = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), d.range.start))
        assert "**SS504**" in hov.contents.value

    asyncio.run(_session(specs.parent, body))


def test_gates_and_slas_without_names_over_stdio(specs: Path) -> None:
    """Gates and SLAs have no names: a pinned version goes to the gate that guards it, the
    `gate` and `sla` keywords find what goes with them, and hovering shows their conditions
    and error budgets."""
    fraud = specs / "models" / "fraud.ship"
    envs = specs / "environments.ship"
    text, env_text = fraud.read_text(), envs.read_text()

    async def body(client, published, changed):
        uri, env_uri = _open(client, fraud), _open(client, envs)
        await _wait_for(published, changed, uri, lambda d: d is not None)

        # Definition: prod's pin of fraud_detector -> the gate preprod -> prod for it.
        pinned = 'override fraud_detector { version "1.4.2" }'
        pin = _pos(env_text, pinned, nth=2, offset=len("override fraud_detector { "))
        loc = await client.text_document_definition_async(t.DefinitionParams(t.TextDocumentIdentifier(env_uri), pin))
        assert loc.uri.endswith("fraud.ship")
        assert loc.range.start.line == _pos(text, "gate preprod -> prod for fraud_detector").line
        # preprod's pin -> the gate staging -> preprod.
        pin = _pos(env_text, pinned, nth=1, offset=len("override fraud_detector { "))
        loc = await client.text_document_definition_async(t.DefinitionParams(t.TextDocumentIdentifier(env_uri), pin))
        assert loc.range.start.line == _pos(text, "gate staging -> preprod for fraud_detector").line

        # References of a gate (on its keyword): the model's gates and the pin it guards.
        refs = await client.text_document_references_async(
            t.ReferenceParams(
                text_document=t.TextDocumentIdentifier(uri),
                position=_pos(text, "gate preprod -> prod", offset=1),
                context=t.ReferenceContext(include_declaration=True),
            )
        )
        where = {(Path(r.uri).name, r.range.start.line) for r in refs}
        assert where == {
            ("fraud.ship", _pos(text, "gate staging -> preprod").line),
            ("fraud.ship", _pos(text, "gate preprod -> prod").line),
            ("environments.ship", _pos(env_text, pinned, nth=2).line),
        }

        # References of an SLA (on its keyword): its monitors and the gates into its environment.
        refs = await client.text_document_references_async(
            t.ReferenceParams(
                text_document=t.TextDocumentIdentifier(uri),
                position=_pos(text, "sla fraud_detector in prod", offset=1),
                context=t.ReferenceContext(include_declaration=True),
            )
        )
        assert {r.range.start.line for r in refs} == {
            _pos(text, "sla fraud_detector in prod").line,
            _pos(text, "monitor fraud_detector in prod").line,
            _pos(text, "gate preprod -> prod").line,
        }

        # Hover on a gate: what it promotes and every condition, approvers included.
        hov = await client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), _pos(text, "gate preprod -> prod", offset=1))
        )
        value = hov.contents.value
        assert "**gate preprod -> prod for fraud_detector**" in value
        assert "promotes `fraud_detector` from `preprod` (runs `1.4.2`) to `prod` (runs `1.4.2`)" in value
        assert "- fairness demographic_parity_difference < 0.05" in value
        assert "- canary 10% for 30m → 50% for 30m" in value and "- approval: @kestrel/ml-leads" in value
        # ... also from inside the block, on a line with no name.
        hov = await client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), _pos(text, "canary 10% for 30m", offset=2))
        )
        assert "**gate preprod -> prod for fraud_detector**" in hov.contents.value

        # Hover on an SLA: each objective with its window and error budget; its monitors.
        hov = await client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), _pos(text, "sla fraud_detector in prod", offset=1))
        )
        value = hov.contents.value
        assert "| availability ≥ 99.9% | 30d | 0.1% of requests may fail: 43m 12s of full outage per 30d |" in value
        assert "| latency p99 < 50ms | 30d | 1% of requests may take longer than 50ms |" in value
        assert "monitors: drift psi > 0.2; missing_features > 1%" in value

        # A name on a gate's header still goes to its definition, not to the gate.
        loc = await client.text_document_definition_async(
            t.DefinitionParams(
                t.TextDocumentIdentifier(uri), _pos(text, "gate preprod -> prod for fraud_detector", offset=6)
            )
        )
        assert loc.uri.endswith("environments.ship")

    asyncio.run(_session(specs.parent, body))
