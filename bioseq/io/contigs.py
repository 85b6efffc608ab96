"""Contig names: aliases (``chr1``/``1``, ``chrM``/``MT``) and helpful misses.

UCSC names contigs ``chr1 ... chrM``, Ensembl and NCBI ``1 ... MT``. Files
from the two worlds meet in every project, so readers that look contigs up
by name resolve the other naming when it is unambiguous
(:class:`ContigAliases`), and a name that is really missing raises a
:class:`~bioseq.errors.MissingContigError` that says which naming the file
uses and lists the closest names (:func:`missing_contig`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from bioseq.errors import MissingContigError

__all__ = ["alias_key", "ContigAliases", "missing_contig"]

_MITO = {"M", "MT"}


def alias_key(name: str) -> str:
    """The name without a ``chr`` prefix (any case), with ``M``/``MT`` folded to ``M``.

    Examples
    --------
    >>> alias_key("chr1"), alias_key("1"), alias_key("chrM"), alias_key("MT")
    ('1', '1', 'M', 'M')
    """
    base = name[3:] if len(name) > 3 and name[:3].lower() == "chr" else name
    return "M" if base.upper() in _MITO else base


class ContigAliases:
    """Map names of either naming convention to the contigs of one file.

    Parameters
    ----------
    names : iterable of str
        The contigs the file holds.

    Examples
    --------
    >>> aliases = ContigAliases(["chr1", "chr2", "chrM"])
    >>> aliases.resolve("1"), aliases.resolve("MT"), aliases.resolve("chr3")
    ('chr1', 'chrM', None)
    """

    def __init__(self, names: Iterable[str]) -> None:
        self._names = set(names)
        self._by_key: dict[str, str | None] = {}
        for name in self._names:
            key = alias_key(name)
            # Two contigs with one key (e.g. "chr1" and "1") make the alias ambiguous.
            self._by_key[key] = None if key in self._by_key else name

    def resolve(self, name: str) -> str | None:
        """The contig ``name`` stands for, or None when there is none or it is ambiguous."""
        if name in self._names:
            return name
        return self._by_key.get(alias_key(name))


def missing_contig(name: str, names: Iterable[str], *, path: str | None, what: str) -> MissingContigError:
    """Build the error for a contig that ``what`` (e.g. "the reference") lacks.

    The fix names the alias when the other naming convention would match, or
    else the closest names, or else a few of the contigs there are.
    """
    names = list(names)
    alias = ContigAliases(names).resolve(name)
    if alias is not None and alias != name:
        fix = (f"Did you mean {alias!r}? {what[0].upper() + what[1:]} names contigs "
               f"{'without' if name.lower().startswith('chr') else 'with'} the 'chr' prefix "
               "(Ensembl/NCBI versus UCSC naming)")
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
