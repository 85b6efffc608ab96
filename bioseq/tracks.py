"""Predict a per-position model along a genomic region, chunk by chunk, in genome orientation.

Data contract
-------------
A per-position bundle (``bundle.per_position`` True) maps codes ``(N, L)``
uint8 to probabilities ``(N, L - 2 * flank, C)`` float32: output ``j`` of a
row is the prediction for input position ``j + flank``, made from the bases
within ``flank`` of it (``bundle.flank`` bases per side; ``C = len(bundle.classes)``).

Geometry (0-based, half-open)
-----------------------------
A region ``[start, end)`` of a contig is cut into chunks
``[start + i * w, start + (i + 1) * w)`` with ``w = min(chunk, end - start)``;
chunk ``[s, s + w)`` is predicted from the input ``[s - flank, s + w + flank)``.
Input past a contig end is N (:meth:`~bioseq.io.reference.Reference.windows`),
so the first and last ``flank`` positions of a contig see N where the genome
stops. The last chunk may reach past ``end``: its extra outputs are dropped
(its input past ``end`` is real sequence where the contig goes on).

On the minus strand each input is reverse-complemented, so the model reads it
5' to 3' on that strand, and its output is flipped back: row ``p - start`` of
the result is always genome position ``p``, whatever the strand.

For a model whose outputs depend only on input within ``flank`` (valid
convolutions, as ``per_base_cnn``) the result does not depend on ``chunk``,
``batch_size`` or on how a region is split: predicting ``[a, c)`` equals
predicting ``[a, b)`` and ``[b, c)`` one after the other. A model that reads its
whole input (an LSTM, a Transformer) depends on the chunk width; give it the
width it was trained on.

Site pairing: ``predict_region(..., pairing=True)`` rescores a splice
model's sites with its second stage (:attr:`bioseq.bundle.Bundle.site_pairing`,
:mod:`bioseq.models.site_pairing`). A rescored base reads the model's
predictions up to the stage's reach away on its strand, so the region is
predicted with that margin on both sides (in whole chunks, clipped at the
contig's ends) and the result equals a whole-contig pass to float rounding,
however a region is split.

Memory: :func:`predict_blocks` holds one block of ``batch_size`` chunks at a
time (codes ``(batch_size, chunk + 2 * flank)`` uint8 and probabilities
``(batch_size * chunk, C)`` float32), whatever the region's length.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from bioseq.checks import positive_integer
from bioseq.errors import InputError

__all__ = [
    "STRANDS",
    "DEFAULT_CHUNK",
    "DEFAULT_PIECE",
    "check_per_position",
    "pairing_margin",
    "predict_blocks",
    "predict_region",
]

STRANDS = ("+", "-")
"""The strands a region is predicted on."""

DEFAULT_CHUNK = 5000
"""Output positions per model input (SpliceAI's 5,000)."""

DEFAULT_PIECE = 2_000_000
"""Bases per stored piece of ``bioseq annotate`` (:mod:`bioseq.annotate`): what a kill can lose (about 25 s
on 2 CPU cores at context 400, both strands)."""


def check_per_position(bundle) -> None:
    """Refuse a bundle that does not predict per position (a window classifier).

    Raises
    ------
    InputError
        When ``bundle.per_position`` is missing or False; the fix points to ``bioseq scan``.
    """
    if not getattr(bundle, "per_position", False):
        raise InputError(
            "this model classifies whole windows; base-resolution tracks need a per-position model",
            path=getattr(bundle, "path", None),
            fix="Score windows along the genome with bioseq scan (bioseq.scan.scan_genome), or train a "
            "per-position model on a per-base dataset",
        )
    flank = getattr(bundle, "flank", None)
    if isinstance(flank, bool) or not isinstance(flank, (int, np.integer)) or flank < 0:
        raise InputError(f"the per-position model's flank must be an integer >= 0, got {flank!r}")


def predict_blocks(
    bundle,
    reference,
    contig: str,
    start: int,
    end: int,
    *,
    strand: str = "+",
    chunk: int = DEFAULT_CHUNK,
    batch_size: int = 256,
    device=None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Predict ``contig[start:end)`` block by block (see the module docstring).

    Parameters
    ----------
    bundle : Bundle
        A per-position bundle (``per_position``, ``flank``, ``classes``, ``predict_proba``).
    reference : Reference
        An open :class:`~bioseq.io.reference.Reference`.
    contig : str
        Contig name (aliases resolve).
    start, end : int
        0-based, half-open; ``0 <= start <= end <= `` the contig's length.
    strand : {"+", "-"}, default "+"
        The strand the model reads; the output is in genome orientation either way.
    chunk : int, default 5,000
        Output positions per model input.
    batch_size : int, default 256
        Chunks per forward pass, and per block.
    device : str or torch.device, optional
        Where the model runs (default the bundle's device).

    Yields
    ------
    block_start : int
        Genome position of the block's first row.
    proba : numpy.ndarray, shape ``(n, C)``, dtype float32
        Row ``i`` is position ``block_start + i``; blocks follow each other
        without gap or overlap from ``start`` to ``end``.

    Raises
    ------
    InputError
        On a window classifier, an unknown contig, coordinates outside the
        contig, a bad strand, chunk or batch size, or a model output of the
        wrong shape.
    """
    check_per_position(bundle)
    name, start, end = _check_region(reference, contig, start, end)
    if strand not in STRANDS:
        raise InputError(f"strand must be '+' or '-', got {strand!r}")
    chunk = positive_integer(chunk, "chunk")
    batch_size = positive_integer(batch_size, "batch_size")
    return _blocks(bundle, reference, name, start, end, strand, chunk, batch_size, device)


def _blocks(bundle, reference, name, start, end, strand, chunk, batch_size, device):
    if end == start:
        return
    flank, n_classes = int(bundle.flank), len(bundle.classes)
    width = min(chunk, end - start)
    starts = np.arange(start, end, width, dtype=np.int64)  # (n_chunks,) output starts
    for first in range(0, starts.size, batch_size):
        block = starts[first : first + batch_size]
        codes = reference.windows(name, block - flank, width + 2 * flank, strands=strand)  # (n, w + 2 flank)
        proba = np.asarray(bundle.predict_proba(codes, batch_size=batch_size, device=device))
        if proba.shape != (block.size, width, n_classes):
            raise InputError(
                f"the model returned probabilities of shape {proba.shape} for codes of shape {codes.shape}; "
                f"a per-position model with flank {flank} and {n_classes} classes returns "
                f"{(block.size, width, n_classes)}",
                path=getattr(bundle, "path", None),
            )
        if strand == "-":
            proba = proba[:, ::-1]  # each chunk back to genome order
        stop = min(int(block[-1]) + width, end)
        yield int(block[0]), np.ascontiguousarray(proba.reshape(-1, n_classes)[: stop - int(block[0])], np.float32)


def predict_region(
    bundle,
    reference,
    contig: str,
    start: int,
    end: int,
    *,
    strand: str = "+",
    chunk: int = DEFAULT_CHUNK,
    batch_size: int = 256,
    device=None,
    pairing: bool = False,
) -> np.ndarray:
    """Per-position probabilities of ``contig[start:end)`` (0-based, half-open) in genome orientation.

    The blocks of :func:`predict_blocks` put together; same parameters, and
    ``pairing``: rescore the sites with the bundle's second stage (see the
    module docstring; the region is predicted with margins of its reach, so
    the whole region and its margins are in memory at once).

    Returns
    -------
    numpy.ndarray, shape ``(end - start, C)``, dtype float32
        Row ``i`` is genome position ``start + i`` on ``strand``; column ``c`` is ``bundle.classes[c]``.

    Raises
    ------
    InputError
        As :func:`predict_blocks`.
    """
    if pairing:
        return _paired(bundle, reference, contig, start, end, strand, chunk, batch_size, device)
    blocks = predict_blocks(
        bundle, reference, contig, start, end, strand=strand, chunk=chunk, batch_size=batch_size, device=device
    )
    parts = [proba for _, proba in blocks]
    if not parts:
        return np.zeros((0, len(bundle.classes)), dtype=np.float32)
    return np.concatenate(parts)


def pairing_margin(bundle, chunk: int) -> int:
    """Bases predicted on each side of a region for its second stage: the stage's reach in whole chunks."""
    return _margin(_site_pairing(bundle), chunk)


def _margin(pairing, chunk: int) -> int:
    return -(-pairing.reach // chunk) * chunk


def _site_pairing(bundle):
    pairing = getattr(bundle, "site_pairing", None)
    if pairing is None:
        raise InputError(
            "this model has no site-pairing second stage",
            path=getattr(bundle, "path", None),
            fix="Predict without pairing, or train the splice model with 'bioseq train' on a per-base dataset, "
            "which fits one",
        )
    return pairing


def _paired(bundle, reference, contig, start, end, strand, chunk, batch_size, device) -> np.ndarray:
    """``[start, end)`` rescored by the second stage, from a prediction with margins of its reach."""
    check_per_position(bundle)
    name, start, end = _check_region(reference, contig, start, end)
    chunk = positive_integer(chunk, "chunk")
    pairing = _site_pairing(bundle)
    margin = _margin(pairing, chunk)
    lo, hi = max(0, start - margin), min(reference.length(name), end + margin)
    proba = predict_region(
        bundle, reference, name, lo, hi, strand=strand, chunk=chunk, batch_size=batch_size, device=device
    )
    step = -1 if strand == "-" else 1  # the second stage reads transcript orientation
    return pairing.refine(proba[::step])[::step][start - lo : end - lo]


def _check_region(reference, contig: str, start: int, end: int) -> tuple[str, int, int]:
    """``(resolved contig, start, end)``, checked to lie inside the contig."""
    name = reference.resolve(contig)
    length = reference.length(name)
    for value, what in ((start, "start"), (end, "end")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InputError(f"{what} must be an integer, got {value!r}")
    start, end = int(start), int(end)
    if not 0 <= start <= end <= length:
        raise InputError(
            f"region {name}:{start}-{end} (0-based, half-open) is not inside {name} (length {length})",
            path=reference.path,
            fix="Give 0 <= start <= end <= the contig length",
        )
    return name, start, end
