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
import csv
import gzip
import io
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from bioseq.alphabet import PAD
from bioseq.bundle import Bundle, load_bundle
from bioseq.codes import check_codes, encode
from bioseq.errors import InputError, option
from bioseq.io.handles import PathOrHandle, atomic_output, check_text, input_name, open_input, read_errors

__all__ = ["predict_sequences", "predict_file", "as_bundle", "window_width"]

_HEAD_BYTES = 1 << 14


def as_bundle(bundle: Bundle | str | os.PathLike, device) -> Bundle:
    """``bundle`` itself, or the bundle loaded from that directory onto ``device`` (default CPU)."""
    if isinstance(bundle, Bundle):
        return bundle
    if isinstance(bundle, (str, os.PathLike)):
        return load_bundle(bundle, device="cpu" if device is None else device)
    raise InputError(f"bundle must be a Bundle or a bundle directory, got {type(bundle).__name__}")


def window_width(bundle: Bundle, length: int | None) -> int:
    """The window width for genomic intervals: the bundle's fixed length, or ``length``.

    Raises
    ------
    InputError
        When ``length`` is missing for a variable-width model, differs from a
        fixed-width model's length, or is not a positive integer.
    """
    if length is not None and (isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1):
        raise InputError(f"length must be a positive integer, got {length!r}")
    if bundle.length is None:
        if length is None:
            raise InputError("the model reads sequences of any width, so the window width is not known",
                             path=bundle.path, fix=option(
                                 "length", "N", clause="Pass {} (the window width in bp)",
                                 otherwise="Use a model trained on fixed-width windows (bioseq train --length N)"))
        return int(length)
    if length is not None and length != bundle.length:
        raise InputError(f"{option('length', str(length))} differs from the {bundle.length} bp windows the model "
                         "was trained on", path=bundle.path, fix=f"Leave out {option('length')} for this model")
    return bundle.length


