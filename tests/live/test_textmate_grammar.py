"""The VS Code grammar (editors/vscode/), run by the real vscode-textmate on the real
oniguruma engine (npm, under node), over every example spec: each token shipspec's own
parser finds must get the scope its role calls for. The parser is the oracle: a keyword
(including one used as a name, `model version {`), a defined name, a reference to a
model / environment / dataset, a string, a number and its unit, a comment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.lark_standalone import Token, Tree, UnexpectedInput
from compiler.parse.syntax import parser, scan_comments
from tests.support.node_tools import GRAMMAR, tokenize
from tests.support.node_tools import Token as TmToken

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"

BLOCKS = {"project", "dataset", "environment", "model", "training"}
HEADERS = {"sla", "monitor", "gate"} | BLOCKS
MODEL, ENV, DATASET = "variable.other.model", "variable.other.environment", "variable.other.dataset"

# The scope each NAME gets, by the rule it sits in and its index among that rule's NAMEs.
NAME_ROLES: dict[str, tuple[str, ...]] = {
    **{b: (f"entity.name.type.{b}",) for b in BLOCKS},
    "sla": (MODEL, ENV),
    "monitor": (MODEL, ENV),
    "gate": (ENV, ENV, MODEL),
    "trained_on": (DATASET,),
    "train_dataset": (DATASET,),
    "gate_metric": ("variable.other.metric", DATASET),
    "gate_drift": ("variable.other.metric",),
    "gate_fairness": ("variable.other.metric",),
    "name_list": (ENV,),  # `serve in a, b`: every name
    "train_in": (ENV,),
    "shadow": (ENV,),
    "override": (MODEL,),
    "step": (MODEL,),
    "tier": ("support.constant.tier",),
    "format": ("support.constant.format",),
    "cache": ("support.constant.cache",),
    "versions": ("support.constant.versions",),
    "queue_action": ("support.constant.on_timeout",),
    "seq_strategy": ("support.constant.strategy",),
    "tensor_type": ("support.type.dtype",),
    "input": ("variable.other.tensor",),
    "output": ("variable.other.tensor",),
    "step_in": ("variable.other.tensor", "variable.other.tensor"),
    "step_out": ("variable.other.tensor", "variable.other.tensor"),
    "resource_stmt": ("variable.parameter.resource",),
    "hyperparameter": ("variable.parameter.hyperparameter", "constant.other.value"),
    "monitor_rule": ("support.variable.signal", "support.variable.statistic"),
    "action": ("support.constant.action",),
    "env_var": ("variable.other.env",),
    "runtime": ("support.constant.runtime",),
    "signature": ("support.constant.signature",),
    "identity": ("support.constant.identity",),
    "tensor_format": ("support.constant.layout",),
    "batch_input": (
        "variable.other.tensor",
        "support.type.dtype",
        "support.constant.batch_kind",
        "variable.other.tensor",
    ),
    "batch_output": ("variable.other.tensor", "support.constant.batch_kind", "variable.other.tensor"),
    "seq_control": ("support.constant.control", "variable.other.tensor", "support.type.dtype"),
}


def _parses(text: str) -> bool:
    try:
        parser().parse(text)
    except UnexpectedInput:  # a corpus case of a syntax error: no oracle
        return False
    return True


def _spec_files() -> dict[str, str]:
    """The example specs, the golden cases' and every corpus case that parses (they use every
    statement of the language, the Triton ones included)."""
    files = [
        *sorted((ROOT / "specs").rglob("*.ship")),
        *sorted((ROOT / "golden").glob("*/specs/*.ship")),
        *sorted((ROOT / "tests" / "corpus").glob("*.ship")),
    ]
    texts = {str(p.relative_to(ROOT)): p.read_bytes().decode("utf-8", errors="replace") for p in files}
    return {name: text for name, text in texts.items() if "\ufffd" not in text and _parses(text)}


def _tokens(tree: Tree[Token]) -> Iterator[tuple[Token, str, int]]:
    """Every token with the rule it sits in and its index among that rule's NAME tokens."""
    names = 0
    for child in tree.children:
        if isinstance(child, Tree):
            yield from _tokens(child)
        else:
            yield child, str(tree.data), names if child.type == "NAME" else -1
            names += child.type == "NAME"


def _expected(tok: Token, rule: str, index: int) -> list[tuple[int, str]]:
    """(offset into the token, scope) pairs the grammar must give it; [] for punctuation."""
    text = str(tok)
    if tok.type == "STRING":
        return [(0, "string.quoted.double"), (len(text) - 1, "string.quoted.double")]
    if tok.type == "NUMBER":
        return [(0, "constant.numeric")]
    if tok.type == "QUANTITY":
        digits = len(text) - len(text.lstrip("0123456789."))
        return [(0, "constant.numeric"), (digits, "keyword.other.unit")]
    if tok.type == "PERCENTILE":
        return [(0, "constant.other.percentile")]
    if tok.type == "OWNER":
        return [(0, "entity.name.tag.owner")]
    if tok.type == "CMP":
        return [(0, "keyword.operator.comparison")]
    if tok.type == "NAME":
        roles = NAME_ROLES.get(rule)
        assert roles is not None, f"a NAME in rule {rule!r}: give it a role in NAME_ROLES"
        return [(0, roles[min(index, len(roles) - 1)])]
    if text == "->":
        return [(0, "keyword.operator.arrow")]
    if text == "secret":
        return [(0, "storage.modifier.secret")]
    if text.isidentifier():  # a keyword
        return [(0, f"storage.type.{text}" if text in HEADERS and rule == text else "keyword.other")]
    return []


