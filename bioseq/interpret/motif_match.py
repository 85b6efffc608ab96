"""Motif files (MEME and JASPAR formats), the offline JASPAR database and TOMTOM matching.

Data contract
-------------
* A motif matrix is a position probability matrix ``pwm``: ``numpy.float64``
  of shape ``(W, 4)``, columns A, C, G, T, every row summing to 1.
* :class:`MotifRecord` is a motif read from a file or a database: an ``id``
  (``"MA0108.3"``), a ``name`` (``"TBP"``, may be empty), the ``pwm`` and the
  number of ``sites`` it was built from.
* MEME files are the *minimal MEME format* (``MOTIF id [name]`` lines, each
  followed by a ``letter-probability matrix`` of ``W`` rows of 4
  probabilities). They are read and written here: Biopython has no MEME
  writer, and its ``minimal`` reader rounds each probability to a whole count
  of ``nsites`` (with the default of 20 sites, to steps of 0.05).
* JASPAR files (``>id name`` then the rows ``A [ counts ]`` .. ``T [ ... ]``)
  are read and written through :mod:`Bio.motifs` (``"jaspar"`` format); a
  PWM is written as counts ``pwm * sites``.
* :func:`match_motifs` runs TOMTOM (memelite's ``tomtom``, complete score,
  both orientations of each target). ``p_value`` is TOMTOM's p-value of the
  best alignment of the query with a target (the better of the two
  orientations); ``q_value`` is the Benjamini-Hochberg q-value of that
  p-value among the query's p-values against every target of the database,
  as MEME's Tomtom computes it (per query, over the whole database).
  ``orientation`` is ``"+"`` when the target aligns as given and ``"-"`` when
  its reverse complement does; ``offset`` is TOMTOM's offset of that
  alignment.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bioseq.errors import InputError, MissingFileError, option
from bioseq.io.atomic import atomic_output

__all__ = [
    "MotifRecord",
    "Match",
    "as_record",
    "read_motif_file",
    "write_motifs",
    "jaspar_motifs",
    "match_motifs",
    "benjamini_hochberg",
    "MOTIF_FORMATS",
]

MOTIF_FORMATS = {".meme": "meme", ".txt": "meme", ".jaspar": "jaspar", ".pfm": "jaspar"}
"""File extension -> motif format."""

_BASES = "ACGT"


@dataclass(frozen=True)
class MotifRecord:
    """A motif from a file or a database.

    Attributes
    ----------
    id : str
        Its identifier, e.g. ``"MA0108.3"`` (the first word of a MEME ``MOTIF`` line).
    name : str
        Its name, e.g. ``"TBP"``; empty when the file gives none.
    pwm : numpy.ndarray, float64 (W, 4)
        Position probability matrix, columns A, C, G, T; rows sum to 1.
    sites : int
        The number of sites it was built from (MEME ``nsites``, the JASPAR column count).
    """

    id: str
    name: str
    pwm: np.ndarray
    sites: int = 20


@dataclass(frozen=True)
class Match:
    """One TOMTOM match of a query motif with a database motif (see the module docstring).

    Attributes
    ----------
    motif : str
        The query's name (``Motif.name`` or ``MotifRecord.id``).
    match_id, match_name : str
        The database motif's identifier and name.
    p_value, q_value : float
        TOMTOM's p-value; the Benjamini-Hochberg q-value per query over the database.
    offset : int
        TOMTOM's offset of the best alignment.
    orientation : str
        ``"+"`` (target as given) or ``"-"`` (its reverse complement).
    rank : int
        1 for the query's best match, 2 for the next, ...
    """

    motif: str
    match_id: str
    match_name: str
    p_value: float
    q_value: float
    offset: int
    orientation: str
    rank: int


def as_record(motif) -> MotifRecord:
    """A :class:`MotifRecord` from a record or a discovered :class:`~bioseq.interpret.motifs.Motif`.

    A discovered motif keeps its ``name`` as the id, its consensus as the name
    and its seqlet count as the sites.
    """
    if isinstance(motif, MotifRecord):
        return motif
    pwm = getattr(motif, "pwm", None)
    if pwm is None or not hasattr(motif, "name"):
        raise InputError(f"{type(motif).__name__} is not a motif (it has no name and pwm)", fix="Give Motif objects")
    consensus = "".join(_BASES[i] for i in np.asarray(pwm).argmax(axis=1))
    return MotifRecord(str(motif.name), consensus, _check_pwm(pwm, motif.name), max(1, int(motif.seqlets)))


def motif_format(path: str | os.PathLike, format: str | None = None) -> str:
    """``"meme"`` or ``"jaspar"``: ``format`` when given, else by the extension of ``path``."""
    if format is not None:
        if format not in ("meme", "jaspar"):
            raise InputError(f"unknown motif format {format!r}", fix="Use 'meme' or 'jaspar'")
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in MOTIF_FORMATS:
        raise InputError(
            f"cannot tell the motif format from the extension {suffix!r}",
            path=path,
            fix="Name the file .meme (MEME minimal format) or .jaspar (JASPAR format)",
        )
    return MOTIF_FORMATS[suffix]


def read_motif_file(path: str | os.PathLike, *, format: str | None = None) -> list[MotifRecord]:
    """Read the motifs of a MEME (minimal) or JASPAR file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; the format comes from the extension (``.meme``, ``.txt``;
        ``.jaspar``, ``.pfm``) unless ``format`` is given.
    format : {"meme", "jaspar"}, optional

    Returns
    -------
    list of MotifRecord
        In file order; probabilities renormalised to rows summing to 1.

    Raises
    ------
    InputError
        When the file is missing, holds no motif, or a matrix row is malformed.
    """
    fmt = motif_format(path, format)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MissingFileError("the motif file does not exist", path=path, fix="Check the path") from exc
    records = _parse_meme(text, path) if fmt == "meme" else _parse_jaspar(text, path)
    if not records:
        raise InputError(f"no motif found in this {fmt.upper()} file", path=path, fix="Check the file format")
    return records


def _parse_meme(text: str, path) -> list[MotifRecord]:
    """The motifs of a minimal MEME file (see the module docstring)."""
    records, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        words = lines[i].split()
        i += 1
        if not words or words[0] != "MOTIF":
            continue
        if len(words) < 2:
            raise InputError("a MOTIF line without an identifier", path=path, line=i, fix="Write MOTIF id [name]")
        while i < len(lines) and not lines[i].startswith("letter-probability matrix"):
            i += 1
        if i == len(lines):
            raise InputError("no letter-probability matrix", path=path, record=words[1], fix="Check the file")
        header = lines[i]
        width = re.search(r"\bw=\s*(\d+)", header)
        sites = re.search(r"\bnsites=\s*([0-9.eE+]+)", header)
        rows, i = [], i + 1
        while i < len(lines) and (width is None or len(rows) < int(width.group(1))):
            cells = lines[i].split()
            if not cells:
                if width is None and rows:
                    break
                i += 1
                continue
            try:
                row = [float(c) for c in cells]
            except ValueError:
                break
            if len(row) != 4:
                raise InputError(f"a matrix row has {len(row)} values, not 4", path=path, line=i + 1, record=words[1])
            rows.append(row)
            i += 1
        pwm = _check_pwm(np.array(rows, dtype=np.float64), words[1], path=path)
        n = int(float(sites.group(1))) if sites else 20
        records.append(MotifRecord(words[1], " ".join(words[2:]), pwm, max(1, n)))
    return records


def _parse_jaspar(text: str, path) -> list[MotifRecord]:
    """The motifs of a JASPAR (multiple PFM) file, through :mod:`Bio.motifs`."""
    from Bio import motifs as bio_motifs

    try:
        parsed = list(bio_motifs.parse(io.StringIO(text), "jaspar"))
    except (ValueError, KeyError, IndexError) as exc:
        raise InputError(f"not a JASPAR motif file ({exc})", path=path, fix="Check the file format") from exc
    return [_from_bio(m, path=path) for m in parsed]


def _from_bio(motif, *, path=None) -> MotifRecord:
    """A :class:`MotifRecord` from a :class:`Bio.motifs.Motif` (JASPAR or pyjaspar)."""
    counts = np.array([motif.counts[b] for b in _BASES], dtype=np.float64).T  # (W, 4)
    motif_id = getattr(motif, "matrix_id", None) or motif.name
    name = motif.name if motif.name != motif_id else ""
    sites = int(round(counts.sum(axis=1).max())) if counts.size else 0
    return MotifRecord(str(motif_id), str(name or ""), _check_pwm(counts, motif_id, path=path), max(1, sites))


def _check_pwm(matrix, name, *, path=None) -> np.ndarray:
    """``matrix`` (W, 4) of counts or probabilities as probabilities; InputError when unusable."""
    pwm = np.asarray(matrix, dtype=np.float64)
    if pwm.ndim != 2 or pwm.shape[1] != 4 or pwm.shape[0] == 0:
        raise InputError(f"the motif matrix has shape {pwm.shape}, not (W, 4)", path=path, record=str(name))
    totals = pwm.sum(axis=1, keepdims=True)
    if not np.isfinite(pwm).all() or (pwm < 0).any() or (totals <= 0).any():
        raise InputError("the motif matrix has negative, missing or all-zero rows", path=path, record=str(name))
    return pwm / totals


def write_motifs(motifs: Iterable, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Write motifs as a MEME (minimal) or JASPAR file, atomically.

    Parameters
    ----------
    motifs : iterable of Motif or MotifRecord
    path : str or os.PathLike
        The output; the format comes from its extension unless ``format`` is given.
    format : {"meme", "jaspar"}, optional

    Returns
    -------
    pathlib.Path
    """
    fmt = motif_format(path, format)
    records = [as_record(m) for m in motifs]
    if fmt == "meme":
        text = _meme_text(records)
    else:
        from Bio import motifs as bio_motifs
        from Bio.motifs import jaspar

        bio = []
        for r in records:
            counts = {b: list(r.pwm[:, k] * r.sites) for k, b in enumerate(_BASES)}
            bio.append(jaspar.Motif(r.id, r.name or r.id, counts=counts))
        text = bio_motifs.write(bio, "jaspar")
    with atomic_output(path, "w") as handle:
        handle.write(text)
    return Path(path)


