"""Per-base datasets on disk: memory-mapped uint8 codes and labels, one folder per dataset.

Data contract
-------------
A dataset is a folder ``DS`` holding, for each split (``train``, ``valid``,
``test``; a split may be empty)::

    DS/dataset.json           {"format": "bioseq-per-base", "version": 1, "classes": [...],
                               "context": C, "window": W, "splits": {split: {"n": N, ...}},
                               "source": {...}, "sampling": {...}}
    DS/<split>.codes.npy      (N, W + C) uint8: codes of bioseq.alphabet (N past contig ends)
    DS/<split>.labels.npy     (N, W) uint8: the class index of each labelled base
    DS/<split>.regions.bed    one line per example: chrom, start, end (the INPUT window,
                              0-based half-open, genome coordinates), name, score, strand

Example ``i`` reads 5' -> 3' on its strand: a ``-`` example is the reverse
complement of the genome window and its labels are reversed, so
``labels[i, j]`` is the class of input base ``codes[i, C // 2 + j]``.
``C`` (the *context*, even) is the total number of unlabelled bases, ``C // 2``
on each side (SpliceAI's naming). The arrays are ``np.save`` files opened
with ``np.load(mmap_mode="r")``, so a dataset larger than memory trains.

:func:`per_base_writer` fills a dataset row by row (``numpy.lib.format.open_memmap``)
inside a temporary sibling folder that is renamed over ``DS`` only when every
row is written (:func:`bioseq.io.atomic.atomic_directory`): an interrupted
build leaves no ``DS``, an existing one untouched, and a rerun removes a
killed writer's leftovers. :func:`open_per_base` validates a folder and maps it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from bioseq.alphabet import N_CODES
from bioseq.errors import InputError
from bioseq.io.atomic import atomic_directory
from bioseq.io.interval import Interval

__all__ = [
    "read_description",
    "FORMAT",
    "VERSION",
    "PerBaseDataset",
    "PerBaseSplit",
    "PerBaseWriter",
    "is_per_base",
    "open_per_base",
    "per_base_writer",
]

FORMAT = "bioseq-per-base"
"""The ``format`` field of ``dataset.json``."""
VERSION = 1
"""The ``version`` field of ``dataset.json`` this module writes and reads."""

_META = "dataset.json"
_CHUNK = 1 << 24  # bytes of a memmap checked at a time


@dataclasses.dataclass(frozen=True, kw_only=True)
class PerBaseSplit:
    """The examples of one split.

    Attributes
    ----------
    codes : numpy.ndarray, shape ``(N, window + context)``, dtype uint8
        Read-only memmap.
    labels : numpy.ndarray, shape ``(N, window)``, dtype uint8
        Read-only memmap; class indices.
    regions : tuple of str, length ``N``
        The input window of each example, ``"chrom:start-end(strand)"``
        (0-based half-open, genome coordinates).
    """

    codes: np.ndarray
    labels: np.ndarray
    regions: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.codes.shape[0])


@dataclasses.dataclass(frozen=True, kw_only=True)
class PerBaseDataset:
    """A per-base dataset opened by :func:`open_per_base`.

    Attributes
    ----------
    path : pathlib.Path
    classes : tuple of str
    context : int
        Total unlabelled bases per example (``context // 2`` per side).
    window : int
        Labelled bases per example.
    splits : dict of str to PerBaseSplit
    metadata : dict
        The whole ``dataset.json``.
    """

    path: Path
    classes: tuple[str, ...]
    context: int
    window: int
    splits: dict[str, PerBaseSplit]
    metadata: dict


def is_per_base(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder whose ``dataset.json`` declares this format (nothing else is checked)."""
    try:
        with open(Path(path) / _META, encoding="utf-8") as handle:
            meta = json.load(handle)
    except (OSError, ValueError, TypeError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def read_description(path: str | os.PathLike) -> dict:
    """The checked ``dataset.json`` of the dataset folder ``path``, without opening its arrays.

    Raises
    ------
    InputError
        As :func:`open_per_base` for the description.
    """
    return _read_meta(Path(path))


def open_per_base(path: str | os.PathLike) -> PerBaseDataset:
    """Open and validate a per-base dataset folder (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The dataset folder.

    Returns
    -------
    PerBaseDataset
        Arrays memory-mapped read-only.

    Raises
    ------
    InputError
        When ``dataset.json`` is missing, unreadable, of another format or
        version, or disagrees with the arrays (shape, dtype, row count), a
        code is not a nucleotide code, or a label is not a class index; the
        message names the file.
    """
    folder = Path(path)
    meta = _read_meta(folder)
    classes, context, window = meta["classes"], meta["context"], meta["window"]
    splits = {}
    for split, info in meta["splits"].items():
        n = info.get("n") if isinstance(info, dict) else None
        if not isinstance(n, int) or n < 0:
            raise _bad(folder / _META, f"split {split!r} has no row count 'n'")
        codes = _array(folder / f"{split}.codes.npy", (n, window + context), N_CODES, "a nucleotide code")
        labels = _array(folder / f"{split}.labels.npy", (n, window), len(classes), "a class index")
        splits[split] = PerBaseSplit(codes=codes, labels=labels, regions=_regions(folder / f"{split}.regions.bed", n))
    return PerBaseDataset(
        path=folder, classes=tuple(classes), context=context, window=window, splits=splits, metadata=meta
    )


def _bad(path: Path, problem: str) -> InputError:
    return InputError(
        problem,
        path=path,
        fix="Rebuild the dataset with 'bioseq dataset splice-sites --per-base'",
    )


def _read_meta(folder: Path) -> dict:
    path = folder / _META
    if not folder.is_dir():
        raise InputError("the per-base dataset folder does not exist", path=folder, fix="Check the path")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad(path, f"cannot read the dataset description ({exc.strerror})") from exc
    except ValueError as exc:
        raise _bad(path, f"the dataset description is not JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, f"this is not a {FORMAT} dataset description")
    if meta.get("version") != VERSION:
        raise InputError(
            f"the dataset has format version {meta.get('version')!r}; this bioseq reads version {VERSION}",
            path=path,
            fix="Rebuild it with this bioseq, or use the bioseq that wrote it",
        )
    classes, context, window = meta.get("classes"), meta.get("context"), meta.get("window")
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        raise _bad(path, "'classes' must list two or more class names")
    if not isinstance(context, int) or isinstance(context, bool) or context < 0 or context % 2:
        raise _bad(path, f"'context' must be an even integer >= 0, got {context!r}")
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise _bad(path, f"'window' must be an integer >= 1, got {window!r}")
    if not isinstance(meta.get("splits"), dict):
        raise _bad(path, "'splits' must map split names to their row counts")
    return meta


def _array(path: Path, shape: tuple[int, int], limit: int, what: str) -> np.ndarray:
    """A validated read-only memmap: dtype uint8, ``shape``, every value below ``limit``."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError as exc:
        raise _bad(path, "the array file is missing") from exc
    except (OSError, ValueError) as exc:
        raise _bad(path, f"cannot read the array ({exc})") from exc
    if array.dtype != np.uint8 or array.shape != shape:
        raise _bad(path, f"the array is {array.dtype} {array.shape}, but dataset.json implies uint8 {shape}")
    rows = max(1, _CHUNK // max(shape[1], 1))
    for start in range(0, shape[0], rows):
        chunk = array[start : start + rows]
        if chunk.size and int(chunk.max()) >= limit:
            row = start + int(np.flatnonzero((chunk >= limit).any(axis=1))[0])
            raise _bad(path, f"row {row} holds {int(chunk.max())}, which is not {what} (< {limit})")
    return array


def _regions(path: Path, n: int) -> tuple[str, ...]:
    regions = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 6 or not fields[1].lstrip("-").isdigit() or not fields[2].lstrip("-").isdigit():
                    raise InputError(
                        "expected chrom, start, end, name, score, strand",
                        path=path,
                        line=number,
                        fix="Rebuild the dataset with 'bioseq dataset splice-sites --per-base'",
                    )
                regions.append(f"{fields[0]}:{fields[1]}-{fields[2]}({fields[5]})")
    except OSError as exc:
        raise _bad(path, f"cannot read the example regions ({exc.strerror})") from exc
    if len(regions) != n:
        raise _bad(path, f"{len(regions):,} regions for {n:,} examples")
    return tuple(regions)


class PerBaseWriter:
    """Fills the splits of a dataset being written by :func:`per_base_writer` (do not build it directly).

    Attributes
    ----------
    metadata : dict
        Extra ``dataset.json`` fields (``source``, ``sampling``, per-split
        entries under ``splits``); the caller may add to it until the block ends.
    """

    def __init__(self, folder: Path, *, classes: tuple[str, ...], context: int, window: int, sizes: dict[str, int]):
        self._folder, self._classes, self._context, self._window, self._sizes = folder, classes, context, window, sizes
        self._filled = dict.fromkeys(sizes, 0)
        self._counts = {split: np.zeros(len(classes), dtype=np.int64) for split in sizes}
        self._codes = {s: self._open(f"{s}.codes.npy", (n, window + context)) for s, n in sizes.items()}
        self._labels = {s: self._open(f"{s}.labels.npy", (n, window)) for s, n in sizes.items()}
        self._beds = {s: open(folder / f"{s}.regions.bed", "w", encoding="utf-8") for s in sizes}  # noqa: SIM115
        self.metadata: dict = {}

    def _open(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        return open_memmap(self._folder / name, mode="w+", dtype=np.uint8, shape=shape)

    def append(self, split: str, codes: np.ndarray, labels: np.ndarray, regions: Sequence[Interval]) -> None:
        """Write the next rows of ``split``.

        Parameters
        ----------
        split : str
        codes : numpy.ndarray, shape ``(n, window + context)``, dtype uint8
            Read on each example's strand.
        labels : numpy.ndarray, shape ``(n, window)``, dtype uint8
        regions : sequence of Interval, length ``n``
            Input windows in genome coordinates; ``name`` becomes the BED name.

        Raises
        ------
        InputError
            On an unknown split, wrong shapes or dtypes, a label that is no
            class, or more rows than the split was sized for.
        """
        if split not in self._sizes:
            raise InputError(f"unknown split {split!r}; this dataset has {', '.join(self._sizes)}")
        n = len(regions)
        if codes.dtype != np.uint8 or labels.dtype != np.uint8:
            raise InputError(f"codes and labels must be uint8, got {codes.dtype} and {labels.dtype}")
        if codes.shape != (n, self._window + self._context) or labels.shape != (n, self._window):
            raise InputError(
                f"expected codes ({n}, {self._window + self._context}) and labels ({n}, {self._window}), "
                f"got {codes.shape} and {labels.shape}"
            )
        at = self._filled[split]
        if at + n > self._sizes[split]:
            raise InputError(f"split {split!r} was sized for {self._sizes[split]:,} rows; {at + n:,} were written")
        counts = np.bincount(labels.ravel(), minlength=len(self._classes))
        if counts.size > len(self._classes):
            raise InputError(f"a label is not one of the {len(self._classes)} class indices")
        self._codes[split][at : at + n] = codes
        self._labels[split][at : at + n] = labels
        self._counts[split] += counts
        self._beds[split].writelines(
            f"{r.chrom}\t{r.start}\t{r.end}\t{r.name or '.'}\t0\t{r.strand}\n" for r in regions
        )
        self._filled[split] = at + n

    def _finish(self) -> None:
        """Check that every row was written, flush the arrays and write ``dataset.json`` last."""
        short = {s: (self._filled[s], n) for s, n in self._sizes.items() if self._filled[s] != n}
        if short:
            raise InputError(f"splits not filled (written, sized): {short}")
        self._close()
        splits = {}
        for split, n in self._sizes.items():
            extra = self.metadata.get("splits", {}).get(split, {})
            counts = dict(zip(self._classes, self._counts[split].tolist()))
            splits[split] = {"n": n, "labels": counts, **extra}
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "classes": list(self._classes),
            "context": self._context,
            "window": self._window,
            **{k: v for k, v in self.metadata.items() if k != "splits"},
            "splits": splits,
        }
        (self._folder / _META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    def _close(self) -> None:
        for array in [*self._codes.values(), *self._labels.values()]:
            array.flush()
        self._codes, self._labels = {}, {}
        for handle in self._beds.values():
            handle.close()


@contextlib.contextmanager
def per_base_writer(
    path: str | os.PathLike, *, classes: Sequence[str], context: int, window: int, sizes: Mapping[str, int]
) -> Iterator[PerBaseWriter]:
    """Write a per-base dataset folder atomically, streaming rows into memory-mapped arrays.

    Parameters
    ----------
    path : str or os.PathLike
        The dataset folder; an existing one is replaced only when the block succeeds.
    classes : sequence of str
        Two or more class names; labels are their indices.
    context : int
        Even, >= 0: unlabelled bases per example (half on each side).
    window : int
        >= 1: labelled bases per example.
    sizes : mapping of str to int
        Rows of each split, known in advance.

    Yields
    ------
    PerBaseWriter
        Call :meth:`PerBaseWriter.append` until every split is full.

    Raises
    ------
    InputError
        On bad arguments, a split left short of its size (nothing is written
        then), or an output folder that cannot be written.
    """
    classes = tuple(classes)
    if len(classes) < 2 or len(classes) > 256 or not all(isinstance(c, str) and c for c in classes):
        raise InputError(f"classes must be 2 to 256 names, got {classes!r}")
    for name, value, low in (("context", context, 0), ("window", window, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
    if context % 2:
        raise InputError(f"context must be even (half on each side), got {context}", fix=f"Use {context + 1}")
    sizes = dict(sizes)
    if not sizes or any(not isinstance(n, int) or n < 0 for n in sizes.values()):
        raise InputError(f"sizes must give a row count >= 0 for each split, got {sizes!r}")
    with atomic_directory(path) as folder:
        writer = PerBaseWriter(folder, classes=classes, context=context, window=window, sizes=sizes)
        try:
            yield writer
            writer._finish()
        finally:
            writer._close()
