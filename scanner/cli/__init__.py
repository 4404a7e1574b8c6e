"""The ``gapscan`` command line: one module per command, the options they share in
:mod:`~gapscan.scanner.cli.options`.

Exit codes: 0 scan done and gates passed; 1 a gate failed (``--fail-under``, ``--fail-on``,
unreadable documents with ``--strict``); 2 a usage, configuration or catalog error, an input file
(labels, waivers, baseline) that cannot be used, an output location that cannot be written; 3 a
watch service that failed while running (a service manager may restart it; it would not help for
2). Each is one line on stderr.

Every error of gapscan's own (:class:`~gapscan.scanner.common.errors.GapscanError`) is caught once, here,
where a command is invoked. The command modules import only click and stdlib at module level and
defer the pipeline (scikit-learn, numpy, the renderers) to the command that needs it, so that
``gapscan --help`` answers at once.
"""

from __future__ import annotations

import click

from gapscan.scanner.cli.explain import explain_command
from gapscan.scanner.cli.frameworks import frameworks_command
from gapscan.scanner.cli.learning import eval_command, train_command
from gapscan.scanner.cli.options import ServiceFailed, UsageProblem, config_from_options, scan_options
from gapscan.scanner.cli.scan import scan_command
from gapscan.scanner.cli.watch import watch_command
from gapscan.scanner.common.errors import EXIT_FAILED, EXIT_GATE, EXIT_OK, EXIT_USAGE, GapscanError

__all__ = [
    "EXIT_FAILED", "EXIT_GATE", "EXIT_OK", "EXIT_USAGE", "ServiceFailed", "UsageProblem", "config_from_options",
    "eval_command", "explain_command", "frameworks_command", "main", "scan_command", "scan_options",
    "train_command", "watch_command",
]


class _Gapscan(click.Group):
    """The command group: a :class:`GapscanError` from any command becomes one line on stderr
    (``Error: ...``) and the process ends with the error's exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GapscanError as exc:
            raise _exit_with(exc.exit_code)(str(exc)) from exc


def _exit_with(code: int) -> type[click.ClickException]:
    """The click exception that prints ``Error: <message>`` and exits with ``code``."""
    known = {UsageProblem.exit_code: UsageProblem, ServiceFailed.exit_code: ServiceFailed}
    return known.get(code) or type(f"Exit{code}", (click.ClickException,), {"exit_code": code})


@click.group(cls=_Gapscan, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gapscan", prog_name="gapscan")
def main() -> None:
    """Find evidence gaps for ISO 9001:2015 and CMMI in a folder or git repository of documents."""


for _command in (scan_command, frameworks_command, explain_command, watch_command, train_command, eval_command):
    main.add_command(_command)
