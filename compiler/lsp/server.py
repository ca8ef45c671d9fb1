"""``shipspec lsp``: a Language Server over stdio (pygls).

Diagnostics as you type (the checker's, with codes and hints), formatting (the
``fmt`` printer), go-to-definition and find-references for models, datasets and
environments (SLAs, gates, monitors and trainings are found through the model and
environments they name). Gates and SLAs have no names of their own: a version pinned
in an environment's ``override`` goes to the gate that guards it; the references of a
gate (from its ``gate`` keyword) are the model's other gates and the pins it guards, of
an SLA (from ``sla``) its monitors and the gates into its environment; hovering a gate
or an SLA shows its conditions or objectives with their error budgets. Hover otherwise
shows a definition with its effective settings per
environment, from the resolve stage's placements; a diagnostic code's meaning),
completion of block and statement keywords and of names in scope, and document
symbols. State lives in ``workspace.Workspace``: an edit re-parses one file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from compiler import __version__, ir
from compiler.backends.catalog import words
from compiler.diagnostics import CODES, Diagnostic, Severity, Span
from compiler.lsp.workspace import BLOCK_KEYWORDS, FIELD_KEYWORDS, Analysis, Symbol, Workspace
from compiler.parse.printer import format_source
from compiler.parse.syntax import parse_text
from compiler.resolve import Placement

_SEVERITY = {
    Severity.ERROR: t.DiagnosticSeverity.Error,
    Severity.WARNING: t.DiagnosticSeverity.Warning,
    Severity.NOTE: t.DiagnosticSeverity.Information,
}
_KINDS = {
    "project": t.SymbolKind.Namespace,
    "dataset": t.SymbolKind.File,
    "environment": t.SymbolKind.Module,
    "model": t.SymbolKind.Class,
    "training": t.SymbolKind.Function,
    "sla": t.SymbolKind.Interface,
    "monitor": t.SymbolKind.Event,
    "gate": t.SymbolKind.Operator,
}


def path_of(uri: str) -> str:
    return unquote(urlparse(uri).path)


def _range(span: Span) -> t.Range:
    return t.Range(
        t.Position(max(span.line - 1, 0), max(span.column - 1, 0)),
        t.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0)),
    )


def _inside(span: Span, line: int, col: int) -> bool:
    """``line``/``col`` 1-based."""
    return (span.line, span.column) <= (line, col) < (span.end_line, span.end_column)


class ShipspecServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("shipspec", __version__)
        self.space = Workspace()
        self.analysis: Analysis | None = None
        self.published: set[str] = set()

    def refresh(self) -> Analysis:
        self.analysis = self.space.analyse()
        for path in set(self.analysis.diagnostics) | self.published:
            diags = self.analysis.diagnostics.get(path, [])
            self.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=from_fs_path(path) or path, diagnostics=[_diag(d) for d in diags])
            )
        self.published = {p for p, d in self.analysis.diagnostics.items() if d}
        return self.analysis

    def current(self) -> Analysis:
        return self.analysis or self.refresh()


def _diag(d: Diagnostic) -> t.Diagnostic:
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return t.Diagnostic(
        range=_range(d.span), message=message, severity=_SEVERITY[d.severity], code=d.code, source="shipspec"
    )


def _word_at(text: str, line: int, col: int) -> str | None:
    """The name under a 0-based position."""
    lines = text.splitlines()
    if line >= len(lines):
        return None
    s = lines[line]
    start = col
    while start > 0 and (s[start - 1].isalnum() or s[start - 1] == "_"):
        start -= 1
    end = col
    while end < len(s) and (s[end].isalnum() or s[end] == "_"):
        end += 1
    return s[start:end] or None


def _name_at(server: ShipspecServer, uri: str, pos: t.Position) -> tuple[str | None, Analysis]:
    a = server.current()
    path = path_of(uri)
    f = server.space.files.get(path)
    if f is None:
        return None, a
    word = _word_at(f.text, pos.line, pos.character)
    return (word if word in a.definitions else None), a


def _fmt_size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def _placement_line(p: Placement) -> str:
    parts = [f"version `{p.version or '-'}`"]
    if p.replicas:
        parts.append(f"replicas {p.replicas.min}..{p.replicas.max}")
    if p.resources:
        parts.append(
            f"cpu {p.resources.cpu:g} memory {_fmt_size(p.resources.memory)} gpu {p.resources.gpu}"
            if p.resources.cpu is not None
            else f"gpu {p.resources.gpu}"
        )
    if p.batching:
        parts.append(f"max batch {p.batching.max_batch_size}")
    parts.append(f"instances {p.instances}")
    if p.gate:
        parts.append(f"gate from `{p.gate.source.name}`" + (" with canary" if p.canary else ""))
    if p.sla:
        parts.append("SLA")
    if p.monitors:
        parts.append(f"{len(p.monitors)} monitor(s)")
    tier = p.env.tier.value if p.env.tier else "?"
    return f"- **{p.env.name}** ({tier}): " + ", ".join(parts)


def hover_text(sym: Symbol, a: Analysis) -> str:
    r = a.resolved
    out = [f"**{sym.kind} {sym.name}** — {sym.span.file}:{sym.span.line}"]
    node = sym.node
    if isinstance(node, ir.Model):
        fmt = node.format.value if node.format else "?"
        out.append(
            f"format `{fmt}`, version `{node.version or '-'}`"
            + (f", owners {' '.join(node.owners)}" if node.owners else "")
        )
        if node.artifact:
            out.append(f"artifact `{node.artifact}`")
        out += ["", "Effective settings per environment:", ""]
        out += [_placement_line(r.place(node, e)) for e in r.served(node)] or ["- served nowhere"]
    elif isinstance(node, ir.Environment):
        tier = node.tier.value if node.tier else "?"
        out.append(
            f"tier `{tier}`, namespace `{node.namespace or node.name}`"
            + (f", cluster `{node.cluster}`" if node.cluster else "")
        )
        served = [p.model.name for p in r.placements(node)]
        out.append("serves " + (", ".join(f"`{m}`" for m in served) if served else "no model"))
    elif isinstance(node, ir.Dataset):
        out.append(f"version `{node.version or '-'}`, uri `{node.uri or '-'}`")
        if node.sha256:
            out.append(f"sha256 `{node.sha256}`")
    return "\n\n".join(out[:2]) + ("\n" + "\n".join(out[2:]) if len(out) > 2 else "")


def _block_at(a: Analysis, path: str, pos: t.Position, kinds: tuple[str, ...]) -> Symbol | None:
    """The gate, SLA or monitor block (of ``kinds``) the 0-based position is inside."""
    line, col = pos.line + 1, pos.character + 1
    return next((s for s in a.symbols if s.kind in kinds and s.span.file == path and _inside(s.span, line, col)), None)


def _header_word(text: str, pos: t.Position, sym: Symbol) -> str | None:
    """The block keyword (``gate``, ``sla``) when the position is on it."""
    word = _word_at(text, pos.line, pos.character)
    return word if word == sym.kind and pos.line + 1 == sym.span.line else None


def gate_hover(g: ir.Gate, a: Analysis) -> str:
    r = a.resolved
    target = r.tier(g.target.name)
    out = [f"**gate {g.source.name} -> {g.target.name} for {g.model.name}** — {g.span.file}:{g.span.line}", ""]
    before, after = r.version_in(g.model.name, g.source.name), r.version_in(g.model.name, g.target.name)
    moves = f"promotes `{g.model.name}` from `{g.source.name}` (runs `{before or '-'}`)"
    moves += f" to `{g.target.name}` (runs `{after or '-'}`)"
    out.append(moves + (", a production environment" if target is ir.Tier.PRODUCTION else ""))
    out.append("")
    out += [f"- {words.condition(c)}" for c in g.conditions]
    out += [f"- {words.load(g.load)}"] if g.load else []
    out += [f"- canary {words.canary(g.canary)}"] if g.canary else []
    out.append(
        f"- approval: {' '.join(g.approval)}" if g.approval else "- approval: none (promotes when the checks pass)"
    )
    return "\n".join(out)


def sla_hover(sla: ir.Sla, a: Analysis) -> str:
    out = [
        f"**sla {sla.model.name} in {sla.environment.name}** — {sla.span.file}:{sla.span.line}",
        "",
        "| objective | window | error budget |",
        "| --- | --- | --- |",
    ]
    out += [f"| {what} | {period} | {budget} |" for what, period, budget in words.sla_budgets(sla)]
    key = (sla.model.name, sla.environment.name)
    rules = [
        words.monitor_rule(rule)
        for m in a.resolved.spec.monitors
        if (m.model.name, m.environment.name) == key
        for rule in m.rules
    ]
    if rules:
        out += ["", "monitors: " + "; ".join(rules)]
    return "\n".join(out)


def _pin_gate(a: Analysis, path: str, pos: t.Position) -> ir.Gate | None:
    """The gate into an environment for the model whose pinned ``version`` is at the position."""
    line, col = pos.line + 1, pos.character + 1
    for env in a.resolved.spec.environments:
        for o in env.overrides:
            pin = o.spans.get("version")
            if o.version and pin is not None and pin.file == path and _inside(pin, line, col):
                model = a.resolved.models.get(o.model.name)
                return a.resolved.place(model, env).gate if model is not None else None
    return None


def _gate_references(g: ir.Gate, a: Analysis) -> list[Span]:
    """Where a gate acts: every gate of its model (the promotion chain) and the pins it guards."""
    spans = [_header(other.span) for other in a.resolved.spec.gates if other.model.name == g.model.name]
    env = a.resolved.environments.get(g.target.name)
    for o in env.overrides if env is not None else ():
        pin = o.spans.get("version")
        if o.model.name == g.model.name and pin is not None:
            spans.append(pin)
    return spans


def _sla_references(sla: ir.Sla, a: Analysis) -> list[Span]:
    """What an SLA goes with: its monitors and the gates into its environment for its model."""
    key = (sla.model.name, sla.environment.name)
    spans = [_header(sla.span)]
    spans += [_header(m.span) for m in a.resolved.spec.monitors if (m.model.name, m.environment.name) == key]
    spans += [_header(g.span) for g in a.resolved.spec.gates if (g.model.name, g.target.name) == key]
    return spans


def _locations(spans: list[Span]) -> list[t.Location]:
    return [
        t.Location(uri=from_fs_path(s.file) or s.file, range=_range(s))
        for s in sorted(set(spans), key=lambda s: (s.file, s.line, s.column))
    ]


def _header(span: Span) -> Span:
    """A block's first line (where a client should land, not the whole block)."""
    return Span(span.file, span.line, span.column, span.line, span.column + 1)


