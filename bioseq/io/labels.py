"""Labelled sequences: the object training consumes, and how labels become classes.

Data contract
-------------
:class:`LabelledSequences` holds ``N`` sequences and their labels:

sequences : tuple of str, length ``N``
    The letters as read (case kept, surrounding whitespace removed); every
    character is a nucleotide letter of :mod:`bioseq.alphabet`.
labels : numpy.ndarray
    ``task == "binary"`` or ``"multiclass"``: shape ``(N,)``, dtype int64,
    the index of each sequence's class in ``classes``.
    ``task == "multilabel"``: shape ``(N, C)``, dtype uint8, ``labels[i, j]
    == 1`` when sequence ``i`` carries class ``j``.
classes : tuple of str, length ``C``
    Class names in index order.

Sequences carry no coordinates. Where a reader
reports a position inside a sequence it is 0-based, and line numbers in
messages are 1-based, as an editor shows them.

Class order
-----------
Unless ``classes=`` fixes it, :func:`class_order` sorts the class names:
numerically when all of them look like numbers (``"2" < "10"``), as text
otherwise. For exactly two classes, the one that reads as the negative gets
index 0: ``-``/``+``, ``0``/``1``, ``false``/``true``, ``no``/``yes``,
``neg``/``pos``, ``negative``/``positive`` (any case), and a name that is the
other one with a negative word inserted, such as ``Ecoli_non_prom`` versus
``Ecoli_prom``, ``nontata`` versus ``tata`` or the splice42 decoys
``dm.n1don`` versus ``dm.don`` (words: non, not, no, un, neg, negative,
decoy, background, bg, control, ctrl, random, shuffled, null, n1, n2, ...).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bioseq.alphabet import ASCII_TO_CODE_BYTES, INVALID
from bioseq.codes import encode, encode_one
from bioseq.errors import InputError, option

__all__ = ["TASKS", "LabelledSequences", "class_order", "labelled_from_rows", "check_sequences"]

TASKS = ("binary", "multiclass", "multilabel")

_NEGATIVE_PAIRS = {
    ("-", "+"),
    ("0", "1"),
    ("false", "true"),
    ("f", "t"),
    ("no", "yes"),
    ("n", "y"),
    ("neg", "pos"),
    ("negative", "positive"),
}
_NEGATIVE_WORD = re.compile(
    r"non|not|no|un|neg|negative|decoy|background|bg|control|ctrl|random|shuffled?|null|n\d+",
    re.IGNORECASE,
)
_INVALID_BYTE = bytes([INVALID])
_SLICE = 1 << 20
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True, eq=False)
class LabelledSequences:
    """Sequences with class labels, ready for training.

    Build it with a reader (:func:`bioseq.io.tables.read_labelled` and
    friends) or directly; the constructor checks that the fields agree.

    Parameters
    ----------
    sequences : sequence of str, length ``N``
        Nucleotide letters; stored as a tuple.
    labels : array-like, shape ``(N,)`` int64 or ``(N, C)`` uint8
        Class indices (binary, multiclass) or a 0/1 indicator matrix
        (multilabel); stored as a read-only copy.
    classes : sequence of str, length ``C``
        Class names in index order.
    task : {"binary", "multiclass", "multilabel"}
        ``"binary"`` needs exactly two classes, ``"multiclass"`` three or more.
    names : sequence of str, length ``N``
        Record names (used in messages and by :func:`~bioseq.io.tables.write_table`).
    source : str, default ""
        Where the data came from, for messages.

    Raises
    ------
    InputError
        When the fields disagree (lengths, shapes, dtypes, label range, task).
    """

    sequences: tuple[str, ...]
    labels: np.ndarray
    classes: tuple[str, ...]
    task: str
    names: tuple[str, ...]
    source: str = ""

    def __post_init__(self) -> None:
        sequences, names, classes = tuple(self.sequences), tuple(self.names), tuple(self.classes)
        _check_task(self.task, classes, self.source)
        labels = _check_labels(self.labels, self.task, len(classes), len(sequences), self.source)
        if len(names) != len(sequences):
            raise InputError(
                f"{len(names)} names were given for {len(sequences)} sequences",
                path=self.source or None,
                fix="Pass one name per sequence",
            )
        object.__setattr__(self, "sequences", sequences)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        return (
            f"LabelledSequences({len(self)} sequences, task={self.task!r}, "
            f"classes={self.classes!r}, source={self.source!r})"
        )

    def subset(self, indices) -> LabelledSequences:
        """The sequences at ``indices``, with the same classes and task.

        Parameters
        ----------
        indices : array-like of int, shape ``(M,)``, or of bool, shape ``(N,)``
            0-based positions (repeats allowed, order kept) or a boolean mask.

        Returns
        -------
        LabelledSequences
            ``M`` sequences; ``classes``, ``task`` and ``source`` are unchanged.

        Raises
        ------
        InputError
            When an index is outside ``0..N-1`` or a mask has the wrong length.
        """
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise InputError(
                    f"a boolean mask of shape {idx.shape} cannot select from {len(self)} sequences",
                    path=self.source or None,
                    fix=f"Pass a mask of shape ({len(self)},)",
                )
            idx = np.flatnonzero(idx)
        if idx.size == 0:
            idx = idx.astype(np.int64).reshape(0)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise InputError(
                f"indices must be a 1-D array of integers, got dtype {idx.dtype} and shape {idx.shape}",
                path=self.source or None,
            )
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            bad = int(idx[(idx < 0) | (idx >= len(self))][0])
            raise InputError(
                f"index {bad} is outside 0..{len(self) - 1}",
                path=self.source or None,
                fix="Pass 0-based indices smaller than the number of sequences",
            )
        rows = idx.tolist()
        return LabelledSequences(
            sequences=tuple(self.sequences[i] for i in rows),
            labels=self.labels[idx],
            classes=self.classes,
            task=self.task,
            names=tuple(self.names[i] for i in rows),
            source=self.source,
        )

    def codes(self, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Encode the sequences with :func:`bioseq.codes.encode`.

        Parameters
        ----------
        length : int, optional
            Width ``L``; default: the longest sequence.

        Returns
        -------
        codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
            Right-padded with ``PAD`` (15).
        lengths : numpy.ndarray, shape ``(N,)``, dtype int64

        Raises
        ------
        InputError
            When a sequence is longer than ``length``.
        """
        return encode(self.sequences, length=length, names=self.names)

    def class_counts(self) -> dict[str, int]:
        """Number of sequences per class (for multilabel: carrying the class), in class order."""
        if self.task == "multilabel":
            counts = self.labels.sum(axis=0, dtype=np.int64)
        else:
            counts = np.bincount(self.labels, minlength=len(self.classes))
        return dict(zip(self.classes, counts.tolist()))


