"""File summaries for ``bioseq inspect``, in the spirit of ``seqkit stats``
and ``samtools quickcheck``.

:func:`summarize` recognises the format from the content
(:func:`bioseq.io.sniff.sniff_format`), reads the whole file with the strict
bioseq reader for that format, and returns a flat ``dict`` of figures: record
counts, length distribution, GC and N content, contigs, strands, classes,
genes and transcripts (GTF/GFF3, and GenBank/EMBL with their sequences), and
a list of ``problems`` (alphabet problems such as protein letters, gaps or
lower-case soft-masking are reported, not fatal). A file the reader rejects
raises the reader's :class:`~bioseq.errors.InputError`.

Memory: records are streamed and their letters counted in slices of
:data:`_SLICE` characters, so a summary holds one record at a time and never
a per-letter array (a 200 MB single-line FASTA needs about twice its size,
for the reader to build the sequence; see :mod:`bioseq.io.fasta`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

import numpy as np

from bioseq.alphabet import ASCII_TO_CODE, INVALID
from bioseq.io.alignment_source import AlignmentSource, quiet_htslib
from bioseq.io.bed import read_intervals
from bioseq.io.fasta import FastaReader
from bioseq.io.fastq import FastqReader
from bioseq.io.gff import read_annotation
from bioseq.io.sniff import sniff_format
from bioseq.io.tables import read_table

__all__ = ["summarize"]

_INDEX_SUFFIXES = (".fai", ".bai", ".csi", ".crai", ".gzi", ".tbi")

_GC = np.zeros(256, dtype=bool)
_GC[list(b"GCSgcs")] = True
_AT = np.zeros(256, dtype=bool)
_AT[list(b"ATUWatuw")] = True
_AMBIGUOUS = (ASCII_TO_CODE >= 4) & (ASCII_TO_CODE != INVALID)
_LOWER = np.zeros(256, dtype=bool)
_LOWER[ord("a") : ord("z") + 1] = True
_NUCLEOTIDE = ASCII_TO_CODE != INVALID
_SLICE = 1 << 20
"""Characters counted at a time (bincount makes 8 bytes per character it is given)."""


def summarize(path: str | os.PathLike) -> dict:
    """Summarise one file.

    Parameters
    ----------
    path : str or os.PathLike
        FASTA, FASTQ, SAM/BAM/CRAM, BED, GTF/GFF3, GenBank/EMBL or a labelled
        CSV/TSV table (plain, gzip or bgzip).

    Returns
    -------
    dict
        Always ``file``, ``format`` and ``problems`` (a list of str); the other
        keys depend on the format (see the module docstring). Index files
        (``.fai``, ``.bai``, ``.csi``, ``.crai``, ``.gzi``, ``.tbi``) are
        recognised by name and only named (``format: "index"``).

    Raises
    ------
    InputError
        When the file is missing, empty, of an unknown format or malformed.
    """
    name = os.fspath(path)
    if name.endswith(_INDEX_SUFFIXES):
        return {"file": name, "format": "index", "indexes": name.rsplit(".", 1)[0], "problems": []}
    fmt = sniff_format(name)
    summary = {"file": name, "format": fmt}
    summary.update(_SUMMARIZERS[fmt](name))
    summary.setdefault("problems", [])
    return summary


def _lengths(lengths: Iterable[int]) -> dict:
    values = np.fromiter(lengths, dtype=np.int64)
    if values.size == 0:
        return {"length_min": 0, "length_mean": 0.0, "length_median": 0.0, "length_max": 0, "n50": 0}
    ordered = np.sort(values)[::-1]
    n50 = int(ordered[np.searchsorted(np.cumsum(ordered), ordered.sum() / 2)])
    return {
        "length_min": int(values.min()),
        "length_mean": float(values.mean()),
        "length_median": float(np.median(values)),
        "length_max": int(values.max()),
        "n50": n50,
    }


def _composition(counts: np.ndarray) -> tuple[dict, list[str]]:
    """GC, ambiguity and soft-masking figures from a byte histogram of sequence letters."""
    total = int(counts.sum())
    gc, at = int(counts[_GC].sum()), int(counts[_AT].sum())
    invalid = {chr(b): int(counts[b]) for b in np.flatnonzero(~_NUCLEOTIDE & (counts > 0))}
    figures = {
        "gc_fraction": gc / (gc + at) if gc + at else float("nan"),
        "n_fraction": int(counts[[ord("N"), ord("n")]].sum()) / total if total else 0.0,
        "ambiguous_bases": int(counts[_AMBIGUOUS].sum()),
        "lowercase_fraction": int(counts[_LOWER].sum()) / total if total else 0.0,
    }
    problems = []
    if invalid:
        shown = ", ".join(f"{c!r} x{n}" for c, n in sorted(invalid.items(), key=lambda x: -x[1])[:8])
        kind = "protein letters" if set(invalid) & set("EFIJLOPQZX*efijlopqzx") else "non-nucleotide characters"
        problems.append(f"{sum(invalid.values())} {kind} ({shown}): bioseq reads DNA/RNA only")
    return figures, problems


def _count_letters(text: str, counts: np.ndarray) -> None:
    """Add the byte histogram of an ASCII ``text`` to ``counts``, a slice at a time."""
    for start in range(0, len(text), _SLICE):
        piece = text[start : start + _SLICE].encode("ascii")
        counts += np.bincount(np.frombuffer(piece, dtype=np.uint8), minlength=256)


def _sequences(reader) -> dict:
    counts = np.zeros(256, dtype=np.int64)
    lengths: list[int] = []
    names: Counter[str] = Counter()
    quality = np.zeros(256, dtype=np.int64)
    with reader as records:
        for record in records:
            _count_letters(record.sequence, counts)
            lengths.append(len(record.sequence))
            names[record.name] += 1
            if getattr(record, "quality", None):
                _count_letters(record.quality, quality)
    summary = {"records": len(lengths), "bases": int(counts.sum()), **_lengths(lengths)}
    figures, problems = _composition(counts)
    summary.update(figures)
    duplicates = [n for n, c in names.items() if c > 1]
    if duplicates:
        problems.append(f"{len(duplicates)} duplicate record names (e.g. {duplicates[0]!r})")
    if quality.any():
        summary.update(_qualities(quality))
    summary["problems"] = problems
    return summary


def _qualities(counts: np.ndarray) -> dict:
    present = np.flatnonzero(counts)
    phred = np.arange(256) - 33
    total = counts.sum()
    return {
        "quality_chars": f"{chr(present[0])}..{chr(present[-1])}",
        "quality_offset_guess": 64 if present[0] >= 59 else 33,
        "mean_phred33": float((counts * phred).sum() / total),
        "q30_fraction": float(counts[33 + 30 :].sum() / total),
    }


def _fasta(path: str) -> dict:
    return _sequences(FastaReader(path, alphabet="any"))


def _fastq(path: str) -> dict:
    return _sequences(FastqReader(path, alphabet="any"))


def _alignments(path: str) -> dict:
    flags = Counter()
    mapq = []
    with AlignmentSource(path) as source, quiet_htslib():  # bioseq's one-line error, not htslib's
        for read in source.all_reads():
            f = read.flag
            flags["records"] += 1
            flags["unmapped"] += bool(f & 0x4)
            flags["secondary"] += bool(f & 0x100)
            flags["supplementary"] += bool(f & 0x800)
            flags["duplicates"] += bool(f & 0x400)
            flags["paired"] += bool(f & 0x1)
            if not f & 0x4:
                mapq.append(read.mapping_quality)
        sort_order, has_index, references = source.sort_order, source.has_index, source.references
    summary = {key: flags[key] for key in ("records", "unmapped", "secondary", "supplementary", "duplicates", "paired")}
    summary.update(
        {
            "contigs": len(references),
            "sort_order": sort_order,
            "indexed": has_index,
            "mean_mapq": float(np.mean(mapq)) if mapq else float("nan"),
        }
    )
    problems = []
    if summary["records"] == 0:
        problems.append("the file holds no alignment records")
    return {**summary, "problems": problems}


def _bed(path: str) -> dict:
    contigs, strands, lengths = Counter(), Counter(), []
    for item in read_intervals(path):
        contigs[item.chrom] += 1
        strands[item.strand] += 1
        lengths.append(len(item))
    return {
        "records": len(lengths),
        "bases": int(sum(lengths)),
        **_lengths(lengths),
        "contigs": len(contigs),
        "strands": dict(sorted(strands.items())),
        "problems": [],
    }


def _annotation(path: str) -> dict:
    annotation = read_annotation(path)
    transcripts = annotation.transcripts()
    return {
        "genes": len(annotation.genes()),
        "transcripts": len(transcripts),
        "exons": len(annotation.exons(unique=True)),
        "introns": len(annotation.introns()),
        "contigs": len({t.chrom for t in transcripts}),
        "problems": [],
    }


def _genbank(path: str) -> dict:
    from bioseq.io.genbank import read_genbank
    from bioseq.io.genbank_annotation import annotate

    counts = np.zeros(256, dtype=np.int64)
    lengths, circular, without = [], [], []  # records without sequence are usable as annotation only

    def counted():
        for record in read_genbank(path):
            lengths.append(record.length)
            circular.append(record.circular)
            if record.sequence is None:
                without.append(record.contig)
            else:
                _count_letters(record.sequence.encode("ascii", "replace").decode("ascii"), counts)
            yield record

    found = annotate(counted(), path=path)
    annotation = found.annotation
    summary = {"records": len(lengths), "bases": int(sum(lengths)), **_lengths(lengths), "circular": sum(circular)}
    figures, problems = _composition(counts)
    summary.update(figures)
    summary.update(
        {
            "genes": len(annotation.genes()),
            "transcripts": len(annotation),
            "exons": len(annotation.exons(unique=True)),
            "introns": len(annotation.introns()),
            "split_at_origin": found.split,
            "features_left_out": dict(sorted(found.left_out.items(), key=lambda x: -x[1])),
            "records_no_sequence": len(without),
        }
    )
    return {**summary, "problems": problems}


def _table(path: str) -> dict:
    data = read_table(path)
    lengths = [len(s) for s in data.sequences]
    counts = np.zeros(256, dtype=np.int64)
    for s in data.sequences:
        _count_letters(s, counts)
    figures, problems = _composition(counts)
    return {
        "records": len(data),
        "bases": int(sum(lengths)),
        **_lengths(lengths),
        **figures,
        "task": data.task,
        "classes": data.class_counts(),
        "problems": problems,
    }


_SUMMARIZERS = {
    "fasta": _fasta,
    "fastq": _fastq,
    "sam": _alignments,
    "bam": _alignments,
    "cram": _alignments,
    "bed": _bed,
    "gtf": _annotation,
    "gff3": _annotation,
    "genbank": _genbank,
    "embl": _genbank,
    "table": _table,
}
