"""SYNTHETIC labelled sequences with motifs planted at known positions: ground truth for interpretation.

Data contract
-------------
:func:`simulate_planted` returns a :class:`PlantedSet`: ``n`` sequences of
``length`` bases drawn from the simulator's 2nd-order background chain
(:func:`bioseq.simulate.motifs.markov_sequence`); a ``positive_fraction`` of
them (label ``pos``) carry ``instances`` copies of the motif(s), each copy
sampled base by base from its position weight matrix (so copies carry
realistic mismatches) at a random position, copies not overlapping; the others
(label ``neg``) are background only. With ``strands="both"`` each copy is
planted on a random strand (a ``-`` copy is the reverse complement).

Planted positions are 0-based, half-open offsets into the sequence:
``sequence[start:end]`` is the copy (reverse-complemented for ``-``).

Motifs are ``(name, pwm)`` with ``pwm`` a float ``(W, 4)`` matrix of A, C, G, T
probabilities (rows sum to 1). :func:`planted_motif` resolves a name: one of
:data:`BUILTIN_MOTIFS` (default ``TATA_box``) or a JASPAR matrix id
(``MA0108.2``, read offline through pyjaspar).

:func:`write_planted` writes the table (CSV ``name,sequence,label``, as
``bioseq train`` reads it), the planted positions (TSV ``name, motif, start,
end, strand, site``) and optionally the motifs as a MEME file, each atomically.
The same options and seed give the same bytes.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence

import numpy as np

from bioseq.checks import positive_integer
from bioseq.errors import InputError, option
from bioseq.simulate import motifs as library

__all__ = [
    "BUILTIN_MOTIFS",
    "LABELS",
    "PlantedSet",
    "PlantedSite",
    "planted_motif",
    "simulate_planted",
    "write_planted",
    "write_meme",
]

BUILTIN_MOTIFS = {
    "TATA_box": library.TATA_BOX,
    "GC_box": library.GC_BOX,
    "CCAAT_box": library.CCAAT_BOX,
    "BRE": library.BRE,
    "Inr": library.INR,
    "DPE": library.DPE,
    "donor": library.DONOR,
    "acceptor": library.ACCEPTOR,
}
"""The simulator's motif matrices by name (see :mod:`bioseq.simulate.motifs`)."""
LABELS = ("neg", "pos")
"""Labels of background and planted sequences (``neg`` gets class index 0)."""
_JASPAR_ID = re.compile(r"^MA\d{4}(\.\d+)?$")


@dataclasses.dataclass(frozen=True)
class PlantedSite:
    """One planted copy: ``sequence[start:end]`` of sequence ``name`` (0-based, half-open)."""

    name: str
    motif: str
    start: int
    end: int
    strand: str
    site: str


@dataclasses.dataclass(frozen=True)
class PlantedSet:
    """Sequences, labels (``"neg"``/``"pos"``), names, the planted sites and the motifs ``(name, pwm (W, 4))``."""

    sequences: tuple[str, ...]
    labels: tuple[str, ...]
    names: tuple[str, ...]
    sites: tuple[PlantedSite, ...]
    motifs: tuple[tuple[str, np.ndarray], ...]


def planted_motif(name: str) -> tuple[str, np.ndarray]:
    """``(name, pwm)`` of a built-in motif or a JASPAR matrix id.

    Returns
    -------
    (str, numpy.ndarray float64 ``(W, 4)``)
        The name (for JASPAR: ``MA0108.2_TBP``) and the probabilities per position.

    Raises
    ------
    InputError
        On a name that is neither, or a JASPAR id that the offline database lacks.
    """
    if name in BUILTIN_MOTIFS:
        return name, np.asarray(BUILTIN_MOTIFS[name], dtype=np.float64)
    if not _JASPAR_ID.match(str(name)):
        raise InputError(
            f"unknown motif {name!r}",
            fix=f"Pass {option('motifs', 'NAME')} with one of {', '.join(BUILTIN_MOTIFS)} or a JASPAR id such as "
            "MA0108.2",
        )
    from pyjaspar import jaspardb

    found = jaspardb().fetch_motif_by_id(name)
    if found is None:
        raise InputError(f"JASPAR has no matrix {name!r}", fix="Check the id at jaspar.elixir.no")
    counts = np.array([found.counts[base] for base in "ACGT"], dtype=np.float64).T + 0.01  # (W, 4)
    return f"{found.matrix_id}_{found.name}", counts / counts.sum(axis=1, keepdims=True)


