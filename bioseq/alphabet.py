"""The nucleotide alphabet and its uint8 codes.

bioseq stores sequences as one byte per base. The codes are

====  =====  ======================================
code  base   meaning
====  =====  ======================================
0     A
1     C
2     G
3     T      (``U`` in RNA is read as ``T``)
4     N      any base
5     R      A or G
6     Y      C or T
7     S      C or G
8     W      A or T
9     K      G or T
10    M      A or C
11    B      C, G or T
12    D      A, G or T
13    H      A, C or T
14    V      A, C or G
15    PAD    padding after the end of a shorter sequence
====  =====  ======================================

so ``codes < 4`` are the unambiguous bases, ``codes == N`` an unknown base,
``5 <= codes < 15`` the other IUPAC letters and ``codes == PAD`` no base at all.
Lower-case (soft-masked) letters get the same codes as upper-case ones.
Gaps (``-``, ``.``) and any other byte are invalid: readers reject them
with the position, rather than guess.

The tables below are plain numpy arrays so that every conversion is a single
vectorised lookup.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "A",
    "C",
    "G",
    "T",
    "N",
    "R",
    "Y",
    "S",
    "W",
    "K",
    "M",
    "B",
    "D",
    "H",
    "V",
    "PAD",
    "INVALID",
    "N_CODES",
    "LETTERS",
    "ASCII_TO_CODE",
    "ASCII_TO_CODE_BYTES",
    "CODE_TO_ASCII",
    "COMPLEMENT",
    "IUPAC_BASES",
    "BASE_FRACTIONS",
    "invalid_letter_fix",
]

A, C, G, T, N = 0, 1, 2, 3, 4
R, Y, S, W, K, M, B, D, H, V = range(5, 15)
PAD = 15
N_CODES = 16
INVALID = 255
"""Marker a lookup returns for a byte that is not a nucleotide letter."""

LETTERS = "ACGTNRYSWKMBDHV"
"""The letter of each code 0..14 (``LETTERS[code]``)."""

IUPAC_BASES: dict[str, str] = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "N": "ACGT",
    "R": "AG",
    "Y": "CT",
    "S": "CG",
    "W": "AT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
}
"""The bases each IUPAC letter stands for."""


def _ascii_table() -> np.ndarray:
    table = np.full(256, INVALID, dtype=np.uint8)
    for code, letter in enumerate(LETTERS):
        table[ord(letter)] = code
        table[ord(letter.lower())] = code
    table[ord("U")] = T
    table[ord("u")] = T
    table.flags.writeable = False
    return table


ASCII_TO_CODE: np.ndarray = _ascii_table()
"""uint8[256]: the code of each byte, :data:`INVALID` for non-nucleotides."""

ASCII_TO_CODE_BYTES: bytes = ASCII_TO_CODE.tobytes()
"""The same table as ``bytes``, for :meth:`bytes.translate`."""

CODE_TO_ASCII: np.ndarray = np.frombuffer((LETTERS + "-").encode("ascii"), dtype=np.uint8).copy()
"""uint8[16]: the upper-case letter of each code; PAD decodes to ``-``."""
CODE_TO_ASCII.flags.writeable = False

_COMPLEMENT_LETTER = {
    "A": "T",
    "C": "G",
    "G": "C",
    "T": "A",
    "N": "N",
    "R": "Y",
    "Y": "R",
    "S": "S",
    "W": "W",
    "K": "M",
    "M": "K",
    "B": "V",
    "V": "B",
    "D": "H",
    "H": "D",
}
COMPLEMENT: np.ndarray = np.array([LETTERS.index(_COMPLEMENT_LETTER[x]) for x in LETTERS] + [PAD], dtype=np.uint8)
"""uint8[16]: the code of the complement of each code (IUPAC-aware; PAD stays PAD)."""
COMPLEMENT.flags.writeable = False


def _fractions() -> np.ndarray:
    table = np.zeros((N_CODES, 4), dtype=np.float32)
    for code, letter in enumerate(LETTERS):
        bases = IUPAC_BASES[letter]
        for base in bases:
            table[code, "ACGT".index(base)] = 1.0 / len(bases)
    table.flags.writeable = False
    return table


BASE_FRACTIONS: np.ndarray = _fractions()
"""float32[16, 4]: the share of A, C, G, T each code stands for (PAD is all 0)."""


def invalid_letter_fix(char: str, *, alphabet: str = "dna", reader: bool = False) -> str:
    """The advice that goes with a character that is not a valid sequence letter.

    ``alphabet`` is ``"dna"`` (nucleotides) or ``"any"`` (printable text);
    ``reader`` says the caller is a file reader whose ``alphabet="any"``
    option would accept the character.
    """
    if char in "-.":
        return "Remove alignment gaps (e.g. with 'seqkit seq -g')" + (", or read with alphabet='any'" if reader else "")
    if char.isspace():
        return "Remove whitespace inside sequence lines"
    if char == ";":
        return "Comment lines (';') are only allowed before the first record; delete this one"
    if char.isdigit():
        return "Remove position numbers; this looks like GenBank/EMBL text, convert it to FASTA"
    if alphabet == "dna" and char.upper() in "EFIJLOPQZX*":
        return "This looks like a protein sequence; " + (
            "read it with alphabet='any'" if reader else "bioseq's models read DNA/RNA only"
        )
    if alphabet == "dna":
        return "Use A, C, G, T/U, N or another IUPAC letter"
    return "Sequences may hold printable ASCII characters only"
