"""``bioseq compare RUN... --out DIR``: one table and one plot of the metrics of several runs.

Each RUN is a training run directory, its ``bundle/``, an evaluation
written by ``bioseq evaluate`` into ``RUN/evaluation/<name>``, or the
``metrics.json`` of any of these. The run's ``test`` metrics are used when
it has them, else ``valid`` (``--split`` chooses). The model name comes from
the bundle (an ensemble's reads ``ensemble(lstm+cnn)``); the dataset name from ``--labels NAME=PATH`` or else the run
directory's name (its parent's, for runs laid out as ``<dataset>/<model>``).

DIR gets ``comparison.tsv`` (dataset, model, split, accuracy,
balanced_accuracy, mcc, f1, auroc, auprc, n) and ``comparison.png``, each
written atomically.

Example::

    bioseq compare runs/uci/lstm runs/uci/cnn runs/prom/lstm --labels promoters=runs/prom/lstm --out cmp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bioseq.cli.flags import add_out_flag
from bioseq.errors import InputError

__all__ = ["add_parser", "run", "parse_labels"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "compare",
        help="tabulate and plot the metrics of several trained runs",
        description=__doc__.split("\n\n")[1],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run, bundle or evaluation directory, or metrics.json")
    add_out_flag(parser, help="output directory for comparison.tsv and comparison.png")
    parser.add_argument(
        "--labels",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=PATH",
        help="dataset name of the run at PATH (one of the RUN arguments); repeatable",
    )
    parser.add_argument(
        "--split",
        choices=("test", "valid"),
        help="which metrics of a run to use (default: test when present, else valid)",
    )
    parser.set_defaults(run=run)
    return parser


def parse_labels(pairs: list[str], runs: list[str]) -> dict[Path, str]:
    """Map each ``NAME=PATH`` pair to the resolved PATH, which must be one of ``runs``.

    Raises
    ------
    InputError
        A pair without ``=``, an empty name, or a PATH that is not one of the runs.
    """
    given = {Path(r).resolve(): r for r in runs}
    names: dict[Path, str] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name.strip() or not path:
            raise InputError(f"--labels {pair!r} is not NAME=PATH", fix="Write e.g. --labels promoters=runs/prom/lstm")
        resolved = Path(path).resolve()
        if resolved not in given:
            raise InputError(
                f"--labels {pair!r} names a path that is not one of the runs given",
                fix="Repeat the PATH exactly as it is given among the RUN arguments",
            )
        names[resolved] = name.strip()
    return names


def run(args: argparse.Namespace) -> int:
    from bioseq.evaluate.compare import read_run_metrics, write_comparison

    names = parse_labels(args.labels, args.runs)
    rows = [read_run_metrics(r, dataset=names.get(Path(r).resolve()), split=args.split) for r in args.runs]
    tsv, png = write_comparison(rows, args.out)
    print(f"bioseq compare: {len(rows)} runs in {tsv} and {png}", file=sys.stderr)
    return 0
