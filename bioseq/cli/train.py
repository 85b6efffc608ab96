"""``bioseq train``: train a classifier from a labelled table/FASTA or a YAML config.

Examples::

    bioseq train --train train.csv --valid dev.csv --model transformer --out runs/x
    bioseq train --config run.yaml --epochs 5 --model-option n_layers=2

Every field of the config is also a flag (flags win over the file). The run
directory gets the model bundle, checkpoints, CSV/TensorBoard logs, metrics
and plots; ``--resume last`` continues an interrupted run.
"""

from __future__ import annotations

import argparse
import sys

from bioseq.cli.config_flags import add_config_flags, flag_values

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    from bioseq.train.config import TrainConfig

    parser = subparsers.add_parser(
        "train",
        help="train a classifier (LSTM, Transformer, CNN or k-mer baseline)",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--config", help="YAML file of training options (flags override it)")
    add_config_flags(parser, TrainConfig)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.train.config import TrainConfig, load_config
    from bioseq.train.fit import train

    config = load_config(args.config, flag_values(args, TrainConfig))
    result = train(config)
    if result is not None:
        per_position = "topk_accuracy" in result.metrics.get("valid", {})
        keys = ("topk_accuracy", "auprc") if per_position else ("accuracy", "mcc", "auroc", "auprc")
        summary = {
            split: {k: result.metrics[split].get(k) for k in keys}
            for split in ("valid", "test")
            if split in result.metrics
        }
        paired = result.metrics.get("site_pairing", {}).get("test")
        if paired is not None:  # the splice second stage fitted on the validation genes
            summary["test after site pairing"] = {k: paired.get(k) for k in keys}
        print(f"bioseq train: bundle {result.bundle_dir} ({result.seconds:.0f} s); {summary}", file=sys.stderr)
    return 0