def build_server() -> ShipspecServer:
    server = ShipspecServer()

    @server.feature(t.INITIALIZED)
    def initialized(ls: ShipspecServer, params: t.InitializedParams) -> None:
        root = ls.workspace.root_path
        if root:
            ls.space.load_dir(Path(root))
        ls.refresh()

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ShipspecServer, params: t.DidOpenTextDocumentParams) -> None:
        ls.space.update(path_of(params.text_document.uri), params.text_document.text)
        ls.refresh()

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ShipspecServer, params: t.DidChangeTextDocumentParams) -> None:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        ls.space.update(path_of(params.text_document.uri), doc.source)
        ls.refresh()

    @server.feature(t.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: ShipspecServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
        path = path_of(params.text_document.uri)
        text = ls.workspace.get_text_document(params.text_document.uri).source
        source, errors = parse_text(text, path)
        if errors or source.tree is None:
            return None  # never rewrite a file that does not parse
        new = format_source(source)
        if new == text:
            return []
        end = t.Position(len(text.splitlines()) + 1, 0)
        return [t.TextEdit(range=t.Range(t.Position(0, 0), end), new_text=new)]

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: ShipspecServer, params: t.DefinitionParams) -> t.Location | None:
        name, a = _name_at(ls, params.text_document.uri, params.position)
        if name is None:
            gate = _pin_gate(a, path_of(params.text_document.uri), params.position)
            if gate is None:
                return None
            return t.Location(uri=from_fs_path(gate.span.file) or gate.span.file, range=_range(_header(gate.span)))
        sym = a.definitions[name]
        return t.Location(uri=from_fs_path(sym.name_span.file) or sym.name_span.file, range=_range(sym.name_span))

    @server.feature(t.TEXT_DOCUMENT_REFERENCES)
    def references(ls: ShipspecServer, params: t.ReferenceParams) -> list[t.Location]:
        name, a = _name_at(ls, params.text_document.uri, params.position)
        if name is None:
            path = path_of(params.text_document.uri)
            sym = _block_at(a, path, params.position, ("gate", "sla"))
            f = ls.space.files.get(path)
            if sym is None or f is None or _header_word(f.text, params.position, sym) is None:
                return []
            found = (
                _gate_references(sym.node, a)
                if isinstance(sym.node, ir.Gate)
                else _sla_references(sym.node, a)
                if isinstance(sym.node, ir.Sla)
                else []
            )
            return _locations(found)
        spans = [ref.span for ref in a.refs if ref.name == name]
        if params.context.include_declaration:
            spans.insert(0, a.definitions[name].name_span)
        return [
            t.Location(uri=from_fs_path(s.file) or s.file, range=_range(s))
            for s in sorted(set(spans), key=lambda s: (s.file, s.line, s.column))
        ]

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    def hover(ls: ShipspecServer, params: t.HoverParams) -> t.Hover | None:
        name, a = _name_at(ls, params.text_document.uri, params.position)
        if name is not None:
            text = hover_text(a.definitions[name], a)
        else:
            line, col = params.position.line + 1, params.position.character + 1
            here = [
                d
                for d in a.diagnostics.get(path_of(params.text_document.uri), [])
                if _inside(d.span, line, col) or (d.span.line == line and d.span.end_line == line)
            ]
            if not here:
                block = _block_at(a, path_of(params.text_document.uri), params.position, ("gate", "sla"))
                if block is None:
                    return None
                text = (
                    gate_hover(block.node, a)
                    if isinstance(block.node, ir.Gate)
                    else sla_hover(block.node, a)
                    if isinstance(block.node, ir.Sla)
                    else ""
                )
                return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text)) if text else None
            text = "\n\n".join(
                f"**{d.code}** ({d.severity.value}): {CODES[d.code][1]} — {d.message}"
                + (f"\n\nhint: {d.hint}" if d.hint else "")
                for d in here
            )
        return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text))

    @server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=[" "]))
    def completion(ls: ShipspecServer, params: t.CompletionParams) -> t.CompletionList:
        a = ls.current()
        text = ls.workspace.get_text_document(params.text_document.uri).source
        block = _enclosing_block(text, params.position.line, params.position.character)
        items: list[t.CompletionItem] = []
        if block is None:
            items += [t.CompletionItem(label=k, kind=t.CompletionItemKind.Keyword) for k in BLOCK_KEYWORDS]
        else:
            items += [
                t.CompletionItem(label=k, kind=t.CompletionItemKind.Field, detail=f"{block} statement")
                for k in FIELD_KEYWORDS.get(block, ())
            ]
        items += [
            t.CompletionItem(label=n, kind=t.CompletionItemKind.Reference, detail=s.kind)
            for n, s in sorted(a.definitions.items())
            if s.kind != "project"
        ]
        return t.CompletionList(is_incomplete=False, items=items)

    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls: ShipspecServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
        a = ls.current()
        path = path_of(params.text_document.uri)
        return [
            t.DocumentSymbol(
                name=s.name,
                detail=s.kind,
                kind=_KINDS[s.kind],
                range=_range(s.span),
                selection_range=_range(s.name_span),
            )
            for s in a.symbols
            if s.span.file == path
        ]

    return server


def _enclosing_block(text: str, line: int, col: int) -> str | None:
    """The keyword of the top-level block the position is inside (by brace depth), or None at top level."""
    lines = text.splitlines()
    before = "\n".join(lines[:line] + ([lines[line][:col]] if line < len(lines) else []))
    depth, keyword = 0, None
    for raw in before.splitlines():
        code = raw.split("#")[0]
        stripped = code.strip()
        if depth == 0 and stripped:
            word = stripped.split()[0]
            if word in FIELD_KEYWORDS:
                keyword = word
        depth += code.count("{") - code.count("}")
        depth = max(depth, 0)
    return keyword if depth > 0 else None


def serve(**_: Any) -> None:
    build_server().start_io()
