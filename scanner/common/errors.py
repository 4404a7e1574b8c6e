"""The one base of gapscan's own errors: what went wrong is the message, one line, and how the
process ends is :attr:`GapscanError.exit_code`.

The command line catches :class:`GapscanError` once, where a command is invoked, prints its message
on one line and exits with its code. Each stage keeps its own error class (``ConfigError``,
``CatalogError``, ``IndexUnusable``...) that subclasses both this and the built-in exception it
subclassed before, so code that catches ``ValueError`` or ``RuntimeError`` still catches it.

Stdlib only: every stage imports this module, and the command line imports it before parsing.
"""

from __future__ import annotations

# Exit codes of the command line (documented in README.md and DESIGN.md 3.1).
EXIT_OK = 0
EXIT_GATE = 1  # a gate failed
EXIT_USAGE = 2  # usage, configuration, catalog, input or output error
EXIT_FAILED = 3  # the watch service failed while running


class GapscanError(Exception):
    """An error of gapscan's own making or of its input: shown as one line, never a traceback."""

    exit_code: int = EXIT_USAGE
