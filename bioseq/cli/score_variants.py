"""``bioseq score-variants RUN --vcf in.vcf --reference genome.fa --out out.vcf``: score variants with a model.

Each ALT allele of the VCF/BCF is checked against the genome and scored:
per-position splice models give SpliceAI's delta scores within --distance
bases in the INFO field BIOSEQ (ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|
DP_AL|DP_DG|DP_DL), per gene of --annotation or, without one, per strand;
window classifiers give BIOSEQ_REF, BIOSEQ_ALT and BIOSEQ_DIFF. Every record
is written, in input order; .vcf.gz is bgzipped and tabix-indexed. A JSON
summary of the counts is written to OUT.summary.json. Scores are kept in
pieces (OUT.parts) until the outputs are written, so a killed job rerun with
the same request scores only what is missing; --workers N scores pieces in N
processes.
"""

from __future__ import annotations

import argparse
import sys

from bioseq.cli.flags import (
    add_inference_flags,
    add_model_argument,
    add_out_flag,
    add_reference_flag,
    inference_options,
)
from bioseq.variants.vcf_job import DEFAULT_PIECE

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "score-variants",
        help="score the variants of a VCF with a trained model (splice delta scores or window probabilities)",
        description=__doc__.split("\n\n")[1],
    )
    add_model_argument(parser)
    parser.add_argument("--vcf", required=True, help="variants: VCF (plain, gzip, bgzip) or BCF")
    add_reference_flag(parser, help="genome FASTA (plain or bgzip) or GenBank/EMBL", required=True)
    add_out_flag(parser, help="scored VCF: .vcf, or .vcf.gz (bgzipped and tabix-indexed)")
    parser.add_argument("--annotation", help="GTF/GFF3/GenBank genes: score each gene a variant falls in")
    parser.add_argument("--tsv", help="also write a TSV: one row per variant and gene")
    parser.add_argument("--distance", type=int, default=50, help="bases scored on each side of a variant (default 50)")
    parser.add_argument(
        "--chunk",
        type=int,
        default=5000,
        help="span in bp of nearby variants that share one reference prediction; 0 shares none (default 5000)",
    )
    parser.add_argument("--length", type=int, help="window width (window classifiers of any width only)")
    parser.add_argument(
        "--ref-mismatch",
        choices=("skip", "error", "keep"),
        default="skip",
        help="a REF that differs from the genome: count and skip it, stop, or score it anyway (default skip)",
    )
    parser.add_argument(
        "--unknown-contig",
        choices=("skip", "error"),
        default="skip",
        help="a contig the genome lacks: count and skip its variants, or stop (default skip)",
    )
    parser.add_argument("--workers", type=int, default=1, help="processes that score variants on the CPU (default 1)")
    parser.add_argument(
        "--piece",
        type=int,
        default=DEFAULT_PIECE,
        help=f"variants per stored piece: a killed run resumes from the last piece (default {DEFAULT_PIECE})",
    )
    add_inference_flags(parser, threshold=False)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.variants.vcf_job import score_vcf, summary_path

    options = inference_options(args)
    summary = score_vcf(
        args.model,
        args.vcf,
        args.reference,
        args.out,
        annotation=args.annotation,
        tsv=args.tsv,
        distance=args.distance,
        batch_size=options.batch_size,
        device=options.device,
        chunk=args.chunk,
        width=args.length,
        rc_average=options.rc_average,
        ref_mismatch=args.ref_mismatch,
        unknown_contig=args.unknown_contig,
        workers=args.workers,
        piece=args.piece,
    )
    unscored = sum(summary["unscored"].values())
    reused = summary["pieces"]["reused"]
    resumed = f" ({reused:,} of {summary['pieces']['total']:,} pieces kept from an earlier run)" if reused else ""
    print(
        f"bioseq score-variants: {summary['scored']:,} variants scored ({unscored:,} without a score) in {args.out}"
        f"{resumed}; summary in {summary_path(args.out)}",
        file=sys.stderr,
    )
    return 0
