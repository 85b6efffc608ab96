"""Variant scoring cut into pieces kept on disk: a killed job resumes, several processes share the work.

Data contract
-------------
The variants of a VCF (one per ALT allele, in input order, as
:func:`~bioseq.io.variants.read_variants` yields them) are cut into pieces of
``size`` consecutive variants; piece ``i`` holds variants ``[i * size,
(i + 1) * size)``. Its scores are kept in the folder ``OUT.parts`` next to the
output ``OUT``:

``request.json``
    What was asked (model, input files with their sizes and modification
    times, options, piece size): :class:`bioseq.io.pieces.PieceFolder`.
``piece-000000.json``, ``piece-000001.json``, ...
    ``{"format": "bioseq-variant-piece", "piece": i, "results": [...]}``,
    one entry per variant: ``[record, allele, reason, entries]`` for a
    per-position model (``entries``: ``[symbol, strand, AG, AL, DG, DL,
    AG_at, AL_at, DG_at, DL_at]`` each) and ``[record, allele, reason, ref,
    alt]`` for a scored window classifier (probability lists; an unscored
    variant of either kind has the first layout, with no entries). Written
    atomically, so a piece on disk is complete. JSON only: nothing in the
    folder is ever executed or unpickled.

A rerun scores only the pieces that are missing; once every piece is there
the outputs are written from them and the folder is removed.

Processes
---------
:class:`PiecePool` scores pieces in ``workers`` spawned processes (each loads
the bundle from its directory on the CPU and opens the genome itself, with
``cpu_count // workers`` torch threads), at most two pieces in flight per
process, so memory stays bounded whatever the VCF's size. Pieces are saved by
the parent as they finish, in any order.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from bioseq.errors import InputError, option
from bioseq.io.atomic import atomic_output
from bioseq.io.pieces import PieceFolder
from bioseq.io.variants import Variant
from bioseq.variants.delta import DeltaScores
from bioseq.variants.score import SpliceEntry, VariantScore

__all__ = ["PieceStore", "PiecePool", "encode_result", "decode_result", "pieces_of"]

log = logging.getLogger(__name__)

FORMAT = "bioseq-variant-piece"
_DELTA_FIELDS = (
    "acceptor_gain", "acceptor_loss", "donor_gain", "donor_loss",
    "acceptor_gain_at", "acceptor_loss_at", "donor_gain_at", "donor_loss_at",
)  # fmt: skip


def pieces_of(variants: Iterable[Variant], size: int) -> Iterator[list[Variant]]:
    """Consecutive lists of ``size`` variants (the last one shorter)."""
    piece: list[Variant] = []
    for v in variants:
        piece.append(v)
        if len(piece) == size:
            yield piece
            piece = []
    if piece:
        yield piece


def encode_result(result: VariantScore) -> list:
    """The JSON entry of one result (see the module docstring); floats keep every digit."""
    v = result.variant
    if result.ref is not None:  # a scored window classifier (an unscored result of either kind has no values)
        return [v.record, v.allele, result.reason, [float(x) for x in result.ref], [float(x) for x in result.alt]]
    entries = [[e.symbol, e.strand, *(getattr(e.scores, name) for name in _DELTA_FIELDS)] for e in result.entries]
    return [v.record, v.allele, result.reason, entries]


def decode_result(entry: list, variant: Variant) -> VariantScore:
    """The :class:`VariantScore` of ``variant`` from its JSON entry.

    Raises
    ------
    InputError
        When the entry names another record or allele (the folder does not belong to this VCF).
    """
    if entry[0] != variant.record or entry[1] != variant.allele:
        raise InputError(
            f"a stored piece holds record {entry[0]} allele {entry[1]} where the VCF has record {variant.record} "
            f"allele {variant.allele}",
            fix="Remove the OUT.parts folder next to the output and score again",
        )
    if len(entry) == 5:
        ref, alt = (None if x is None else np.asarray(x, dtype=np.float32) for x in entry[3:5])
        return VariantScore(variant, ref=ref, alt=alt, reason=entry[2])
    entries = tuple(
        SpliceEntry(e[0], e[1], DeltaScores(*(float(x) for x in e[2:6]), *(int(x) for x in e[6:10]))) for e in entry[3]
    )
    return VariantScore(variant, entries, reason=entry[2])


class PieceStore(PieceFolder):
    """The ``OUT.parts`` folder of one scoring request (:class:`bioseq.io.pieces.PieceFolder`), pieces as JSON."""

    def save(self, index: int, entries: list) -> None:
        """Write piece ``index`` (its :func:`encode_result` entries) atomically."""
        with atomic_output(self.path(index), "w") as handle:
            json.dump({"format": FORMAT, "piece": index, "results": entries}, handle, separators=(",", ":"))

    def load(self, index: int, variants: list[Variant]) -> list[VariantScore]:
        """The results of piece ``index``, matched to its ``variants``.

        Raises
        ------
        InputError
            On a piece that is unreadable, of another format, or of other variants.
        """
        path = self.path(index)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot read the stored piece: {exc}", path=path, fix="Remove it and score again"
            ) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or len(data.get("results", ())) != len(variants):
            raise InputError(
                f"the stored piece is not a {FORMAT} of {len(variants)} variants",
                path=path,
                fix="Remove it and score again",
            )
        return [decode_result(entry, v) for entry, v in zip(data["results"], variants)]


# --- processes ---------------------------------------------------------------------------------------------

_WORKER: dict = {}


def _start_worker(spec: dict) -> None:
    """Initialiser of a scoring process: Ctrl-C is the parent's to handle; load the model and open the genome."""
    import torch

    from bioseq.bundle.resolve import as_bundle
    from bioseq.io.reference import Reference

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(spec["threads"])
    _WORKER["bundle"] = as_bundle(spec["model"], device="cpu")
    _WORKER["genome"] = Reference(spec["reference"])
    _WORKER["genes"] = spec["genes"]
    _WORKER["options"] = spec["options"]


