"""``bioseq tune``: search training settings and model options on the validation set.

Examples::

    bioseq tune --train train.csv --valid dev.csv --model transformer --out tune/x --trials 30
    bioseq tune --config run.yaml --space space.yaml --trials 50 --timeout 7200
    bioseq train --config tune/x/best.yaml          # retrain the winner (or use its bundle)

Every training flag of ``bioseq train`` sets the base run; ``--out`` is the
study folder. Trials are scored by ``--monitor`` on the validation set (the
test set is read once, for the winner). Rerunning the same command resumes an
interrupted study. The folder gets trials.tsv, best.yaml, best.json, study.db
and each trial's run under trials/.
"""

from __future__ import annotations

import argparse
import sys

from bioseq.cli.config_flags import add_config_flags, flag_values

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    from bioseq.train.config import TrainConfig

    parser = subparsers.add_parser(
        "tune",
        help="search hyperparameters on the validation set (Optuna)",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    search = parser.add_argument_group("search")
    search.add_argument("--trials", type=int, default=20, help="finished trials the study should hold (default 20)")
    search.add_argument(
        "--space",
        help="search space: a YAML file or an inline mapping "
        "('{lr: {low: 1.0e-4, high: 3.0e-3, log: true}}'); default: the model's",
    )
    search.add_argument("--timeout", type=float, help="start no new trial after this many seconds")
    search.add_argument(
        "--no-pruning",
        dest="pruning",
        action="store_false",
        help="let every trial run to the end (default: stop trials below the median)",
    )
    parser.add_argument("--config", help="YAML file of training options (flags override it)")
    add_config_flags(parser, TrainConfig)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.train.config import TrainConfig, load_config
    from bioseq.train.tune import tune

    config = load_config(args.config, flag_values(args, TrainConfig))
    result = tune(config, trials=args.trials, space=args.space, timeout=args.timeout, pruning=args.pruning)
    test = ""
    if result.test_metrics:
        test = "; test " + ", ".join(
            f"{k} {result.test_metrics[k]:.4f}"
            for k in ("accuracy", "mcc", "auroc")
            if isinstance(result.test_metrics.get(k), float)
        )
    print(
        f"bioseq tune: best trial {result.best_trial} of {result.n_trials}, validation {config.monitor} "
        f"{result.best_value:.4f}, settings {result.best_settings}; config {result.best_config}; "
        f"bundle {result.bundle_dir}{test}",
        file=sys.stderr,
    )
    return 0
