"""``bioseq simulate --out DIR``: write a SYNTHETIC genome, its annotation and RNA-seq reads.

Writes ``DIR/genome.fa`` (+ ``.fai``), ``DIR/genes.gtf``, ``DIR/rnaseq.bam``
(+ ``.bai``) and ``DIR/truth.json`` (every planted promoter motif, splice
signal, repeat and N run, 0-based half-open). The same options give the same
bytes. The files are written under temporary names in ``DIR`` (see
:mod:`bioseq.io.atomic`) and renamed only when all of them are complete, so a
failed run leaves none behind and other files in ``DIR`` are kept.

``bioseq simulate variants --genome G.fa --annotation A.gtf --out V.vcf[.gz]``
writes labelled control variants at the annotated splice sites of a real
genome instead (see :mod:`bioseq.simulate.variants`).

``bioseq simulate planted --out table.csv`` writes a labelled table of
background sequences, some with planted motifs, and the planted positions
(see :mod:`bioseq.simulate.planted`).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
from pathlib import Path

from bioseq.cli.flags import add_out_flag, add_seed_flag
from bioseq.errors import InputError
from bioseq.io.atomic import atomic_path

__all__ = ["add_parser", "run", "run_variants", "run_planted", "OUTPUTS"]

OUTPUTS = ("genome.fa", "genome.fa.fai", "genes.gtf", "rnaseq.bam", "rnaseq.bam.bai", "truth.json")
"""The files ``bioseq simulate`` writes into ``--out``, in the order they are moved in."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "simulate",
        help="write a synthetic genome, GTF and RNA-seq BAM with planted promoters and splice sites",
        description=__doc__.split("\n\n")[1],
    )
    add_out_flag(parser, help="output folder (created if needed)", metavar="DIR", required=False)
    add_seed_flag(parser)
    parser.add_argument("--chromosomes", type=int, default=4, help="contigs chr1..chrN (default: 4)")
    parser.add_argument("--length", type=int, default=250_000, help="bases per contig (default: 250000)")
    parser.add_argument("--genes", type=int, default=30, help="genes per contig (default: 30)")
    parser.add_argument("--reads", type=int, default=20_000, help="RNA-seq reads (default: 20000)")
    parser.add_argument("--read-length", type=int, default=100, help="bases per read (default: 100)")
    parser.set_defaults(run=run, usage_error=parser.error)
    what = parser.add_subparsers(dest="what", metavar="WHAT", required=False)
    _add_variants(what)
    _add_planted(what)
    return parser


def _add_planted(subparsers) -> None:
    parser = subparsers.add_parser(
        "planted",
        help="a labelled table of background sequences, half of them with planted motifs at known positions",
        description="Background sequences (the simulator's 2nd-order chain), a fraction of them carrying copies "
        "of a motif sampled from its weight matrix at random positions: a labelled CSV (name,sequence,label "
        "pos/neg, as bioseq train reads it), a TSV of the planted positions (0-based, half-open) and optionally "
        "the motifs as MEME: ground truth for bioseq explain and bioseq motifs.",
    )
    add_out_flag(parser, help="output table (CSV)", metavar="CSV")
    parser.add_argument("--positions", help="planted positions TSV (default: the table name with .planted.tsv)")
    parser.add_argument("--meme", help="also write the planted motifs as a MEME file")
    parser.add_argument(
        "--motif",
        dest="motifs",
        action="append",
        metavar="NAME",
        help="motif to plant, repeatable: TATA_box (default), GC_box, CCAAT_box, BRE, Inr, DPE, donor, acceptor, "
        "or a JASPAR id such as MA0108.2",
    )
    parser.add_argument("-n", "--n", dest="n", type=int, default=1000, help="sequences (default 1000)")
    parser.add_argument("--length", type=int, default=200, help="bases per sequence (default 200)")
    parser.add_argument("--instances", type=int, default=1, help="copies of each motif per positive (default 1)")
    parser.add_argument(
        "--positive-fraction", type=float, default=0.5, help="share of sequences with motifs (default 0.5)"
    )
    parser.add_argument("--strands", choices=("+", "both"), default="+", help="strands of the copies (default +)")
    add_seed_flag(parser)
    parser.set_defaults(run=run_planted)


def run_planted(args: argparse.Namespace) -> int:
    from bioseq.simulate.planted import simulate_planted, write_planted

    out = str(args.out)
    positions = args.positions or _strip_suffix(out, (".csv.gz", ".csv", ".gz")) + ".planted.tsv"
    if positions == out:
        raise InputError("--positions names the table itself", path=out, fix="Give the positions TSV another name")
    data = simulate_planted(
        n=args.n,
        length=args.length,
        motifs=tuple(args.motifs or ("TATA_box",)),
        instances=args.instances,
        positive_fraction=args.positive_fraction,
        strands=args.strands,
        seed=args.seed,
    )
    write_planted(data, out, positions=positions, meme=args.meme)
    positives = sum(label == "pos" for label in data.labels)
    print(
        f"bioseq simulate planted: {len(data.sequences):,} sequences of {args.length} bp, {positives:,} with "
        f"{len(data.sites):,} planted copies of {', '.join(name for name, _ in data.motifs)}; wrote {out} and "
        f"{positions} (SYNTHETIC)",
        file=sys.stderr,
    )
    return 0


