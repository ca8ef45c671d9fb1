"""Mutators: byte-level, and grammar-aware (the spec's own tokens and hostile values)."""

from __future__ import annotations

import random
import re

# The spec's tokens, roughly as the grammar lexes them (compiler/grammar/spec.lark).
TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|p\d+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[A-Za-z%]*'
    r"|@[\w./-]+|[A-Za-z_]\w*|->|\.\.|<=|>=|==|[{}\[\](),:=<>]|\s+|.",
    re.S,
)

# Values that once crashed, hung or escaped (issue 17) and their neighbours.
HOSTILE_NUMBERS = [
    "0",
    "-1",
    "1e999999999",
    "9" * 401,
    "1" * 5000,
    "1" * 200 + "." + "5" * 200,
    "2147483648",
    "1e15",
    "1e-400",
    "0.0000001",
    "4294967296",
    "1e400",
    "-0",
    "00",
    "1.5",
]
HOSTILE_QUANTITIES = [
    "0ms",
    "1e999s",
    "9" * 400 + "Gi",
    "1e999rps",
    "100%",
    "101%",
    "0%",
    "99.999999999%",
    "1Ti",
    "1000000000000000000000d",
    "p0",
    "p100",
    "p" + "9" * 400,
    "-5ms",
    "1Zi",
    "inf",
    "nan",
]
HOSTILE_STRINGS = [
    '""',
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"${{ github.event.pull_request.title }}"',
    '"../../other/9.9.9"',
    '"a\\nb: c"',
    '"---\\nkind: Secret"',
    '"{{ 7*7 }}"',
    '"{% raw %}"',
    '"\\" + x"',
    '"\\\\"',
    '"latest"',
    '"AKIAIOSFODNN7EXAMPLE"',
    '"postgres://admin:pw@db/x"',
    '"Bearer abcdefghijklmnop"',
    '"ghp_' + "a" * 36 + '"',
    '"' + "x" * 300 + '"',
    '"\\u0000"',
    '"s3://"',
    '"  "',
    '"\\t"',
    '"é"',
    '"' + "a/" * 200 + '"',
    '"*"',
    '"&a"',
    '"!!python/object"',
    '"0x10"',
    '"yes"',
    '"null"',
]
KEYWORDS = (
    "project registry owners environment tier namespace replicas model version format artifact input output "
    "batching max preferred delay resources cpu memory gpu serve in sla latency availability over gate for "
    "metric on load at canary approval dataset uri training monitor drift env secret parameter tests run "
    "instances versions latest all cache step optional reshape override production staging development "
    "preprod testing onnx pytorch ensemble python tensorflow tensorrt fp32 int64 bool string"
).split()
PUNCT = ["{", "}", "[", "]", "(", ")", ",", ":", "=", "->", "..", "<", ">=", "\n", '"', "\\", "#", "@a/b"]


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def _kind(tok: str) -> str:
    if tok.startswith('"'):
        return "string"
    if tok[:1].isdigit() or tok[:1] == "-" and tok[1:2].isdigit():
        return "quantity" if tok[-1:].isalpha() or tok.endswith("%") else "number"
    if re.fullmatch(r"p\d+(\.\d+)?", tok):
        return "quantity"
    if tok[:1].isalpha() or tok[:1] == "_":
        return "name"
    return "other"


def grammar_mutation(text: str, rng: random.Random, pool: list[str]) -> str:
    """One token-level edit: replace a token by a hostile one of its kind, a keyword,
    punctuation or a token of another seed; duplicate, delete or nest a span."""
    toks = tokens(text)
    if not toks:
        return text
    solid = [i for i, t in enumerate(toks) if not t.isspace()]
    if not solid:
        return text
    i = rng.choice(solid)
    op = rng.randrange(9)
    kind = _kind(toks[i])
    if op <= 2:
        choices = {"string": HOSTILE_STRINGS, "number": HOSTILE_NUMBERS, "quantity": HOSTILE_QUANTITIES}.get(kind)
        toks[i] = rng.choice(choices) if choices else rng.choice(KEYWORDS)
    elif op == 3:
        toks[i] = rng.choice(KEYWORDS + PUNCT)
    elif op == 4:
        other = tokens(rng.choice(pool))
        toks[i] = rng.choice([t for t in other if not t.isspace()] or ["x"])
    elif op == 5:
        del toks[i]
    elif op == 6:  # duplicate a statement-sized span
        j = min(len(toks), i + rng.randint(1, 40))
        toks[i:i] = toks[i:j]
    elif op == 7:  # a line from another seed
        lines = rng.choice(pool).splitlines(keepends=True) or ["\n"]
        toks.insert(i, rng.choice(lines))
    else:  # nesting or repetition
        toks.insert(
            i,
            rng.choice(
                [
                    "{" * rng.randint(1, 100),
                    "[" * rng.randint(1, 100),
                    "# c\n" * rng.randint(1, 50),
                    "\\" * rng.randint(1, 5),
                    '"\\"' * rng.randint(1, 5),
                ]
            ),
        )
    return "".join(toks)


def byte_mutation(data: bytes, rng: random.Random, pool: list[bytes]) -> bytes:
    """One byte-level edit: flip, insert, delete, duplicate, splice."""
    b = bytearray(data)
    op = rng.randrange(6)
    i = rng.randrange(len(b) + 1)
    if op == 0 and b:
        b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
    elif op == 1:
        special = [0, 0x0A, 0x0D, 0x22, 0x5C, 0x7B, 0x7D, 0xC3, 0xED, 0xEF, 0xFF, rng.randrange(256)]
        b[i:i] = bytes([rng.choice(special)])
    elif op == 2:
        j = min(len(b), i + rng.randint(1, 64))
        del b[i:j]
    elif op == 3:
        j = min(len(b), i + rng.randint(1, 64))
        b[i:i] = b[i:j] * rng.randint(1, 4)
    elif op == 4:
        other = rng.choice(pool)
        k = rng.randrange(len(other) + 1)
        b[i:] = other[k:]
    else:
        b[i:i] = rng.choice([b"\xef\xbb\xbf", b"\r\n", b"\xed\xa0\x80", b"\t", b"\x00", b"\xc0\x80"])
    return bytes(b)


def mutate_text(text: str, rng: random.Random, pool: list[str], rounds: int) -> str:
    for _ in range(rounds):
        text = grammar_mutation(text, rng, pool)
    return text


def gentle_mutation(text: str, rng: random.Random, pool: list[str]) -> str:
    """One edit likely to keep a clean spec clean: a string, number or name swapped
    for one of the same kind from the seeds (or a hostile string), so mutants reach
    export, compile and the writers."""
    toks = tokens(text)
    kinds = [i for i, t in enumerate(toks) if _kind(t) in ("string", "number", "quantity")]
    if not kinds:
        return text
    i = rng.choice(kinds)
    kind = _kind(toks[i])
    if kind == "string" and rng.random() < 0.3:
        toks[i] = rng.choice(HOSTILE_STRINGS)
    else:
        same = [t for t in tokens(rng.choice(pool)) if _kind(t) == kind]
        if same:
            toks[i] = rng.choice(same)
    return "".join(toks)
