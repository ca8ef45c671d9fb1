"""The npm programs the live tests run, installed by scripts/bootstrap into .tools/node
(pinned by scripts/node-tools/package-lock.json), and the scripts that drive them."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools" / "node"
SCRIPTS = Path(__file__).resolve().parent / "node"

_MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def node() -> str:
    found = shutil.which("node")
    assert found, "node is not installed (scripts/bootstrap expects Debian's nodejs)"
    assert (TOOLS / "node_modules").is_dir(), f"{TOOLS}/node_modules is missing: run scripts/bootstrap"
    return found


def run_script(script: str, payload: Any, timeout: float = 120) -> Any:
    """Run tests/support/node/<script> from .tools/node (where its packages resolve),
    the payload as JSON on stdin; its stdout parsed as JSON."""
    # Node resolves bare imports from the script's own directory upwards, so the script
    # is copied next to node_modules for the run.
    target = TOOLS / f".shipspec-{script}"
    target.write_bytes((SCRIPTS / script).read_bytes())
    proc = subprocess.run(
        [node(), str(target)],
        input=json.dumps(payload).encode(),
        capture_output=True,
        timeout=timeout,
        cwd=TOOLS,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-4000:]
    return json.loads(proc.stdout)


def mermaid_blocks(markdown: str) -> list[str]:
    """The text of every fenced ```mermaid block of a Markdown file."""
    return [m.group(1) for m in _MERMAID_BLOCK.finditer(markdown)]


def mermaid_label(encoded: str) -> str:
    """A label as Mermaid will show it: its entity codes (kept encoded in the parser's
    database as ``ﬂ°name¶ß`` / ``ﬂ°°num¶ß``) decoded, ``<br>`` as a newline."""
    text = encoded.replace("ﬂ°°", "&#").replace("ﬂ°", "&").replace("¶ß", ";")
    return html.unescape(text).replace("<br>", "\n")


def parse_mermaid(diagrams: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each diagram (name -> text) as Mermaid's parser saw it: ok, type, error."""
    results = run_script("mermaid_parse.mjs", [{"name": k, "text": v} for k, v in diagrams.items()])
    return {r["name"]: r for r in results}


GRAMMAR = ROOT / "editors" / "vscode" / "syntaxes" / "shipspec.tmLanguage.json"

Token = tuple[int, int, int, list[str]]


def tokenize(files: dict[str, str], grammar: Path = GRAMMAR) -> dict[str, list[Token]]:
    """Each text tokenized by vscode-textmate with the grammar: (line, start, end, scopes) per token,
    0-based lines and columns."""
    got = run_script("textmate_tokenize.mjs", {"grammar": str(grammar), "files": files})
    return {name: [(t[0], t[1], t[2], t[3]) for t in tokens] for name, tokens in got.items()}