def _scopes_at(tokens: list[TmToken], line: int, col: int) -> list[str]:
    for t_line, start, end, scopes in tokens:
        if t_line == line and start <= col < end:
            return scopes
    raise AssertionError(f"no token at {line + 1}:{col + 1}")


def _has(scopes: list[str], want: str) -> bool:
    return any(s == f"{want}.shipspec" or s.startswith(f"{want}.") for s in scopes)


def _check(files: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    tokenized = tokenize(files)
    counts: dict[str, int] = {}
    wrong = []
    for name, text in files.items():
        tokens = tokenized[name]
        for tok, rule, index in _tokens(parser().parse(text)):
            for offset, want in _expected(tok, rule, index):
                assert tok.line is not None and tok.column is not None
                scopes = _scopes_at(tokens, tok.line - 1, tok.column - 1 + offset)
                counts[want] = counts.get(want, 0) + 1
                if not _has(scopes, want):
                    wrong.append(
                        f"{name}:{tok.line}:{tok.column} {str(tok)!r} in {rule}: want {want}, got {scopes[1:]}"
                    )
        for c in scan_comments(text):
            for offset in (0, len(c.text) - 1):
                scopes = _scopes_at(tokens, c.line - 1, c.column - 1 + offset)
                counts["comment"] = counts.get("comment", 0) + 1
                if not _has(scopes, "comment.line.number-sign"):
                    wrong.append(f"{name}:{c.line}:{c.column} comment: got {scopes[1:]}")
    return counts, wrong


def test_every_token_of_the_example_specs_gets_its_scope() -> None:
    files = _spec_files()
    assert len(files) >= 60
    counts, wrong = _check(files)
    assert not wrong, "\n".join(wrong[:40])
    # Every kind of token the issue names was seen, many times.
    for kind in (
        "keyword.other",
        "storage.type.model",
        "entity.name.type.model",
        MODEL,
        ENV,
        DATASET,
        "string.quoted.double",
        "constant.numeric",
        "keyword.other.unit",
        "comment",
        "constant.other.percentile",
        "entity.name.tag.owner",
    ):
        assert counts.get(kind, 0) >= 3, (kind, counts)
    # The Triton statements' names, from the corpus: ragged batching and sequence controls.
    for kind in (
        "support.constant.batch_kind",
        "support.constant.control",
        "support.type.dtype",
        "variable.other.tensor",
    ):
        assert counts.get(kind, 0) >= 1, (kind, counts)


def test_keywords_used_as_names_are_names() -> None:
    """The contextual lexer lets a model be called `version` and a dataset `model`."""
    text = (
        'dataset model { version "1" }  # a dataset named model\n'
        "environment tier { tier staging }\n"
        'model version {\n  version "1.0.0"\n  trained_on model\n  serve in tier\n'
        "  resources { cpu 1  memory 512Mi  gpu 0 }\n}\n"
        "sla version in tier { latency p99.9 < 2.5ms  availability 99.95% over 28d windows 7d }\n"
        "monitor version in tier { drift psi > 0.2 for 1h -> retrain }\n"
        "gate tier -> tier for version { metric for >= 0.5 on model  approval @org/team }\n"
    )
    counts, wrong = _check({"names.ship": text})
    assert not wrong, "\n".join(wrong)
    assert counts["entity.name.type.model"] == 1 and counts["entity.name.type.dataset"] == 1


def test_the_oracle_can_fail() -> None:
    """A grammar without its reference rules: the same check reports the references."""
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    grammar["repository"]["statements"]["patterns"] = [
        p for p in grammar["repository"]["statements"]["patterns"] if "trained_on" not in p.get("match", "")
    ]
    broken = GRAMMAR.parent / ".broken.tmLanguage.json"
    try:
        broken.write_text(json.dumps(grammar), encoding="utf-8")
        got = tokenize({"m.ship": "model m {\n  trained_on d\n}\n"}, grammar=broken)["m.ship"]
    finally:
        broken.unlink(missing_ok=True)
    assert not _has(_scopes_at(got, 1, 13), DATASET)


def test_the_extension_manifest_points_at_the_grammar() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    (language,) = contributes["languages"]
    (grammar,) = contributes["grammars"]
    assert language["id"] == grammar["language"] == "shipspec" and language["extensions"] == [".ship"]
    assert (EXTENSION / grammar["path"]).resolve() == GRAMMAR
    assert grammar["scopeName"] == json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"]
    config = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
