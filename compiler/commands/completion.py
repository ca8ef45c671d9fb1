"""``shipspec completion bash|zsh|fish``: shell completion scripts, written from the argument parser.

Hand-written rather than argcomplete: argcomplete runs Python (and imports shipspec) on
every <Tab>, and needs a global hook or `register-python-argcomplete`; these scripts are
static, generated from the same parser `--help` shows, so they cannot drift from it.
They complete command names, sub-commands (``gate check``, ``import triton``), options and
the choices of options that have them (``--format``); paths fall back to the shell's own
file completion.
"""

from __future__ import annotations

import argparse
import shlex

_SubParsers = argparse._SubParsersAction


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every (sub)command path ("gate check") and its parser; "" is the top level."""
    out = {prefix.strip(): parser}
    for action in parser._actions:
        if isinstance(action, _SubParsers):
            for name, child in action.choices.items():
                out.update(_commands(child, f"{prefix} {name}"))
    return out


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(o for a in parser._actions for o in a.option_strings if o.startswith("--"))


def _children(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(name for a in parser._actions if isinstance(a, _SubParsers) for name in a.choices)


def _choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    return {
        o: [str(c) for c in a.choices]
        for a in parser._actions
        if a.choices and not isinstance(a, _SubParsers)
        for o in (a.option_strings or ["<positional>"])
    }


def bash(parser: argparse.ArgumentParser) -> str:
    commands = _commands(parser)
    lines = [
        "# shipspec completion for bash: source <(shipspec completion bash)",
        "_shipspec() {",
        "  local cur prev path i w",
        '  cur="${COMP_WORDS[COMP_CWORD]}"',
        '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '  path=""',
        "  for ((i = 1; i < COMP_CWORD; i++)); do",
        '    w="${COMP_WORDS[i]}"',
        '    [[ "$w" == -* ]] && continue',
        '    case "${path:+$path }$w" in',
    ]
    known = sorted(c for c in commands if c)
    lines.append(f'      {"|".join(shlex.quote(c) for c in known)}) path="${{path:+$path }}$w" ;;')
    lines += ["    esac", "  done", '  case "$path" in']
    for name, sub in sorted(commands.items()):
        words = " ".join(_children(sub) + _options(sub))
        choices = _choices(sub)
        lines.append(f"    {shlex.quote(name)})")
        for option, values in sorted(choices.items()):
            if option.startswith("--"):
                lines.append(
                    f'      if [[ "$prev" == {option} ]]; then '
                    f'COMPREPLY=($(compgen -W "{" ".join(values)}" -- "$cur")); '
                    "return; fi"
                )
        if "<positional>" in choices and not _children(sub):
            words = " ".join(choices["<positional>"]) + " " + words
        lines.append(f'      COMPREPLY=($(compgen -W "{words}" -- "$cur"))')
        lines.append('      [[ "$cur" != -* && ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))')
        lines.append("      ;;")
    lines += ["  esac", "}", "complete -o filenames -F _shipspec shipspec", ""]
    return "\n".join(lines)


def zsh(parser: argparse.ArgumentParser) -> str:
    """zsh runs the bash function through its bashcompinit layer (part of zsh)."""
    return (
        "#compdef shipspec\n"
        '# shipspec completion for zsh: shipspec completion zsh > "${fpath[1]}/_shipspec"\n'
        "autoload -U +X bashcompinit && bashcompinit\n" + bash(parser)
    )


def fish(parser: argparse.ArgumentParser) -> str:
    commands = _commands(parser)
    lines = [
        "# shipspec completion for fish: shipspec completion fish > ~/.config/fish/completions/shipspec.fish",
        "complete -c shipspec -f",
    ]
    for name, sub in sorted(commands.items()):
        parts = name.split()
        if parts:
            condition = "; and ".join(f"__fish_seen_subcommand_from {p}" for p in parts)
        else:
            condition = "__fish_use_subcommand"
        help_of = {
            child: (child_parser.description or "")
            for a in sub._actions
            if isinstance(a, _SubParsers)
            for child, child_parser in a.choices.items()
        }
        for child in _children(sub):
            text = help_of.get(child, "").rstrip(".").replace("'", "")[:60]
            lines.append(f"complete -c shipspec -n '{condition}' -a {child} -d '{text}'")
        choices = _choices(sub)
        for action in sub._actions:
            for option in action.option_strings:
                if not option.startswith("--") or option in ("--help",):
                    continue
                extra = ""
                if option in choices:
                    extra = f" -x -a '{' '.join(choices[option])}'"
                elif action.nargs != 0:
                    extra = " -r -F"
                text = (action.help or "").split(";")[0].replace("'", "").replace("%", "%%")[:60]
                lines.append(f"complete -c shipspec -n '{condition}' -l {option[2:]}{extra} -d '{text}'")
    return "\n".join(lines) + "\n"


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](parser)
