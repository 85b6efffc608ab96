"""Score sequences with a model bundle and write the predictions as a table.

Inputs of :func:`predict_file`
------------------------------
FASTA (plain or gzip)
    One row per record, named by the record name.
A CSV/TSV table with a header naming a ``sequence`` column
    Optionally a ``name`` column; other columns (labels, say) are ignored.
    Rows without a name are called ``<file name>:<line>`` (1-based line).
BED intervals with ``reference=`` a genome FASTA
    Each interval (0-based half-open, as BED stores it) is resized to the
    model's window width around its centre, strand-aware
    (:meth:`~bioseq.io.interval.Interval.resize`); ``-`` strand windows are
    reverse-complemented and windows running past a contig end are padded
    with N by the :class:`~bioseq.io.reference.Reference`. The row keeps the
    interval's own ``chrom``, ``start``, ``end``, ``strand`` and ``name``.

Inputs are read and scored in blocks (``block_size`` records), so memory
stays bounded for any file size. The output has the layout of
:func:`bioseq.evaluate.report.write_predictions` (a ``p_<class>`` column per
class, the positive class only for binary, and ``predicted``), is written
atomically and is gzip-compressed when its name ends in ``.gz``.

Fixed-width models (a bundle ``length`` ``L``) read exactly ``L`` positions:
a shorter sequence is right-padded with ``PAD`` (as training data of mixed
lengths were), a longer one is an error naming the record.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from bioseq.alphabet import PAD
from bioseq.bundle import Bundle
from bioseq.bundle.resolve import as_bundle, window_width
from bioseq.checks import positive_integer
from bioseq.codes import check_codes, encode, fit_width
from bioseq.errors import InputError, option
from bioseq.inference import InferenceOptions, as_options
from bioseq.io.handles import PathOrHandle, atomic_output, check_text, input_name, open_input

__all__ = ["predict_sequences", "predict_file", "bed_window_blocks", "InferenceOptions"]

_HEAD_BYTES = 1 << 14


def predict_sequences(
    bundle: Bundle, codes: np.ndarray, names: Sequence[str], *, options: InferenceOptions | None = None
) -> np.ndarray:
    """Probabilities for encoded sequences, fitted to a fixed-width model first.

    Parameters
    ----------
    bundle : Bundle
    codes : numpy.ndarray, shape ``(N, W)``, dtype uint8
        Right-padded with ``PAD``. For a fixed-width model (``bundle.length``
        ``L``), the padding is cut or extended to ``L`` columns.
    names : sequence of str, length ``N``
        Record names, for the error messages.
    options : InferenceOptions, optional
        Batch size, device and ``rc_average`` (default :class:`InferenceOptions()
        <bioseq.inference.InferenceOptions>`); the threshold does not apply here.

    Returns
    -------
    numpy.ndarray, float32
        ``(N,)`` for binary, ``(N, C)`` otherwise.

    Raises
    ------
    InputError
        On an empty sequence or one longer than the model's length (naming
        the record), names that do not match the codes, or as
        :meth:`Bundle.predict_proba`.
    """
    options = as_options(options)
    if not isinstance(bundle, Bundle):
        raise InputError(f"bundle must be a Bundle (see load_bundle), got {type(bundle).__name__}")
    check_codes(codes)
    if codes.ndim != 2:
        raise InputError(f"codes must be a 2-D (N, L) array, got shape {codes.shape}")
    names = list(names)
    if len(names) != codes.shape[0]:
        raise InputError(
            f"{len(names)} names were given for {codes.shape[0]} sequences", fix="Pass one name per row of codes"
        )
    real = codes != PAD  # (N, W)
    lengths = np.where(real.any(axis=1), codes.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)  # (N,)
    if lengths.size and lengths.min() == 0:
        raise InputError(
            "the sequence is empty", record=names[int(np.argmin(lengths))], fix="Remove empty records before predicting"
        )
    return options.predict_proba(bundle, fit_width(codes, bundle.length, names))


def predict_file(
    bundle: Bundle | str | os.PathLike,
    input: PathOrHandle,
    *,
    output: str | os.PathLike,
    options: InferenceOptions | None = None,
    reference=None,
    length: int | None = None,
    block_size: int = 50_000,
) -> int:
    """Predict every record of a FASTA file, a sequence table or BED intervals; write a TSV.

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A loaded bundle or its directory (loaded onto ``options.device``).
    input : str, os.PathLike or file object
        FASTA or a table with a ``sequence`` column (told apart by
        :func:`~bioseq.io.sniff.sniff_format`); BED when ``reference`` is given.
    output : str or os.PathLike
        The predictions TSV (``.gz`` compresses it); it appears only when complete.
    options : InferenceOptions, optional
        Batch size, device, ``rc_average`` and ``threshold``: the
        ``predicted`` column names the class when its probability is above
        the threshold (binary and multi-label; multi-class takes the
        arg-max). A stricter cut (0.9, say) trades recall for precision when
        scanning many windows; the probabilities are written either way.
    reference : str, os.PathLike or Reference, optional
        The genome that BED intervals refer to.
    length : int, optional
        Window width for BED intervals; only for a model of variable width
        (a fixed-width model uses its own).
    block_size : int, default 50,000
        Records read and scored at a time.

    Returns
    -------
    int
        The number of rows written.

    Raises
    ------
    InputError
        On an input the readers reject (file, line and record named), BED
        input without ``reference``, another format (FASTQ, say), a table
        without a ``sequence`` column, an empty input, ``length`` for
        FASTA/table input, or as :func:`predict_sequences`.
    """
    options = as_options(options)
    bundle = as_bundle(bundle, device=options.device, per_position=False)
    block_size = positive_integer(block_size, "block_size")
    path = input_name(input)
    with open_input(input) as stream:
        head = stream.peek(_HEAD_BYTES)[:_HEAD_BYTES]
        check_text(head, path=path, what="FASTA, a sequence table or BED")
        if not head.strip():
            raise InputError("the file is empty", path=path, fix="Check that it was written completely")
        source = input if isinstance(input, (str, os.PathLike)) else stream
        if reference is not None:
            blocks = _bed_blocks(source, reference, window_width(bundle, length), block_size)
        else:
            if length is not None:
                raise InputError(
                    f"{option('length')} sets the window width of BED intervals; it does not apply "
                    "to FASTA or table input",
                    path=path,
                    fix=f"Leave out {option('length')}, or give BED intervals with "
                    f"{option('reference', repr('genome.fa'))}",
                )
            blocks = _sequence_blocks(source, path, block_size)
        with _PredictionTable(output, bundle.classes, bundle.task, options.threshold) as table, _naming(path):
            for names, codes, coordinates in blocks:
                table.write(names, predict_sequences(bundle, codes, names, options=options), coordinates)
            if table.rows == 0:
                raise InputError(
                    "the input holds no records to predict", path=path, fix="Check that the file was written completely"
                )
    return table.rows


_Block = tuple[list[str], np.ndarray, list | None]


@contextlib.contextmanager
def _naming(path: str) -> Iterator[None]:
    """Add the input file to errors that name only a record (from encoding and fitting blocks)."""
    try:
        yield
    except InputError as exc:
        if exc.path is not None:
            raise
        raise InputError(exc.problem, path=path, line=exc.line, record=exc.record, fix=exc.fix) from None


def _sequence_blocks(source, path: str, block_size: int) -> Iterator[_Block]:
    """Blocks of FASTA records or table rows, whichever :func:`~bioseq.io.sniff.sniff_format` finds."""
    from bioseq.io.sniff import sniff_format

    found = sniff_format(source)
    if found == "fasta":
        return _fasta_blocks(source, block_size)
    if found == "table":
        return _table_blocks(source, block_size)
    if found == "bed":
        raise InputError(
            "these are intervals, not sequences",
            path=path,
            fix="This looks like BED intervals: pass "
            + option("reference", repr("genome.fa"))
            + ", the genome they refer to",
        )
    raise InputError(
        f"this is a {found.upper()} file, not FASTA or a sequence table",
        path=path,
        fix="Convert it to FASTA, or to a table with a 'sequence' column",
    )


def _fasta_blocks(source, block_size: int) -> Iterator[_Block]:
    from bioseq.io.fasta import read_fasta

    records = iter(read_fasta(source))
    while block := list(itertools.islice(records, block_size)):
        names = [r.name for r in block]
        codes, _ = encode([r.sequence for r in block], names=names)
        yield names, codes, None


def _table_blocks(source, block_size: int) -> Iterator[_Block]:
    """Blocks of a CSV/TSV table with a header naming ``sequence`` (and optionally ``name``).

    Rows without a ``name`` column are named ``<file name>:<line>`` (1-based).
    """
    from bioseq.io.tables import open_table

    with open_table(source) as table:
        if "sequence" not in table.columns:
            raise InputError(
                f"the table has no 'sequence' column; its columns are {table.columns}",
                path=table.path,
                line=table.line,
                fix="Name the sequence column 'sequence' in the header line",
            )
        sequence = table.index("sequence")
        name = table.index("name") if "name" in table.columns else None
        base = os.path.basename(table.path)
        for lines, rows in table.blocks(block_size):
            names = [row[name].strip() if name is not None else f"{base}:{line}" for line, row in zip(lines, rows)]
            codes, _ = encode([row[sequence].strip() for row in rows], names=names)
            yield names, codes, None


def bed_window_blocks(source, reference, width: int, block_size: int) -> Iterator[tuple[list, list, np.ndarray]]:
    """BED intervals in blocks, each resized to ``width`` around its centre and read from the genome.

    Yields ``(intervals, windows, codes)``: up to ``block_size`` intervals of
    ``source`` (0-based half-open), their ``width``-base windows (strand-aware
    :meth:`~bioseq.io.interval.Interval.resize`) and the windows' codes
    ``(n, width)`` uint8, N past a contig end, minus-strand windows
    reverse-complemented. ``reference`` is a genome path or an open
    :class:`~bioseq.io.reference.Reference` (left open).
    """
    from bioseq.io.bed import read_bed
    from bioseq.io.reference import Reference

    with contextlib.ExitStack() as stack:
        if not isinstance(reference, Reference):
            reference = stack.enter_context(Reference(reference))
        intervals = iter(read_bed(source))
        while block := list(itertools.islice(intervals, block_size)):
            windows = [interval.resize(width) for interval in block]  # centred, strand-aware
            codes = reference.windows(
                [w.chrom for w in windows],
                np.array([w.start for w in windows]),
                width,
                strands=[w.strand for w in windows],
            )  # (n, width), N-padded
            yield block, windows, codes


def _bed_blocks(source, reference, width: int, block_size: int) -> Iterator[_Block]:
    for block, _, codes in bed_window_blocks(source, reference, width, block_size):
        names = [interval.name for interval in block]
        coordinates = [(i.chrom, i.start, i.end, i.strand) for i in block]
        yield names, codes, coordinates


class _PredictionTable:
    """Append blocks of predictions to one TSV in the layout of ``write_predictions``.

    Each block is formatted by :func:`bioseq.evaluate.report.write_predictions`
    into a scratch file and copied on (its header only once), so the columns
    and number formats are exactly that function's.
    """

    def __init__(self, path: str | os.PathLike, classes: tuple[str, ...], task: str, threshold: float) -> None:
        self._path, self._classes, self._task, self._threshold = path, list(classes), task, threshold
        self.rows = 0

    def __enter__(self) -> _PredictionTable:
        self._stack = contextlib.ExitStack()
        raw = self._stack.enter_context(atomic_output(self._path))
        self._handle = raw
        if os.fspath(self._path).endswith(".gz"):
            self._handle = self._stack.enter_context(gzip.GzipFile(fileobj=raw, mode="wb", mtime=0))
        scratch = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="bioseq-predict-"))
        self._scratch = Path(scratch) / "block.tsv"
        return self

    def write(self, names: list[str], scores: np.ndarray, coordinates: list | None) -> None:
        from bioseq.evaluate.report import write_predictions

        write_predictions(
            self._scratch,
            names,
            scores,
            self._classes,
            task=self._task,
            coordinates=coordinates,
            threshold=self._threshold,
        )
        with open(self._scratch, "rb") as block:
            header = block.readline()
            if self.rows == 0:
                self._handle.write(header)
            shutil.copyfileobj(block, self._handle)
        self.rows += scores.shape[0]

    def __exit__(self, *exc) -> None:
        self._stack.__exit__(*exc)
