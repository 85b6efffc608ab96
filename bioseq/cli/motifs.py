"""``bioseq motifs EXP --out MOT``: motifs a model learned, discovered from its attributions and named.

Seqlets of high attribution in EXP (written by ``bioseq explain``) are
clustered into motifs with TF-MoDISco (modisco-lite), and each motif is
matched with TOMTOM against JASPAR (CORE vertebrates by default, offline) or
a motif file of your own (MEME or JASPAR format). MOT gets ``motifs.tsv``
(one row per motif and match: motif, seqlets, match_id, match_name, q_value,
...), ``motifs.html`` (logo, seqlet count and best matches per motif),
``motifs.meme`` and the logos. MOT appears only when complete.
"""

from __future__ import annotations

import argparse
import sys

from bioseq.cli.flags import add_out_flag

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "motifs",
        help="motifs from the attributions of bioseq explain (TF-MoDISco), matched to JASPAR (TOMTOM)",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("exp", metavar="EXP", help="folder written by bioseq explain")
    add_out_flag(parser, help="output folder (motifs.tsv, motifs.html, motifs.meme, logos/)", metavar="MOT")
    parser.add_argument(
        "--motifs", metavar="FILE", help="match against this motif file (.meme or .jaspar) instead of JASPAR"
    )
    parser.add_argument("--jaspar-collection", default="CORE", help="JASPAR collection to match (default CORE)")
    parser.add_argument("--tax-group", default="vertebrates", help="JASPAR taxonomic group (default vertebrates)")
    parser.add_argument("--top", type=int, metavar="N", default=5, help="best matches listed per motif (default 5)")
    parser.add_argument("--max-seqlets", type=int, metavar="N", help="most seqlets per metacluster (default 2000)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bioseq.interpret.motif_report import run_motifs

    options = {"max_seqlets": args.max_seqlets} if args.max_seqlets is not None else {}
    summary = run_motifs(
        args.exp,
        args.out,
        database=args.motifs,
        collection=args.jaspar_collection,
        tax_group=args.tax_group,
        top=args.top,
        **options,
    )
    named = sum(1 for motif in summary["motifs"] if motif["best_match"] is not None)
    print(
        f"bioseq motifs: {len(summary['motifs'])} motifs ({named} matched) in {summary['seconds']:.1f} s; "
        f"{args.out}/motifs.tsv and motifs.html",
        file=sys.stderr,
    )
    if summary.get("note"):
        print(f"bioseq motifs: note: {summary['note']}", file=sys.stderr)
    return 0