def _strip_suffix(path: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def _add_variants(subparsers) -> None:
    parser = subparsers.add_parser(
        "variants",
        help="labelled control variants at the annotated splice sites of a genome, as VCF + TSV",
        description="SNVs and small indels that destroy annotated GT/AG sites, SNVs near sites that keep "
        "them, and intergenic SNVs, written as VCF (bgzipped and tabix-indexed for .vcf.gz) with a label "
        "TSV: controls for variant scoring. REF comes from the genome.",
    )
    parser.add_argument("--genome", required=True, help="reference FASTA (plain or bgzip), or GenBank/EMBL")
    parser.add_argument("--annotation", required=True, help="GTF, GFF3, GenBank or EMBL of that genome")
    add_out_flag(parser, help="output VCF (.vcf, or .vcf.gz: bgzipped + .tbi)", metavar="VCF")
    parser.add_argument("--labels", help="label TSV (default: the VCF name with .labels.tsv)")
    parser.add_argument("--contigs", nargs="+", metavar="CHROM", help="contigs to draw from (default: all)")
    parser.add_argument(
        "--per-category",
        dest="n_per_category",
        type=int,
        help="most variants per site category (default: one per canonical site)",
    )
    parser.add_argument(
        "--intergenic",
        dest="n_intergenic",
        type=int,
        help="intergenic variants (default: --per-category, else the number of canonical sites)",
    )
    parser.add_argument(
        "--min-gene-distance",
        type=int,
        default=5000,
        help="least distance in bp of intergenic variants from any gene, lowered where genes are too "
        "dense (default 5000)",
    )
    add_seed_flag(parser)
    parser.add_argument(
        "--mismatches", dest="mismatch", type=int, default=0, help="add N records whose REF is wrong (default 0)"
    )
    parser.add_argument("--multiallelic", type=int, default=0, help="give N SNVs a second ALT (default 0)")
    parser.add_argument(
        "--alias-contigs",
        action="store_true",
        help="write contigs under their other name (chr2L as 2L, 2L as chr2L)",
    )
    parser.set_defaults(run=run_variants)


def run_variants(args: argparse.Namespace) -> int:
    from bioseq.io.gff import read_annotation
    from bioseq.io.reference import Reference
    from bioseq.simulate.variants import CATEGORIES, INJECTED, chr_aliases, splice_variants, write_labels, write_vcf

    out = str(args.out)
    labels = args.labels or _labels_path(out)
    if labels == out:
        raise InputError("--labels names the VCF itself", path=out, fix="Give the label TSV another name")
    annotation = read_annotation(args.annotation)
    with Reference(args.genome) as reference:
        drawn = splice_variants(
            reference,
            annotation,
            contigs=args.contigs,
            n_per_category=args.n_per_category,
            n_intergenic=args.n_intergenic,
            min_gene_distance=args.min_gene_distance,
            seed=args.seed,
        )
        alias = chr_aliases(reference.references) if args.alias_contigs else None
        written = write_vcf(
            drawn,
            out,
            reference=reference,
            contig_alias=alias,
            mismatch=args.mismatch,
            multiallelic=args.multiallelic,
            seed=args.seed,
        )
    write_labels(written, labels, contig_alias=alias)
    counts = collections.Counter(v.category for v in written)
    text = ", ".join(f"{counts[name]:,} {name}" for name in (*CATEGORIES, *INJECTED) if counts[name])
    skipped = ", ".join(f"{n:,} {name}" for name, n in drawn.skipped.items()) or "none"
    print(
        f"bioseq simulate variants: {len(written):,} variants ({text}); intergenic >= "
        f"{drawn.intergenic_distance or 0:,} bp from genes; skipped: {skipped}; wrote {out} and {labels}",
        file=sys.stderr,
    )
    return 0


def _labels_path(vcf: str) -> str:
    for suffix in (".vcf.gz", ".vcf.bgz", ".vcf", ".gz"):
        if vcf.endswith(suffix):
            return vcf[: -len(suffix)] + ".labels.tsv"
    return vcf + ".labels.tsv"


def run(args: argparse.Namespace) -> int:
    from bioseq.simulate.genome import check_count, simulate_genome, write_genome, write_gtf, write_truth
    from bioseq.simulate.reads import MAX_READS, simulate_rnaseq

    if args.out is None:
        args.usage_error("the following arguments are required: --out")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError("--out names a file, not a folder", path=out, fix="Pass a folder path")
    check_count(args.reads, "the number of reads", 0, MAX_READS)  # fail before the genome is made
    genome = simulate_genome(
        n_chromosomes=args.chromosomes, chromosome_length=args.length, genes_per_chromosome=args.genes, seed=args.seed
    )
    created = not out.exists()
    try:
        with contextlib.ExitStack() as stack:  # renamed into --out in OUTPUTS order once all are written
            tmp = {name: stack.enter_context(atomic_path(out / name)) for name in reversed(OUTPUTS)}
            write_genome(genome, tmp["genome.fa"], index=tmp["genome.fa.fai"])
            write_gtf(genome, tmp["genes.gtf"])
            reads = simulate_rnaseq(
                genome,
                tmp["rnaseq.bam"],
                index=tmp["rnaseq.bam.bai"],
                n_reads=args.reads,
                read_length=args.read_length,
                seed=args.seed,
            )
            write_truth(genome, tmp["truth.json"], extra={"rnaseq": reads.summary()})
    except BaseException:
        if created:  # leave no empty --out folder behind either
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    print(
        f"bioseq simulate: {len(genome.sequences)} contigs, {len(genome.genes)} genes, "
        f"{len(genome.transcripts)} transcripts, {reads.n_reads:,} reads in {out} (SYNTHETIC)",
        file=sys.stderr,
    )
    return 0
