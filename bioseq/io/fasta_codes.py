"""Read a FASTA file straight into a ``(N, L)`` uint8 code array, fast.

Data contract
-------------
:func:`read_fasta_codes` returns :class:`FastaCodes`:

codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    One row per record, the codes of :mod:`bioseq.alphabet` (A, C, G, T, N =
    0..4, other IUPAC letters 5..14, either case, ``U`` as ``T``), right-padded
    with ``PAD`` (15). ``L`` is the longest sequence, or ``length=``.
lengths : numpy.ndarray, shape ``(N,)``, dtype int64
    Bases in each row; ``codes[i, lengths[i]:] == PAD``.
names, descriptions : list of str, or None
    As :class:`bioseq.io.fasta.FastaRecord` gives them; ``None`` with
    ``names=False``.

Column ``j`` of a row is base ``j`` (0-based) of record ``i``. The result
equals ``encode([r.sequence for r in read_fasta(source)])`` exactly, and the
same inputs are rejected with the same messages (file, 1-based line, record,
character, fix).

How it is fast: the file is read into a reused ~1 MB buffer, cut before the
last record start. Per chunk, numpy finds the line breaks and so the headers
and sequence lengths, and the header lines are copied out and split into
names and descriptions with array operations (no Python loop per record).
When the records of a chunk have one length and one line wrapping (the usual
layout of a data set), one ``translate`` maps the chunk to codes and the rows
are copied around the line breaks. Otherwise the headers are overwritten with
line breaks and one ``translate`` both maps letters to codes and deletes every
line break, which leaves the sequences back to back. A chunk with anything
unusual (an invalid character, an odd header, whitespace inside lines) is
re-read by the line-based code of :mod:`bioseq.io.fasta`, which accepts it or
raises the precise error.

Memory: besides the result, the reader holds one ~1 MB buffer (2 MB at
most). A record longer than that (a chromosome, one very long line) is read
in 1 MB pieces into its own row, so its peak is about twice its length (the
row being built and the row of the result), not several times.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from bioseq.alphabet import ASCII_TO_CODE_BYTES, INVALID, PAD
from bioseq.errors import InputError, option
from bioseq.io import fastx
from bioseq.io.handles import PathOrHandle, input_name, open_input

__all__ = ["FastaCodes", "read_fasta_codes"]

_NEWLINE, _CR, _GT = 10, 13, 62
_IS_SPACE = np.zeros(256, dtype=bool)
_IS_SPACE[[9, 10, 11, 12, 13, 32]] = True  # what bytes.split() splits on
_DNA = fastx.ALPHABETS["dna"]
_BREAK = 254  # the code _CODES_KEEP_BREAKS gives '\n'
_CODES_KEEP_BREAKS = bytes(_BREAK if byte == _NEWLINE else code for byte, code in enumerate(ASCII_TO_CODE_BYTES))


class FastaCodes(NamedTuple):
    """The records of a FASTA file as codes (see the module docstring)."""

    codes: np.ndarray
    lengths: np.ndarray
    names: list[str] | None
    descriptions: list[str] | None


def read_fasta_codes(source: PathOrHandle, *, length: int | None = None, names: bool = True) -> FastaCodes:
    """Read every record of a FASTA file into a padded code array.

    Parameters
    ----------
    source : str, os.PathLike or binary file object
        Plain, gzip or bgzip FASTA of nucleotides.
    length : int, optional
        Width ``L`` of ``codes``; default the longest sequence. A longer
        record raises an error rather than being cut.
    names : bool, default True
        Also return names and descriptions. ``False`` is faster; headers are
        then checked for a name but not decoded.

    Returns
    -------
    FastaCodes
        ``codes`` ``(N, L)`` uint8, ``lengths`` ``(N,)`` int64, ``names`` and
        ``descriptions`` lists of ``N`` str (or None).

    Raises
    ------
    MissingFileError
        The file does not exist.
    InputError
        When the file is empty, binary or not FASTA, a header has no name, a
        sequence holds a non-nucleotide character (with its line and column),
        or a record is longer than ``length`` (with its name and line).

    Examples
    --------
    >>> import io
    >>> out = read_fasta_codes(io.BytesIO(b">a x\\nACG\\nT\\n>b\\nac\\n"))
    >>> out.codes.tolist(), out.lengths.tolist(), out.names, out.descriptions
    ([[0, 1, 2, 3], [0, 1, 15, 15]], [4, 2], ['a', 'b'], ['x', ''])
    """
    if length is not None and (not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 0):
        raise InputError(f"length must be a non-negative integer or None, got {length!r}")
    if not isinstance(names, bool):
        raise InputError(f"names must be True or False, got {names!r}")
    path = input_name(source)
    with open_input(source) as stream:
        head, line = fastx.first_line(stream, path, marker=b">", what="FASTA")
        size_hint = os.path.getsize(source) if isinstance(source, (str, os.PathLike)) else None
        out = _Output(None if length is None else int(length), names, path, size_hint)
        for item in _buffers(stream, head):
            line = out.add_long(item, line) if isinstance(item, fastx.LongRecord) else out.add_chunk(*item, line)
    return out.result()


def _buffers(stream: BinaryIO, head: bytes) -> Iterator[tuple[bytearray, int] | fastx.LongRecord]:
    """Fill a reused buffer; yield it with the end of its last whole record.

    ``buf[:end]`` starts with '>' and ends with the '\\n' before a '>' (the
    last one gets a '\\n' if the file lacks it). The consumer may change
    ``buf[:end]``; the buffer doubles when one record does not fit, up to
    :data:`bioseq.io.fastx.LONG_RECORD` chunks; a longer record comes as a
    :class:`~bioseq.io.fastx.LongRecord`, to be read out before the next item.
    """
    buf = bytearray(max(fastx.CHUNK_SIZE, 2 * len(head)))
    buf[: len(head)] = head
    size, eof = len(head), False
    while True:
        while size < len(buf) and not eof:
            got = stream.readinto(memoryview(buf)[size:])
            eof = not got
            size += got or 0
        if eof:
            break
        cut = buf.rfind(b"\n>", 0, size) + 1
        if cut == 0 and len(buf) >= fastx.LONG_RECORD * fastx.CHUNK_SIZE:  # stream this record
            rest: list[bytes] = []
            record = fastx.long_record(stream, bytes(memoryview(buf)[:size]), rest)
            yield record
            for _ in record.pieces:  # not read out by the consumer
                pass
            if not rest:
                return  # the file ends with this record
            size, eof = len(rest[0]), False
            buf[:size] = rest[0]
            continue
        if cut == 0:  # a record longer than the buffer
            bigger = bytearray(2 * len(buf))
            bigger[:size] = memoryview(buf)[:size]
            buf = bigger
            continue
        yield buf, cut
        buf[: size - cut] = buf[cut:size]
        size -= cut
    if buf[size - 1] != _NEWLINE:
        buf = buf[:size] + b"\n"
        size += 1
    yield buf, size


class _Layout(NamedTuple):
    """Where the records of a chunk are, in raw byte offsets."""

    newlines: np.ndarray  # offsets of every '\n'
    k: np.ndarray  # (n,) index in ``newlines`` of the '\n' before each '>' (-1 for the first)
    header_starts: np.ndarray  # (n,) offset of each '>'
    header_ends: np.ndarray  # (n,) offset of the '\n' that ends each header
    lengths: np.ndarray  # (n,) bases in each sequence
    carriage_returns: bool  # the chunk holds '\r'


def _layout(arr: np.ndarray, carriage_returns: bool) -> _Layout:
    """Find the headers and sequence lengths of a chunk that ends with '\\n'."""
    newlines = np.flatnonzero(arr == _NEWLINE)
    after = np.flatnonzero(np.take(arr, newlines[:-1] + 1) == _GT)
    k = np.concatenate(([-1], after))  # header i starts after line break k[i]
    header_starts = np.concatenate(([0], newlines[after] + 1))
    header_ends = np.take(newlines, k + 1)
    ends = np.append(header_starts[1:], arr.size)
    lengths = ends - header_ends - 1 - (np.append(after, newlines.size - 1) - k - 1)
    if carriage_returns:
        cr = np.flatnonzero(arr == _CR)
        lengths -= np.searchsorted(cr, ends) - np.searchsorted(cr, header_ends)
    return _Layout(newlines, k, header_starts, header_ends, lengths, carriage_returns)


class _Output:
    """Rows grow in a preallocated array; columns grow geometrically when needed."""

    def __init__(self, length: int | None, names: bool, path: str, size_hint: int | None) -> None:
        self.fixed = length
        self.codes = np.empty((0, length or 0), dtype=np.uint8)
        self.lengths = np.empty(0, dtype=np.int64)
        self.size = 0
        self.names: list[str] | None = [] if names else None
        self.descriptions: list[str] | None = [] if names else None
        self.path = path
        self.size_hint = size_hint

    def add_chunk(self, buf: bytearray, end: int, line: int) -> int:
        """Add the records in ``buf[:end]``, which starts at 1-based ``line``; return the next line."""
        arr = np.frombuffer(buf, dtype=np.uint8, count=end)
        layout = _layout(arr, buf.find(b"\r", 0, end) >= 0)
        if self.size_hint is not None:  # first chunk: guess the number of records
            self._reserve(int(layout.lengths.size * self.size_hint / end * 1.02) + 16, 0)
            self.size_hint = None
        lone_cr = layout.carriage_returns and fastx.has_lone_cr(buf, 0, end)
        if lone_cr or not self._fast_chunk(buf, arr, layout):
            self._slow_chunk(bytes(memoryview(buf)[:end]), line)
        return line + layout.newlines.size

    def add_long(self, item: fastx.LongRecord, line: int) -> int:
        """Add one record read piece by piece (it starts at 1-based ``line``); return the next line."""
        self.size_hint = None  # a guess from the first chunk would be wrong now
        name, description = fastx.split_header(item.header, path=self.path, line=line)
        cleaner = fastx.SequenceCleaner(
            valid=_DNA, alphabet="dna", path=self.path, line=line + 1, record=name, table=ASCII_TO_CODE_BYTES
        )
        row = bytearray()
        limit = self.fixed if self.fixed is not None else -1
        for piece in item.pieces:
            codes = cleaner.feed(piece)
            if limit < 0 or len(row) + len(codes) <= limit:  # else only count (for the message)
                row += codes
        row += cleaner.finish()
        if 0 <= limit < cleaner.length:
            raise self._too_long(cleaner.length, line, name)
        self._reserve(1, len(row))
        self.codes[self.size, : len(row)] = np.frombuffer(row, dtype=np.uint8)
        self.codes[self.size, len(row) :] = PAD
        self.lengths[self.size] = len(row)
        self.size += 1
        if self.names is not None:
            self.names.append(name)
            self.descriptions.append(description)
        return cleaner.line

    def _fast_chunk(self, buf: bytearray, arr: np.ndarray, layout: _Layout) -> bool:
        """Add a chunk with array operations; False (nothing added) when it needs the slow path."""
        if self.fixed is not None and layout.lengths.max() > self.fixed:
            return False
        if buf.find(b"\x00", 0, arr.size) >= 0 or _IS_SPACE[arr[layout.header_starts + 1]].any():
            return False  # a NUL byte, an empty name or leading whitespace
        heads = ([], [])
        if self.names is not None:
            index, offsets = _span_index(layout.header_starts + 1, layout.header_ends - layout.header_starts)
            heads = _split_headers(np.take(arr, index), offsets)  # from 'header\n' pieces
            if heads is None:
                return False  # not UTF-8
        done = self._put_wrapped(buf, arr.size, layout)
        done = self._put_blanked(buf, arr, layout) if done is None else done
        if done and self.names is not None:
            self.names.extend(heads[0])
            self.descriptions.extend(heads[1])
        return done

    def _put_wrapped(self, buf: bytearray, end: int, layout: _Layout) -> bool | None:
        """Rows of equal-length records wrapped alike, copied around the line breaks.

        None when the chunk is not laid out that way; False on an invalid letter.
        """
        lengths, k, newlines = layout.lengths, layout.k, layout.newlines
        size = int(lengths[0])
        if layout.carriage_returns or size == 0 or (lengths != size).any():
            return None
        breaks = np.append(k[1:], newlines.size - 1) - k - 1  # line breaks in each sequence
        lines = int(breaks[0])
        starts = layout.header_ends + 1
        width = int(newlines[k[0] + 2] - starts[0])  # of the first sequence line
        last = size - (lines - 1) * width
        if (breaks != lines).any() or not 0 < last <= width:
            return None
        self._reserve(lengths.size, size)
        if self.codes.shape[1] != size:
            return None
        codes = np.frombuffer(_whole(buf, end).translate(_CODES_KEEP_BREAKS), dtype=np.uint8)
        raw = sliding_window_view(codes, size + lines)[starts]  # (n, bases and line breaks)
        expected = np.append(np.arange(1, lines) * (width + 1) - 1, size + lines - 1)
        if (raw[:, expected] != _BREAK).any():  # each line break where the first record has it
            return None
        rows = self.codes[self.size : self.size + lengths.size]
        full = (lines - 1) * width
        if full:  # the full lines, skipping the line break after each
            as_strided(rows, (rows.shape[0], lines - 1, width), (rows.strides[0], width, 1))[...] = raw[
                :, : full + lines - 1
            ].reshape(rows.shape[0], lines - 1, width + 1)[:, :, :width]
        rows[:, full:] = raw[:, full + lines - 1 : full + lines - 1 + last]
        if rows.max() == INVALID:
            return False
        self.lengths[self.size : self.size + lengths.size] = size
        self.size += lengths.size
        return True

    def _put_blanked(self, buf: bytearray, arr: np.ndarray, layout: _Layout) -> bool:
        """Blank out the headers so that one translate leaves the sequences back to back."""
        index, _ = _span_index(layout.header_starts, layout.header_ends + 1 - layout.header_starts)
        lines = np.take(arr, index)
        arr[index] = _NEWLINE  # translate deletes them
        codes = np.frombuffer(_whole(buf, arr.size).translate(ASCII_TO_CODE_BYTES, b"\r\n"), dtype=np.uint8)
        codes = codes[: int(layout.lengths.sum())]  # what follows belongs to the next chunk
        if codes.size and codes.max() == INVALID:
            arr[index] = lines  # restore the headers for the slow path
            return False
        self._put_rows(codes, layout.lengths)
        return True

    def _too_long(self, size: int, line: int, name: str) -> InputError:
        return InputError(
            f"the sequence is {size} bases long, longer than {option('length', str(self.fixed))}",
            path=self.path,
            line=line,
            record=name,
            fix=f"Set {option('length', 'N')} to at least the longest sequence, or trim or window the sequences first",
        )

    def _reserve(self, n: int, width: int) -> None:
        rows, cols = self.codes.shape
        if self.size + n <= rows and width <= cols:
            return
        if width > cols:
            cols = max(width, cols * 5 // 4)
        if self.size + n > rows:  # grow by half, plus up to 1024 rows or 64 MB (wide rows)
            rows = max(self.size + n, rows * 3 // 2 + min(1024, (64 << 20) // max(cols, 1)))
        try:
            codes = np.empty((rows, cols), dtype=np.uint8)
        except MemoryError:
            raise InputError(
                f"{rows:,} rows of {cols:,} codes do not fit in memory (the array is as wide as the longest sequence)",
                path=self.path,
                fix="Encode long sequences (chromosomes) apart from short ones, or cut them into windows first",
            ) from None
        codes[: self.size, : self.codes.shape[1]] = self.codes[: self.size]
        codes[: self.size, self.codes.shape[1] :] = PAD
        self.codes = codes
        self.lengths = np.resize(self.lengths, rows)

    def _put_rows(self, codes: np.ndarray, lengths: np.ndarray) -> None:
        """Append records whose codes lie back to back in ``codes``."""
        self._reserve(lengths.size, int(lengths.max()))
        width = self.codes.shape[1]
        rows = self.codes[self.size : self.size + lengths.size]
        if width and (lengths == width).all():
            rows[:] = codes.reshape(lengths.size, width)
        elif width:
            padded = np.empty(codes.size + width, dtype=np.uint8)
            padded[: codes.size] = codes
            rows[:] = sliding_window_view(padded, width)[np.cumsum(lengths) - lengths]
            rows[np.arange(width) >= lengths[:, None]] = PAD
        self.lengths[self.size : self.size + lengths.size] = lengths
        self.size += lengths.size

    def _slow_chunk(self, buf: bytes, line: int) -> None:
        """Parse a chunk record by record: precise errors, whitespace inside lines allowed."""
        names, descriptions, seqs = [], [], []
        for text in buf[1:-1].split(b"\n>"):
            end = text.find(b"\n")
            end = len(text) if end < 0 else end
            name, description = fastx.split_header(text[:end], path=self.path, line=line)
            seq = fastx.clean_sequence(
                text[end + 1 :], valid=_DNA, alphabet="dna", path=self.path, line=line + 1, record=name
            )
            if self.fixed is not None and len(seq) > self.fixed:
                raise self._too_long(len(seq), line, name)
            names.append(name)
            descriptions.append(description)
            seqs.append(seq)
            line += text.count(b"\n") + 1
        codes = np.frombuffer(b"".join(seqs).translate(ASCII_TO_CODE_BYTES), dtype=np.uint8)
        self._put_rows(codes, np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs)))
        if self.names is not None:
            self.names.extend(names)
            self.descriptions.extend(descriptions)

    def result(self) -> FastaCodes:
        """The finished arrays, trimmed to the records and width read."""
        lengths = self.lengths[: self.size].copy()
        width = int(lengths.max(initial=0)) if self.fixed is None else self.fixed
        if width < self.codes.shape[1]:
            codes = np.ascontiguousarray(self.codes[: self.size, :width])
        else:
            codes = self.codes
            codes.resize((self.size, width), refcheck=False)  # shrinks in place, no copy
        return FastaCodes(codes, lengths, self.names, self.descriptions)


def _whole(buf: bytearray, end: int) -> bytearray | bytes:
    """``buf`` when ``buf[:end]`` fills most of it (translating the rest costs less than a copy)."""
    return buf if 2 * end > len(buf) else bytes(memoryview(buf)[:end])


def _span_index(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``[starts[i], starts[i] + sizes[i])`` back to back, and each span's offset."""
    offsets = np.cumsum(sizes) - sizes
    index = np.arange(int(sizes.sum())) - np.repeat(offsets - starts, sizes)
    return index, offsets