def simulate_planted(
    *,
    n: int = 1000,
    length: int = 200,
    motifs: Sequence[str | tuple[str, np.ndarray]] = ("TATA_box",),
    instances: int = 1,
    positive_fraction: float = 0.5,
    strands: str = "+",
    gc: float = library.BACKGROUND_GC,
    seed: int = 0,
) -> PlantedSet:
    """Background sequences, a fraction of them with planted motif copies (see the module docstring).

    Parameters
    ----------
    n : int, default 1,000
    length : int, default 200
    motifs : sequence of str or (str, numpy.ndarray (W, 4))
        Names for :func:`planted_motif`, or matrices; each positive gets
        ``instances`` copies of each motif.
    instances : int, default 1
    positive_fraction : float, default 0.5
        Share of sequences with planted copies (rounded to a count).
    strands : {"+", "both"}, default "+"
    gc : float
        Background G+C fraction.
    seed : int, default 0

    Returns
    -------
    PlantedSet

    Raises
    ------
    InputError
        On a bad count, fraction or strand choice, an unknown motif, or copies that do not fit in ``length``.
    """
    n, length, instances = (positive_integer(v, k) for v, k in ((n, "n"), (length, "length"), (instances, "instances")))
    if not 0 < positive_fraction < 1:
        raise InputError(f"positive_fraction must be between 0 and 1, got {positive_fraction!r}")
    if strands not in ("+", "both"):
        raise InputError(f"strands must be '+' or 'both', got {strands!r}", fix=f"Pass {option('strands', 'both')}")
    resolved = tuple(planted_motif(m) if isinstance(m, str) else (m[0], _check_pwm(m[1], m[0])) for m in motifs)
    if not resolved:
        raise InputError("no motif to plant", fix=f"Pass {option('motifs', 'TATA_box')}")
    widths = [len(pwm) for _, pwm in resolved] * instances
    if sum(widths) > length:
        raise InputError(f"{len(widths)} motif copies of {sum(widths)} bases do not fit in {length} bases")
    rng = np.random.default_rng(seed)
    positive = np.zeros(n, dtype=bool)
    positive[rng.choice(n, size=int(round(positive_fraction * n)), replace=False)] = True
    sequences, names, sites = [], [], []
    for i in range(n):
        name = f"planted_{i:06d}"
        seq = library.markov_sequence(rng, length, gc=gc)
        if positive[i]:
            sites.extend(_plant(rng, seq, name, resolved * instances, strands))
        sequences.append(seq.tobytes().decode())
        names.append(name)
    labels = tuple(LABELS[int(p)] for p in positive)
    return PlantedSet(tuple(sequences), labels, tuple(names), tuple(sites), resolved)


def _check_pwm(pwm, name: str) -> np.ndarray:
    matrix = np.asarray(pwm, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != 4 or not len(matrix) or (matrix < 0).any():
        raise InputError(f"the matrix of motif {name!r} must be (W, 4) and non-negative, got {matrix.shape}")
    return matrix / matrix.sum(axis=1, keepdims=True)


def _plant(rng, seq: np.ndarray, name: str, motifs, strands: str) -> list[PlantedSite]:
    """Place each motif copy at a random free position (no overlaps), in place."""
    free = np.ones(len(seq), dtype=bool)
    sites = []
    for motif, pwm in motifs:
        width = len(pwm)
        ok = np.flatnonzero(np.convolve(free, np.ones(width, dtype=int), mode="valid") == width)
        if not ok.size:
            raise InputError(f"no room left for another copy of {motif!r} in {len(seq)} bases")
        start = int(rng.choice(ok))
        copy = library.sample_pwm(rng, pwm)
        strand = "-" if strands == "both" and rng.random() < 0.5 else "+"
        if strand == "-":
            copy = library.reverse_complement(copy)
        seq[start : start + width] = copy
        free[start : start + width] = False
        sites.append(PlantedSite(name, motif, start, start + width, strand, copy.tobytes().decode()))
    return sites


def write_planted(
    data: PlantedSet,
    table: str | os.PathLike,
    *,
    positions: str | os.PathLike,
    meme: str | os.PathLike | None = None,
) -> None:
    """Write the table (CSV), the planted positions (TSV) and optionally the motifs (MEME), atomically.

    Raises
    ------
    InputError
        When an output cannot be written.
    """
    from bioseq.io.atomic import atomic_output
    from bioseq.io.labels import LabelledSequences
    from bioseq.io.tables import write_table

    labels = np.array([LABELS.index(x) for x in data.labels], dtype=np.int64)
    write_table(LabelledSequences(data.sequences, labels, LABELS, "binary", data.names), table)
    lines = ["name\tmotif\tstart\tend\tstrand\tsite\n"]
    lines += [f"{s.name}\t{s.motif}\t{s.start}\t{s.end}\t{s.strand}\t{s.site}\n" for s in data.sites]
    with atomic_output(positions, "w") as handle:
        handle.writelines(lines)
    if meme is not None:
        write_meme(data.motifs, meme)


def write_meme(motifs: Sequence[tuple[str, np.ndarray]], path: str | os.PathLike) -> None:
    """Write ``(name, pwm (W, 4))`` motifs as a MEME (version 4) text file, atomically."""
    from bioseq.io.atomic import atomic_output

    parts = ["MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n"]
    parts.append("A 0.25 C 0.25 G 0.25 T 0.25\n")
    for name, pwm in motifs:
        matrix = np.asarray(pwm, dtype=np.float64)
        parts.append(f"\nMOTIF {name}\nletter-probability matrix: alength= 4 w= {len(matrix)} nsites= 1000 E= 0\n")
        parts.extend(" ".join(f"{v:.6f}" for v in row) + "\n" for row in matrix)
    with atomic_output(path, "w") as handle:
        handle.writelines(parts)
