"""``bioseq encode INPUT -o OUT.npz``: sequences to a compact code array, for batch jobs.

The ``.npz`` holds ``codes`` (N, L) uint8 (A, C, G, T, N = 0..4, other IUPAC
letters 5..14, padding 15), ``lengths`` (N,) int64 and ``names`` (N,) str;
for labelled input also ``labels`` ((N,) int64, or (N, C) uint8 for
multi-label), ``classes`` and ``task``. Load it with ``numpy.load``. The file
is written atomically: a failed run leaves no output behind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bioseq.cli.flags import add_column_flags
from bioseq.errors import InputError
from bioseq.io.fasta_codes import read_fasta_codes
from bioseq.io.handles import atomic_output
from bioseq.io.sniff import sniff_format
from bioseq.io.tables import read_fasta_labelled, read_labelled

__all__ = ["add_parser", "run", "encode_file"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "encode",
        help="encode FASTA or a labelled table/folder to a .npz of uint8 codes",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument(
        "input",
        help="FASTA (plain/gzip), CSV/TSV table with sequence,label "
        "columns, or a folder with one sub-folder of FASTA files per class",
    )
    parser.add_argument("-o", "--output", required=True, help="output .npz file")
    parser.add_argument(
        "--length", type=int, help="fixed width L (longer sequences are an error); default: the longest sequence"
    )
    parser.add_argument(
        "--label-pattern",
        help="FASTA only: regular expression with one group that finds the label in each header, e.g. 'label=(\\S+)'",
    )
    add_column_flags(parser)
    parser.add_argument("--compress", action="store_true", help="write a compressed .npz")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    arrays = encode_file(
        args.input,
        length=args.length,
        label_pattern=args.label_pattern,
        sequence_column=args.sequence_column,
        label_column=args.label_column,
    )
    output = Path(args.output)
    if output.suffix != ".npz":
        raise InputError("the output file must end in .npz", path=str(output), fix="Name it e.g. out.npz")
    save = np.savez_compressed if args.compress else np.savez
    with atomic_output(output) as handle:
        save(handle, **arrays)
    return 0


def encode_file(
    path: str,
    *,
    length: int | None = None,
    label_pattern: str | None = None,
    sequence_column: str = "sequence",
    label_column: str = "label",
) -> dict[str, np.ndarray]:
    """Encode a FASTA file, a labelled table or a folder of classes to arrays.

    Returns
    -------
    dict of numpy.ndarray
        ``codes`` (N, L) uint8, ``lengths`` (N,) int64, ``names`` (N,) str and,
        for labelled input, ``labels``, ``classes`` and ``task``.
    """
    if Path(path).is_dir():
        return _labelled(read_labelled(path), length)
    fmt = sniff_format(path)
    if fmt == "fasta" and label_pattern is None:
        fasta = read_fasta_codes(path, length=length)
        return {"codes": fasta.codes, "lengths": fasta.lengths, "names": np.array(fasta.names, dtype=str)}
    if fmt == "fasta":
        return _labelled(read_fasta_labelled(path, label_pattern=label_pattern), length)
    if fmt == "table":
        data = read_labelled(path, sequence_column=sequence_column, label_column=label_column)
        return _labelled(data, length)
    raise InputError(
        f"this is a {fmt.upper()} file; bioseq encode reads FASTA, labelled tables and class folders",
        path=path,
        fix=_CONVERT.get(fmt, "Convert it to FASTA first"),
    )


_CONVERT = {
    "fastq": "Convert it to FASTA first, e.g. with: seqkit fq2fa IN.fq -o OUT.fa",
    "bed": "Extract the sequences of the intervals first, e.g. with: bedtools getfasta -fi genome.fa -bed IN.bed",
    "sam": "Extract the reads as FASTA first, e.g. with: samtools fasta IN > OUT.fa",
    "gtf": "Build a labelled dataset from it with 'bioseq dataset promoters' or 'bioseq dataset splice-sites'",
}
_CONVERT.update(bam=_CONVERT["sam"], cram=_CONVERT["sam"], gff3=_CONVERT["gtf"])


def _labelled(data, length: int | None) -> dict[str, np.ndarray]:
    codes, lengths = data.codes(length)
    return {
        "codes": codes,
        "lengths": lengths,
        "names": np.array(data.names, dtype=str),
        "labels": data.labels,
        "classes": np.array(data.classes, dtype=str),
        "task": np.array(data.task),
    }
