"""``bioseq inspect FILE...``: summarise sequence, alignment, interval, annotation and table files.

Prints a block of figures per file (or JSON with ``--json``). A file that
cannot be read gets one error line; the command goes on with the other files
and exits with status 1 if any file was unreadable or showed a problem, so
it also serves as a quick check in batch jobs (like ``samtools quickcheck``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from bioseq.errors import BioseqError
from bioseq.io.summary import summarize

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "inspect",
        help="summarise FASTA/FASTQ/SAM/BAM/CRAM/BED/GTF/GFF3/GenBank/EMBL/table files and check them",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="files to summarise (plain, gzip or bgzip)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            summary = summarize(path)
        except BioseqError as exc:
            print(f"bioseq inspect: error: {exc}", file=sys.stderr)
            status = 1
            continue
        if summary["problems"]:
            status = 1
        print(json.dumps(summary) if args.json else _text(summary))
    return status


def _text(summary: dict) -> str:
    lines = [f"{summary['file']}\t{summary['format'].upper()}"]
    for key, value in summary.items():
        if key in ("file", "format", "problems"):
            continue
        lines.append(f"  {key.replace('_', ' '):22s}{_value(key, value)}")
    problems = summary["problems"]
    lines.append(f"  {'problems':22s}{'; '.join(problems) if problems else 'none'}")
    return "\n".join(lines)


def _value(key: str, value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:,}" for k, v in value.items()) or "none"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if key.endswith("fraction"):
            return f"{100 * value:.2f} %"
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
