"""A content-addressed cache under ``<output root>/.shipspec/cache/``.

What it holds, each entry keyed by the sha256 of everything it depends on:

- ``ir``: the lowered IR and diagnostics of one spec file (its display path and text), and
  ``irs``: those of every file of a set of inputs, each file's apart (``parse.ir_pack``);
- ``units``: per build configuration, the render units the last build used
  (``compiler.backends.memo``): one entry, so a one-model edit renders only that model's,
  and beside it (``texts``, a blob) their files' texts, read only where a build needs one,
  and (``facts``, a blob the entry holds the sha256 of) their documents' facts, read only
  where a build verifies the Kubernetes policy on them;
- ``digests`` and ``groups``: per build configuration, the digest each record stood in unit
  keys by, found by its origin (``backends.digest_table``), and the loop bodies over units
  a build kept for the next process (``backends.memo_groups``);
- ``settled``, ``settled-tree``, ``settled-patch``, ``settled-specs``: per output root, the
  last compile's outcome, its tree's stats and ledger (after a small edit, a patch over
  them), and its spec files' stats and texts as it read them (``compiler.settled``);
- ``stat``: per output root, the (size, mtime, inode) and sha256 of each file shipspec
  wrote or read there, so the next plan need not read a file that did not change.

Rules it keeps:

- Safe to delete: a missing, truncated or foreign entry is a miss, never an error.
- Versioned: entries live under a directory named for the shipspec version and a
  fingerprint of the installed code and templates, so an upgrade (or an edit of an
  editable install) starts afresh; older version directories are removed.
- Bounded: after writing, the oldest entries go until the cache is under ``limit``.
- Never trusted from elsewhere: entries are pickles, so each carries an HMAC keyed
  by a secret kept outside the repository (the user's cache directory). An entry
  committed to a repository or copied from another machine fails the check and is
  a miss; loading it can never run code.
- Never a verdict: ``check`` and ``compile`` report the same with or without it
  (tests/unit/test_cache.py compares cached and uncached compiles after random edits).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import pickle
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler import __version__

if TYPE_CHECKING:
    from compiler.parallel import Forked

DIR = ".shipspec/cache"
# Bump when the layout or the meaning of an entry changes.
FORMAT = 3
LIMIT_BYTES = 512 << 20
# Kinds put while the output root does not exist yet that are written on ``close`` if a
# compile created it meanwhile (the render units of a first compile, for the next edit).
DEFERRED = frozenset({"ir", "irs", "jinja", "units", "texts", "facts", "digests", "groups"})
_MAC = hashlib.sha256().digest_size
# How long ``close`` waits for the child ``write_apart`` started (1 s at 1,000 models); past
# it the child is stopped and ``close`` writes the entries itself.
_APART_WAIT = 300.0
_STREAMED = 1 << 20  # an entry larger than this is unpickled from its file (``Cache._load``)
_CHUNK = 1 << 18  # what its MAC is checked over at a time
_MISS: Any = object()
# The first object of an entry put ``InParts``: (this, its head); its parts follow, then _END.
_PARTS = "shipspec.cache/in-parts"
_END = "shipspec.cache/end-of-parts"


class InParts:
    """An entry written as its ``head`` and then each of its ``parts`` (an iterable, read
    once, as it is written), by one pickler whose memory of the objects it wrote goes
    back to the head's after each part: a part refers to what the head holds by
    reference, but the pickler never remembers more than the head and one part. A
    pickler's memo is a table of 16 B slots, at most two-thirds full, of every object it
    wrote (16 MiB for 500,000, held until its pickle ends). ``get`` gives it back with
    ``parts`` a list."""

    def __init__(self, head: Any, parts: Iterable[Any]) -> None:
        self.head, self.parts = head, parts

    def written(self) -> tuple[Any, Iterable[Any]]:
        """The head and the parts, as ``put`` writes them (an entry may make them only then)."""
        return self.head, self.parts


def digest(*parts: str | bytes) -> str:
    """The sha256 of the parts, each length-prefixed (no two part lists collide)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def root_key(kind: str, root: Path) -> str:
    """The key of a per-output-root entry (an emitted tree's stats, its settled record)."""
    return digest(kind, str(root.resolve()))


