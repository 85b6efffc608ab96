"""Read labelled sequence files into :class:`~bioseq.io.labels.LabelledSequences`.

Accepted inputs
---------------
* a CSV/TSV table with a sequence column and a label column, with a header
  (GUE: ``sequence,label``; UCI splice: ``label,sequence``) or without one
  (columns then given as 0-based numbers): :func:`read_table`;
* FASTA whose headers carry the label (``>seq1 label=pos``): :func:`read_fasta_labelled`;
* one FASTA file per class (``Ecoli_prom.fa``, ``Ecoli_non_prom.fa``):
  :func:`read_fasta_classes`;
* a folder with one sub-folder per class: :func:`read_folder`;
* any of these, told apart by what the source is: :func:`read_labelled`.

Files may be plain, gzip or bgzip; paths or open handles are accepted.
Multi-label data come as one column of labels joined by ``label_separator``
(``"a;b"``) or as one 0/1 column per class (``label_column=["a", "b"]``).
The result's fields, the label encoding and the class order are described
in :mod:`bioseq.io.labels`. A field may be as long as a chromosome: lines
without quotes are split directly, holding a long sequence once, and
:mod:`csv` (for quoted lines) may read fields of any length. Sequences
carry no coordinates; messages give 1-based line numbers and 0-based
positions within a sequence.

:func:`write_table` saves a :class:`LabelledSequences` (e.g. a split) as CSV.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import gzip
import io
import itertools
import operator
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from bioseq.checks import boolean, is_integer
from bioseq.errors import InputError, MissingFileError, option
from bioseq.io.fasta import read_fasta
from bioseq.io.handles import PathOrHandle, atomic_output, check_text, input_name, open_input, read_errors
from bioseq.io.labels import LabelledSequences, check_sequences, labelled_from_rows

__all__ = [
    "read_table",
    "read_fasta_labelled",
    "read_fasta_classes",
    "read_folder",
    "read_labelled",
    "write_table",
    "open_table",
    "TableRows",
]

Column = str | int
_HEAD_BYTES = 1 << 14
_SAMPLE_LINES = 20
_DNA_LIKE = re.compile(r"[ACGTUNacgtun]{8,}")
_SAVE_OTHER_DELIMITER = ", or save the table with a delimiter that no field holds (a .tsv with tabs)"
_OTHER_DELIMITER = option("delimiter", clause=", or pass {}", otherwise=_SAVE_OTHER_DELIMITER)
_LINE_ENDS = ("\n", "\r\n", "\r", "")
_FIELD_LIMIT = 2**31 - 1  # the largest limit csv accepts on every platform


def read_table(
    source: PathOrHandle,
    *,
    sequence_column: Column = "sequence",
    label_column: Column | Sequence[Column] = "label",
    name_column: Column | None = None,
    delimiter: str | None = None,
    header: bool = True,
    label_separator: str | None = None,
    classes: Sequence[str] | None = None,
) -> LabelledSequences:
    """Read a CSV/TSV table of sequences and labels.

    Parameters
    ----------
    source : str, os.PathLike or file object
        A path (plain or gzip) or an open handle.
    sequence_column, name_column : str or int
        Column names, or 0-based column numbers (required when
        ``header=False``). Sequences are stripped of surrounding whitespace.
        Without ``name_column`` the header's ``name`` column is used when
        there is one (as :func:`write_table` writes), else a record is named
        ``"<file name>:<line>"``.
    label_column : str, int or list of them
        One column: a class label per row (multi-label when
        ``label_separator`` is given). A list: one 0/1 column per class
        (multi-label); the classes are the column names, or ``classes``.
    delimiter : str, optional
        Default: tab for ``.tsv``/``.txt``/``.tab``, comma for ``.csv``
        (also gzipped), otherwise the first of ``,``, tab, ``;``, ``|`` that
        splits the first lines into equally many fields.
    header : bool, default True
        Whether the first non-blank row names the columns.
    label_separator : str, optional
        Splits a label cell into several labels (multi-label), e.g. ``";"``.
    classes : sequence of str, optional
        Class names in index order; labels outside it are an error. Default:
        the labels found, ordered as :func:`~bioseq.io.labels.class_order` does.

    Returns
    -------
    LabelledSequences
        ``labels`` of shape ``(N,)`` int64 (binary for two classes, else
        multiclass) or ``(N, C)`` uint8 (multilabel).

    Raises
    ------
    InputError
        On an empty, binary or FASTA file; a missing column (the message lists
        the columns found); a row with a different number of fields; an empty
        or non-nucleotide sequence; an empty label; a label outside
        ``classes``; a single class.
    """
    path = input_name(source)
    _check_table_options(delimiter, header, label_separator)
    wide = isinstance(label_column, (list, tuple))
    label_columns = list(label_column) if wide else [label_column]
    if wide and (
        len(label_columns) < 2
        or label_separator is not None
        or (classes is not None and len(classes) != len(label_columns))
    ):
        raise InputError(
            "a list label_column needs two or more 0/1 columns, no label_separator, "
            "and classes= (if given) with one name per column",
            path=path,
            fix="Pass one column name for a single label column",
        )
    with open_input(source) as stream:
        _check_head(stream, path, "a table")
        specs = [sequence_column, *label_columns] + ([] if name_column is None else [name_column])
        columns, cells, lines = _read_columns(
            stream, path, specs, delimiter=delimiter, header=header, names_if_present=name_column is None
        )
    if name_column is None and len(cells) > len(specs):
        name_column = "name"  # the header has a 'name' column (as write_table writes)
    sequences = [s.strip() for s in cells[0]]
    base = os.path.basename(path)
    names = [s.strip() for s in cells[-1]] if name_column is not None else [f"{base}:{line}" for line in lines]

    def where(i):
        return {"path": path, "line": lines[i], "record": names[i] if name_column is not None else None}

    if not wide:
        return labelled_from_rows(
            sequences, names, cells[1], where=where, label_separator=label_separator, classes=classes, source=path
        )
    check_sequences(sequences, where=where)
    header_names = [c if isinstance(c, str) else columns[c] for c in label_columns]
    labels = _indicator_columns(cells[1 : 1 + len(label_columns)], header_names, where)
    order = tuple(classes) if classes is not None else tuple(header_names)
    return LabelledSequences(sequences, labels, order, "multilabel", names, source=path)


def _check_table_options(delimiter, header, label_separator) -> None:
    if delimiter is not None and not (isinstance(delimiter, str) and len(delimiter) == 1):
        raise InputError(f"delimiter must be one character, got {delimiter!r}", fix="Pass e.g. ',' or '\\t'")
    boolean(header, "header")
    if label_separator is not None and not (isinstance(label_separator, str) and label_separator):
        raise InputError(f"label_separator must be a non-empty string, got {label_separator!r}")


def _indicator_columns(cells, header_names, where) -> np.ndarray:
    matrix = np.array([[x.strip() for x in col] for col in cells]).T  # (N, C)
    ones, zeros = matrix == "1", matrix == "0"
    bad = ~(ones | zeros)
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        raise InputError(
            f"label column {header_names[j]!r} holds {str(matrix[i, j])!r}, not 0 or 1",
            **where(i),
            fix="Use 0 and 1 in label columns",
        )
    return ones.astype(np.uint8)


def _read_columns(stream, path, specs, *, delimiter, header, names_if_present=False):
    """The cells of the columns ``specs``: ``(column names, [cells per spec], lines)``.

    With ``names_if_present``, a header column called ``name`` is read too, as an extra last spec.
    """
    with _text(stream, path) as text, _long_fields():
        table = TableRows(text, path, delimiter=delimiter, header=header, other_delimiter=_OTHER_DELIMITER)
        if names_if_present and header and "name" in table.columns and "name" not in specs:
            specs = [*specs, "name"]
        picks = [table.index(s) for s in specs]
        get = operator.itemgetter(*picks)
        rows, lines = [], []
        for line, row in table.rows():
            rows.append(get(row))
            lines.append(line)
    if not rows:
        raise InputError("the table has a header but no rows", path=path, fix="Check that it was written completely")
    cells = [list(col) for col in zip(*rows)] if len(picks) > 1 else [rows]
    return table.columns, cells, lines


@contextlib.contextmanager
def open_table(source: PathOrHandle) -> Iterator[TableRows]:
    """Open a CSV/TSV table with a header line, to read its rows a block at a time.

    Memory stays bounded by the block (and the first 20 lines, read to guess
    the delimiter: tab for ``.tsv``/``.txt``/``.tab``, comma for ``.csv``,
    else the first of ``,``, tab, ``;``, ``|`` that splits them evenly).
    :func:`read_table` reads whole labelled tables; this is for tables too
    large to hold, such as the sequences given to :func:`bioseq.predict.predict_file`.

    Parameters
    ----------
    source : str, os.PathLike or file object
        A path (plain or gzip) or an open handle (left open).

    Yields
    ------
    TableRows
        ``columns`` (the header cells, stripped), ``line`` (the header's
        1-based line) and ``rows()``/``blocks(size)`` of the rows below it.

    Raises
    ------
    InputError
        On an empty, binary or FASTA file, a file without rows, or text that
        is not UTF-8; while reading, as :meth:`TableRows.rows`.

    Examples
    --------
    >>> import io
    >>> with open_table(io.BytesIO(b"name,sequence\\nx,ACGT\\n\\ny,GG\\n")) as table:
    ...     seq = table.index("sequence")
    ...     [(line, row[seq]) for line, row in table.rows()]
    [(2, 'ACGT'), (4, 'GG')]
    """
    path = input_name(source)
    with open_input(source) as stream:
        _check_head(stream, path, "a table")
        with _text(stream, path) as text, _long_fields():
            yield TableRows(text, path, delimiter=None, header=True, other_delimiter=_SAVE_OTHER_DELIMITER)


class TableRows:
    """The rows of a delimited text table, read as they are asked for (see :func:`open_table`).

    Attributes
    ----------
    path : str
        The file, for messages.
    columns : list of str
        The header cells, stripped; ``"0"``, ``"1"``, ... for a table without header.
    line : int
        1-based line of the header (of the first row, without header).
    delimiter : str
    """

    def __init__(
        self, text: io.TextIOBase, path: str, *, delimiter: str | None, header: bool, other_delimiter: str
    ) -> None:
        sample = list(itertools.islice(iter(text.readline, ""), _SAMPLE_LINES))
        self.delimiter = delimiter if delimiter is not None else _guess_delimiter(path, sample)
        sample.reverse()  # handed over line by line: a long line is not kept in the sample
        self._reader = _Rows(
            itertools.chain(iter(lambda: sample.pop() if sample else None, None), text), self.delimiter
        )
        self.path, self._header, self._other = path, header, other_delimiter
        first = next(self._parsed(row for row in self._reader if any(c.strip() for c in row)), None)
        if first is None:
            raise InputError("the file holds no rows", path=path, fix="Check that it was written completely")
        self._first, self.line = first, self._reader.line_num
        self.columns = [c.strip() for c in first] if header else [str(i) for i in range(len(first))]

    def index(self, spec: Column) -> int:
        """The 0-based position of a column given by header name or 0-based number.

        Raises
        ------
        InputError
            No such column (the message lists the columns and close names), a
            name given twice in the header, or a number out of range.
        """
        return _column_index(spec, self.columns, self._header, self._first, self.path, self.line)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(1-based line, fields)`` of each row below the header; blank rows are skipped.

        Raises
        ------
        InputError
            On a row with another number of fields than the header (or first
            row), or text that :mod:`csv` cannot parse (the line is named).
        """
        width = len(self._first)
        if not self._header:
            yield self.line, self._first
        for row in self._parsed(self._reader):
            if len(row) != width:
                if not any(c.strip() for c in row):
                    continue
                raise InputError(
                    f"the row has {len(row)} fields but the {'header' if self._header else 'first row'} "
                    f"has {width} (delimiter {self.delimiter!r})",
                    path=self.path,
                    line=self._reader.line_num,
                    fix="Quote fields that contain the delimiter" + self._other,
                )
            yield self._reader.line_num, row

    def blocks(self, size: int) -> Iterator[tuple[list[int], list[list[str]]]]:
        """The rows of :meth:`rows`, ``size`` at a time: ``(lines, rows)`` of equal length."""
        rows = self.rows()
        while block := list(itertools.islice(rows, size)):
            yield [line for line, _ in block], [row for _, row in block]

    def _parsed(self, rows: Iterator[list[str]]) -> Iterator[list[str]]:
        """``rows``, with a :mod:`csv` error turned into an InputError naming the line."""
        try:
            yield from rows
        except csv.Error as exc:
            raise InputError(
                f"the table cannot be parsed ({exc})",
                path=self.path,
                line=self._reader.line_num,
                fix="Check the quoting" + self._other,
            ) from exc


