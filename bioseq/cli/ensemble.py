"""``bioseq ensemble MEMBER... --out DIR``: one bundle that averages several trained models.

Each MEMBER is a training run or bundle directory; the members may be
different models (an LSTM, a Transformer and a CNN trained on the same data
usually err on different sequences, so their mean is better than each) or
seeds of one model (``bioseq train --ensemble N`` trains those itself). DIR
becomes a bundle whose probabilities are the mean of the members'; the
members' bundle files (``config.json``, ``model.safetensors``,
``metrics.json``) are copied into it, and nothing else: a member holding a
symlink is refused. DIR moves as one directory, and ``evaluate``,
``predict``, ``scan`` and ``compare`` take it like any bundle.
The members must share task and classes and, for models of a fixed input
width, that width; none may be an ensemble itself. With ``--test DATA``
the ensemble is scored on labelled data and its ``metrics.json`` gets a
``test`` block, as a training run's does (``bioseq compare`` reads it).
Per-position members are tested on a per-base dataset (``bioseq dataset
splice-sites --per-base``): every position of its test split; for splice
models the ensemble also gets its own site pairing
(:mod:`bioseq.models.site_pairing`), fitted on the dataset's validation
genes as ``bioseq train`` fits a model's, and the test figures after it.
DIR is replaced atomically, and the test data are read and scored before
anything is written: a failure leaves an earlier DIR as it was.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bioseq.cli.flags import add_column_flags, add_out_flag

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "ensemble",
        help="combine trained models into one bundle that averages them",
        description=__doc__.split("\n\n")[1],
        epilog="Example:\n  bioseq ensemble runs/prom/lstm runs/prom/transformer runs/prom/cnn --out runs/prom/mix\n"
        "  bioseq evaluate runs/prom/mix --data test.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("members", nargs="+", metavar="MEMBER", help="training run or bundle directory (two or more)")
    add_out_flag(parser, help="the ensemble bundle directory to write")
    parser.add_argument(
        "--test",
        metavar="DATA",
        help="labelled sequences to score the ensemble on (any format bioseq evaluate reads); for per-position "
        "members a per-base dataset, whose validation split also fits the ensemble's site pairing",
    )
    add_column_flags(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.bundle import combine_bundles, save_ensemble
    from bioseq.evaluate.bundle_eval import read_for_bundle
    from bioseq.evaluate.metrics import classification_metrics

    bundles = list(combine_bundles(args.members, path=args.out).model.members)  # loads and checks them
    hashes = {(b.config.get("data") or {}).get("sha256") for b in bundles}
    if len(hashes) == 1:
        data = dict(bundles[0].config.get("data") or {})
    else:  # members seeded differently carve different validation splits: a warning, not an error
        data = {"sha256": None}
        log.warning(
            "the members were trained on different data (or different validation splits): "
            "the ensemble records no data hash"
        )
    training = {
        "members": [
            {"path": str(b.path), "model": b.model_name, "seed": (b.config.get("training") or {}).get("seed")}
            for b in bundles
        ]
    }
    ensemble = combine_bundles(bundles, training=training, data=data, path=args.out)  # checks before any write
    metrics, pairing, shown = None, None, ""
    if args.test and ensemble.per_position:  # scored (and checked) before anything is written
        metrics, pairing = _per_base_test(ensemble, args.test)
        shown = "; " + _per_base_summary(metrics["test"])
    elif args.test:
        test = read_for_bundle(
            ensemble, args.test, sequence_column=args.sequence_column, label_column=args.label_column
        )
        scores = ensemble.predict_proba(test.codes(ensemble.length)[0])
        metrics = {"test": classification_metrics(test.labels, scores, task=test.task, classes=list(test.classes))}
        shown = f"; test accuracy {metrics['test']['accuracy']:.4f}, mcc {metrics['test']['mcc']:.4f}"
    out = save_ensemble(
        args.out,
        bundles,
        training=training,
        data=data,
        metrics=metrics,
        site_pairing=None if pairing is None else pairing.to_dict(),
    )
    names = ensemble.config["model"]["options"]["member_model"]  # one name when the members share it
    print(f"bioseq ensemble: {out} averages {len(bundles)} members ({names}){shown}", file=sys.stderr)
    return 0


def _per_base_test(ensemble, data) -> tuple[dict, object]:
    """The ensemble's figures on a per-base dataset's test split; its site pairing, fitted on the validation split."""
    import numpy as np

    from bioseq.errors import InputError
    from bioseq.evaluate.bundle_eval import per_base_figures, per_base_scores
    from bioseq.models.site_pairing import fit_on_tiles

    valid, proba = per_base_scores(ensemble, data, split="valid")
    pairing = (
        fit_on_tiles(valid.regions, proba, np.asarray(valid.labels), classes=ensemble.classes) if len(valid) else None
    )
    test, proba = per_base_scores(ensemble, data, split="test")
    if not len(test):
        raise InputError(
            "the per-base dataset's test split is empty: nothing to score the ensemble on",
            path=data,
            fix="Build the dataset with held-out contigs (--test-chroms) or gene folds (--folds)",
        )
    metrics = {"test": per_base_figures(test, proba, classes=ensemble.classes, pairing=pairing)}
    if pairing is not None:
        metrics["site_pairing"] = {"fitted_on": "valid", "reach": pairing.reach}
    return metrics, pairing


def _per_base_summary(figures: dict) -> str:
    """``test top-k 0.61, AUPRC 0.64 (after site pairing 0.65, 0.68)`` (means over the site classes)."""

    def shown(value) -> str:
        return "n/a" if value is None else f"{value:.3f}"  # None: no site of any class

    text = f"test top-k {shown(figures['topk_accuracy'])}, AUPRC {shown(figures['auprc'])}"
    paired = figures.get("site_pairing")
    if paired is not None:
        text += f" (after site pairing {shown(paired['topk_accuracy'])}, {shown(paired['auprc'])})"
    return text