def _fingerprint(roots: Iterable[Path]) -> str:
    """Names, sizes and mtimes of the files under ``roots`` (a few hundred stats)."""
    h = hashlib.sha256()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".pyc", ".tmp")):
                    continue
                st = os.stat(os.path.join(dirpath, name))
                h.update(f"{dirpath}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


_VERSION: list[str] = []
# The libraries whose output or data rendering and validation use.
FINGERPRINTED = ("PyYAML", "Jinja2", "kubernetes-validate", "jsonschema", "jsonschema-rs", "protobuf")


def dist_version(dist: str) -> str:
    """``importlib.metadata.version(dist)`` ("none": not installed), read from the name of the
    first ``<name>-<version>.dist-info`` directory on ``sys.path`` where one is: importing
    ``importlib.metadata`` (and the email parser it reads METADATA with) was 17 ms of every
    compile and check (issue 16). Anything else (an egg, a zip) asks ``importlib.metadata``."""
    import sys

    wanted = dist.lower().replace("-", "_").replace(".", "_")
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            stem, dot, ext = name.rpartition(".")
            if dot and ext in ("dist-info", "egg-info"):
                project, _, version = stem.partition("-")
                if project.lower().replace("-", "_").replace(".", "_") == wanted:
                    if ext == "dist-info" and version:
                        return version
                    return _metadata_version(dist)
    return _metadata_version(dist)


def _metadata_version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def version_tag() -> str:
    """The shipspec version and the fingerprint of its code and templates."""
    if not _VERSION:
        from compiler.resources import schemas_dir, templates_dir

        package = Path(__file__).parent
        # What rendering and validation read besides the spec: this code, its
        # templates and schemas, and the libraries whose output or data it uses.
        tools = [f"{dist}={dist_version(dist)}" for dist in FINGERPRINTED]
        code = _fingerprint((package, templates_dir(), schemas_dir()))
        _VERSION.append(f"{__version__}-f{FORMAT}-{digest(code, *tools)[:16]}")
    return _VERSION[0]


def _secret() -> bytes:
    """The HMAC key, kept in the user's cache directory (never in a repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "shipspec" / "cache-key"
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
    except OSError:
        pass
    key = os.urandom(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".cache-key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        os.replace(tmp, path)
        return path.read_bytes()  # another process may have won the race; use its key
    except OSError:
        return key  # unwritable home: a cache good for this process only


class _Signed:
    """A file the pickler writes to, adding what it writes to a MAC."""

    def __init__(self, fh: Any, mac: hmac.HMAC) -> None:
        self.fh, self.mac, self.size = fh, mac, 0

    def write(self, data: Any) -> int:
        self.mac.update(data)
        self.size += len(data)
        written: int = self.fh.write(data)
        return written


class _Blob:
    """A deferred ``put_blob``."""

    def __init__(self, chunks: Iterable[bytes], replaces: str | None) -> None:
        self.chunks, self.replaces = chunks, replaces


class Unshared:
    """An entry of many small objects none of which it holds twice (or whose repeats may load
    as copies), pickled without the pickler's memory of what it wrote: for 110,000 objects
    (the settled record's stats at 1,000 models) that table was 4 MiB held until the pickle
    ended, the last peak of a cold compile. ``get`` gives back the value itself."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _dump(value: Any, fh: Any) -> None:
    if isinstance(value, Unshared):
        pickler = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = True  # no memo: a value that refers to itself fails to pickle (none does here)
        pickler.dump(value.value)
        return
    if not isinstance(value, InParts):
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return
    # Protocol 3: each object a pickle remembers is stored under the index its pickler gives
    # it (from protocol 4, at the count of objects the unpickler holds, which goes on
    # growing past the parts the pickler forgot). The unpickler then holds the head's
    # objects and the latest part's, as the pickler does.
    pickler = pickle.Pickler(fh, protocol=3)
    made, parts = value.written()
    pickler.dump((_PARTS, made))
    head = pickler.memo.copy()
    for part in parts:
        pickler.dump(part)
        pickler.memo = head  # (copied in: the pickler does not change this dict)
    pickler.dump(_END)


def _is_head(value: Any) -> bool:
    return type(value) is tuple and len(value) == 2 and value[0] == _PARTS


def _in_parts(unpickler: pickle.Unpickler) -> Any:
    """What ``unpickler`` reads: an entry, or an ``InParts`` with its parts in a list (each
    part is loaded by the unpickler that loaded the head: it keeps what the head's refer to)."""
    value = unpickler.load()
    if not _is_head(value):
        return value
    parts = []
    while not (type(part := unpickler.load()) is str and part == _END):
        parts.append(part)
    return InParts(value[1], parts)


class Cache:
    """Entries by (kind, key) under ``root/.shipspec/cache/<version>/``."""

    def __init__(self, root: Path, limit: int = LIMIT_BYTES, *, writable: bool = True) -> None:
        self.writable = writable  # ``check`` reads the cache but never writes under the root
        self.root = root
        self.base = root / DIR
        self.dir = self.base / version_tag()
        self.limit = limit
        self._key = _secret()
        self.hits = 0
        self.misses = 0
        self.written = 0
        self._ignored = False
        self._pending: dict[tuple[str, str], Any] = {}
        self._apart: Forked | None = None  # a child writing ``_pending`` (``write_apart``)

    def _path(self, kind: str, key: str) -> Path:
        return self.dir / kind / key[:2] / key

    def get(self, kind: str, key: str) -> Any:
        """The entry, or None (missing, damaged, from another key or version)."""
        try:
            with open(self._path(kind, key), "rb") as fh:
                value = self._load(fh, kind)
        except OSError:
            value = _MISS
        if value is _MISS:
            self.misses += 1
            return None
        self.hits += 1
        return value

    def _load(self, fh: Any, kind: str) -> Any:
        """The entry ``fh`` holds, once its MAC is checked (``_MISS``: damaged, or not ours).
        A large one (the render-unit memo: 12 MB at 1,000 models) is read twice, in chunks,
        rather than held whole while it is unpickled: the same time, and 20 MiB less of a
        one-model edit's peak (issue 16). The file stays open between the two reads,
        and entries are replaced by a rename, never rewritten: both read the same bytes."""
        size = os.fstat(fh.fileno()).st_size
        check = hmac.new(self._key, kind.encode(), "sha256")
        mac = fh.read(_MAC)
        if size <= _STREAMED:
            data = fh.read()
            check.update(data)
        else:
            # Into one buffer: a MiB read as a new bytes object each time was a mapping made and
            # dropped (heap.return_freed_memory), 16 ms of the render-unit memo's pass where
            # 9.5 is reading and hashing (issue 16).
            chunk = bytearray(_CHUNK)
            view = memoryview(chunk)
            while read := fh.readinto(chunk):
                check.update(view[:read])
        if len(mac) != _MAC or not hmac.compare_digest(mac, check.digest()):
            return _MISS
        try:
            # Authenticated above: only this user's shipspec wrote it.
            if size <= _STREAMED:
                value = pickle.loads(data)
                return _in_parts(pickle.Unpickler(io.BytesIO(data))) if _is_head(value) else value
            fh.seek(_MAC)
            return _in_parts(pickle.Unpickler(fh))
        except Exception:  # noqa: BLE001 - a damaged entry is a miss
            return _MISS

    def put_blob(self, kind: str, name: str, chunks: Iterable[bytes], *, replaces: str | None = None) -> None:
        """Store ``chunks`` as the bytes of ``kind/name``, unsigned: what reads them checks each
        part against a signed entry (the memo's texts against their files' digests). Once
        written, the other blobs of ``kind`` whose names start with ``replaces`` go (a reader
        that opened one keeps it). Deferred as ``put`` is; ``chunks`` is read only then."""
        if not self.writable:
            return
        if not self.root.is_dir():
            if kind in DEFERRED:
                self._pending[(kind, name)] = _Blob(chunks, replaces)
            return
        self._write_blob(kind, name, chunks, replaces)

    def open_blob(self, kind: str, name: str) -> Any:
        """A read-only memory map of ``kind/name`` (bytes when it is empty), or None."""
        import mmap

        try:
            with open(self.dir / kind / name, "rb") as fh:
                if os.fstat(fh.fileno()).st_size == 0:
                    return b""
                return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None

    def _write_blob(self, kind: str, name: str, chunks: Iterable[bytes], replaces: str | None) -> None:
        folder = self.dir / kind
        path = folder / name
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        try:
            self._ignore()
            folder.mkdir(parents=True, exist_ok=True)
            size = 0
            with open(tmp, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    size += len(chunk)
            os.replace(tmp, path)
            self.written += size
        except OSError:
            tmp.unlink(missing_ok=True)
            return
        if replaces is not None:
            for other in folder.iterdir():
                if other.name != name and other.name.startswith(replaces):
                    try:
                        other.unlink(missing_ok=True)
                    except OSError:
                        pass  # still mapped (where that keeps a file), or not ours: the bound removes it later

    def _ignore(self) -> None:
        if not self._ignored:
            self.base.mkdir(parents=True, exist_ok=True)
            ignore = self.base / ".gitignore"
            if not ignore.is_file():
                # Never committed: the cache is local (and worthless elsewhere: see _secret).
                ignore.write_text("# Local build cache of shipspec; safe to delete.\n*\n")
            self._ignored = True

    def prepare(self, kind: str) -> None:
        """Make the directory of ``kind``'s entries now (when the root exists): making the cache's
        first directory changes the mtime of the root's ``.shipspec``, which a settled record
        (``compiler.settled``) stats before it is put."""
        if self.writable and self.root.is_dir():
            with contextlib.suppress(OSError):
                self._ignore()
                (self.dir / kind).mkdir(parents=True, exist_ok=True)

    def put(self, kind: str, key: str, value: Any) -> None:
        """Store an entry (atomically); a cache that cannot be written is no error. Nothing is
        written under an output root that does not exist yet: a compile that fails (or one
        that has not emitted) creates no directory."""
        if not self.writable:
            return
        if not self.root.is_dir():
            if kind in DEFERRED:
                self._pending[(kind, key)] = value
            return
        self._write(kind, key, value)

    def _write(self, kind: str, key: str, value: Any) -> None:
        path = self._path(kind, key)
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
        try:
            self._ignore()
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                # Pickled straight to the file and signed as it goes: the render-unit memo is
                # ~90 MB at 1,000 models, and holding its pickle was the peak of a cold compile.
                fh.write(bytes(_MAC))  # the MAC's place, written once the body is
                signed = _Signed(fh, hmac.new(self._key, kind.encode(), "sha256"))
                _dump(value, signed)
                fh.seek(0)
                fh.write(signed.mac.digest())
            os.replace(tmp, path)
            self.written += _MAC + signed.size
        except OSError:
            tmp.unlink(missing_ok=True)

    @property
    def deferred(self) -> bool:
        """Whether entries wait for ``close`` to be written (put before the root existed)."""
        return bool(self._pending)

    def write_apart(self) -> None:
        """Start writing the deferred entries in a forked child, the root being there now.
        A cold compile's emit is the kernel's work on one core; pickling what it deferred
        (the render memo, its texts and facts: 1.0 s at 1,000 models) came after it, on
        that core, while the other sat idle. ``close`` waits for the child (or writes the
        entries itself, where the child did not say it wrote them all)."""
        if not self._pending or self._apart is not None or not self.writable or not self.root.is_dir():
            return
        from compiler.parallel import fork_call

        before = self.written

        def write() -> bytes:  # in the child: what was pending when it forked
            self._write_each(self._pending)
            return f"wrote {self.written - before}".encode()

        self._apart = fork_call(write)

    def _write_each(self, pending: dict[tuple[str, str], Any]) -> None:
        for (kind, key), value in pending.items():
            if isinstance(value, _Blob):
                self._write_blob(kind, key, value.chunks, value.replaces)
            else:
                self._write(kind, key, value)

    def close(self) -> None:
        """Write the deferred entries if the root exists now; drop other versions'
        directories and, over ``limit``, the oldest entries."""
        pending, self._pending = self._pending, {}
        apart, self._apart = self._apart, None
        if apart is not None:
            said = apart.result(_APART_WAIT) or b""
            if said.startswith(b"wrote "):
                self.written += int(said[6:])
                pending = {}
        if pending and self.root.is_dir():
            self._write_each(pending)
        if not self.written or not self.dir.is_dir():
            return
        for other in self.base.iterdir():
            if other.is_dir() and other != self.dir:
                shutil.rmtree(other, ignore_errors=True)
        entries = []
        total = 0
        for dirpath, _, filenames in os.walk(self.dir):
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                entries.append((st.st_mtime_ns, st.st_size, path))
                total += st.st_size
        if total <= self.limit:
            return
        for _, size, path in sorted(entries):
            if total <= self.limit:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Memory:
    """The same interface in memory: a watching process keeps its entries here."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Any] = {}
        self.hits = 0
        self.misses = 0
        self.touched: set[tuple[str, str]] = set()  # read or written since the last ``sweep``

    def get(self, kind: str, key: str) -> Any:
        value = self.entries.get((kind, key))
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
            self.touched.add((kind, key))
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        if isinstance(value, Unshared):  # a way to pickle it: kept here as it is
            value = value.value
        if kind == "units":  # only the latest build's units are worth their memory
            self.entries = {k: v for k, v in self.entries.items() if k[0] != kind}
        self.entries[(kind, key)] = value
        self.touched.add((kind, key))

    def sweep(self, kind: str) -> None:
        """Drop the entries of ``kind`` nothing read or wrote since the last sweep: a watching
        process sweeps each file's IR after a build, so the IR of texts a file no longer has
        (every earlier edit's) does not pile up over a long session."""
        self.entries = {k: v for k, v in self.entries.items() if k[0] != kind or k in self.touched}
        self.touched = set()

    def close(self) -> None:
        pass


def tree_digest(root: Path) -> str:
    """The paths and contents of every file under ``root`` (a user's template overrides)."""
    parts: list[str | bytes] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return digest(*parts)
