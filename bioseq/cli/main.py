"""The ``bioseq`` command.

Each sub-command lives in its own module of :mod:`bioseq.cli` with two
functions, ``add_parser(subparsers)`` and ``run(args) -> int``. Errors caused
by the input (:class:`~bioseq.errors.BioseqError`, including every
:class:`~bioseq.errors.InputError`) are printed as one line on standard
error, without a traceback, and the command exits with status 1; usage
errors exit with 2 (argparse's convention). Set ``BIOSEQ_DEBUG=1`` to see the
traceback.

SIGTERM and SIGINT stop a command through :class:`bioseq.interrupt.Interrupted`:
temporary files are removed, one line says what happened (for ``train``:
where the checkpoint is and how to continue), and the exit status is
``128 + signal``: 143 for SIGTERM, 130 for SIGINT. A job killed this way is
never taken for a finished one.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from bioseq import __version__
from bioseq.errors import BioseqError, command_flags
from bioseq.interrupt import Interrupted, handle_signals

__all__ = ["main", "build_parser"]

COMMANDS = (
    "inspect",
    "encode",
    "simulate",
    "dataset",
    "split",
    "train",
    "tune",
    "ensemble",
    "evaluate",
    "compare",
    "predict",
    "scan",
    "annotate",
    "score_variants",
    "explain",
    "motifs",
)
"""Sub-command modules, in the order ``bioseq --help`` lists them."""

EXIT_INPUT = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="bioseq",
        description="Deep learning on biological sequences.",
        epilog="Coordinates are 0-based, half-open; region strings (chr1:11-20) are 1-based.",
    )
    parser.add_argument("--version", action="version", version=f"bioseq {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"bioseq.cli.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bioseq`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("BIOSEQ_DEBUG", "") not in ("", "0")
    _log_to_stderr(args.command)
    try:
        with handle_signals(), command_flags(parser, args):  # fixes name this command's flags
            return int(args.run(args) or 0)
    except BioseqError as exc:
        if debug:
            raise
        print(f"bioseq {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Interrupted as exc:
        print(f"bioseq {args.command}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"bioseq {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        if debug:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"bioseq {args.command}: error: {exc.strerror or exc}{where}.", file=sys.stderr)
        return EXIT_INPUT


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is at the time of each record."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _log_to_stderr(command: str) -> None:
    """Send the ``bioseq`` logger's INFO lines (e.g. one per training epoch) to stderr."""
    logger = logging.getLogger("bioseq")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(f"bioseq {command}: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
