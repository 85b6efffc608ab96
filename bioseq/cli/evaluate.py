"""``bioseq evaluate RUN --data test.csv``: metrics, predictions and plots of a trained model.

RUN is a training run directory or a bundle directory. The output directory
(default ``RUN/evaluation/<data name>``) gets ``metrics.json`` (keys include
``accuracy``, ``balanced_accuracy``, ``mcc``, ``f1``, ``auroc``, ``auprc``,
``per_class`` and ``confusion_matrix``), ``metrics.tsv``, ``predictions.tsv``
and ROC, PR and confusion-matrix PNGs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bioseq.cli.flags import add_column_flags, add_inference_flags, add_model_argument, add_out_flag, inference_options

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained model on labelled data",
        description=__doc__.split("\n\n")[1],
    )
    add_model_argument(parser)
    parser.add_argument(
        "--data",
        required=True,
        help="labelled sequences (table, FASTA with labels, folder); for a per-position model, a per-base dataset "
        "(its test split)",
    )
    add_out_flag(parser, help="output directory (default RUN/evaluation/<data name>)", required=False)
    add_column_flags(parser)
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    add_inference_flags(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.evaluate.bundle_eval import evaluate_bundle

    options = inference_options(args)
    out = Path(args.out) if args.out else Path(args.model) / "evaluation" / Path(args.data).name.split(".")[0]
    metrics = evaluate_bundle(
        args.model,
        args.data,
        out=out,
        options=options,
        sequence_column=args.sequence_column,
        label_column=args.label_column,
        plots=not args.no_plots,
    )
    shown = ", ".join(
        f"{k} {metrics[k]:.4f}"
        for k in ("accuracy", "mcc", "auroc", "auprc", "topk_accuracy")
        if isinstance(metrics.get(k), float)
    )
    print(f"bioseq evaluate: {out / 'metrics.json'}: {shown}", file=sys.stderr)
    return 0
