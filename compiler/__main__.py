from compiler.cli import run

raise SystemExit(run())
