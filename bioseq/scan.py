"""Scan a genome with a model: one score per ``step``-bp bin, as bigWig or bedGraph.

Geometry (0-based, half-open)
-----------------------------
Each scanned span (a whole contig, or a region) is cut into bins
``[start + i * step, min(start + (i + 1) * step, end))``, so every base of the
span lies in exactly one bin. Bin ``i`` is scored with the window of the
model's width ``W`` centred on the bin: ``[c - W // 2, c - W // 2 + W)``
where ``c = (bin_start + bin_end) // 2`` (windows are ``step`` apart). A
window that runs past a contig end is padded with N by the
:class:`~bioseq.io.reference.Reference`: the first bins of a contig (those
closer than ``W / 2`` to its start) and the last ones get windows that are
partly N, and the last bin is shorter than ``step`` when the span length is
not a multiple of ``step`` (its window is centred on what there is). A
region's windows reach outside the region into real flanking sequence.

Output
------
``bigwig``: a bigWig whose header lists every contig of the reference with
its length (in reference order); each scored bin is one entry.
``bedgraph``: text lines ``chrom  start  end  score``, contigs in reference
order, bins in increasing position (bins are not merged). Both files appear
only when complete.

The score is the probability of one class: by default the positive class
(``classes[1]``) of a binary model; ``class_name`` chooses the class (and is
required for multi-class and multi-label models). Windows are gathered,
scored and written ``block_size`` at a time, so memory does not grow with the
genome.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from bioseq.bundle import Bundle
from bioseq.bundle.resolve import as_bundle, window_width
from bioseq.checks import positive_integer
from bioseq.errors import InputError, option
from bioseq.inference import InferenceOptions, as_options
from bioseq.io.handles import atomic_output, atomic_path
from bioseq.io.interval import Interval

__all__ = ["scan_genome", "FORMATS"]

FORMATS = ("bigwig", "bedgraph")


def scan_genome(
    bundle: Bundle | str | os.PathLike,
    reference,
    *,
    output: str | os.PathLike,
    step: int | None = None,
    length: int | None = None,
    regions: str | os.PathLike | Iterable[Interval] | None = None,
    chroms: Iterable[str] | None = None,
    options: InferenceOptions | None = None,
    class_name: str | None = None,
    format: str = "bigwig",
    block_size: int = 100_000,
    cache_dir: str | os.PathLike | None = None,
) -> int:
    """Score sliding windows over a genome and write the scores per bin.

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A loaded bundle or its directory (loaded onto ``options.device``).
    reference : str, os.PathLike or Reference
        The genome FASTA (indexed on first use) or an open Reference (used as
        it is; give it ``cache=`` for speed).
    output : str or os.PathLike
        The bigWig or bedGraph file.
    step : int, optional
        Bin size and distance between windows in bp; default half the window width.
    length : int, optional
        Window width for a model of variable width (a fixed-width model uses its own).
    regions : BED path or iterable of Interval, optional
        Scan only these, 0-based half-open (overlapping regions are merged,
        strands ignored); default every contig.
    chroms : iterable of str, optional
        Scan only these whole contigs (aliases such as ``1``/``chr1`` resolve).
    options : InferenceOptions, optional
        Batch size, device and ``rc_average`` (:class:`~bioseq.inference.InferenceOptions`);
        the threshold does not apply, the probabilities are written.
    class_name : str, optional
        The class whose probability is written (see the module docstring).
    format : {"bigwig", "bedgraph"}, default "bigwig"
    block_size : int, default 100,000
        Windows held in memory at a time.
    cache_dir : str or os.PathLike, optional
        Where a reference opened from a path keeps its memory-mapped codes;
        default a temporary directory removed at the end.

    Returns
    -------
    int
        The number of bins written.

    Raises
    ------
    InputError
        On a bad option, both ``regions`` and ``chroms``, ``cache_dir`` with
        an open Reference, a region outside its
        contig, an unknown contig (:class:`~bioseq.errors.MissingContigError`),
        a missing or unknown ``class_name``, or nothing to scan.
    """
    from bioseq.io.reference import Reference

    options = as_options(options)
    bundle = as_bundle(bundle, device=options.device, per_position=False)
    width = window_width(bundle, length)
    step = max(1, width // 2) if step is None else positive_integer(step, "step")
    block_size = positive_integer(block_size, "block_size")
    pick = _class_picker(bundle, class_name)
    if format not in FORMATS:
        raise InputError(f"format must be 'bigwig' or 'bedgraph', got {format!r}")
    if regions is not None and chroms is not None:
        raise InputError("pass regions or chroms, not both", fix="Put the contigs you want in the regions")
    if cache_dir is not None and isinstance(reference, Reference):
        raise InputError(
            "cache_dir applies to a reference given as a path; this Reference has its own cache",
            fix="Open the Reference with cache=, or pass its path",
        )
    with contextlib.ExitStack() as stack:
        if not isinstance(reference, Reference):
            cache = (
                cache_dir
                if cache_dir is not None
                else stack.enter_context(tempfile.TemporaryDirectory(prefix="bioseq-scan-"))
            )
            reference = stack.enter_context(Reference(reference, cache=cache))
        spans = _spans(reference, regions, chroms)
        if not spans:
            raise InputError("there is nothing to scan (no contig or region with bases)", path=reference.path)
        header = [(name, size) for name, size in zip(reference.references, reference.lengths) if size > 0]
        writer = _BigWig if format == "bigwig" else _BedGraph
        with writer(output, header) as sink:
            for chrom, starts, ends in _bins(spans, step, block_size):
                windows = (starts + ends) // 2 - width // 2  # (n,) window starts, centred on the bins
                codes = reference.windows(chrom, windows, width)  # (n, width), N past the contig ends
                sink.add(chrom, starts, ends, pick(options.predict_proba(bundle, codes)))
    return sink.bins


def _class_picker(bundle: Bundle, class_name: str | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function from ``predict_proba`` output to the ``(N,)`` float32 score of the chosen class."""
    classes = bundle.classes
    if class_name is None:
        if bundle.task == "binary" or len(classes) == 1:
            class_name = classes[-1]
        else:
            raise InputError(
                f"a {bundle.task} model scores {len(classes)} classes; choose one with {option('class_name')}",
                fix=f"Pass {option('class_name')} one of {', '.join(classes)}",
            )
    if class_name not in classes:
        raise InputError(
            f"class_name {class_name!r} is not a class of the model", fix=f"Pass one of {', '.join(classes)}"
        )
    if bundle.task == "binary":
        negative = class_name == classes[0]
        return lambda p: (1.0 - p if negative else p).astype(np.float32)
    column = classes.index(class_name)
    return lambda p: np.ascontiguousarray(p[:, column], dtype=np.float32)


