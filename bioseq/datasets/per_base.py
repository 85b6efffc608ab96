"""Per-base splice-site labels of a genome from its annotation: the targets of a per-position model.

Each base of a contig gets one class of :data:`SITE_CLASSES`: ``neither``
(0), ``acceptor`` (1) or ``donor`` (2), for the transcripts of one strand. A
donor is the first base of an intron on the transcript's strand (the ``G`` of
``GT``), an acceptor the last (the ``G`` of ``AG``); on the ``-`` strand that
is the intron's last and first base in genome coordinates. Labels are in
genome (+) orientation, 0-based: ``labels[i]`` is the class of base ``i``.
A model that reads a minus-strand gene reverse-complemented reads its labels
reversed (``labels[::-1]``).
"""

from __future__ import annotations

import logging

import numpy as np

from bioseq.checks import is_integer
from bioseq.errors import InputError
from bioseq.io.annotation import Annotation

__all__ = ["SITE_CLASSES", "site_labels"]

log = logging.getLogger(__name__)

SITE_CLASSES = ("neither", "acceptor", "donor")
"""The classes of a per-base splice label, in output order (uint8 values 0, 1, 2)."""


def site_labels(annotation: Annotation, contig: str, length: int, *, strand: str) -> np.ndarray:
    """The class of every base of ``contig`` for the annotated introns on ``strand``.

    Parameters
    ----------
    annotation : Annotation
    contig : str
        The contig's name as the annotation writes it.
    length : int
        The contig's length in bases.
    strand : {"+", "-"}

    Returns
    -------
    numpy.ndarray, shape ``(length,)``, dtype uint8
        0 neither, 1 acceptor, 2 donor (:data:`SITE_CLASSES`). A base that is
        the donor of one transcript and the acceptor of another (an exon of
        one base) is a donor; such bases are counted in a log message.

    Raises
    ------
    InputError
        On a bad strand or length, or a site past ``length`` (an annotation of
        another assembly).
    """
    if strand not in ("+", "-"):
        raise InputError(f"strand must be '+' or '-', got {strand!r}")
    if not is_integer(length) or length < 0:
        raise InputError(f"length must be an integer >= 0, got {length!r}")
    labels = np.zeros(length, dtype=np.uint8)
    positions = {}
    for value, sites, first_base in (
        (1, annotation.acceptor_sites(), strand == "-"),
        (2, annotation.donor_sites(), strand == "+"),
    ):
        mine = [site for site in sites if site.chrom == contig and site.strand == strand]
        at = np.array([site.start if first_base else site.end - 1 for site in mine], dtype=np.int64)
        if at.size and at.max() >= length:
            far = mine[int(at.argmax())]
            raise InputError(
                f"the annotation has a splice site at {far.chrom}:{far.start}-{far.end}, past the end "
                f"of the contig ({length:,} bp)",
                fix="Use the annotation of this genome assembly",
            )
        positions[value] = at
    both = np.intersect1d(positions[1], positions[2]).size
    if both:
        log.info("%s %s: %d bases are both a donor and an acceptor; labelled donor", contig, strand, both)
    labels[positions[1]] = 1
    labels[positions[2]] = 2
    return labels
