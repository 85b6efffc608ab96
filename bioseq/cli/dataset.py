"""``bioseq dataset promoters|splice-sites``: labelled train/valid/test tables from a genome.

Builds labelled windows from a genome and its annotation (and, for splice
sites, RNA-seq alignments), splits them by chromosome, removes exact
duplicate sequences across the splits, and writes train.csv, valid.csv,
test.csv (columns name,sequence,label; names are the windows,
chrom:start-end(strand), 0-based half-open) and summary.json into --out.
Each file is written atomically and summary.json last. A GenBank/EMBL genome
carries its own annotation, used when --annotation is not given.

``splice-sites --per-base`` instead writes a per-base dataset folder (every
base of each window labelled neither/acceptor/donor, on both strands, as
memory-mapped uint8 arrays; see :mod:`bioseq.datasets.per_base_store`):
windows around every training site plus random intronic and genomic
windows (:mod:`bioseq.datasets.per_base_sampling`), and valid and test
splits that tile every base of their genes. It needs --test-chroms or
--folds, and no --site.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile

from bioseq.cli.flags import add_fractions_flag, add_out_flag, add_seed_flag

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "dataset",
        help="build promoter or splice-site train/valid/test tables from a genome and annotation",
        description=__doc__.split("\n\n")[1],
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    promoters = kinds.add_parser(
        "promoters",
        help="windows around annotated TSSs against negatives",
        description="Windows around each annotated TSS (on the transcript strand) against GC-matched "
        "genomic, dinucleotide-shuffled or gene-body negatives.",
    )
    _common(promoters)
    promoters.add_argument(
        "--annotation",
        help="GTF, GFF3, GenBank or EMBL (plain or gzip); default: the features of a GenBank/EMBL --genome",
    )
    promoters.add_argument("--length", type=int, default=200, help="window width (default 200)")
    promoters.add_argument(
        "--upstream", type=int, help="bases before the TSS in the window (default: length // 2, the TSS at the centre)"
    )
    promoters.add_argument(
        "--negatives",
        choices=("gc", "shuffle", "genebody"),
        default="gc",
        help="GC-matched genomic windows, dinucleotide shuffles of the positives, "
        "or gene-body windows far from any TSS (default gc)",
    )
    promoters.add_argument("--ratio", type=float, default=1.0, help="negatives per positive (default 1)")
    promoters.add_argument(
        "--max-n-fraction", type=float, default=0.05, help="largest share of N in a window (default 0.05)"
    )
    promoters.add_argument(
        "--tss-distance",
        type=int,
        default=1000,
        help="with --negatives gc or genebody: least distance in bp between a negative "
        "window and any annotated TSS (default 1000)",
    )
    splice = kinds.add_parser(
        "splice-sites",
        help="windows centred on real donor/acceptor sites against GT/AG decoys",
        description="Windows centred on annotated and/or RNA-seq splice sites (the GT/AG at the centre) "
        "against decoy GT/AG positions away from every real site.",
    )
    _common(splice)
    splice.add_argument(
        "--annotation",
        help="GTF, GFF3, GenBank or EMBL whose introns give the sites; default: "
        "the features of a GenBank/EMBL --genome",
    )
    splice.add_argument("--bam", help="spliced RNA-seq alignments (SAM/BAM/CRAM) whose junctions give sites")
    splice.add_argument("--min-support", type=int, default=3, help="with --bam: reads a junction needs (default 3)")
    splice.add_argument(
        "--site",
        choices=("donor", "acceptor", "both"),
        help="donor or acceptor against decoys, or both (three classes); required without --per-base",
    )
    splice.add_argument("--length", type=int, default=60, help="window width, even (default 60)")
    splice.add_argument("--decoys-per-site", type=float, default=1.0, help="decoys per real site (default 1)")
    splice.add_argument(
        "--min-distance",
        type=int,
        default=50,
        help="least distance in bp between a decoy and any real site (default 50)",
    )
    _per_base_flags(splice)
    parser.set_defaults(run=run)
    return parser


def _per_base_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "per-base datasets (--per-base)",
        "Every base of a window labelled neither/acceptor/donor, both strands (minus-strand examples "
        "reverse-complemented), written as memory-mapped uint8 arrays into the --out folder. Valid and test "
        "splits tile every base of their genes; --length, --decoys-per-site, --min-distance and --fractions "
        "do not apply. --test-chroms and --valid-chroms also take comma-separated names.",
    )
    group.add_argument("--per-base", action="store_true", help="write a per-base dataset (no --site needed)")
    group.add_argument("--window", type=int, default=400, help="labelled bases per example (default 400)")
    group.add_argument(
        "--context", type=int, default=400, help="extra input bases per example, half on each side (default 400)"
    )
    group.add_argument(
        "--intronic", type=float, default=0.5, help="random intronic training windows per site window (default 0.5)"
    )
    group.add_argument(
        "--genomic", type=float, default=0.5, help="random genomic training windows per site window (default 0.5)"
    )
    group.add_argument(
        "--site-windows",
        type=int,
        default=4,
        help="training windows around each site, each at its own random offset (default 4)",
    )
    group.add_argument(
        "--hard-negatives",
        metavar="RUN",
        help="a per-base splice model (run or bundle) trained on this genome: add training windows around the "
        "positions of the training contigs it most wrongly calls sites (predicts them on both strands first)",
    )
    group.add_argument(
        "--hard",
        type=float,
        default=1.0,
        help="with --hard-negatives: hard-negative windows per site window (default 1)",
    )
    group.add_argument(
        "--test-span",
        choices=("genes", "genome"),
        default="genes",
        help="tile the held-out genes, or the whole held-out contigs (default genes)",
    )
    group.add_argument("--folds", type=int, help="gene-disjoint folds over all contigs instead of --test-chroms")
    group.add_argument("--fold", type=int, default=0, help="with --folds: the fold that tests (default 0)")
    group.add_argument(
        "--valid-fraction",
        type=float,
        default=0.1,
        help="without --valid-chroms: share of the training gene loci that validates (default 0.1; 0 for none)",
    )
    group.add_argument(
        "--transcripts",
        choices=("all", "canonical"),
        default="all",
        help="label the sites of every transcript, or of each gene's longest (default all)",
    )
    group.add_argument(
        "--biotype", default="all", help="only transcripts whose or whose gene's biotype is this (default all)"
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--genome",
        required=True,
        help="reference FASTA (plain or bgzip; indexed on first use), "
        "or GenBank/EMBL (plain or gzip) with its features",
    )
    add_out_flag(parser, help="output folder for the tables and summary.json")
    parser.add_argument("--valid-chroms", nargs="+", metavar="CHROM", help="chromosomes of the valid split")
    parser.add_argument("--test-chroms", nargs="+", metavar="CHROM", help="chromosomes of the test split")
    add_fractions_flag(parser, help="target shares for chromosomes chosen automatically")
    add_seed_flag(parser)


def run(args: argparse.Namespace) -> int:
    from bioseq.datasets.splits import split_by_chromosome, write_split
    from bioseq.io.reference import Reference

    if args.kind == "splice-sites" and args.per_base:
        return _run_per_base(args)
    if args.kind == "splice-sites" and args.site is None:
        from bioseq.errors import InputError, option

        raise InputError(
            "splice-site windows need the kind of site",
            fix=f"Pass {option('site', 'both')}, or {option('per_base', clause='{}')} for a per-base dataset",
        )
    annotation, annotation_path = _annotation(args)
    with contextlib.ExitStack() as stack:
        cache = None
        if args.kind == "promoters" and args.negatives == "gc":  # many random windows: memory-map the genome
            cache = stack.enter_context(tempfile.TemporaryDirectory(prefix="bioseq-dataset-"))
        reference = stack.enter_context(Reference(args.genome, cache=cache))
        examples, options = _build(args, reference, annotation)
    splits, summary = split_by_chromosome(
        examples, valid=args.valid_chroms, test=args.test_chroms, fractions=args.fractions, seed=args.seed
    )
    inputs = {"genome": os.path.abspath(args.genome)}
    if annotation_path:
        inputs["annotation"] = os.path.abspath(annotation_path)
    if getattr(args, "bam", None):
        inputs["bam"] = os.path.abspath(args.bam)
    summary = {"dataset": args.kind, "inputs": inputs, "options": options, **summary}
    write_split(args.out, splits, summary)
    counts = ", ".join(f"{split} {len(data):,}" for split, data in splits.items())
    print(f"bioseq dataset: {len(examples):,} {args.kind} examples; {counts} in {args.out}", file=sys.stderr)
    return 0


def _annotation(args):
    """The annotation (None if there is none) and the file it came from: --annotation, else a GenBank/EMBL genome."""
    from bioseq.errors import InputError, option
    from bioseq.io.genbank import genbank_format
    from bioseq.io.gff import read_annotation

    path = args.annotation
    genome_is_file = os.path.isfile(args.genome)  # else the Reference says what is wrong with it
    if path is None and genome_is_file and genbank_format(args.genome) is not None:
        path = args.genome
        print(f"bioseq dataset: the annotation is the features of {args.genome}", file=sys.stderr)
    if path is None and args.kind == "promoters" and genome_is_file:
        raise InputError(
            "promoters need an annotation, and the genome is not a GenBank/EMBL file that carries one",
            path=args.genome,
            fix=f"Pass {option('annotation', 'GENES.gtf')} (GTF, GFF3, GenBank or EMBL), or a GenBank/EMBL genome",
        )
    return (read_annotation(path) if path else None), path


def _build(args, reference, annotation):
    """The examples and the options that made them."""
    if args.kind == "promoters":
        from bioseq.datasets.promoters import promoter_dataset

        options = {
            "length": args.length,
            "upstream": args.upstream,
            "negatives": args.negatives,
            "ratio": args.ratio,
            "seed": args.seed,
            "max_n_fraction": args.max_n_fraction,
        }
        if args.negatives != "shuffle":
            options["tss_distance"] = args.tss_distance
        return promoter_dataset(reference, annotation, **options), options
    from bioseq.datasets.splice_sites import splice_site_dataset

    options = {
        "site": args.site,
        "length": args.length,
        "decoys_per_site": args.decoys_per_site,
        "min_distance": args.min_distance,
        "seed": args.seed,
    }
    if args.bam:
        options["min_support"] = args.min_support
    return splice_site_dataset(reference, annotation, bam=args.bam, **options), options


def _run_per_base(args: argparse.Namespace) -> int:
    """``splice-sites --per-base``: the dataset folder of :func:`bioseq.datasets.per_base.build_per_base`."""
    from bioseq.datasets.per_base import PerBaseOptions, build_per_base, select_transcripts
    from bioseq.errors import InputError, option
    from bioseq.io.reference import Reference

    if args.site not in (None, "both"):
        raise InputError(
            f"a per-base dataset labels both kinds of site; --site {args.site} does not apply",
            fix=f"Leave out {option('site')}",
        )
    annotation, annotation_path = _annotation(args)
    if annotation is not None:
        annotation = select_transcripts(annotation, transcripts=args.transcripts, biotype=args.biotype)
    options = PerBaseOptions(
        window=args.window,
        context=args.context,
        intronic=args.intronic,
        genomic=args.genomic,
        site_windows=args.site_windows,
        hard=args.hard,
        test_chroms=_names(args.test_chroms),
        valid_chroms=_names(args.valid_chroms),
        folds=args.folds,
        fold=args.fold,
        valid_fraction=args.valid_fraction,
        test_span=args.test_span,
        seed=args.seed,
    )
    source = {"genome": os.path.abspath(args.genome)}
    if annotation_path:
        source["annotation"] = os.path.abspath(annotation_path)
    if args.bam:
        source["bam"] = os.path.abspath(args.bam)
    source |= {"transcripts": args.transcripts, "biotype": args.biotype}
    miner = None
    if args.hard_negatives:
        from bioseq.bundle import as_bundle

        miner = as_bundle(args.hard_negatives, per_position=True)
        source["hard_negatives"] = os.path.abspath(args.hard_negatives)
    with Reference(args.genome) as reference:
        meta = build_per_base(
            reference,
            annotation,
            args.out,
            options=options,
            bam=args.bam,
            min_support=args.min_support,
            source=source,
            miner=miner,
        )
    for split, info in meta["splits"].items():
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in info["windows"].items())
        sites = ", ".join(f"{name} {n:,}" for name, n in info["labels"].items() if name != "neither")
        print(
            f"bioseq dataset: {split}: {info['n']:,} examples ({kinds or 'none'}); labelled {sites}",
            file=sys.stderr,
        )
    hard = meta["sampling"].get("hard")
    if hard and hard["count"]:
        print(
            f"bioseq dataset: {hard['count']:,} hard negatives (false sites of {args.hard_negatives} scoring "
            f"{hard['min_score']:.3g}-{hard['max_score']:.3g}) among {hard['candidates']:,} candidates",
            file=sys.stderr,
        )
    print(f"bioseq dataset: per-base dataset ({meta['sampling']['how']}) in {args.out}", file=sys.stderr)
    return 0


def _names(values: list[str] | None) -> tuple[str, ...] | None:
    """Contig names from repeated and/or comma-separated values."""
    if values is None:
        return None
    return tuple(name for value in values for name in value.split(",") if name)
