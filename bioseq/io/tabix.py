"""Index a bgzipped VCF with tabix, with a clear error for unsorted records.

Used by every writer of ``.vcf.gz`` (scored variants, simulated variants): the
data file is indexed where it lies (typically the temporary path of an atomic
write), and the index is written to ``index`` (its own temporary path), so a
kill leaves neither half-written.
"""

from __future__ import annotations

import os

import pysam

from bioseq.errors import InputError
from bioseq.io.alignment_source import quiet_htslib

__all__ = ["tabix_index_vcf"]


def tabix_index_vcf(data: str | os.PathLike, index: str | os.PathLike, *, out: str | os.PathLike | None = None) -> None:
    """Write the tabix index of the bgzipped VCF ``data`` to ``index``.

    Parameters
    ----------
    data : str or os.PathLike
        A bgzip-compressed VCF, records sorted by contig and position.
    index : str or os.PathLike
        Where the ``.tbi`` index goes.
    out : str or os.PathLike, optional
        The name the user knows the file by (``data`` may be a temporary
        path), for the error message; default ``data``.

    Raises
    ------
    InputError
        When the records are not sorted by contig and position.
    """
    with quiet_htslib():
        try:
            pysam.tabix_index(os.fspath(data), preset="vcf", index=os.fspath(index), force=True)
        except OSError as exc:
            raise InputError(
                "cannot index the VCF with tabix: the records are not sorted by contig and position",
                path=os.fspath(out if out is not None else data),
                fix="Sort the input first (bcftools sort), or write a plain .vcf",
            ) from exc
