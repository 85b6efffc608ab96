"""``bioseq dataset promoters|splice-sites``: labelled train/valid/test tables from a genome.

Builds labelled windows from a genome and its annotation (and, for splice
sites, RNA-seq alignments), splits them by chromosome, removes exact
duplicate sequences across the splits, and writes train.csv, valid.csv,
test.csv (columns name,sequence,label; names are the windows,
chrom:start-end(strand), 0-based half-open) and summary.json into --out.
Each file is written atomically and summary.json last.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "dataset",
        help="build promoter or splice-site train/valid/test tables from a genome and annotation",
        description=__doc__.split("\n\n")[1],
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    promoters = kinds.add_parser(
        "promoters", help="windows around annotated TSSs against negatives",
        description="Windows around each annotated TSS (on the transcript strand) against GC-matched "
        "genomic, dinucleotide-shuffled or gene-body negatives.",
    )
    _common(promoters)
    promoters.add_argument("--annotation", required=True, help="GTF or GFF3 (plain or gzip)")
    promoters.add_argument("--length", type=int, default=200, help="window width (default 200)")
    promoters.add_argument("--upstream", type=int, help="bases before the TSS in the window "
                           "(default: length // 2, the TSS at the centre)")
    promoters.add_argument("--negatives", choices=("gc", "shuffle", "genebody"), default="gc",
                           help="GC-matched genomic windows, dinucleotide shuffles of the positives, "
                           "or gene-body windows far from any TSS (default gc)")
    promoters.add_argument("--ratio", type=float, default=1.0, help="negatives per positive (default 1)")
    promoters.add_argument("--max-n-fraction", type=float, default=0.05,
                           help="largest share of N in a window (default 0.05)")
    promoters.add_argument("--tss-distance", type=int, default=1000,
                           help="with --negatives gc or genebody: least distance in bp between a negative "
                                "window and any annotated TSS (default 1000)")
    splice = kinds.add_parser(
        "splice-sites", help="windows centred on real donor/acceptor sites against GT/AG decoys",
        description="Windows centred on annotated and/or RNA-seq splice sites (the GT/AG at the centre) "
        "against decoy GT/AG positions away from every real site.",
    )
    _common(splice)
    splice.add_argument("--annotation", help="GTF or GFF3 whose introns give the sites")
    splice.add_argument("--bam", help="spliced RNA-seq alignments (SAM/BAM/CRAM) whose junctions give sites")
    splice.add_argument("--min-support", type=int, default=3, help="with --bam: reads a junction needs (default 3)")
    splice.add_argument("--site", choices=("donor", "acceptor", "both"), required=True,
                        help="donor or acceptor against decoys, or both (three classes)")
    splice.add_argument("--length", type=int, default=60, help="window width, even (default 60)")
    splice.add_argument("--decoys-per-site", type=float, default=1.0, help="decoys per real site (default 1)")
    splice.add_argument("--min-distance", type=int, default=50,
                        help="least distance in bp between a decoy and any real site (default 50)")
    parser.set_defaults(run=run)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genome", required=True, help="reference FASTA (plain or bgzip; indexed on first use)")
    parser.add_argument("--out", required=True, help="output folder for the tables and summary.json")
    parser.add_argument("--valid-chroms", nargs="+", metavar="CHROM", help="chromosomes of the valid split")
    parser.add_argument("--test-chroms", nargs="+", metavar="CHROM", help="chromosomes of the test split")
    parser.add_argument("--fractions", nargs=3, type=float, default=(0.8, 0.1, 0.1),
                        metavar=("TRAIN", "VALID", "TEST"),
                        help="target shares for chromosomes chosen automatically (default 0.8 0.1 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from bioseq.datasets.splits import split_by_chromosome, write_split
    from bioseq.io.gff import read_annotation
    from bioseq.io.reference import Reference

    annotation = read_annotation(args.annotation) if args.annotation else None
    with contextlib.ExitStack() as stack:
        cache = None
        if args.kind == "promoters" and args.negatives == "gc":  # many random windows: memory-map the genome
            cache = stack.enter_context(tempfile.TemporaryDirectory(prefix="bioseq-dataset-"))
        reference = stack.enter_context(Reference(args.genome, cache=cache))
        examples, options = _build(args, reference, annotation)
    splits, summary = split_by_chromosome(examples, valid=args.valid_chroms, test=args.test_chroms,
                                          fractions=args.fractions, seed=args.seed)
    inputs = {"genome": os.path.abspath(args.genome)}
    for key in ("annotation", "bam"):
        if getattr(args, key, None):
            inputs[key] = os.path.abspath(getattr(args, key))
    summary = {"dataset": args.kind, "inputs": inputs, "options": options, **summary}
    write_split(args.out, splits, summary)
    counts = ", ".join(f"{split} {len(data):,}" for split, data in splits.items())
    print(f"bioseq dataset: {len(examples):,} {args.kind} examples; {counts} in {args.out}", file=sys.stderr)
    return 0


def _build(args, reference, annotation):
    """The examples and the options that made them."""
    if args.kind == "promoters":
        from bioseq.datasets.promoters import promoter_dataset

        options = {"length": args.length, "upstream": args.upstream, "negatives": args.negatives,
                   "ratio": args.ratio, "seed": args.seed, "max_n_fraction": args.max_n_fraction}
        if args.negatives != "shuffle":
            options["tss_distance"] = args.tss_distance
        return promoter_dataset(reference, annotation, **options), options
    from bioseq.datasets.splice_sites import splice_site_dataset

    options = {"site": args.site, "length": args.length, "decoys_per_site": args.decoys_per_site,
               "min_distance": args.min_distance, "seed": args.seed}
    if args.bam:
        options["min_support"] = args.min_support
    return splice_site_dataset(reference, annotation, bam=args.bam, **options), options
