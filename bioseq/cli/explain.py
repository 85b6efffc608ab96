"""``bioseq explain RUN --input seqs.csv --method deeplift_shap --out EXP``: what a model looks at.

Attributions of the model's target class for each input sequence (FASTA, a
labelled table as ``bioseq train`` takes it, or BED regions with
``--reference``), written to EXP: ``attributions.npz`` (observed-base and
hypothetical contributions, (N, 4, L)), ``explain.json``, logos of the
top-scoring sequences (``logos/``, PNG and SVG) and, for BED input, a bigWig
of the attributions over the regions. ``bioseq motifs EXP`` turns them into
named motifs. A rerun of the same request does nothing.
"""

from __future__ import annotations

import argparse
import sys

from bioseq.cli.flags import (
    add_column_flags,
    add_inference_flags,
    add_model_argument,
    add_out_flag,
    add_reference_flag,
    add_seed_flag,
)

__all__ = ["add_parser", "run"]

BATCH_SIZE = 64
_METHODS = ("deeplift_shap", "integrated_gradients", "grad_x_input", "ism")  # bioseq.interpret.explain.METHODS


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "explain",
        help="attributions (DeepLIFT/SHAP, integrated gradients, ISM), logos and tracks of a model's inputs",
        description=__doc__.split("\n\n")[1],
    )
    add_model_argument(parser)
    parser.add_argument(
        "--input", required=True, metavar="FILE", help="FASTA, a (labelled) sequence table, or BED with --reference"
    )
    add_reference_flag(parser, help="genome FASTA of BED input (regions are resized to the model's width)")
    parser.add_argument(
        "--method", choices=_METHODS, default="deeplift_shap", help="attribution method (default deeplift_shap)"
    )
    add_out_flag(parser, help="output folder (attributions.npz, explain.json, logos/)", metavar="EXP")
    parser.add_argument("--target", metavar="CLASS", help="class to explain (default: the positive class)")
    parser.add_argument(
        "--label", metavar="CLASS", help="explain only the input sequences of this class (labelled input)"
    )
    parser.add_argument(
        "--top", type=int, metavar="N", help="explain only the N highest-scoring sequences for the target"
    )
    parser.add_argument(
        "--logos", type=int, metavar="N", default=10, help="logos of the N top-scoring sequences (default 10)"
    )
    parser.add_argument(
        "--references",
        type=int,
        metavar="N",
        default=20,
        help="shuffled references per sequence, deeplift_shap (default 20)",
    )
    parser.add_argument(
        "--steps", type=int, metavar="N", default=32, help="integration steps, integrated_gradients (default 32)"
    )
    parser.add_argument(
        "--position", type=int, metavar="N", help="per-position models: the output position (default the centre)"
    )
    parser.add_argument("--length", type=int, metavar="N", help="window width of BED regions for a model of any width")
    parser.add_argument(
        "--fast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ism: recompute only the receptive field of each mutation (default: where the model allows)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an EXP written for another request")
    add_column_flags(parser)
    add_seed_flag(parser)
    add_inference_flags(parser, threshold=False)
    for action in parser._actions:  # attributions hold the references (or mutations) of a batch at once
        if action.dest == "batch_size":
            action.default, action.help = BATCH_SIZE, f"sequences per batch (default {BATCH_SIZE})"
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.interpret.explain import explain

    summary = explain(
        args.model,
        args.input,
        args.out,
        method=args.method,
        target=args.target,
        label=args.label,
        reference=args.reference,
        top=args.top,
        logos=args.logos,
        references=args.references,
        steps=args.steps,
        seed=args.seed,
        batch_size=args.batch_size,
        device=args.device,
        rc_average=args.rc_average,
        fast=args.fast,
        position=args.position,
        length=args.length,
        sequence_column=args.sequence_column,
        label_column=args.label_column,
        overwrite=args.overwrite,
    )
    if summary["already_done"]:
        print(f"bioseq explain: already done: {args.out} holds this explanation", file=sys.stderr)
        return 0
    track = f", track {summary['track']}" if summary.get("track") else ""
    print(
        f"bioseq explain: {summary['method']} attributions of {summary['target']!r} for {summary['selection']} "
        f"sequences in {summary['seconds']:.1f} s; {len(summary['logos'])} logos{track}; in {args.out}",
        file=sys.stderr,
    )
    return 0
