"""Sequence models of the simulator: background chain, repeats, promoter and splice motifs.

Data contract
-------------
Sequences are ``numpy.uint8`` arrays of ASCII letters (``b"ACGT"``, lower
case for soft-masked repeats, ``N`` for gaps), one byte per base. Motif
positions are offsets into such an array, 0-based half-open, and every
function here works in *transcript orientation*: the array runs 5' to 3' on
the gene's strand, and the caller reverse-complements it for a ``-`` gene.

Promoter positions follow the biological convention around a TSS at array
offset ``t``: ``+1`` is the TSS itself (offset ``t``), ``-1`` the base before
it (offset ``t - 1``); there is no position 0. So the TATA box at ``-31..-24``
is the slice ``[t - 31, t - 23)``.

The position weight matrices are rounded from the human consensus profiles
in the literature (donor ``MAG|GTRAGT``, acceptor ``(Y)n NCAG|G`` with a
``yUnAy`` branch point, TATA ``TATAWAWR``, Inr ``YYANWYY``, BRE
``SSRCGCC``, DPE ``RGWYV``, Sp1 GC box, CCAAT box). Motifs are *sampled*
from them, so each planted copy carries realistic mutations.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BACKGROUND_GC",
    "EXON_GC",
    "CPG_ISLAND_GC",
    "PROMOTER_CLASSES",
    "REPEAT_FAMILIES",
    "markov_sequence",
    "reverse_complement",
    "sample_pwm",
    "repeat_consensus",
    "repeat_copy",
    "plant_promoter",
    "plant_intron",
]

BACKGROUND_GC = 0.41
"""Target G+C of the background chain (the chain's CpG depletion lowers it to about 0.40)."""
EXON_GC = 0.49
"""Exons are GC-richer than introns and intergenic DNA, as in vertebrates."""
CPG_ISLAND_GC = 0.66

_LETTERS = np.frombuffer(b"ACGT", dtype=np.uint8)
_COMPLEMENT = np.frombuffer(bytes.maketrans(b"ACGTNacgtn", b"TGCANtgcan"), dtype=np.uint8)


def reverse_complement(seq: np.ndarray) -> np.ndarray:
    """Reverse complement of a uint8 ASCII array (case kept, ``N`` stays ``N``)."""
    return _COMPLEMENT[seq[::-1]]


def _transitions(gc: float, cpg: float) -> list[list[float]]:
    """Cumulative 2nd-order transition table: row ``4 * a + b`` gives P(next | a, b).

    Base composition ``gc``; CpG dinucleotides depleted to ``cpg`` of their
    expected frequency, TpA to 0.8; A/T homopolymer runs slightly favoured
    (poly-A/T tracts are common in eukaryotic DNA).
    """
    base = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    odds = np.ones((4, 4))
    odds[1, 2] = cpg  # C then G
    odds[3, 0] = 0.8  # T then A
    rows = []
    for a in range(4):
        for b in range(4):
            p = base * odds[b]
            if a == b and a in (0, 3):
                p[a] *= 1.3
            rows.append(np.cumsum(p / p.sum()).tolist())
    return rows


def markov_sequence(
    rng: np.random.Generator, length: int, *, gc: float = BACKGROUND_GC, cpg: float = 0.25
) -> np.ndarray:
    """Sample ``length`` bases from the 2nd-order background chain.

    Parameters
    ----------
    rng : numpy.random.Generator
    length : int
    gc : float, default BACKGROUND_GC
        Target G+C fraction.
    cpg : float, default 0.25
        CpG observed/expected ratio (0.25 is typical of vertebrate bulk DNA,
        about 0.8 of CpG islands).

    Returns
    -------
    numpy.ndarray of uint8, shape (length,)
        Upper-case ASCII letters.
    """
    table = _transitions(gc, cpg)
    out = bytearray(length)
    state = int(rng.integers(16))
    for i, u in enumerate(rng.random(length).tolist()):
        row = table[state]
        code = 0 if u < row[0] else 1 if u < row[1] else 2 if u < row[2] else 3
        out[i] = code
        state = ((state << 2) | code) & 15
    return _LETTERS[np.frombuffer(bytes(out), dtype=np.uint8)]


def _pwm(*rows: str) -> np.ndarray:
    """A (k, 4) matrix from rows written as ``"A C G T"`` percentages."""
    matrix = np.array([[float(x) for x in row.split()] for row in rows])
    return matrix / matrix.sum(axis=1, keepdims=True)


def sample_pwm(rng: np.random.Generator, pwm: np.ndarray) -> np.ndarray:
    """One sequence drawn position by position from a (k, 4) weight matrix (uint8 ASCII)."""
    cumulative = np.cumsum(pwm, axis=1)[:, :3]
    return _LETTERS[(rng.random(len(pwm))[:, None] >= cumulative).sum(axis=1)]


_Y, _W, _N = "3 45 2 50", "46 4 4 46", "25 25 25 25"
DONOR = _pwm(
    "33 36 18 13",
    "60 13 13 14",
    "9 4 80 7",  # exon -3..-1: M A G
    "0 0 100 0",
    "0 0 0 100",  # intron +1, +2: G T
    "60 3 34 3",
    "70 8 12 10",
    "8 6 78 8",
    "16 16 20 48",
)  # +3..+6: R A G T
ACCEPTOR = _pwm(
    "3 70 2 25",
    "100 0 0 0",
    "0 0 100 0",  # intron -3..-1: C A G
    "25 13 50 12",
)  # exon +1: G
BRANCH_POINT = _pwm(_Y, "5 10 5 80", "30 20 30 20", "92 3 3 2", "10 45 5 40")  # y U n A y
PPT_BASE = _pwm("9 33 8 50")[0]
TATA_BOX = _pwm(
    "10 5 5 80", "90 2 2 6", "11 2 2 85", "90 1 1 8", "55 3 2 40", "85 2 3 10", "50 5 5 40", "40 7 45 8"
)  # T A T A W A W R
BRE = _pwm("5 45 45 5", "5 45 45 5", "45 5 45 5", "5 85 5 5", "5 5 85 5", "5 85 5 5", "5 85 5 5")  # S S R C G C C
INR = _pwm(_Y, _Y, "88 4 5 3", _N, _W, _Y, _Y)  # Y Y A(+1) N W Y Y
DPE = _pwm("45 5 45 5", "5 5 85 5", _W, "5 45 5 45", "34 33 33 0")  # R G W Y V
GC_BOX = _pwm(
    "10 10 70 10",
    "10 10 70 10",
    "5 5 85 5",
    "5 5 85 5",
    "5 85 5 5",
    "5 5 85 5",
    "5 5 85 5",
    "10 10 70 10",
    "20 20 40 20",
)  # G G G G C G G G G (Sp1)
CCAAT_BOX = _pwm(
    "45 5 45 5", "45 5 45 5", "5 85 5 5", "5 85 5 5", "90 4 3 3", "90 4 3 3", "4 3 3 90", "5 45 45 5", "45 5 45 5"
)  # R R C C A A T S R (NF-Y)

PROMOTER_CLASSES = {"TATA": 0.3, "CpG": 0.45, "Inr-DPE": 0.25}
"""Promoter architectures and how often each gene gets one."""

REPEAT_FAMILIES = {"AluLike": 0.4, "L1Like": 0.15, "MIRLike": 0.25, "simple": 0.2}
"""Interspersed repeat families (and microsatellites) and their share of the copies."""
_SIMPLE_UNITS = ("CA", "TTAGGG", "A", "AT", "GAA", "CAG")


def repeat_consensus(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One consensus sequence per interspersed family (uint8 ASCII)."""
    alu = np.concatenate([markov_sequence(rng, 280, gc=0.56, cpg=0.9), _LETTERS[np.zeros(20, int)]])
    return {
        "AluLike": alu,
        "L1Like": markov_sequence(rng, 1500, gc=0.38),
        "MIRLike": markov_sequence(rng, 200, gc=0.46, cpg=0.5),
    }


def repeat_copy(rng: np.random.Generator, family: str, consensus: dict[str, np.ndarray]) -> tuple[np.ndarray, str]:
    """A diverged copy of a repeat, soft-masked (lower case), and its strand (``"+"``/``"-"``).

    L1-like copies are 5'-truncated (a random 3' fragment), as most L1s are;
    interspersed copies carry 3-20 % substitutions; microsatellites are
    20-100 bp of a 1-6 bp unit.
    """
    if family == "simple":
        unit = _SIMPLE_UNITS[int(rng.integers(len(_SIMPLE_UNITS)))].encode()
        length = int(rng.integers(20, 101))
        seq = np.frombuffer((unit * (length // len(unit) + 1))[:length], dtype=np.uint8).copy()
        divergence = 0.03
    else:
        seq = consensus[family]
        if family == "L1Like":
            seq = seq[-int(rng.integers(200, len(seq) + 1)) :]
        seq = seq.copy()
        divergence = rng.uniform(0.03, 0.2)
    hits = rng.random(len(seq)) < divergence
    seq[hits] = _LETTERS[rng.integers(4, size=int(hits.sum()))]
    if rng.random() < 0.5:
        return reverse_complement(seq) | 0x20, "-"  # | 0x20: lower case
    return seq | 0x20, "+"


def _put(locus: np.ndarray, start: int, motif: np.ndarray, name: str, found: list) -> None:
    locus[start : start + len(motif)] = motif
    found.append((name, start, start + len(motif)))


def plant_promoter(rng: np.random.Generator, locus: np.ndarray, tss: int, kind: str) -> list[tuple[str, int, int]]:
    """Plant a core promoter of class ``kind`` around offset ``tss`` (in place).

    ``TATA``: TATA box at -31..-24, BRE at -38..-32 (40 %), Inr (85 %).
    ``CpG``: GC-rich, CpG-rich island -450..+200, 1-3 Sp1 GC boxes in
    -160..-45 (either orientation), Inr (50 %), DPE at +28..+32 (40 %).
    ``Inr-DPE``: Inr, DPE (70 %), CCAAT box near -85 (50 %).

    Parameters
    ----------
    rng : numpy.random.Generator
    locus : numpy.ndarray of uint8, shape (L,)
        Transcript orientation; needs 450 bases before ``tss`` and 200 after.
    tss : int
        Offset of the TSS (+1).
    kind : {"TATA", "CpG", "Inr-DPE"}

    Returns
    -------
    list of (str, int, int)
        ``(element, start, end)`` offsets of what was planted.
    """
    found: list[tuple[str, int, int]] = []
    if kind == "CpG":
        _put(locus, tss - 450, markov_sequence(rng, 650, gc=CPG_ISLAND_GC, cpg=0.8), "CpG_island", found)
        starts = sorted(
            rng.choice(np.arange(tss - 160, tss - 45, 12), size=int(rng.integers(1, 4)), replace=False).tolist()
        )
        for start in starts:
            box = sample_pwm(rng, GC_BOX)
            _put(locus, start, box if rng.random() < 0.5 else reverse_complement(box), "GC_box", found)
    if kind == "TATA":
        _put(locus, tss - 31, sample_pwm(rng, TATA_BOX), "TATA_box", found)
        if rng.random() < 0.4:
            _put(locus, tss - 38, sample_pwm(rng, BRE), "BRE", found)
    if kind == "Inr-DPE" and rng.random() < 0.5:
        _put(locus, tss - int(rng.integers(80, 95)), sample_pwm(rng, CCAAT_BOX), "CCAAT_box", found)
    inr = {"TATA": 0.85, "CpG": 0.5, "Inr-DPE": 1.0}[kind]
    if rng.random() < inr:
        _put(locus, tss - 2, sample_pwm(rng, INR), "Inr", found)
    if kind != "TATA" and rng.random() < (0.7 if kind == "Inr-DPE" else 0.4):
        _put(locus, tss + 27, sample_pwm(rng, DPE), "DPE", found)
    return found


def plant_intron(rng: np.random.Generator, locus: np.ndarray, start: int, end: int) -> list[tuple[str, int, int]]:
    """Plant the splice signals of the intron ``[start, end)`` (offsets, in place).

    Donor ``MAG|GTRAGT`` over the last 3 exon and first 6 intron bases; a
    branch point ``yUnAy`` whose A lies 18-37 bases before the intron end; a
    polypyrimidine tract from the branch point to -4; the acceptor
    ``YAG|G`` over the last 3 intron bases and the first exon base. The
    intron always starts with GT and ends with AG.

    Returns
    -------
    list of (str, int, int)
        ``(element, start, end)`` offsets of what was planted.
    """
    found: list[tuple[str, int, int]] = []
    _put(locus, start - 3, sample_pwm(rng, DONOR), "donor_motif", found)
    branch_a = end - int(rng.integers(18, 38))
    _put(locus, branch_a - 3, sample_pwm(rng, BRANCH_POINT), "branch_point", found)
    tract = np.tile(PPT_BASE, (end - 3 - (branch_a + 2), 1))
    _put(locus, branch_a + 2, sample_pwm(rng, tract), "polypyrimidine_tract", found)
    _put(locus, end - 3, sample_pwm(rng, ACCEPTOR), "acceptor_motif", found)
    return found
