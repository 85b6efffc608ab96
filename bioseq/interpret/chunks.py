"""Attributions of many sequences in chunks kept on disk, so that a killed ``bioseq explain`` resumes.

The selected sequences (``codes``, uint8 ``(N, L)``) are explained
:data:`CHUNK` at a time. With a ``parts`` folder (``bioseq explain`` passes
``EXP.parts``), each finished chunk is kept there as
``piece-NNNNNN.npz`` (numpy, no pickle: ``attributions`` and
``hypothetical`` float32 ``(n, 4, L)``, ``scores`` float32 ``(n,)``,
``target`` and ``target_index``), written atomically, in a
:class:`bioseq.io.pieces.PieceFolder` whose ``request.json`` records the
explanation request, the model files' stamp and a digest of the selected
sequences: a folder of any other request is emptied first. A rerun computes
only the missing chunks, and every chunk is computed the same way whatever
came before it (the shuffled references of DeepLIFT/SHAP are seeded per
chunk), so a resumed explanation equals an uninterrupted one. The caller
removes the folder once the EXP folder is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os

import numpy as np

from bioseq.errors import InputError
from bioseq.interpret.attributions import Attributions
from bioseq.interpret.inputs import sequence_lengths
from bioseq.io.atomic import atomic_output
from bioseq.io.pieces import PieceFolder, file_stamp

__all__ = ["CHUNK", "attribute_in_chunks", "rc_attributions"]

CHUNK = 1024
"""Sequences handed to the attribution method at a time (and kept per piece)."""

log = logging.getLogger(__name__)


def attribute_in_chunks(
    bundle, codes: np.ndarray, request: dict, *, batch_size: int, device=None, parts: str | os.PathLike | None = None
) -> Attributions:
    """Attributions of ``codes`` (uint8 ``(N, L)``), :data:`CHUNK` sequences at a time, as one Attributions.

    Parameters
    ----------
    bundle : Bundle
    codes : numpy.ndarray, uint8 (N, L)
        The sequences, ``PAD``-padded on the right.
    request : dict
        The explanation request (``method``, ``target``, ``position``,
        ``references``, ``steps``, ``seed``, ``rc_average``, ``fast``), as
        :func:`bioseq.interpret.explain.explain` checks it.
    batch_size : int
    device : str, optional
    parts : str or os.PathLike, optional
        Folder of finished chunks (see the module docstring); None keeps nothing.

    Returns
    -------
    Attributions
        ``(N, 4, L)``, in the order of ``codes``.

    Raises
    ------
    InputError
        As the attribution method, or on a stored chunk that cannot be read
        (it names the file; removing it recomputes it).
    """
    starts = range(0, codes.shape[0], CHUNK)
    folder = None
    if parts is not None:
        digest = hashlib.sha256(np.ascontiguousarray(codes).tobytes()).hexdigest()
        model = getattr(bundle, "path", None)
        stamp = {"request": request, "model_files": file_stamp(model), "codes": [list(codes.shape), digest]}
        folder = PieceFolder(parts, stamp, suffix=".npz")
        kept = folder.open()
        if kept:
            log.info("%d of %d chunks kept from an earlier run in %s", kept, len(starts), parts)
    pieces = []
    for index, start in enumerate(starts):
        chunk = codes[start : start + CHUNK]
        if folder is not None and folder.done(index):
            pieces.append(_load(folder.path(index), len(chunk), request["method"]))
            continue
        piece = _attribute(bundle, chunk, request, batch_size, device)
        if folder is not None:
            _save(folder.path(index), piece)
        pieces.append(piece)
    if len(pieces) == 1:
        return pieces[0]
    return dataclasses.replace(
        pieces[0],
        attributions=np.concatenate([p.attributions for p in pieces]),
        hypothetical=np.concatenate([p.hypothetical for p in pieces]),
        scores=np.concatenate([p.scores for p in pieces]),
    )


def _save(path, piece: Attributions) -> None:
    with atomic_output(path) as handle:
        np.savez(
            handle, attributions=piece.attributions, hypothetical=piece.hypothetical, scores=piece.scores,
            target=np.array(piece.target), target_index=np.array(piece.target_index),
        )  # fmt: skip


def _load(path, n: int, method: str) -> Attributions:
    try:
        with np.load(path, allow_pickle=False) as data:
            piece = Attributions(
                attributions=data["attributions"], hypothetical=data["hypothetical"], scores=data["scores"],
                target=str(data["target"]), target_index=int(data["target_index"]), method=method,
            )  # fmt: skip
    except (OSError, ValueError, KeyError, InputError) as exc:
        raise InputError(
            f"cannot read a stored chunk of attributions ({exc.__class__.__name__}: {exc})",
            path=path,
            fix="Remove the file and run again: that chunk is recomputed",
        ) from None
    if len(piece) != n:
        raise InputError(
            f"a stored chunk holds {len(piece)} sequences where {n} are expected",
            path=path,
            fix="Remove the file and run again: that chunk is recomputed",
        )
    return piece


def _attribute(bundle, codes: np.ndarray, request: dict, batch_size: int, device) -> Attributions:
    method, target, position = request["method"], request["target"], request["position"]
    if method != "ism":
        from bioseq.interpret.gradients import attribute

        return attribute(
            bundle, codes, method=method, target=target, position=position, references=request["references"],
            steps=request["steps"], seed=request["seed"], batch_size=batch_size, device=device,
            rc_average=request["rc_average"],
        )  # fmt: skip
    from bioseq.interpret.ism import ism_attributions

    run = dict(target=target, position=position, batch_size=batch_size, device=device, fast=request["fast"])
    forward = ism_attributions(bundle, codes, **run)
    if not request["rc_average"]:
        return forward
    from bioseq.encode.transforms import reverse_complement

    lengths = sequence_lengths(codes)
    backward = ism_attributions(bundle, reverse_complement(codes, lengths=lengths), **run)
    return dataclasses.replace(
        forward,
        attributions=(forward.attributions + rc_attributions(backward.attributions, lengths)) / 2,
        hypothetical=(forward.hypothetical + rc_attributions(backward.hypothetical, lengths)) / 2,
        scores=(forward.scores + backward.scores) / 2,
    )


def rc_attributions(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Map attributions of reverse-complemented sequences back onto the forward strand.

    Parameters
    ----------
    values : numpy.ndarray, shape ``(N, 4, L)``
        Attributions of ``rc(x)`` (A, C, G, T rows; right padding).
    lengths : numpy.ndarray, shape ``(N,)``, int
        Real lengths; padding columns stay where they are.

    Returns
    -------
    numpy.ndarray, shape ``(N, 4, L)``, same dtype
        Row ``b`` at position ``j < lengths[i]`` is ``values[i, 3 - b, lengths[i] - 1 - j]``.
    """
    out = values.copy()
    for i, n in enumerate(np.asarray(lengths).tolist()):
        out[i, :, :n] = values[i, ::-1, :n][:, ::-1]
    return out
