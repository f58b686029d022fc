"""Error types with reason codes operators can filter on.

Messages never carry PHI: they name segments, positions and control numbers,
never element values from patient loops.
"""

from __future__ import annotations


class RevcycleError(Exception):
    """Base for every error with an operator-facing reason code."""

    reason: str = "ERROR"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class X12Error(RevcycleError):
    """The file is not a well-formed X12 interchange (envelope, counts, bytes)."""


class MappingError(RevcycleError):
    """The X12 is well formed but its content cannot be mapped (bad number, date)."""


class LandingError(RevcycleError):
    """A file could not be landed safely (name refused, size or digest mismatch)."""


class PostingError(RevcycleError):
    """The ERP rows built for a file would not balance, tie to the source, or belong to another file."""
