"""The reference and alternative input windows of a variant, for a per-position model.

A per-position model reads an input of ``2 * flank`` bases more than the
region it predicts: ``flank`` bases of context on each side are cropped from
its output. For the delta scores of :mod:`bioseq.variants.delta` within
``distance`` bases of a variant (0-based, half-open ``[start, end)`` on the
reference, ``R = end - start`` bases of REF), the predicted regions are
``[start - distance, end + distance)`` for the reference allele and the same
flanks around ALT for the alternative, so the inputs are::

    reference    genome[start - distance - flank : end + distance + flank]        2(distance + flank) + R bases
    alternative  genome[start - distance - flank : start] + ALT
                 + genome[end : end + distance + flank]                          2(distance + flank) + A bases

Positions past a contig end read as N (:meth:`bioseq.io.reference.Reference.fetch_codes`).
On the minus strand both windows are reverse-complemented (the model then
reads the gene's strand); flip the predictions back with ``[::-1]`` before
:func:`~bioseq.variants.delta.delta_scores`.
"""

from __future__ import annotations

import numpy as np

from bioseq.alphabet import COMPLEMENT
from bioseq.checks import is_integer
from bioseq.codes import encode_one
from bioseq.errors import InputError
from bioseq.io.reference import Reference
from bioseq.io.variants import Variant

__all__ = ["allele_windows"]


def allele_windows(
    reference: Reference, variant: Variant, *, flank: int, distance: int, strand: str = "+"
) -> tuple[np.ndarray, np.ndarray]:
    """The model inputs of the reference and the alternative allele (see the module docstring).

    Parameters
    ----------
    reference : Reference
        The genome ``variant`` was read against (its ``contig`` names a contig of it).
    variant : Variant
        From :func:`bioseq.io.variants.read_variants`.
    flank : int
        Context bases the model crops on each side, >= 0.
    distance : int
        Bases scored on each side of the allele, >= 0.
    strand : {"+", "-"}
        ``"-"`` reverse-complements both windows.

    Returns
    -------
    tuple of numpy.ndarray, dtype uint8
        Reference ``(2 * (distance + flank) + len(ref),)`` and alternative
        ``(2 * (distance + flank) + len(alt),)`` codes.

    Raises
    ------
    InputError
        On a negative ``flank`` or ``distance``, a bad strand, or a contig the reference lacks.
    """
    for name, value in (("flank", flank), ("distance", distance)):
        if not is_integer(value) or value < 0:
            raise InputError(f"{name} must be an integer >= 0, got {value!r}")
    if strand not in ("+", "-"):
        raise InputError(f"strand must be '+' or '-', got {strand!r}")
    side = distance + flank
    ref = reference.fetch_codes(variant.contig, variant.start - side, variant.end + side)
    alt = np.concatenate([ref[:side], encode_one(variant.alt, name=str(variant)), ref[side + len(variant.ref) :]])
    if strand == "-":
        return COMPLEMENT[ref[::-1]], COMPLEMENT[alt[::-1]]
    return ref, alt