def _score_in_worker(index: int, variants: list[Variant]) -> tuple[int, list]:
    from bioseq.variants.score import score_variants

    results = score_variants(
        _WORKER["bundle"], variants, _WORKER["genome"], genes=_WORKER["genes"], **_WORKER["options"]
    )
    return index, [encode_result(r) for r in results]


class PiecePool:
    """Scores the missing pieces of a :class:`PieceStore`, in this process or in ``workers`` processes.

    Parameters
    ----------
    store : PieceStore
    score : callable
        ``score(variants) -> list[VariantScore]`` in this process (``workers == 1``).
    workers : int
        Processes; above 1 each loads the model from ``spec["model"]``.
    spec : dict, optional
        For ``workers > 1``: ``model`` (bundle directory), ``reference`` (genome path), ``genes``
        (a GeneIndex or None), ``options`` (keyword arguments of ``score_variants``).
    """

    def __init__(self, store: PieceStore, score: Callable, *, workers: int = 1, spec: dict | None = None) -> None:
        if workers > 1 and (spec is None or spec.get("model") is None or spec.get("reference") is None):
            raise InputError(
                f"{option('workers', str(workers))} needs a model and a genome on disk, which each process loads",
                fix=f"Pass the bundle directory and the genome path, or {option('workers', '1')}",
            )
        self.store, self.score, self.workers, self.spec = store, score, workers, spec
        self.scored = 0

    def run(self, pieces: Iterable[list[Variant]]) -> int:
        """Score every piece not yet on disk; returns how many were scored now."""
        todo = ((i, p) for i, p in enumerate(pieces) if not self.store.done(i))
        if self.workers == 1:
            for index, variants in todo:
                self.store.save(index, [encode_result(r) for r in self.score(variants)])
                self.scored += 1
            return self.scored
        spec = {**self.spec, "threads": max(1, (os.cpu_count() or 1) // self.workers)}
        context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools
        executor = cf.ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker, initargs=(spec,))
        try:
            self._feed(executor, todo)
        except BaseException:  # SIGTERM, Ctrl-C, a failed piece: stop the other processes now, keep saved pieces
            executor.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():
                child.terminate()
            raise
        executor.shutdown(wait=True)
        return self.scored

    def _feed(self, executor: cf.ProcessPoolExecutor, todo: Iterator[tuple[int, list[Variant]]]) -> None:
        pending: set[cf.Future] = set()
        for index, variants in todo:
            while len(pending) >= 2 * self.workers:
                pending = self._collect(pending)
            pending.add(executor.submit(_score_in_worker, index, variants))
        while pending:
            pending = self._collect(pending)

    def _collect(self, pending: set[cf.Future]) -> set[cf.Future]:
        finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for future in finished:
            index, entries = future.result()
            self.store.save(index, entries)
            self.scored += 1
        return pending
