"""The language server's workspace is incremental: an edit re-parses only the edited file."""

from __future__ import annotations

from bench.synth import generate
from compiler.lsp.workspace import Workspace


def test_an_edit_reparses_one_file_and_rechecks_the_whole_spec(tmp_path):
    specs = generate(tmp_path, 50)
    ws = Workspace()
    ws.load_dir(specs)
    assert ws.parses == 51
    ws.analyse()
    edited = str(specs / "models" / "m00007.ship")
    ws.update(edited, ws.files[edited].text.replace("trained_on events", "trained_on eventz"))
    found = ws.analyse()
    assert ws.parses == 52
    assert [d.code for d in found.diagnostics[edited] if d.code == "SS101"] == ["SS101"]
    ws.update(edited, ws.files[edited].text)  # the same text again: nothing to parse
    assert ws.parses == 52
