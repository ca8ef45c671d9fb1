"""The one root of every error shipspec reports to its user instead of a traceback.

The command line maps each class to an exit code (``compiler.cli``); library
code raises these and never returns exit codes.
"""

from __future__ import annotations


class ShipspecError(Exception):
    """Something the user can fix; the message says what (exit 2 unless a subclass says otherwise)."""


class UsageError(ShipspecError):
    """A problem with how shipspec was called or configured (exit 2)."""


class InputError(ShipspecError):
    """A file the command reads is malformed, e.g. evidence that does not parse (exit 1)."""


class Refused(ShipspecError):
    """The command ran and declined to act, e.g. a promotion the gates do not allow (exit 1)."""
