"""Contig names: aliases (``chr1``/``1``, ``chrM``/``MT``, ``NC_001422``/``NC_001422.1``) and helpful misses.

UCSC names contigs ``chr1 ... chrM``, Ensembl and NCBI ``1 ... MT``. Files
from the two worlds meet in every project, so readers that look contigs up
by name resolve the other naming when it is unambiguous
(:class:`ContigAliases`), and a name that is really missing raises a
:class:`~bioseq.errors.MissingContigError` that says which naming the file
uses and lists the closest names (:func:`missing_contig`).

Accessions are resolved with and without their version: ``NC_001422`` (a
GenBank LOCUS name, a FASTA header cut at the dot) finds ``NC_001422.1``
and the other way round, but ``NC_001422.1`` never finds ``NC_001422.2``,
another version of the sequence.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from bioseq.errors import MissingContigError

__all__ = ["alias_key", "accession_base", "ContigAliases", "missing_contig"]

_MITO = {"M", "MT"}
_VERSIONED = re.compile(r"([A-Za-z][A-Za-z0-9_]*[0-9])\.([0-9]{1,4})")


def alias_key(name: str) -> str:
    """The name without a ``chr`` prefix (any case), with ``M``/``MT`` folded to ``M``.

    Examples
    --------
    >>> alias_key("chr1"), alias_key("1"), alias_key("chrM"), alias_key("MT")
    ('1', '1', 'M', 'M')
    """
    base = name[3:] if len(name) > 3 and name[:3].lower() == "chr" else name
    return "M" if base.upper() in _MITO else base


def accession_base(name: str) -> str | None:
    """The accession without its version (``NC_001422.1`` -> ``NC_001422``), None for a name without one.

    Examples
    --------
    >>> accession_base("NC_001422.1"), accession_base("KI270728.1"), accession_base("chr1"), accession_base("2L")
    ('NC_001422', 'KI270728', None, None)
    """
    match = _VERSIONED.fullmatch(name)
    return match.group(1) if match else None


class ContigAliases:
    """Map names of either naming convention to the contigs of one file.

    Parameters
    ----------
    names : iterable of str
        The contigs the file holds.
    extra : mapping of str to str, optional
        Further names of some of them (``{other name: contig}``), e.g. the
        LOCUS name of a GenBank record whose contig is its accession; an
        exact name of the file wins over them.

    Examples
    --------
    >>> aliases = ContigAliases(["chr1", "chr2", "chrM", "NC_001422.1"])
    >>> aliases.resolve("1"), aliases.resolve("MT"), aliases.resolve("chr3"), aliases.resolve("NC_001422")
    ('chr1', 'chrM', None, 'NC_001422.1')
    """

    def __init__(self, names: Iterable[str], *, extra: Mapping[str, str] | None = None) -> None:
        self._names = set(names)
        self._extra = {k: v for k, v in (extra or {}).items() if v in self._names}
        self._by_key: dict[str, str | None] = {}
        self._by_base: dict[str, str | None] = {}
        for name in self._names:
            key = alias_key(name)
            # Two contigs with one key (e.g. "chr1" and "1") make the alias ambiguous.
            self._by_key[key] = None if key in self._by_key else name
            base = accession_base(name)
            if base is not None:  # two versions of one accession: ambiguous too
                self._by_base[base] = None if base in self._by_base else name

    def resolve(self, name: str) -> str | None:
        """The contig ``name`` stands for, or None when there is none or it is ambiguous."""
        if name in self._names:
            return name
        if name in self._extra:
            return self._extra[name]
        found = self._by_key.get(alias_key(name))
        if found is not None:
            return found
        base = accession_base(name)
        if base is not None:  # a versioned name for a file without versions
            return base if base in self._names else None
        return self._by_base.get(name)  # an unversioned name for a file with versions


def missing_contig(name: str, names: Iterable[str], *, path: str | None, what: str) -> MissingContigError:
    """Build the error for a contig that ``what`` (e.g. "the reference") lacks.

    The fix names the alias when the other naming convention would match, or
    else the closest names, or else a few of the contigs there are.
    """
    names = list(names)
    alias = ContigAliases(names).resolve(name)
    if alias is not None and alias != name and alias_key(alias) == alias_key(name):
        fix = (
            f"Did you mean {alias!r}? {what[0].upper() + what[1:]} names contigs "
            f"{'without' if name.lower().startswith('chr') else 'with'} the 'chr' prefix "
            "(Ensembl/NCBI versus UCSC naming)"
        )
    elif alias is not None and alias != name:
        fix = (
            f"Did you mean {alias!r}? {what[0].upper() + what[1:]} names accessions "
            f"{'with' if accession_base(alias) else 'without'} their version"
        )
    elif close := difflib.get_close_matches(name, names, n=3, cutoff=0.5):
        fix = f"Closest of its {_contigs(len(names))}: " + ", ".join(repr(n) for n in close)
    elif names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        fix = f"It has {_contigs(len(names))}: {shown}"
    else:
        fix = "It names no contigs at all"
    return MissingContigError(f"contig {name!r} is not in {what}", path=path, fix=fix)


def _contigs(n: int) -> str:
    return f"{n:,} contig" + ("" if n == 1 else "s")