def _spans(reference, regions, chroms) -> list[tuple[str, int, int]]:
    """``(contig, start, end)`` to scan, in reference order, sorted, overlaps merged."""
    order = {name: i for i, name in enumerate(reference.references)}
    if regions is None:
        names = reference.references if chroms is None else {reference.resolve(c) for c in _names(chroms)}
        return sorted(
            ((n, 0, reference.length(n)) for n in names if reference.length(n) > 0), key=lambda s: order[s[0]]
        )
    if isinstance(regions, (str, os.PathLike)):
        from bioseq.io.bed import read_bed

        regions = read_bed(regions)
    spans = []
    for region in regions:
        if not isinstance(region, Interval):
            raise InputError(
                f"regions must hold Interval objects, got {type(region).__name__}",
                fix="Pass a BED path or a list of bioseq.io.Interval",
            )
        name = reference.resolve(region.chrom)
        if region.start < 0 or region.end > reference.length(name):
            raise InputError(
                f"region {region.chrom}:{region.start}-{region.end} (0-based) runs outside "
                f"{name} (length {reference.length(name)})",
                path=reference.path,
                fix="Clip the regions to the contig, or check they are from this assembly",
            )
        if region.end > region.start:
            spans.append((name, region.start, region.end))
    spans.sort(key=lambda s: (order[s[0]], s[1]))
    merged: list[tuple[str, int, int]] = []
    for name, start, end in spans:
        if merged and merged[-1][0] == name and start < merged[-1][2]:
            merged[-1] = (name, merged[-1][1], max(end, merged[-1][2]))
        else:
            merged.append((name, start, end))
    return merged


def _names(chroms) -> list[str]:
    if isinstance(chroms, str):
        return [chroms]
    names = list(chroms)
    if not names:
        raise InputError("chroms is empty", fix="Name at least one contig, or leave chroms unset for all")
    return names


def _bins(spans, step: int, block_size: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Blocks of ``(contig, bin starts (n,), bin ends (n,))``, at most ``block_size`` bins each."""
    for chrom, start, end in spans:
        n_bins = -(-(end - start) // step)
        for first in range(0, n_bins, block_size):
            index = np.arange(first, min(first + block_size, n_bins), dtype=np.int64)
            starts = start + index * step
            yield chrom, starts, np.minimum(starts + step, end)


class _BigWig:
    """Write entries to a bigWig under a temporary name (:func:`atomic_path`); renamed when closed cleanly."""

    def __init__(self, path: str | os.PathLike, header: list[tuple[str, int]]) -> None:
        self._path, self._header, self.bins = Path(path), header, 0

    def __enter__(self) -> _BigWig:
        import pyBigWig

        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(atomic_path(self._path))
            self._file = pyBigWig.open(str(tmp), "w")
            if self._file is None:
                raise InputError(
                    "cannot create the bigWig file", path=self._path, fix="Check that its directory is writable"
                )
            stack.callback(self._file.close)  # closed before the rename
            self._file.addHeader(self._header)
            self._stack = stack.pop_all()
        return self

    def add(self, chrom: str, starts: np.ndarray, ends: np.ndarray, values: np.ndarray) -> None:
        self._file.addEntries(
            [chrom] * starts.size, starts.tolist(), ends=ends.tolist(), values=values.astype(np.float64).tolist()
        )
        self.bins += starts.size

    def __exit__(self, *exc) -> None:
        self._stack.__exit__(*exc)


class _BedGraph:
    """Write bedGraph lines through :func:`~bioseq.io.handles.atomic_output`."""

    def __init__(self, path: str | os.PathLike, header: list[tuple[str, int]]) -> None:
        self._path, self.bins = path, 0

    def __enter__(self) -> _BedGraph:
        with contextlib.ExitStack() as stack:
            self._handle = stack.enter_context(atomic_output(self._path, "w"))
            self._stack = stack.pop_all()
        return self

    def add(self, chrom: str, starts: np.ndarray, ends: np.ndarray, values: np.ndarray) -> None:
        self._handle.writelines(
            f"{chrom}\t{s}\t{e}\t{v:.7g}\n" for s, e, v in zip(starts.tolist(), ends.tolist(), values.tolist())
        )
        self.bins += starts.size

    def __exit__(self, *exc) -> None:
        self._stack.__exit__(*exc)
