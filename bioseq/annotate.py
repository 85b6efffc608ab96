"""Annotate a genome at base resolution with a per-position model: bigWig tracks and called sites.

Output layout (a folder that appears whole or not at all)
----------------------------------------------------------
``<class>.plus.bw``, ``<class>.minus.bw``
    One bigWig per class except the background class (``classes[0]``, e.g.
    ``neither``) and per strand asked for: the class probability of every
    predicted base, as 1-bp entries (float32), positions in genome
    coordinates whatever the strand (see :mod:`bioseq.tracks`). The header
    lists every contig of the reference with its length, in reference order,
    or with ``regions`` only the contigs that hold a region. A class name is
    used as it is in the file name, with characters other than letters,
    digits, ``_``, ``.`` and ``-`` replaced by ``_``.
``sites.bed``
    BED6, sorted by contig (reference order) and position: one line per base
    and class and strand whose probability is at least ``threshold``:
    ``chrom, start, start + 1, class, score, strand`` (0-based, half-open)
    with ``score = round(1000 * probability)`` (0 to 1,000).
``summary.json``
    What was run (model, reference, regions, classes, strands, threshold,
    chunk, batch size, device), the bases covered (``bases``), the bases
    predicted over all strands (``bases_predicted``), ``seconds``,
    ``bases_per_second``, the sites per class and strand, and the process's
    peak resident memory in MiB (and the GPU's peak allocation, when one ran).

Regions are 0-based, half-open (BED); overlapping or touching regions are
merged first and their strand column is ignored (each strand asked for is
predicted). Memory stays bounded: positions are predicted and written one
block of ``batch_size`` chunks at a time (:func:`bioseq.tracks.predict_blocks`).

Resuming
--------
The spans are cut into pieces of ``piece`` bases (a multiple of ``chunk``,
so the model sees the inputs it would see without pieces; a last piece
shorter than ``chunk`` joins the one before). Each finished piece is kept in
``OUT.parts/piece-NNNNNN/`` (its bigWigs, sites and counts, written
atomically; :class:`bioseq.io.pieces.PieceFolder`). When all are there, the
tracks are copied from them into ``OUT`` and the pieces are removed. A job
killed by a time limit and run again with the same request predicts only the
missing pieces: a kill loses at most one piece.

Site pairing
------------
A splice model with a second stage (:attr:`bioseq.bundle.Bundle.site_pairing`,
fitted by ``bioseq train`` on the validation genes) has its acceptor and
donor tracks and sites rescored by it (``pairing=False`` or ``bioseq
annotate --no-pairing`` writes the model's own probabilities;
``summary.json`` says which, under ``site_pairing``). A rescored base reads
the model's predictions up to the stage's reach (about 100 kb) away on its
strand, so each piece is predicted whole with that margin on both sides
(:func:`bioseq.tracks.predict_region` with ``pairing=True``; clipped at the
contig's ends): a piece predicts up to twice the reach more bases (10 % more
at the default 2 Mb pieces, 80 % more at 250 kb), and memory holds one piece
and its margins per strand. The values equal those of one whole-contig pass,
whatever the pieces, to float rounding.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bioseq import __version__
from bioseq.bundle.resolve import as_bundle
from bioseq.checks import check_threshold, positive_integer
from bioseq.errors import InputError, MissingContigError, option
from bioseq.inference import InferenceOptions, as_options
from bioseq.interrupt import handle_signals
from bioseq.io.atomic import atomic_directory
from bioseq.io.interval import Interval
from bioseq.io.pieces import PieceFolder, file_stamp
from bioseq.tracks import (
    DEFAULT_CHUNK,
    DEFAULT_PIECE,
    STRANDS,
    check_per_position,
    pairing_margin,
    predict_blocks,
    predict_region,
)

__all__ = ["annotate", "piece_spans", "region_spans", "track_name", "SITES", "SUMMARY"]

SITES = "sites.bed"
SUMMARY = "summary.json"
_STRAND_WORD = {"+": "plus", "-": "minus"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def track_name(class_name: str, strand: str) -> str:
    """The bigWig file name of a class on a strand: ``donor.plus.bw``, ``donor.minus.bw``."""
    return f"{_UNSAFE.sub('_', class_name)}.{_STRAND_WORD[strand]}.bw"


def annotate(
    bundle,
    reference,
    out_dir: str | os.PathLike,
    *,
    regions: str | os.PathLike | Iterable[Interval] | None = None,
    strands: Iterable[str] = STRANDS,
    threshold: float = 0.5,
    options: InferenceOptions | None = None,
    chunk: int = DEFAULT_CHUNK,
    piece: int = DEFAULT_PIECE,
    pairing: bool = True,
) -> dict:
    """Write base-resolution tracks and called sites of a genome (see the module docstring).

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A per-position bundle, or its directory (or training run directory).
    reference : str, os.PathLike or Reference
        The genome FASTA (or GenBank/EMBL), or an open Reference.
    out_dir : str or os.PathLike
        The output folder; an existing one is replaced when the new one is complete.
    regions : BED path or iterable of Interval, optional
        Predict only these (0-based, half-open); default every contig.
    strands : iterable of {"+", "-"}, default both
    threshold : float, default 0.5
        A base is a site of a class when its probability is at least this (strictly between 0 and 1).
    options : InferenceOptions, optional
        Batch size (chunks per forward pass) and device. Without a device, a
        bundle given as a directory is loaded onto the GPU when one is
        present (else the CPU) and a loaded bundle runs where it is.
        ``rc_average`` is refused (the tracks hold each strand);
        ``options.threshold`` does not apply.
    chunk : int, default 5,000
        Output positions per model input (:mod:`bioseq.tracks`).
    piece : int, default :data:`DEFAULT_PIECE`
        Bases per stored piece (rounded down to a multiple of ``chunk``, at least one chunk).
    pairing : bool, default True
        Rescore a splice model's sites with its second stage
        (:attr:`bioseq.bundle.Bundle.site_pairing`, fitted by ``bioseq
        train``) when it has one; False writes the model's own probabilities.

    Returns
    -------
    dict
        The content of ``summary.json``.

    Raises
    ------
    InputError
        On a window classifier (use ``bioseq scan``), a bad option, a region
        on a contig the reference lacks or outside its contig (naming the BED
        line), or nothing to predict.
    """
    options = as_options(options)
    if options.rc_average:
        raise InputError(
            f"{option('rc_average', 'True')} does not apply to a per-position model: its labels are strand-specific",
            fix=f"Leave out {option('rc_average', 'True')}; the tracks hold each strand separately",
        )
    threshold = check_threshold(threshold)
    strands = _check_strands(strands)
    chunk = positive_integer(chunk, "chunk")
    piece = max(1, positive_integer(piece, "piece") // chunk) * chunk
    device = options.device  # where predict_proba runs: None for the model's own device
    if isinstance(bundle, (str, os.PathLike)):
        bundle = as_bundle(bundle, device=device if device is not None else _default_device())
        device = None  # loaded where it runs: not moved for every block
    check_per_position(bundle)
    from bioseq.io.reference import Reference

    with contextlib.ExitStack() as stack:
        if not isinstance(reference, Reference):
            reference = stack.enter_context(Reference(reference))
        spans = region_spans(reference, regions)
        if not spans:
            raise InputError("there is nothing to predict (no contig or region with bases)", path=reference.path)
        paired = bool(pairing) and getattr(bundle, "site_pairing", None) is not None
        run = _Run(bundle, reference, spans, strands, threshold, chunk, options.batch_size, device, paired)
        request = run.request(regions, piece)
        store = PieceFolder(os.fspath(out_dir) + ".parts", request, suffix="")
        with handle_signals():
            reused = store.open()
            pieces = piece_spans(spans, piece, chunk)
            for index, span in enumerate(pieces):
                if not store.done(index):
                    run.piece(store.path(index), *span)
            with atomic_directory(out_dir) as folder:
                summary = run.merge([store.path(i) for i in range(len(pieces))], folder)
                summary["regions"] = os.fspath(regions) if isinstance(regions, (str, os.PathLike)) else None
                summary["pieces"] = {"total": len(pieces), "reused": reused, "bases": piece}
                (folder / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
        store.remove()
    return summary


def piece_spans(spans, piece: int, chunk: int) -> list[tuple[str, int, int]]:
    """``spans`` cut every ``piece`` bases from their starts; a last piece under ``chunk`` joins the one before."""
    out = []
    for name, start, end in spans:
        cuts = list(range(start, end, piece)) + [end]
        if len(cuts) > 2 and cuts[-1] - cuts[-2] < chunk:
            del cuts[-2]
        out.extend((name, a, b) for a, b in zip(cuts, cuts[1:]))
    return out


def _check_strands(strands) -> tuple[str, ...]:
    chosen = tuple([strands] if isinstance(strands, str) else strands)
    if not chosen or any(s not in STRANDS for s in chosen) or len(set(chosen)) != len(chosen):
        raise InputError(f"strands must be '+', '-' or both, got {strands!r}", fix=f"Pass {option('strands', '+ -')}")
    return tuple(s for s in STRANDS if s in chosen)


def _default_device():
    """``"cuda"`` when torch sees a GPU, else None (the bundle's own device)."""
    import torch

    return "cuda" if torch.cuda.is_available() else None


class _Run:
    """One annotation: the model, the spans and the settings, written by :meth:`write`."""

    def __init__(self, bundle, reference, spans, strands, threshold, chunk, batch_size, device, paired) -> None:
        self.bundle, self.reference, self.spans, self.strands = bundle, reference, spans, strands
        self.threshold, self.chunk, self.batch_size, self.device = threshold, chunk, batch_size, device
        self.paired = paired  # rescore with the bundle's site pairing (tracks.predict_region(..., pairing=True))
        classes = tuple(bundle.classes)
        self.columns = tuple(range(1, len(classes))) if len(classes) > 1 else (0,)  # no background track
        self.classes = classes

    def request(self, regions, piece: int) -> dict:
        """What identifies this run's pieces (see :class:`bioseq.io.pieces.PieceFolder`)."""
        model = getattr(self.bundle, "path", None)
        if isinstance(regions, (str, os.PathLike)):
            regions = file_stamp(regions)
        elif regions is not None:  # Interval objects: the merged spans say what is predicted
            regions = [list(span) for span in self.spans]
        return {
            "bioseq": __version__,
            "model": file_stamp(model) if model is not None else f"object {id(self.bundle)} in process {os.getpid()}",
            "reference": file_stamp(self.reference.path) if self.reference.path else None,
            "regions": regions,
            "strands": list(self.strands),
            "threshold": self.threshold,
            "chunk": self.chunk,
            "piece": piece,
            "site_pairing": self.paired,
        }

    def piece(self, path: Path, name: str, start: int, end: int) -> None:
        """Predict ``[start, end)`` of ``name`` into the piece folder ``path`` (bigWigs, sites, counts)."""

        counts = {self.classes[c]: dict.fromkeys(self.strands, 0) for c in self.columns}
        began = time.perf_counter()
        with atomic_directory(path) as folder, contextlib.ExitStack() as stack:
            tracks = {}
            for c in self.columns:
                for strand in self.strands:
                    tracks[c, strand] = stack.enter_context(_bigwig(folder / track_name(self.classes[c], strand)))
                    tracks[c, strand].addHeader([(name, self.reference.length(name))])
            with open(folder / SITES, "w", encoding="utf-8") as sites:
                self._span(name, start, end, tracks, sites, counts)
            stack.close()
            seconds = time.perf_counter() - began
            (folder / "piece.json").write_text(json.dumps({"span": [name, start, end], "counts": counts,
                                                           "seconds": seconds}))  # fmt: skip

    def merge(self, pieces: list[Path], folder: Path) -> dict:
        """Copy the tracks and sites of the finished ``pieces`` (in order) into ``folder``; the summary."""
        import pyBigWig

        names = {name for name, _, _ in self.spans}
        header = [(n, size) for n, size in zip(self.reference.references, self.reference.lengths) if n in names]
        counts = {self.classes[c]: dict.fromkeys(self.strands, 0) for c in self.columns}
        seconds = 0.0
        with contextlib.ExitStack() as stack:
            tracks = {}
            for c in self.columns:
                for strand in self.strands:
                    tracks[c, strand] = stack.enter_context(_bigwig(folder / track_name(self.classes[c], strand)))
                    tracks[c, strand].addHeader(header)
            sites = stack.enter_context(open(folder / SITES, "wb"))
            for path in pieces:
                info = json.loads((path / "piece.json").read_text())
                name, start, end = info["span"]
                seconds += info["seconds"]
                for (c, strand), track in tracks.items():
                    with pyBigWig.open(str(path / track_name(self.classes[c], strand))) as part:
                        values = part.values(name, start, end, numpy=True)
                    track.addEntries(name, start, values=values, span=1, step=1)
                    counts[self.classes[c]][strand] += info["counts"][self.classes[c]][strand]
                with open(path / SITES, "rb") as part:
                    shutil.copyfileobj(part, sites)
        return self.summary(header, counts, seconds)

    def summary(self, header: list, counts: dict, seconds: float) -> dict:
        """The content of ``summary.json`` (``seconds``: prediction time summed over the pieces)."""
        bases = sum(end - start for _, start, end in self.spans)
        return {
            "model": os.fspath(self.bundle.path) if getattr(self.bundle, "path", None) is not None else None,
            "reference": self.reference.path,
            "classes": list(self.classes),
            "tracks": {
                self.classes[c]: {s: track_name(self.classes[c], s) for s in self.strands} for c in self.columns
            },
            "strands": list(self.strands),
            "threshold": self.threshold,
            "site_pairing": {"margin": pairing_margin(self.bundle, self.chunk)} if self.paired else None,
            "flank": int(self.bundle.flank),
            "chunk": self.chunk,
            "batch_size": self.batch_size,
            "device": _device_of(self.bundle, self.device),
            "contigs": len(header),
            "spans": len(self.spans),
            "bases": bases,
            "bases_predicted": bases * len(self.strands),
            "seconds": round(seconds, 3),
            "bases_per_second": round(bases * len(self.strands) / seconds, 1) if seconds > 0 else None,
            "sites": counts,
            **_peak_memory(),
        }

    def _span(self, name: str, start: int, end: int, tracks: dict, sites, counts: dict) -> None:
        """Predict one span on every strand, block by block, and write the tracks and the sites."""
        if self.paired:  # the whole piece at once: the second stage reads margins around it
            kwargs = {"chunk": self.chunk, "batch_size": self.batch_size, "device": self.device, "pairing": True}
            streams = [
                [(start, predict_region(self.bundle, self.reference, name, start, end, strand=strand, **kwargs))]
                for strand in self.strands
            ]
        else:
            streams = [
                predict_blocks(
                    self.bundle,
                    self.reference,
                    name,
                    start,
                    end,
                    strand=strand,
                    chunk=self.chunk,
                    batch_size=self.batch_size,
                    device=self.device,
                )
                for strand in self.strands
            ]
        for blocks in zip(*streams):  # the same block boundaries on each strand
            found = []  # (position, strand order, class column, probability)
            for order, (strand, (first, proba)) in enumerate(zip(self.strands, blocks)):
                for c in self.columns:
                    tracks[c, strand].addEntries(name, first, values=proba[:, c].astype(np.float64), span=1, step=1)
                    hits = np.flatnonzero(proba[:, c] >= self.threshold)
                    counts[self.classes[c]][strand] += int(hits.size)
                    found.extend(zip((first + hits).tolist(), [order] * hits.size, [c] * hits.size, proba[hits, c]))
            found.sort()
            sites.writelines(
                f"{name}\t{p}\t{p + 1}\t{self.classes[c]}\t{min(1000, round(1000 * float(v)))}\t{self.strands[o]}\n"
                for p, o, c, v in found
            )


@contextlib.contextmanager
def _bigwig(path: Path):
    """A bigWig open for writing at ``path``, closed after."""
    import pyBigWig

    handle = pyBigWig.open(str(path), "w")
    if handle is None:
        raise InputError("cannot create the bigWig file", path=path)
    try:
        yield handle
    finally:
        handle.close()


def _device_of(bundle, device) -> str | None:
    """Where the model ran: ``device``, else the device of a torch model's parameters, else None."""
    if device is not None:
        return str(device)
    parameters = getattr(getattr(bundle, "model", None), "parameters", None)
    first = next(iter(parameters()), None) if callable(parameters) else None
    return None if first is None else str(first.device)


def _peak_memory() -> dict:
    """Peak resident memory of this process in MiB, and the GPU's peak allocation when CUDA ran."""
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    peak = {"peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, 1)}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        peak["peak_gpu_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return peak


def region_spans(reference, regions=None) -> list[tuple[str, int, int]]:
    """``(contig, start, end)`` to predict: every contig, or the regions merged, in reference order.

    Parameters
    ----------
    reference : Reference
    regions : BED path or iterable of Interval, optional
        0-based, half-open; aliases of contig names resolve; strands are
        ignored; overlapping or touching regions are merged, empty ones dropped.

    Returns
    -------
    list of (str, int, int)
        Sorted by contig (reference order) and start, without overlaps.

    Raises
    ------
    MissingContigError
        A region on a contig the reference lacks (naming the BED line, or the region's number).
    InputError
        A region outside its contig, a malformed BED, or an item that is not an Interval.
    """
    order = {name: i for i, name in enumerate(reference.references)}
    if regions is None:
        return [(n, 0, size) for n, size in zip(reference.references, reference.lengths) if size > 0]
    path = os.fspath(regions) if isinstance(regions, (str, os.PathLike)) else None
    if path is not None:
        from bioseq.io.bed import read_bed

        regions = read_bed(path)
    spans = []
    for number, region in enumerate(regions, 1):
        if not isinstance(region, Interval):
            raise InputError(
                f"regions must hold Interval objects, got {type(region).__name__}",
                fix="Pass a BED path or a list of bioseq.io.Interval",
            )
        name = _contig_of(reference, region, path, number)
        if region.end > reference.length(name):
            raise InputError(
                f"region {region.chrom}:{region.start}-{region.end} (0-based) runs past the end of {name} "
                f"(length {reference.length(name)})",
                path=path,
                line=_line_of(path, region),
                record=None if path else f"region {number}",
                fix="Clip the regions to the contig, or check that they are from this assembly",
            )
        if region.end > region.start:
            spans.append((name, region.start, region.end))
    spans.sort(key=lambda s: (order[s[0]], s[1]))
    merged: list[tuple[str, int, int]] = []
    for name, start, end in spans:
        if merged and merged[-1][0] == name and start <= merged[-1][2]:
            merged[-1] = (name, merged[-1][1], max(end, merged[-1][2]))
        else:
            merged.append((name, start, end))
    return merged


def _contig_of(reference, region: Interval, path: str | None, number: int) -> str:
    try:
        return reference.resolve(region.chrom)
    except MissingContigError as exc:
        raise MissingContigError(
            f"region {region.chrom}:{region.start}-{region.end} is on a contig the reference lacks ({exc.problem})",
            path=path,
            line=_line_of(path, region),
            record=None if path else f"region {number}",
            fix=f"Use regions of the assembly of {reference.path}, or remove the lines of other contigs",
        ) from None


def _line_of(path: str | None, region: Interval) -> int | None:
    """The 1-based line of ``path`` that holds ``region`` (read again only to name it in an error)."""
    if path is None:
        return None
    from bioseq.io.handles import open_input

    want = [region.chrom, str(region.start), str(region.end)]
    with open_input(path) as stream:
        for number, raw in enumerate(stream, 1):
            if raw.decode("utf-8", "replace").rstrip("\r\n").split("\t")[:3] == want:
                return number
    return None
