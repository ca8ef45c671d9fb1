"""Every string a spec writes is screened once, before lowering (issue 17).

* **Secrets** (SS507), by name and by value, wherever a string reaches output
  (env values, hyperparameters, Triton parameters, ``tests { run }``, commands,
  images, URIs): known token formats (AWS key ids, GitHub tokens, Slack tokens,
  JWTs, private keys), ``Bearer``/``Basic`` credentials, ``user:pass@`` in a URI,
  ``password=…`` assignments, and long high-entropy strings. Names: env vars,
  hyperparameters (rendered as env vars) and parameter keys that read like a
  password, token or key (``db_passwd``, ``PGPASS``, ``GH_PAT``, ``AWS_ACCESS_KEY_ID``).
  A ``secret "store:path#key"`` reference and a ``sha256`` are what they should be
  and are not screened.
* **GitHub Actions expressions** (SS206): ``${{`` in any string. Test commands,
  dataset and model versions reach ``run:`` steps, where GitHub would expand it.
* **Values that become paths** (SS204): a version holds no ``/``, ``\\``, ``..`` or
  control character (it is part of artifact and directory paths); an artifact or a
  dataset URI cannot be empty; the Kubernetes version is ``MAJOR.MINOR``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

from compiler.diagnostics import Sink, Span
from compiler.lark_standalone import Token, Tree
from compiler.lower.values import string_value

# Words whose presence in an env name the lowering already reports (lower._SECRET_WORDS).
_ALREADY = ("PASSWORD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL")
# Name segments (split on _, -, . and case changes) that mark a secret.
_SECRET_SEGMENTS = frozenset({
    "PASSWORD", "PASSWD", "PASSPHRASE", "PASS", "PWD", "PGPASS", "PGPASSWORD", "SECRET", "SECRETS", "TOKEN",
    "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "PAT", "PRIVATEKEY", "SESSIONKEY", "AUTHKEY",
    "SIGNINGKEY", "BEARER", "COOKIE", "DSN",
})  # fmt: skip
_SECRET_PAIRS = frozenset(
    {
        ("ACCESS", "KEY"),
        ("SECRET", "KEY"),
        ("API", "KEY"),
        ("PRIVATE", "KEY"),
        ("CLIENT", "SECRET"),
        ("AUTH", "TOKEN"),
        ("ACCESS", "TOKEN"),
    }
)

# (pattern, flags, needles, what): the needles are literal text every match of the pattern
# holds, so a value without any of them cannot match (None: no such text, always tried).
# A pattern is compiled the first time a value holds a needle: most specs hold no token,
# and compiling all of them cost a cold `shipspec validate` ~1.5 ms (issue 16).
_VALUE_PATTERNS: tuple[tuple[str, int, tuple[str, ...] | None, str], ...] = (
    (
        r"(?<![A-Z0-9])(AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}(?![A-Z0-9])",
        0,
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
        "an AWS access key id",
    ),
    (r"\bgh[pousr]_[A-Za-z0-9]{30,}", 0, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), "a GitHub token"),
    (r"\bgithub_pat_[A-Za-z0-9_]{20,}", 0, ("github_pat_",), "a GitHub token"),
    (r"\bglpat-[A-Za-z0-9_-]{20}", 0, ("glpat-",), "a GitLab token"),
    (r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0, ("xox",), "a Slack token"),
    (r"\bsk-[A-Za-z0-9_-]{20,}", 0, ("sk-",), "an API secret key"),
    (r"\bAIza[0-9A-Za-z_-]{35}", 0, ("AIza",), "a Google API key"),
    (r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", 0, ("eyJ",), "a JSON web token"),
    (r"-----BEGIN [A-Z ]*PRIVATE KEY", 0, ("-----BEGIN ",), "a private key"),
    # Case-insensitive: Unicode case folding makes a needle unsafe (the Kelvin sign is a 'k').
    (r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}", re.I, None, "an Authorization credential"),
    (r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", 0, ("://",), "a password in a URI (user:pass@)"),
    (
        r"(?<![\w/.@:-])[A-Za-z0-9._%-]+:[^/\s@:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+",
        0,
        ("@",),
        "a password before a host (user:pass@)",
    ),
    (
        r"(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*[^\s\"'$&|;]{3,}",
        0,
        None,
        "a credential assignment",
    ),
)
# The case-insensitive patterns' needles, lowercase: every match holds one, in any case. Only
# for an ASCII value: Unicode case folding matches a needle's letter with other characters
# (the Kelvin sign is a 'k'), so a value with any non-ASCII character is always tried.
_CASELESS_NEEDLES: dict[str, tuple[str, ...]] = {
    r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}": ("bearer", "basic", "token"),
    r"(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*[^\s\"'$&|;]{3,}": (
        "passw",
        "pwd",
        "secret",
        "token",
        "key",
    ),
}
_COMPILED: dict[tuple[str, int], re.Pattern[str]] = {}


def _compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    made = _COMPILED.get((pattern, flags))
    if made is None:
        made = _COMPILED[pattern, flags] = re.compile(pattern, flags)
    return made


_ENTROPY_CANDIDATE = r"[A-Za-z0-9+/=_-]{32,}"
_ENTROPY_MIN = 32  # the candidate's shortest match
_HEX = r"^[0-9a-fA-F]+$"

_PATHY = r"[/\\\x00-\x1f\x7f]|\.\."  # what _pathy finds (tests compare them)
_K8S_VERSION = r"^\d{1,2}\.\d{1,3}$"  # what _k8s_version matches


def _pathy(value: str) -> bool:
    """Whether ``_PATHY`` is found in ``value`` (a slash, backslash, control character or
    ``..``), without compiling it in every cold start (issue 16)."""
    return any(c in value for c in ("/", "\\", "\x7f", "..")) or (value != "" and min(value) < " ")


def _k8s_version(value: str) -> bool:
    """Whether ``_K8S_VERSION`` matches ``value`` (``$`` also before a final newline; a digit:
    ``str.isdecimal``, as ``\\d``), without compiling it (issue 16)."""
    parts = (value[:-1] if value.endswith("\n") else value).split(".")
    return len(parts) == 2 and 0 < len(parts[0]) <= 2 and 0 < len(parts[1]) <= 3 and all(p.isdecimal() for p in parts)


def _segments(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [s for s in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if s]


def name_problem(name: str) -> bool:
    """Whether an env, hyperparameter or parameter name reads like a secret."""
    parts = _segments(name)
    if any(p in _SECRET_SEGMENTS for p in parts):
        return True
    if any(pair in _SECRET_PAIRS for pair in zip(parts, parts[1:], strict=False)):
        return True
    joined = "".join(parts)
    return any(w in joined for w in ("PASSWORD", "PASSWD", "PGPASS", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY"))


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def value_problem(value: str) -> str | None:
    """What kind of secret ``value`` holds, or None."""
    lowered = value.lower() if value.isascii() else None
    for pattern, flags, needles, what in _VALUE_PATTERNS:
        if needles is None:
            caseless = _CASELESS_NEEDLES.get(pattern)
            if caseless is not None and lowered is not None and not any(n in lowered for n in caseless):
                continue  # issue 16: not compiled for a value that cannot match
        elif not any(n in value for n in needles):
            continue
        if _compiled(pattern, flags).search(value):
            return what
    if len(value) < _ENTROPY_MIN:
        return None
    for m in _compiled(_ENTROPY_CANDIDATE).finditer(value):
        s = m.group()
        if _compiled(_HEX).match(s) or "/" in s.strip("/") and s.count("/") > 2:
            continue  # digests and paths
        classes = sum(bool(re.search(p, s)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
        if classes == 3 and _entropy(s) >= 4.3:
            return "a high-entropy string (a key or token?)"
    return None


def _decode(tok: Token) -> str | None:
    try:
        value = string_value(str(tok))
    except ValueError:
        return None  # the lowering reports the bad escape
    if not isinstance(value, str):
        return None
    # A lone surrogate is the lowering's SS013; here it would only break the messages.
    return value.encode("utf-8", "replace").decode("utf-8")


_NO_VALUE_SCREEN = frozenset({"secret_ref", "sha256"})


def screen(tree: Tree[Token], sink: Sink, span: Callable[[Token], Span]) -> None:
    """Report secrets, GitHub expressions and unsafe path values in ``tree``."""
    for sub in tree.iter_subtrees():
        kind = str(sub.data)
        args = [c for c in sub.children if isinstance(c, Tree) or c.type in ("NAME", "STRING")]
        if kind == "env_var" and len(args) >= 2 and isinstance(args[0], Token):
            name = str(args[0])
            value_tree = args[-1]
            plain = isinstance(value_tree, Tree) and value_tree.data == "plain_value"
            if plain and not any(w in name.upper() for w in _ALREADY) and name_problem(name):
                sink.report(
                    "SS507",
                    f"'{name}' looks like a secret but is given as a plain value",
                    span(args[0]),
                    hint=f'refer to a secret store instead: env {name} = secret "vault:path#key"',
                )
        elif kind == "hyperparameter" and args and isinstance(args[0], Token):
            name = str(args[0])
            if name_problem(name):
                sink.report(
                    "SS507",
                    f"hyperparameter '{name}' looks like a secret; hyperparameters are rendered "
                    "as plain environment variables",
                    span(args[0]),
                    hint=f'pass it through the environment: env {name.upper()} = secret "vault:path#key"',
                )
        elif kind == "parameter" and args and isinstance(args[0], Token):
            key = _decode(args[0])
            if key is not None and name_problem(key):
                sink.report(
                    "SS507",
                    f"parameter '{key[:60]}' looks like a secret; parameters are written into "
                    "config.pbtxt in the clear",
                    span(args[0]),
                    hint="give the server the secret through its environment, from a secret store",
                )
        for child in sub.children:
            if not isinstance(child, Token) or child.type != "STRING":
                continue
            value = _decode(child)
            if value is None:
                continue
            if "${{" in value:
                sink.report(
                    "SS206",
                    f"string {_show(value)} contains a GitHub Actions expression '${{{{'",
                    span(child),
                    hint="spec values reach workflow steps verbatim; write the value itself",
                )
            if kind not in _NO_VALUE_SCREEN and (what := value_problem(value)) is not None:
                sink.report(
                    "SS507",
                    f"string {_show(value)} looks like {what}",
                    span(child),
                    hint='keep secrets in a secret store: env NAME = secret "vault:path#key"',
                )
            _path_value(kind, value, child, sink, span)


def _path_value(kind: str, value: str, tok: Token, sink: Sink, span: Callable[[Token], Span]) -> None:
    if kind == "version" and (not value.strip() or _pathy(value)):
        sink.report(
            "SS204",
            f"version {_show(value)} is empty or holds '/', '\\', '..' or a control character: "
            "a version becomes part of artifact and directory paths",
            span(tok),
        )
    elif kind in ("artifact", "uri") and not value.strip():
        sink.report(
            "SS204",
            f"{'artifact' if kind == 'artifact' else 'dataset uri'} is empty",
            span(tok),
            hint='write where it is, e.g. "s3://models/m/1.0.0/model.onnx"',
        )
    elif kind == "kubernetes_version" and not _k8s_version(value):
        sink.report("SS204", f'Kubernetes version {_show(value)} is not MAJOR.MINOR (e.g. "1.33")', span(tok))


def _show(value: str) -> str:
    shown = value if len(value) <= 60 else value[:40] + "…" + value[-10:]
    import json

    return json.dumps(shown, ensure_ascii=False)
