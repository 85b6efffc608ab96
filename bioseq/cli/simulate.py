"""``bioseq simulate --out DIR``: write a SYNTHETIC genome, its annotation and RNA-seq reads.

Writes ``DIR/genome.fa`` (+ ``.fai``), ``DIR/genes.gtf``, ``DIR/rnaseq.bam``
(+ ``.bai``) and ``DIR/truth.json`` (every planted promoter motif, splice
signal, repeat and N run, 0-based half-open). The same options give the same
bytes. The files are written under temporary names in ``DIR`` (see
:mod:`bioseq.io.atomic`) and renamed only when all of them are complete, so a
failed run leaves none behind and other files in ``DIR`` are kept.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from bioseq.cli.flags import add_out_flag, add_seed_flag
from bioseq.errors import InputError
from bioseq.io.atomic import atomic_path

__all__ = ["add_parser", "run", "OUTPUTS"]

OUTPUTS = ("genome.fa", "genome.fa.fai", "genes.gtf", "rnaseq.bam", "rnaseq.bam.bai", "truth.json")
"""The files ``bioseq simulate`` writes into ``--out``, in the order they are moved in."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "simulate",
        help="write a synthetic genome, GTF and RNA-seq BAM with planted promoters and splice sites",
        description=__doc__.split("\n\n")[1],
    )
    add_out_flag(parser, help="output folder (created if needed)", metavar="DIR")
    add_seed_flag(parser)
    parser.add_argument("--chromosomes", type=int, default=4, help="contigs chr1..chrN (default: 4)")
    parser.add_argument("--length", type=int, default=250_000, help="bases per contig (default: 250000)")
    parser.add_argument("--genes", type=int, default=30, help="genes per contig (default: 30)")
    parser.add_argument("--reads", type=int, default=20_000, help="RNA-seq reads (default: 20000)")
    parser.add_argument("--read-length", type=int, default=100, help="bases per read (default: 100)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.simulate.genome import check_count, simulate_genome, write_genome, write_gtf, write_truth
    from bioseq.simulate.reads import MAX_READS, simulate_rnaseq

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
