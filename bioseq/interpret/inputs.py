"""The sequences ``bioseq explain`` attributes, read a block at a time from FASTA, a table or BED.

Accepted inputs of :func:`read_blocks`
--------------------------------------
FASTA (plain or gzip)
    One sequence per record, named by the record name. With ``label``, only
    the records whose header carries that label (``>seq1 label=pos``, as
    :func:`bioseq.io.tables.read_fasta_labelled` reads them for ``bioseq train``).
A CSV/TSV table with a header
    The sequence column (``sequence_column``, default ``sequence``), an
    optional ``name`` column (else rows are named ``<file name>:<line>``,
    1-based), and with ``label`` only the rows whose label column
    (``label_column``, default ``label``) holds that class: the cell equals
    it, lists it among ``;``-separated labels, or, for a multi-label table with
    one 0/1 column per class, the column named ``label`` holds ``1``. These are
    the labelled tables ``bioseq train`` takes.
BED intervals with ``reference`` (a genome FASTA)
    Each interval (0-based, half-open) is resized to ``width`` bases around
    its centre, strand-aware (:meth:`~bioseq.io.interval.Interval.resize`);
    ``-`` strand windows are reverse-complemented, so position 0 of the codes
    is the window's 5' end on its strand; bases past a contig end are N.

Each block is an :class:`InputBlock`: ``names`` (n,), ``codes`` uint8
``(n, W)`` right-padded with ``PAD`` (W: the block's longest sequence, or
``width`` for BED), and for BED ``regions``: the resized windows as
``(chrom, start, end, strand)``, 0-based half-open (``start`` may be negative
for a window hanging off the contig start). Memory stays bounded by the block.

:func:`select_sequences` keeps every sequence of the blocks (up to a cap), or
the ``top`` highest-scoring ones by a given score, holding at most a few
times ``top`` sequences at once: a :class:`Selection`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bioseq.alphabet import PAD
from bioseq.checks import positive_integer
from bioseq.codes import encode, fit_width  # noqa: F401  (fit_width re-exported)
from bioseq.errors import InputError, option

__all__ = ["InputBlock", "Selection", "read_blocks", "fit_width", "input_kind", "select_sequences", "sequence_lengths"]

_HEAD_BYTES = 1 << 14


@dataclass(frozen=True)
class InputBlock:
    """A block of input sequences.

    Attributes
    ----------
    names : list of str, length ``n``
    codes : numpy.ndarray, shape ``(n, W)``, dtype uint8
        Right-padded with ``PAD``.
    regions : list of (str, int, int, str) or None
        BED input only: each sequence's window ``(chrom, start, end, strand)``, 0-based half-open.
    """

    names: list[str]
    codes: np.ndarray
    regions: list[tuple[str, int, int, str]] | None = None


def input_kind(source: str | os.PathLike, *, reference=None) -> str:
    """``"bed"`` (with a reference), ``"fasta"`` or ``"table"``, as :func:`~bioseq.io.sniff.sniff_format` tells.

    Raises
    ------
    InputError
        On a missing or empty file, BED without ``reference``, or another format (FASTQ, VCF, ...).
    """
    from bioseq.errors import MissingFileError
    from bioseq.io.handles import check_text, open_input
    from bioseq.io.sniff import sniff_format

    path = os.fspath(source)
    if not Path(path).is_file():
        raise MissingFileError("the input file does not exist", path=path, fix="Check the path")
    with open_input(path) as stream:
        head = stream.peek(_HEAD_BYTES)[:_HEAD_BYTES]
        check_text(head, path=path, what="FASTA, a sequence table or BED")
        if not head.strip():
            raise InputError("the file is empty", path=path, fix="Check that it was written completely")
    if reference is not None:
        return "bed"
    found = sniff_format(path)
    if found in ("fasta", "table"):
        return found
    if found == "bed":
        raise InputError(
            "these are intervals, not sequences",
            path=path,
            fix=f"This looks like BED intervals: pass {option('reference', repr('genome.fa'))}, "
            "the genome they refer to",
        )
    raise InputError(
        f"this is a {found.upper()} file, not FASTA, a sequence table or BED",
        path=path,
        fix="Convert it to FASTA, or to a table with a 'sequence' column",
    )


def read_blocks(
    source: str | os.PathLike,
    *,
    reference=None,
    width: int | None = None,
    label: str | None = None,
    sequence_column: str = "sequence",
    label_column: str = "label",
    block_size: int = 4096,
) -> Iterator[InputBlock]:
    """Read the input a block at a time (see the module docstring).

    Parameters
    ----------
    source : str or os.PathLike
        FASTA, a table, or BED intervals (with ``reference``).
    reference : str, os.PathLike or Reference, optional
        The genome of BED intervals.
    width : int, optional
        Window width of BED intervals (required with ``reference``).
    label : str, optional
        Keep only the sequences of this class (FASTA with labels or a labelled table).
    sequence_column, label_column : str
        Table columns.
    block_size : int, default 4,096
        Sequences per block.

    Yields
    ------
    InputBlock

    Raises
    ------
    InputError
        As :func:`input_kind`; ``label`` for BED input; a table without the
        sequence or label column; a bad sequence (naming the record).
    """
    block_size = positive_integer(block_size, "block_size")
    kind = input_kind(source, reference=reference)
    if kind == "bed":
        if label is not None:
            raise InputError(
                f"{option('label')} keeps one class of a labelled table; BED intervals carry no labels",
                path=source,
                fix=f"Leave out {option('label')}",
            )
        if width is None:
            raise InputError("the window width of BED intervals is not known", path=source)
        return _bed_blocks(source, reference, positive_integer(width, "width"), block_size)
    if kind == "fasta":
        return _fasta_blocks(source, label, block_size)
    return _table_blocks(source, sequence_column, label_column, label, block_size)


def _fasta_blocks(source, label: str | None, block_size: int) -> Iterator[InputBlock]:
    if label is not None:
        yield from _labelled_fasta_blocks(source, label, block_size)
        return
    from bioseq.io.fasta import read_fasta

    records = iter(read_fasta(source))
    while block := list(itertools.islice(records, block_size)):
        names = [r.name for r in block]
        codes, _ = encode([r.sequence for r in block], names=names)
        yield InputBlock(names, codes)


def _labelled_fasta_blocks(source, label: str, block_size: int) -> Iterator[InputBlock]:
    """FASTA records whose header carries ``label=<label>`` (read whole, as ``bioseq train`` reads them)."""
    from bioseq.io.tables import read_fasta_labelled

    data = read_fasta_labelled(source)
    _check_label(label, data.classes, source)
    column = data.classes.index(label)
    keep = data.labels[:, column] == 1 if data.task == "multilabel" else data.labels == column
    chosen = np.flatnonzero(keep)
    for start in range(0, chosen.size, block_size):
        rows = chosen[start : start + block_size].tolist()
        names = [data.names[i] for i in rows]
        codes, _ = encode([data.sequences[i] for i in rows], names=names)
        yield InputBlock(names, codes)


def _check_label(label: str, classes, source) -> None:
    if label not in classes:
        raise InputError(
            f"no sequence has the label {label!r}; the labels are {', '.join(map(repr, classes))}",
            path=source,
            fix=f"Pass one of them as {option('label', 'CLASS')}",
        )


def _table_blocks(source, sequence_column, label_column, label, block_size) -> Iterator[InputBlock]:
    from bioseq.io.tables import open_table

    with open_table(source) as table:
        sequence = table.index(sequence_column)
        name = table.index("name") if "name" in table.columns else None
        keep = _row_filter(table, label_column, label)
        base = os.path.basename(table.path)
        found = False
        for lines, rows in table.blocks(block_size):
            pairs = [(line, row) for line, row in zip(lines, rows) if keep(row)]
            if not pairs:
                continue
            found = True
            names = [row[name].strip() if name is not None else f"{base}:{line}" for line, row in pairs]
            codes, _ = encode([row[sequence].strip() for _, row in pairs], names=names)
            yield InputBlock(names, codes)
        if label is not None and not found:
            raise InputError(
                f"no row of the table has the label {label!r}",
                path=table.path,
                fix=f"Check the spelling of {option('label', 'CLASS')} against the {label_column!r} column",
            )


def _row_filter(table, label_column: str, label: str | None):
    """A predicate on table rows: every row, or those of class ``label``."""
    if label is None:
        return lambda row: True
    if label in table.columns and label_column not in table.columns:  # one 0/1 column per class
        column = table.index(label)
        return lambda row: row[column].strip() in ("1", "1.0", "true", "True")
    column = table.index(label_column)
    return lambda row: (cell := row[column].strip()) == label or label in (p.strip() for p in cell.split(";"))


def _bed_blocks(source, reference, width: int, block_size: int) -> Iterator[InputBlock]:
    from bioseq.predict import bed_window_blocks

    for block, windows, codes in bed_window_blocks(source, reference, width, block_size):
        names = [i.name or f"{w.chrom}:{w.start}-{w.end}({w.strand})" for i, w in zip(block, windows)]
        regions = [(w.chrom, int(w.start), int(w.end), w.strand) for w in windows]
        yield InputBlock(names, codes, regions)


@dataclass(frozen=True)
class Selection:
    """The sequences to explain.

    Attributes
    ----------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        ``PAD``-padded to the longest.
    lengths : numpy.ndarray, shape ``(N,)``, dtype int64
    names : list of str
    regions : list of (str, int, int, str) or None
    scores : numpy.ndarray, shape ``(N,)``, dtype float32
    seen : int
        Sequences read.
    """

    codes: np.ndarray
    lengths: np.ndarray
    names: list[str]
    regions: list[tuple[str, int, int, str]] | None
    scores: np.ndarray
    seen: int


def sequence_lengths(codes: np.ndarray) -> np.ndarray:
    """The real lengths of ``PAD``-padded codes ``(N, L)``: int64 ``(N,)``."""
    real = codes != PAD
    return np.where(real.any(axis=1), codes.shape[1] - np.argmax(real[:, ::-1], axis=1), 0).astype(np.int64)


def select_sequences(
    blocks: Iterable[InputBlock],
    score: Callable[[np.ndarray], np.ndarray],
    *,
    top: int | None,
    cap: int,
    path=None,
) -> Selection:
    """Every sequence of ``blocks`` (at most ``cap``), or the ``top`` highest-scoring ones.

    Parameters
    ----------
    blocks : iterable of InputBlock
    score : callable
        Codes ``(n, W)`` uint8 -> scores ``(n,)`` float.
    top : int or None
        Keep the ``top`` best, by decreasing score (ties: input order); None keeps all, in input order.
    cap : int
        Most sequences kept without ``top``.
    path : str, optional
        The input, for the messages.

    Returns
    -------
    Selection

    Raises
    ------
    InputError
        On no sequence at all, or more than ``cap`` without ``top`` (naming ``top``).
    """
    kept: list[InputBlock] = []
    scores: list[np.ndarray] = []
    seen = 0
    for block in blocks:
        if not block.names:
            continue
        seen += len(block.names)
        if top is None and seen > cap:
            raise InputError(
                f"the input holds more than {cap:,} sequences",
                path=path,
                fix=f"Explain the highest-scoring ones with {option('top', 'N')}, or split the input",
            )
        kept.append(block)
        scores.append(np.asarray(score(block.codes), dtype=np.float32))
        if top is not None and sum(len(b.names) for b in kept) > 4 * top:
            kept, scores = _best(kept, scores, top)
    if not seen:
        raise InputError("the input holds no sequence to explain", path=path, fix="Check the file (and the label)")
    if top is not None:
        kept, scores = _best(kept, scores, top)
    return _merge(kept, scores, seen)


def _best(kept: list[InputBlock], scores: list[np.ndarray], top: int) -> tuple[list[InputBlock], list[np.ndarray]]:
    """The ``top`` highest-scoring sequences of the blocks as one block, by decreasing score (ties: input order)."""
    merged = _merge(kept, scores, 0)
    order = np.argsort(-merged.scores, kind="stable")[:top]
    regions = None if merged.regions is None else [merged.regions[i] for i in order]
    return [InputBlock([merged.names[i] for i in order], merged.codes[order], regions)], [merged.scores[order]]


def _merge(kept: list[InputBlock], scores: list[np.ndarray], seen: int) -> Selection:
    width = max(b.codes.shape[1] for b in kept)
    codes = np.full((sum(len(b.names) for b in kept), width), PAD, dtype=np.uint8)
    row = 0
    for block in kept:
        codes[row : row + len(block.names), : block.codes.shape[1]] = block.codes
        row += len(block.names)
    regions = None if kept[0].regions is None else [r for b in kept for r in b.regions]
    names = [n for b in kept for n in b.names]
    return Selection(codes, sequence_lengths(codes), names, regions, np.concatenate(scores), seen)
