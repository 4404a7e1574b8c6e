"""How much one file may cost to extract, and the values each limit may take. Stdlib only: the
configuration reads ``[limits]`` without importing the extractors (and their worker pool)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much one file may cost to extract. Every limit turns into an ``Unreadable`` reason."""

    max_file_bytes: int = 200 * MiB
    max_member_bytes: int = 256 * MiB  # uncompressed size of any one zip member
    max_archive_bytes: int = 512 * MiB  # uncompressed size of all zip members together
    max_chars: int = 2_000_000  # text kept per document; more is cut with a warning
    timeout_seconds: float = 60
    # Address-space headroom a worker process may add to what it inherited; 0 = no cap.
    max_memory_bytes: int = 2048 * MiB


GiB = 1024 * MiB
# The values each limit may take (a value past these breaks extraction rather than loosening it:
# a worker holds a whole file in memory, timers and address-space caps have ceilings).
LIMIT_RANGES: dict[str, tuple[float, float]] = {
    "max_file_bytes": (1, 4 * GiB),
    "max_member_bytes": (1, 64 * GiB),
    "max_archive_bytes": (1, 256 * GiB),
    "max_chars": (1, 100_000_000),
    "timeout_seconds": (0.1, 86_400),
    "max_memory_bytes": (64 * MiB, 1024 * GiB),  # or 0: no cap
}