def _check_task(task: str, classes: tuple[str, ...], source: str) -> None:
    if task not in TASKS:
        raise InputError(f"task must be one of {TASKS}, got {task!r}", path=source or None)
    if not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise InputError(f"classes must be distinct non-empty strings, got {classes!r}", path=source or None)
    need = {"binary": "exactly 2", "multiclass": "3 or more", "multilabel": "1 or more"}[task]
    ok = {"binary": len(classes) == 2, "multiclass": len(classes) >= 3, "multilabel": len(classes) >= 1}[task]
    if not ok:
        raise InputError(
            f"task {task!r} needs {need} classes, got {len(classes)}",
            path=source or None,
            fix="Use 'binary' for two classes and 'multiclass' for more",
        )


def _check_labels(labels, task: str, n_classes: int, n: int, source: str) -> np.ndarray:
    labels = np.asarray(labels)
    if task == "multilabel":
        shape, dtype = (n, n_classes), np.uint8
        ok = labels.shape == shape and (labels.size == 0 or np.isin(labels, (0, 1)).all())
    else:
        shape, dtype = (n,), np.int64
        ok = (
            labels.shape == shape
            and np.issubdtype(labels.dtype, np.integer)
            and (labels.size == 0 or (labels.min() >= 0 and labels.max() < n_classes))
        )
    if not ok:
        raise InputError(
            f"{task} labels must have shape {shape} with values "
            + ("0 or 1" if task == "multilabel" else f"in 0..{n_classes - 1}")
            + f", got shape {labels.shape} and dtype {labels.dtype}",
            path=source or None,
        )
    out = np.array(labels, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def class_order(found: Iterable[str]) -> tuple[str, ...]:
    """Order class names: numeric or text order, the negative first in a pair.

    Parameters
    ----------
    found : iterable of str
        Class names (repeats are ignored).

    Returns
    -------
    tuple of str
        The distinct names in index order (see the module docstring).

    Examples
    --------
    >>> class_order(["10", "2", "1"])
    ('1', '2', '10')
    >>> class_order(["+", "-"])
    ('-', '+')
    >>> class_order(["Ecoli_prom", "Ecoli_non_prom"])
    ('Ecoli_non_prom', 'Ecoli_prom')
    """
    names = sorted(set(found))
    if all(_NUMBER.fullmatch(x) for x in names):
        names.sort(key=lambda x: (float(x), x))
    if len(names) == 2:
        a, b = names
        if _is_negative_of(b, a):
            return (b, a)
        if _is_negative_of(a, b):
            return (a, b)
    return tuple(names)


def _is_negative_of(x: str, y: str) -> bool:
    """True when ``x`` names the negative counterpart of ``y``."""
    if (x.lower(), y.lower()) in _NEGATIVE_PAIRS:
        return True
    if len(x) <= len(y):
        return False
    prefix = 0
    while prefix < len(y) and x[prefix] == y[prefix]:
        prefix += 1
    suffix = 0
    while suffix < len(y) - prefix and x[-1 - suffix] == y[-1 - suffix]:
        suffix += 1
    if prefix + suffix != len(y):
        return False
    inserted = x[prefix : len(x) - suffix].strip("_-. ")
    return bool(_NEGATIVE_WORD.fullmatch(inserted))


def labelled_from_rows(
    sequences: Sequence[str],
    names: Sequence[str],
    raw_labels: Sequence[str],
    *,
    where: Callable[[int], dict],
    label_separator: str | None = None,
    classes: Sequence[str] | None = None,
    source: str = "",
) -> LabelledSequences:
    """Check rows as read from a file and turn their label strings into classes.

    Parameters
    ----------
    sequences, names, raw_labels : sequence of str, length ``N``
        As read; labels are stripped here.
    where : callable
        ``where(i)`` gives the ``path``, ``line`` and ``record`` keywords of
        :class:`InputError` for row ``i`` (0-based).
    label_separator : str, optional
        Split each label into several (multilabel).
    classes : sequence of str, optional
        Class names in index order; default :func:`class_order` of the labels
        found, which must be two or more.
    source : str, default ""
        Stored as ``LabelledSequences.source``.

    Returns
    -------
    LabelledSequences
        Binary for two classes, multiclass for more, multilabel with
        ``label_separator``.

    Raises
    ------
    InputError
        On an empty or non-nucleotide sequence (see :func:`check_sequences`),
        an empty label, a label outside ``classes`` or a single class.
    """
    check_sequences(sequences, where=where)
    if label_separator is not None:
        sets = [[x.strip() for x in cell.split(label_separator)] for cell in raw_labels]
        labels, order = _index_label_sets(sets, classes, where)
        task = "multilabel"
    else:
        labels, order = _index_labels([x.strip() for x in raw_labels], classes, where)
        task = "binary" if len(order) == 2 else "multiclass"
    return LabelledSequences(sequences, labels, order, task, names, source=source)


def check_sequences(sequences: Sequence[str], *, where: Callable[[int], dict]) -> None:
    """Reject an empty sequence or a character that is not a nucleotide letter.

    Parameters
    ----------
    sequences : sequence of str
    where : callable
        As for :func:`labelled_from_rows`.

    Raises
    ------
    InputError
        Naming the file, line and record from ``where``, the character and its
        0-based position, and the fix (as :func:`bioseq.codes.encode_one`).
    """
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    if lengths.size and lengths.min() == 0:
        raise InputError(
            "the sequence is empty", **where(int(np.argmin(lengths))), fix="Fill it in or remove the record"
        )
    i = _first_invalid(sequences, lengths)
    if i >= 0:
        try:
            encode_one(sequences[i])
        except InputError as exc:
            raise InputError(exc.problem, **where(i), fix=exc.fix) from None


def _first_invalid(sequences: Sequence[str], lengths: np.ndarray) -> int:
    """The index of the first sequence with a non-nucleotide character, or -1.

    Checked about :data:`_SLICE` characters at a time (short sequences joined,
    long ones sliced), so that no sequence is copied whole.
    """
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if ends.size else 0
    cuts = np.searchsorted(ends, np.arange(_SLICE, total, _SLICE), side="right")
    long = np.flatnonzero(lengths > _SLICE)
    bounds = np.unique(np.concatenate(([0, len(sequences)], cuts, long, long + 1))).tolist()
    for a, b in itertools.pairwise(bounds):
        if b - a == 1 and lengths[a] > _SLICE:
            text = sequences[a]
            if any(_INVALID_BYTE in _codes(text[k : k + _SLICE]) for k in range(0, len(text), _SLICE)):
                return a
            continue
        pos = _codes("".join(sequences[a:b])).find(_INVALID_BYTE)
        if pos >= 0:
            return a + int(np.searchsorted(ends[a:b] - (ends[a - 1] if a else 0), pos, side="right"))
    return -1


def _codes(text: str) -> bytes:
    return text.encode("latin-1", "replace").translate(ASCII_TO_CODE_BYTES)


def _index_labels(raw: Sequence[str], classes, where) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices, shape ``(N,)`` int64, and the classes, for one label per row."""
    found = set(raw)
    if "" in found:
        raise InputError("the label is empty", **where(raw.index("")), fix="Fill in the label or remove the row")
    order = _resolve_classes(found, classes, where, lambda bad: next((x, i) for i, x in enumerate(raw) if x in bad))
    lookup = {name: i for i, name in enumerate(order)}
    labels = np.fromiter((lookup[x] for x in raw), dtype=np.int64, count=len(raw))
    return labels, order


def _index_label_sets(raw: Sequence[Sequence[str]], classes, where) -> tuple[np.ndarray, tuple[str, ...]]:
    """A 0/1 indicator matrix, shape ``(N, C)`` uint8, and the classes, for label sets."""
    for i, row in enumerate(raw):
        if "" in row:
            raise InputError(
                "the label list is empty or holds an empty label",
                **where(i),
                fix="Fill in the labels, without a separator at either end",
            )
    flat = [x for row in raw for x in row]
    order = _resolve_classes(
        set(flat), classes, where, lambda bad: next((x, i) for i, r in enumerate(raw) for x in r if x in bad)
    )
    lookup = {name: i for i, name in enumerate(order)}
    matrix = np.zeros((len(raw), len(order)), dtype=np.uint8)
    rows = np.repeat(np.arange(len(raw)), [len(r) for r in raw])
    matrix[rows, [lookup[x] for x in flat]] = 1
    return matrix, order


def _resolve_classes(found: set[str], classes, where, first_of) -> tuple[str, ...]:
    if classes is None:
        if len(found) < 2:
            only = next(iter(found), None)
            raise InputError(
                f"all labels are {only!r}: a classifier needs at least two classes",
                path=where(0)["path"],
                fix="Check the labels (column or pattern)"
                + option("classes", clause=", or pass {} to name the missing ones"),
            )
        return class_order(found)
    order = () if isinstance(classes, str) else tuple(classes)
    if len(order) < 2 or len(set(order)) != len(order) or not all(isinstance(c, str) and c for c in order):
        raise InputError(
            f"classes= must list two or more distinct non-empty strings, got {classes!r}",
            path=where(0)["path"],
            fix=option("classes", "['neg', 'pos']", clause="Pass e.g. {} (index 0 first)"),
        )
    unknown = found.difference(order)
    if unknown:
        label, row = first_of(unknown)
        raise InputError(
            f"label {label!r} is not one of "
            + option("classes", repr(list(order)), otherwise=f"the classes of the training data, {list(order)!r}"),
            **where(row),
            fix=option(
                "classes",
                clause="Add it to {} or remove the rows that carry it",
                otherwise="Remove the rows that carry it, or train on data that hold it",
            ),
        )
    return order
