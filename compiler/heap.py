"""How the C allocator gives memory back, for a command that builds the spec once.

glibc serves a block of at least ``M_MMAP_THRESHOLD`` bytes (128 KiB to start) with
a mapping of its own, returned to the system when the block is freed. But it raises
that threshold to the size of each such block freed, up to 32 MiB: after a build has
freed one large buffer (the 8 MB alerting rules of an environment, a pickle's memo
table), every block below that size comes from the heap, where memory freed between
blocks still in use stays with the process. A cold compile at 1,000 models peaked
about 19 MiB higher for it (issue 16, target 6; ``bench/README.md``).

Fixing the threshold keeps large blocks in mappings of their own for the whole run;
setting it also turns off glibc's moving of the trim threshold. The cost is a
``mmap``/``munmap`` pair per large block, which a build has few of (its texts are
spooled to a file, not held).
"""

from __future__ import annotations

import os

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_THRESHOLD = 128 * 1024  # glibc's own starting value


def return_freed_memory() -> bool:
    """Keep the C allocator's large blocks in mappings of their own (glibc only): whether
    it was set. Anywhere else (musl, macOS, Windows) nothing changes."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
    except (ValueError, OSError, AttributeError):  # not glibc, or no confstr at all
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
    except (OSError, AttributeError):
        return False