class _Rows:
    """The rows of :func:`csv.reader` and its ``line_num``, sparing csv the lines without quotes.

    csv builds each field in a buffer of 4 bytes per character, which makes a
    chromosome-long sequence cost five times its size; a line without ``"``
    reads the same with :meth:`str.split`, which holds the field once.
    """

    def __init__(self, lines: Iterator[str], delimiter: str) -> None:
        self._lines = lines
        self._delimiter = delimiter
        self._pushed: str | None = None
        self._csv = csv.reader(self._source(), delimiter=delimiter)
        self.line_num = 0

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> list[str]:
        line = next(self._lines)
        self.line_num += 1
        if '"' in line:  # quoting, maybe over several lines: csv reads this record
            self._pushed = line
            return next(self._csv)
        if line in _LINE_ENDS:
            return []
        row = line.split(self._delimiter)  # split before stripping: no second copy of a long line
        row[-1] = row[-1].rstrip("\r\n")
        return row

    def _source(self) -> Iterator[str]:
        while True:
            if self._pushed is not None:
                line, self._pushed = self._pushed, None
            elif (line := next(self._lines, None)) is None:
                return
            else:
                self.line_num += 1
            yield line


def _column_index(spec, columns, header, first, path, line) -> int:
    if is_integer(spec):
        spec = operator.index(spec)
        if not 0 <= spec < len(columns):
            raise InputError(
                f"column number {spec} is outside the {len(columns)} columns (0-based)",
                path=path,
                line=line,
                fix=f"Pass a number from 0 to {len(columns) - 1}",
            )
        return spec
    if not isinstance(spec, str):
        raise InputError(f"a column must be given as a name or a 0-based number, got {spec!r}", path=path)
    if not header:
        raise InputError(
            f"column {spec!r} is a name, but header=False",
            path=path,
            fix="Give 0-based column numbers, e.g. sequence_column=2",
        )
    if columns.count(spec) == 1:
        return columns.index(spec)
    if columns.count(spec) > 1:
        raise InputError(
            f"the header names column {spec!r} twice",
            path=path,
            line=line,
            fix="Rename one of them, or pass the 0-based column number",
        )
    close = [c for c in columns if c.lower() == spec.lower()] or difflib.get_close_matches(spec, columns, n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    looks_like_data = any(_DNA_LIKE.fullmatch(c.strip()) for c in first)
    raise InputError(
        f"there is no column {spec!r}; the columns are {', '.join(map(repr, columns))}{hint}",
        path=path,
        line=line,
        fix=(
            option(
                "header",
                "False",
                clause="The first row looks like data: pass {} and 0-based column numbers",
                otherwise="The first row looks like data: add a header line that names the columns, "
                "e.g. 'sequence,label'",
            )
            if looks_like_data
            else "Pass the right column name"
        ),
    )


def _guess_delimiter(path: str, sample: list[str]) -> str:
    base = re.sub(r"\.(gz|bgz)$", "", path.lower())
    if base.endswith((".tsv", ".txt", ".tab")):
        return "\t"
    if base.endswith(".csv"):
        return ","
    lines = [line for line in sample if line.strip()]
    for delim in (",", "\t", ";", "|"):
        counts = {line.count(delim) for line in lines}
        if len(counts) == 1 and 0 not in counts:
            return delim
    return ","


def read_fasta_labelled(
    source: PathOrHandle,
    *,
    label_pattern: str | Callable[[str], str | None] = r"label=(\S+)",
    label_separator: str | None = None,
    classes: Sequence[str] | None = None,
) -> LabelledSequences:
    """Read FASTA whose header lines carry the labels.

    Parameters
    ----------
    source : str, os.PathLike or file object
        FASTA (plain or gzip), path or handle.
    label_pattern : str or callable, default ``r"label=(\\S+)"``
        A regular expression with one group, searched in the whole header
        line (without ``>``), e.g. ``r"\\|(\\w+)$"`` for ``>id|label``; or a
        function from the header line to the label (``None`` for none).
    label_separator, classes
        As for :func:`read_table`.

    Returns
    -------
    LabelledSequences
        Names are the first word of each header.

    Raises
    ------
    InputError
        On a file that is not FASTA, a header without a label, an empty or
        non-nucleotide sequence, a label outside ``classes``, a single class,
        or a pattern without exactly one group.
    """
    path = input_name(source)
    get_label = _label_getter(label_pattern)
    names, sequences, raw = [], [], []
    for record in read_fasta(source, alphabet="any"):  # letters checked below, with our fix
        title = f"{record.name} {record.description}" if record.description else record.name
        label = get_label(title)
        if not isinstance(label, str):
            raise InputError(
                f"the header {title!r} holds no label matching {label_pattern!r}"
                if label is None
                else f"label_pattern returned {label!r}, not a string",
                path=path,
                record=record.name,
                fix=option(
                    "label_pattern",
                    clause="Give {} a regular expression with one (...) group around the label",
                    otherwise="Write the label into each header as 'label=NAME', or use a table with a label column",
                ),
            )
        names.append(record.name)
        sequences.append(record.sequence)
        raw.append(label)
    return labelled_from_rows(
        sequences,
        names,
        raw,
        where=lambda i: {"path": path, "record": names[i]},
        label_separator=label_separator,
        classes=classes,
        source=path,
    )


def _label_getter(pattern) -> Callable[[str], str | None]:
    if callable(pattern):
        return pattern
    try:
        regex = re.compile(pattern)
    except (re.error, TypeError) as exc:
        raise InputError(f"label_pattern {pattern!r} is not a regular expression ({exc})") from exc
    if regex.groups != 1:
        raise InputError(
            f"label_pattern {pattern!r} has {regex.groups} groups, not 1",
            fix="Put the label in one (...) group and make the others (?:...)",
        )

    def get(title: str) -> str | None:
        match = regex.search(title)
        return None if match is None else match.group(1)

    return get


def read_fasta_classes(
    files: Mapping[str, PathOrHandle] | Sequence[str | os.PathLike],
    *,
    classes: Sequence[str] | None = None,
) -> LabelledSequences:
    """Read one file of sequences per class.

    Parameters
    ----------
    files : mapping of class name to path or handle, or sequence of paths
        With a sequence, a file's class is its name without ``.gz`` and one
        more extension: ``Ecoli_prom.fa`` -> ``Ecoli_prom``,
        ``dm.n1don.fa.gz`` -> ``dm.n1don``. Each file is FASTA, or a table
        with a header naming a ``sequence`` column.
    classes : sequence of str, optional
        Class order; it must hold every class. Default: see
        :func:`~bioseq.io.labels.class_order` (``Ecoli_non_prom`` gets 0).

    Returns
    -------
    LabelledSequences
        Sequences in the order of ``files``, then of each file.

    Raises
    ------
    InputError
        On fewer than two classes, two files with one class name, an empty
        file, an empty or non-nucleotide sequence, or a class outside ``classes``.
    """
    if isinstance(files, Mapping):
        groups = [(str(cls), [src]) for cls, src in files.items()]
    elif isinstance(files, Sequence) and not isinstance(files, (str, bytes)):
        groups = [(_class_of(src), [src]) for src in files]
    else:
        raise InputError(
            f"files must be a mapping or a list of files, got {type(files).__name__}",
            fix="Pass e.g. {'pos': 'pos.fa', 'neg': 'neg.fa'} or ['pos.fa', 'neg.fa']",
        )
    seen = [cls for cls, _ in groups]
    if len(set(seen)) != len(seen):
        raise InputError(
            f"two files give the same class name ({', '.join(seen)})", fix="Pass a mapping from class name to file"
        )
    return _from_class_groups(
        groups, classes=classes, source=", ".join(input_name(src) for _, srcs in groups for src in srcs)
    )


def read_folder(directory: str | os.PathLike, *, classes: Sequence[str] | None = None) -> LabelledSequences:
    """Read a folder with one sub-folder of sequence files per class.

    Parameters
    ----------
    directory : str or os.PathLike
        Each sub-folder's name is a class; every file in it (FASTA, or a table
        with a ``sequence`` column, plain or gzip) holds that class's
        sequences. Hidden entries (``.name``) and files directly in
        ``directory`` are ignored.
    classes : sequence of str, optional
        As for :func:`read_fasta_classes`.

    Returns
    -------
    LabelledSequences
        Sequences in the order of the sorted sub-folders and file names.

    Raises
    ------
    MissingFileError
        When ``directory`` does not exist.
    InputError
        When it holds no class sub-folders, a sub-folder holds no files, or
        a file cannot be read (see :func:`read_fasta_classes`).
    """
    root = Path(directory)
    if not root.is_dir():
        raise (MissingFileError if not root.exists() else InputError)(
            "this is not a folder", path=root, fix="Pass a folder with one sub-folder per class"
        )
    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subfolders:
        found = sorted(p.name for p in root.iterdir() if not p.name.startswith("."))
        raise InputError(
            f"the folder holds no class sub-folders (it holds {found or 'nothing'})",
            path=root,
            fix="Put each class's files in a sub-folder named after the "
            "class, or read the files with read_fasta_classes or read_table",
        )
    groups = []
    for folder in subfolders:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InputError(
                "the class folder holds no files", path=folder, fix="Add its FASTA files or remove the folder"
            )
        groups.append((folder.name, files))
    return _from_class_groups(groups, classes=classes, source=os.fspath(root))


def _from_class_groups(groups, *, classes, source) -> LabelledSequences:
    if len(groups) < 2 and classes is None:
        raise InputError(
            f"only one class ({groups[0][0] if groups else 'none'}) was given: a classifier needs at least two",
            path=source or None,
            fix="Pass one file or folder per class",
        )
    sequences, names, raw, paths = [], [], [], []
    for cls, sources in groups:
        for src in sources:
            seqs, ids = _sequences_of(src)
            sequences += seqs
            names += ids
            raw += [cls] * len(seqs)
            paths += [input_name(src)] * len(seqs)
    return labelled_from_rows(
        sequences, names, raw, classes=classes, source=source, where=lambda i: {"path": paths[i], "record": names[i]}
    )


def _class_of(src) -> str:
    name = os.path.basename(input_name(src))
    if name == "<stream>":
        raise InputError(
            "a handle without a file name cannot name its class", fix="Pass a mapping from class name to file"
        )
    return Path(re.sub(r"\.(gz|bgz)$", "", name)).stem


def _sequences_of(src) -> tuple[list[str], list[str]]:
    """The sequences and names in one class file (FASTA or a table with a ``sequence`` column)."""
    path = input_name(src)
    with open_input(src) as stream:
        head = _check_head(stream, path, "FASTA or a table")
        if head.lstrip().startswith(b">"):
            records = list(read_fasta(stream, alphabet="any"))
            sequences = [r.sequence for r in records]
            names = [r.name for r in records]
        else:
            _, cells, lines = _read_columns(stream, path, ["sequence"], delimiter=None, header=True)
            sequences = [s.strip() for s in cells[0]]
            names = [f"{os.path.basename(path)}:{line}" for line in lines]
    return sequences, names


def read_labelled(source, *, table_options: Mapping | None = None, **options) -> LabelledSequences:
    """Read labelled sequences from whatever ``source`` is.

    ``source`` may be a folder (:func:`read_folder`), a mapping or list of
    files, one per class (:func:`read_fasta_classes`), a FASTA file, told by
    its first character ``>`` (:func:`read_fasta_labelled`), or a table
    (:func:`read_table`). ``options`` go to the chosen reader;
    ``table_options`` (e.g. ``sequence_column``, ``label_column``) go to
    :func:`read_table` only, when ``source`` turns out to be a table.

    Returns
    -------
    LabelledSequences

    Raises
    ------
    TypeError
        When an option does not belong to the chosen reader (the message
        names it).
    InputError
        As the chosen reader raises.
    """
    if isinstance(source, Mapping) or (isinstance(source, Sequence) and not isinstance(source, (str, bytes))):
        return read_fasta_classes(source, **options)
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        return read_folder(source, **options)
    with open_input(source) as stream:
        head = _check_head(stream, input_name(source), "a labelled sequence file")
        fasta = head.lstrip().startswith(b">")
        reader = read_fasta_labelled if fasta else read_table
        if not fasta and table_options:
            options = {**options, **table_options}
        if isinstance(source, (str, os.PathLike)):
            return reader(source, **options)  # opened again: cheap, and keeps the file name
        return reader(stream, **options)


def write_table(data: LabelledSequences, path: str | os.PathLike) -> None:
    """Save labelled sequences as a CSV table, atomically.

    Binary and multiclass data get the columns ``name,sequence,label`` (the
    class name); multilabel data get ``name,sequence`` and one 0/1 column per
    class. A path ending in ``.gz`` is gzip-compressed. Read it back with
    ``read_table(path, name_column="name", classes=data.classes)`` or, for
    multilabel, ``label_column=list(data.classes)``.

    Parameters
    ----------
    data : LabelledSequences
    path : str or os.PathLike
        The output file; it appears only once it is complete.

    Raises
    ------
    InputError
        When a multilabel class is called ``name`` or ``sequence``.
    """
    if not isinstance(data, LabelledSequences):
        raise TypeError(f"data must be LabelledSequences, got {type(data).__name__}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if data.task == "multilabel":
        if {"name", "sequence"}.intersection(data.classes):
            raise InputError(
                "a class named 'name' or 'sequence' would clash with those columns", path=path, fix="Rename the class"
            )
        writer.writerow(["name", "sequence", *data.classes])
        writer.writerows([n, s, *row] for n, s, row in zip(data.names, data.sequences, data.labels.tolist()))
    else:
        writer.writerow(["name", "sequence", "label"])
        classes = data.classes
        writer.writerows(zip(data.names, data.sequences, (classes[i] for i in data.labels.tolist())))
    payload = out.getvalue().encode("utf-8")
    if os.fspath(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    with atomic_output(path) as handle:
        handle.write(payload)


def _check_head(stream, path: str, what: str) -> bytes:
    head = stream.peek(_HEAD_BYTES)[:_HEAD_BYTES]
    check_text(head, path=path, what=what)
    if not head.strip():
        raise InputError("the file is empty", path=path, fix="Check that it was written completely")
    if what == "a table" and head.lstrip().startswith(b">"):
        raise InputError(
            "this is a FASTA file, not a table",
            path=path,
            fix="Use read_fasta_labelled or read_labelled, which tell them apart",
        )
    return head


@contextlib.contextmanager
def _long_fields() -> Iterator[None]:
    """Let :mod:`csv` read fields of any length (a chromosome-long sequence) inside the block.

    :mod:`csv` refuses fields over 128 kB by default; the limit is process-wide,
    so it is restored on the way out.
    """
    previous = csv.field_size_limit(_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


@contextlib.contextmanager
def _text(stream, path: str) -> Iterator[io.TextIOWrapper]:
    """A UTF-8 text view of a binary stream for :mod:`csv` that leaves the stream open."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        with read_errors(path):
            yield text
    finally:
        with contextlib.suppress(ValueError):
            text.detach()