def _meme_text(records: Sequence[MotifRecord]) -> str:
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", ""]
    lines += ["Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for r in records:
        lines.append(f"MOTIF {r.id} {r.name}".rstrip())
        lines.append(f"letter-probability matrix: alength= 4 w= {len(r.pwm)} nsites= {r.sites} E= 0")
        lines += [" ".join(f"{p:.6f}" for p in row) for row in r.pwm]
        lines.append("")
    return "\n".join(lines)


def jaspar_motifs(
    *, collection: str = "CORE", tax_group: str | None = "vertebrates", release: str | None = None
) -> list[MotifRecord]:
    """The motifs of a JASPAR collection, offline (pyjaspar's bundled SQLite databases).

    Parameters
    ----------
    collection : str, default "CORE"
        JASPAR collection, e.g. ``"CORE"``, ``"UNVALIDATED"``.
    tax_group : str or None, default "vertebrates"
        Taxonomic group (``"vertebrates"``, ``"plants"``, ``"insects"``, ...); None for all.
    release : str, optional
        e.g. ``"JASPAR2024"``; default: the newest release pyjaspar ships (:func:`jaspar_release`).

    Returns
    -------
    list of MotifRecord
        ``id`` the matrix id (``"MA0108.3"``), ``name`` the TF name (``"TBP"``). The result is cached.
    """
    return list(_jaspar(collection, tax_group, release or jaspar_release()))


def jaspar_release() -> str:
    """The newest JASPAR release that pyjaspar ships (e.g. ``"JASPAR2026"``)."""
    from pyjaspar import JASPAR_LATEST_RELEASE

    return JASPAR_LATEST_RELEASE


@functools.lru_cache(maxsize=4)
def _jaspar(collection: str, tax_group: str | None, release: str) -> tuple[MotifRecord, ...]:
    from pyjaspar import jaspar_releases, jaspardb

    if release not in jaspar_releases:
        raise InputError(
            f"pyjaspar has no JASPAR release {release!r}",
            fix=f"Use one of {', '.join(sorted(jaspar_releases))}",
        )
    db = jaspardb(release=release)
    found = db.fetch_motifs(collection=collection, tax_group=[tax_group] if tax_group else None)
    if not found:
        raise InputError(
            f"JASPAR {release} has no motif in collection {collection!r}, taxonomic group {tax_group!r}",
            fix=f"Check the collection ({option('collection', 'CORE', dest='jaspar_collection')}) and the group"
            f" ({option('tax_group', 'vertebrates')})",
        )
    return tuple(_from_bio(m) for m in found)


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of each row of ``p_values`` (float (Q, T)), over its T tests."""
    p = np.atleast_2d(np.asarray(p_values, dtype=np.float64))
    n = p.shape[1]
    order = np.argsort(p, axis=1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=1) * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[:, ::-1], axis=1)[:, ::-1]
    q = np.empty_like(p)
    np.put_along_axis(q, order, np.minimum(ranked, 1.0), axis=1)
    return q


def match_motifs(motifs: Sequence, database: Sequence, *, top: int = 5) -> list[Match]:
    """The ``top`` best TOMTOM matches of each motif in ``database`` (see the module docstring).

    Parameters
    ----------
    motifs : sequence of Motif or MotifRecord
        The queries (their PWMs are compared).
    database : sequence of MotifRecord
        The targets, e.g. :func:`jaspar_motifs` or :func:`read_motif_file`. TOMTOM's
        p-values depend on the targets; with fewer than 25 they are unreliable.
    top : int, default 5
        Matches kept per query, best (smallest p-value) first.

    Returns
    -------
    list of Match
        Grouped by query in the order given, ranks 1..top within each.

    Raises
    ------
    InputError
        When ``top`` < 1 or the database is empty.
    """
    if int(top) < 1:
        raise InputError(f"top is {top}", fix=f"Keep at least one match: {option('top', '5')}")
    queries = [as_record(m) for m in motifs]
    targets = [as_record(m) for m in database]
    if not targets:
        raise InputError("the motif database is empty", fix="Give a motif file with motifs")
    if not queries:
        return []
    import warnings

    from memelite import tomtom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # memelite warns below 25 targets; the docstring says so
        p, _, offsets, _, strands = tomtom([q.pwm.T for q in queries], [t.pwm.T for t in targets])[:5]
    q_values = benjamini_hochberg(p)
    matches = []
    for i, query in enumerate(queries):
        order = np.argsort(p[i], kind="stable")[: int(top)]
        for rank, j in enumerate(order, start=1):
            target = targets[j]
            matches.append(
                Match(
                    query.id, target.id, target.name, float(p[i, j]), float(q_values[i, j]),
                    int(offsets[i, j]), "+-"[int(strands[i, j])], rank,
                )
            )  # fmt: skip
    return matches