def predict_sequences(bundle: Bundle, codes: np.ndarray, names: Sequence[str], *, batch_size: int = 256,
                      device=None, rc_average: bool = False) -> np.ndarray:
    """Probabilities for encoded sequences, fitted to a fixed-width model first.

    Parameters
    ----------
    bundle : Bundle
    codes : numpy.ndarray, shape ``(N, W)``, dtype uint8
        Right-padded with ``PAD``. For a fixed-width model (``bundle.length``
        ``L``), the padding is cut or extended to ``L`` columns.
    names : sequence of str, length ``N``
        Record names, for the error messages.
    batch_size, device, rc_average
        As :meth:`Bundle.predict_proba`.

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
    if not isinstance(bundle, Bundle):
        raise InputError(f"bundle must be a Bundle (see load_bundle), got {type(bundle).__name__}")
    check_codes(codes)
    if codes.ndim != 2:
        raise InputError(f"codes must be a 2-D (N, L) array, got shape {codes.shape}")
    names = list(names)
    if len(names) != codes.shape[0]:
        raise InputError(f"{len(names)} names were given for {codes.shape[0]} sequences",
                         fix="Pass one name per row of codes")
    real = codes != PAD  # (N, W)
    lengths = np.where(real.any(axis=1), codes.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)  # (N,)
    if lengths.size and lengths.min() == 0:
        raise InputError("the sequence is empty", record=names[int(np.argmin(lengths))],
                         fix="Remove empty records before predicting")
    target = bundle.length
    if target is not None and codes.shape[1] != target:
        if lengths.max() > target:
            i = int(np.argmax(lengths > target))
            raise InputError(f"the sequence is {int(lengths[i])} bases long, but the model reads exactly {target}",
                             record=names[i], fix=f"Trim or window the sequences to {target} bases")
        fitted = np.full((codes.shape[0], target), PAD, dtype=np.uint8)
        width = min(target, codes.shape[1])
        fitted[:, :width] = codes[:, :width]
        codes = fitted
    return bundle.predict_proba(codes, batch_size=batch_size, device=device, rc_average=rc_average)


def predict_file(bundle: Bundle | str | os.PathLike, input: PathOrHandle, *, output: str | os.PathLike,
                 batch_size: int = 256, device=None, rc_average: bool = False, reference=None,
                 length: int | None = None, block_size: int = 50_000, threshold: float = 0.5) -> int:
    """Predict every record of a FASTA file, a sequence table or BED intervals; write a TSV.

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A loaded bundle or its directory (loaded onto ``device``).
    input : str, os.PathLike or file object
        FASTA or a table with a ``sequence`` column; BED when ``reference`` is given.
    output : str or os.PathLike
        The predictions TSV (``.gz`` compresses it); it appears only when complete.
    batch_size, device, rc_average
        As :meth:`Bundle.predict_proba`.
    reference : str, os.PathLike or Reference, optional
        The genome that BED intervals refer to.
    length : int, optional
        Window width for BED intervals; only for a model of variable width
        (a fixed-width model uses its own).
    block_size : int, default 50,000
        Records read and scored at a time.
    threshold : float, default 0.5
        The ``predicted`` column names the class when its probability is
        above ``threshold`` (binary and multi-label; multi-class takes the
        arg-max). A stricter cut (0.9, say) trades recall for precision when
        scanning many windows; the probabilities are written either way.

    Returns
    -------
    int
        The number of rows written.

    Raises
    ------
    InputError
        On an input the readers reject (file, line and record named), BED
        input without ``reference``, a table without a ``sequence`` column,
        an empty input, ``length`` for FASTA/table input, a threshold
        outside (0, 1), or as :func:`predict_sequences`.
    """
    from bioseq.evaluate.metrics import check_threshold

    threshold = check_threshold(threshold)
    bundle = as_bundle(bundle, device)
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise InputError(f"block_size must be a positive integer, got {block_size!r}")
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
                raise InputError(f"{option('length')} sets the window width of BED intervals; it does not apply "
                                 "to FASTA or table input", path=path,
                                 fix=f"Leave out {option('length')}, or give BED intervals with "
                                     f"{option('reference', repr('genome.fa'))}")
            fasta = head.lstrip().startswith(b">")
            blocks = (_fasta_blocks if fasta else _table_blocks)(source, path, block_size)
        with _PredictionTable(output, bundle.classes, bundle.task, threshold) as table, _naming(path):
            for names, codes, coordinates in blocks:
                scores = predict_sequences(bundle, codes, names, batch_size=batch_size, device=device,
                                           rc_average=rc_average)
                table.write(names, scores, coordinates)
            if table.rows == 0:
                raise InputError("the input holds no records to predict", path=path,
                                 fix="Check that the file was written completely")
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


def _fasta_blocks(source, path: str, block_size: int) -> Iterator[_Block]:
    from bioseq.io.fasta import read_fasta

    records = iter(read_fasta(source))
    while block := list(itertools.islice(records, block_size)):
        names = [r.name for r in block]
        codes, _ = encode([r.sequence for r in block], names=names)
        yield names, codes, None


def _table_blocks(source, path: str, block_size: int) -> Iterator[_Block]:
    """Blocks of a CSV/TSV table with a header naming ``sequence`` (and optionally ``name``)."""
    base = os.path.basename(path)
    with open_input(source) as stream, read_errors(path):
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            first = text.readline()
            delimiter = "\t" if "\t" in first else ","
            reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
            header = [cell.strip() for cell in next(reader)]
            if "sequence" not in header:
                bed = len(header) >= 3 and header[1].isdigit() and header[2].isdigit()
                raise InputError(f"the table has no 'sequence' column; its columns are {header}", path=path,
                                 line=1, fix="This looks like BED intervals: pass "
                                 + option("reference", repr("genome.fa")) if bed else "Name the sequence column 'sequence' in the header line")
            seq_col, name_col = header.index("sequence"), header.index("name") if "name" in header else None
            rows = ((reader.line_num, row) for row in reader if any(cell.strip() for cell in row))
            while block := list(itertools.islice(rows, block_size)):
                for line, row in block:
                    if len(row) != len(header):
                        raise InputError(f"the row has {len(row)} fields but the header has {len(header)}",
                                         path=path, line=line, fix="Quote fields that hold the delimiter")
                names = [row[name_col].strip() if name_col is not None else f"{base}:{line}" for line, row in block]
                codes, _ = encode([row[seq_col].strip() for _, row in block], names=names)
                yield names, codes, None
        except csv.Error as exc:
            raise InputError(f"the table cannot be parsed ({exc})", path=path, line=reader.line_num) from exc
        finally:
            with contextlib.suppress(ValueError):
                text.detach()


def _bed_blocks(source, reference, width: int, block_size: int) -> Iterator[_Block]:
    from bioseq.io.bed import read_bed
    from bioseq.io.reference import Reference

    with contextlib.ExitStack() as stack:
        if not isinstance(reference, Reference):
            reference = stack.enter_context(Reference(reference))
        intervals = iter(read_bed(source))
        while block := list(itertools.islice(intervals, block_size)):
            windows = [interval.resize(width) for interval in block]  # centred, strand-aware
            codes = reference.windows([w.chrom for w in windows], np.array([w.start for w in windows]), width,
                                      strands=[w.strand for w in windows])  # (n, width), N-padded
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

        write_predictions(self._scratch, names, scores, self._classes, task=self._task, coordinates=coordinates,
                          threshold=self._threshold)
        with open(self._scratch, "rb") as block:
            header = block.readline()
            if self.rows == 0:
                self._handle.write(header)
            shutil.copyfileobj(block, self._handle)
        self.rows += scores.shape[0]

    def __exit__(self, *exc) -> None:
        self._stack.__exit__(*exc)