def _split_headers(lines: np.ndarray, offsets: np.ndarray) -> tuple[list[str], list[str]] | None:
    """Names and descriptions from header lines (without '>', each ending '\\n') back to back.

    Names start at ``offsets`` with a non-space. Returns None when the text is not UTF-8.
    """
    ends = np.append(offsets[1:], lines.size) - 1  # the '\n' of each line
    is_space = (lines == 32) | ((lines >= 9) & (lines <= 13))
    stripped = ends.copy()
    while (trailing := is_space[stripped - 1]).any():  # '\r' and trailing blanks
        stripped[trailing] -= 1  # stops at the name, which starts with a non-space
    spaces = np.flatnonzero(is_space)  # the '\n's are spaces too, so each line has one
    if spaces.size == 2 * offsets.size and (spaces[1::2] == ends).all():
        first = spaces[0::2]  # one blank in each header: the common case
    else:
        first = spaces[np.searchsorted(spaces, offsets)]
    first = np.minimum(first, stripped)  # the end of each name
    has_desc = first < stripped
    plain = (stripped == ends).all() and not is_space[first[has_desc] + 1].any()
    if plain and not has_desc.any():
        words = _decode(lines)  # name, name, ..., ''
        return None if words is None else (words[:-1], [""] * offsets.size)
    if plain and has_desc.all():
        lines[first] = _NEWLINE
    else:  # copy out names and descriptions, skipping the blanks between them
        letters = np.append(np.flatnonzero(~is_space), lines.size)
        desc_start = np.minimum(letters[np.searchsorted(letters, first)], stripped)
        starts = np.stack([offsets, desc_start], axis=1).ravel()
        sizes = np.stack([first - offsets, stripped - desc_start], axis=1).ravel()
        index, pieces = _span_index(starts, sizes + 1)  # each piece and the byte after it
        lines = lines[index]
        lines[pieces + sizes] = _NEWLINE
    words = _decode(lines)  # name, description, name, description, ..., ''
    return None if words is None else (words[0:-1:2], words[1::2])


def _decode(text: np.ndarray) -> list[str] | None:
    try:
        return text.tobytes().decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
