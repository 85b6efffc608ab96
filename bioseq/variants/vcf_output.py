"""Write variant scores: the input VCF with scores in INFO (plain or bgzipped and tabix-indexed), and a TSV.

VCF layout
----------
Every record of the input is written, in input order, with its columns as
pysam reads them; records without a score are written unchanged. The header
is the input's, plus (before ``#CHROM``):

* per-position splice models: ``##INFO=<ID=BIOSEQ,Number=.,Type=String,...>``
  (:func:`bioseq.variants.delta.info_header`), whose value holds one entry
  ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL`` per ALT
  allele and gene (or strand), comma-separated as in SpliceAI, scores with two decimals;
* window classifiers: ``BIOSEQ_REF``, ``BIOSEQ_ALT`` and ``BIOSEQ_DIFF``
  (``Type=Float``): for a binary model the positive class's probability of the
  reference window, of the alternative window and their difference,
  ``Number=A`` (one per ALT, ``.`` for an ALT without a score); for a model of
  ``C`` classes ``Number=.`` with ``C`` values per ALT, ALT by ALT, classes in
  the order the header's Description lists;
* ``##bioseq_scoreVariants=version=...;model=...;distance=...;reference=...;annotation=...``.

INFO values of these keys already in the input (a file scored before) are
replaced. An output ending in ``.gz`` is bgzip-compressed and indexed with
tabix (``out + ".tbi"``), which needs records sorted by contig and position.

TSV layout
----------
Tab-separated with a header line. Splice models: one row per variant and gene,
``chrom pos id ref alt symbol strand ds_ag ds_al ds_dg ds_dl dp_ag dp_al dp_dg
dp_dl max`` (``pos`` 1-based as in the VCF; scores with four decimals).
Window classifiers: one row per variant, ``chrom pos id ref alt`` then
``ref_<class> alt_<class> diff_<class>`` per class. Unscored variants have no row.

All files are written atomically (:mod:`bioseq.io.atomic`): a failure or a
SIGTERM leaves no partial output, and the index is renamed after the data.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence

import pysam

from bioseq import __version__
from bioseq.errors import InputError
from bioseq.io.alignment_source import quiet_htslib
from bioseq.io.atomic import atomic_output, atomic_path
from bioseq.io.tabix import tabix_index_vcf
from bioseq.variants.delta import info_header

__all__ = [
    "KEY",
    "WINDOW_KEYS",
    "PROVENANCE",
    "header_lines",
    "labels_of",
    "vcf_writer",
    "tsv_writer",
    "write_vcf",
    "write_tsv",
]

KEY = "BIOSEQ"
WINDOW_KEYS = ("BIOSEQ_REF", "BIOSEQ_ALT", "BIOSEQ_DIFF")
PROVENANCE = "bioseq_scoreVariants"
_OURS = (KEY, *WINDOW_KEYS)
_OUR_HEADER = re.compile(rf"^##(INFO=<ID=({'|'.join(_OURS)}),|{PROVENANCE}=)")
_FLUSH = 1000  # records per write


def labels_of(bundle) -> tuple[str, ...] | None:
    """The classes a window classifier's values are for (binary: the positive class); None for per-position."""
    if getattr(bundle, "per_position", False):
        return None
    classes, task = tuple(bundle.classes), getattr(bundle, "task", None)
    return classes[1:] if task == "binary" or (task is None and len(classes) == 2) else classes


def header_lines(bundle, *, distance: int, reference: str | os.PathLike, annotation=None) -> list[str]:
    """The header lines :func:`vcf_writer` adds for ``bundle`` (see the module docstring)."""
    model = _clean(os.fspath(getattr(bundle, "path", "") or "model"))
    labels = labels_of(bundle)
    if labels is None:
        lines = [info_header(KEY, model=model)]
    else:
        number, each = ("A", "") if len(labels) == 1 else (".", f"; {len(labels)} values per ALT")
        what = {"BIOSEQ_REF": "reference window", "BIOSEQ_ALT": "alternative window"}
        lines = [
            f'##INFO=<ID={key},Number={number},Type=Float,Description="Probability of {",".join(labels)} '
            f"{'(ALT minus REF) ' if key == 'BIOSEQ_DIFF' else ''}for the {what.get(key, 'windows')} "
            f'from {model} (bioseq){each}">'
            for key in WINDOW_KEYS
        ]
    source = annotation if isinstance(annotation, (str, os.PathLike)) else ("given" if annotation else "none")
    fields = {
        "version": __version__,
        "model": model,
        "distance": distance if labels is None else "NA",
        "reference": _clean(os.fspath(reference)),
        "annotation": _clean(os.fspath(source)),
    }
    return [*lines, f"##{PROVENANCE}=" + ";".join(f"{k}={v}" for k, v in fields.items())]


def _clean(text: str) -> str:
    return re.sub(r'[\s;"<>]', "_", text)


class VcfWriter:
    """Merges scores into the records of the input VCF, in order; made by :func:`vcf_writer`."""

    def __init__(self, records: Iterator, handle, labels: tuple[str, ...] | None) -> None:
        self._records, self._handle, self._labels = records, handle, labels
        self._number, self._line, self._pending, self._buffer = 0, None, [], []

    def add(self, result) -> None:
        """Add one :class:`~bioseq.variants.score.VariantScore` (results in input order)."""
        record = result.variant.record
        if record < self._number:
            raise InputError(f"scores must come in input order: record {record} after record {self._number}")
        while self._number < record:
            if not self._advance():
                raise InputError(f"the VCF has {self._number} records, but a score names record {record}")
        self._pending.append(result)

    def finish(self) -> None:
        """Write the last scored record and every record after it."""
        while self._advance():
            pass
        self._write()

    def _advance(self) -> bool:
        if self._line is not None:
            self._buffer.append(self._scored(self._line, self._pending))
            self._pending = []
            if len(self._buffer) >= _FLUSH:
                self._write()
        with quiet_htslib():
            rec = next(self._records, None)
        if rec is None:
            self._line = None
            return False
        self._number += 1
        self._line = str(rec)
        return True

    def _write(self) -> None:
        if self._buffer:
            self._handle.write("".join(self._buffer).encode())
            self._buffer = []

    def _scored(self, line: str, results: list) -> str:
        cols = line.rstrip("\n").split("\t")
        info = [item for item in cols[7].split(";") if item not in ("", ".") and item.split("=")[0] not in _OURS]
        if self._labels is None:
            entries = [e.info(r.variant.alt) for r in results for e in r.entries]
            if entries:
                info.append(f"{KEY}=" + ",".join(entries))
        elif any(r.scored for r in results):
            n_alt = len(cols[4].split(","))
            for key, values in zip(WINDOW_KEYS, self._window_values(results, n_alt)):
                info.append(f"{key}={values}")
        cols[7] = ";".join(info) or "."
        return "\t".join(cols) + "\n"

    def _window_values(self, results: list, n_alt: int) -> tuple[str, str, str]:
        missing = ",".join(["."] * len(self._labels))
        by_allele = {r.variant.allele: r for r in results if r.scored}
        out = []
        for field in ("ref", "alt", "diff"):
            per_alt = [
                ",".join(format(float(x), ".4g") for x in getattr(by_allele[a], field)) if a in by_allele else missing
                for a in range(1, n_alt + 1)
            ]
            out.append(",".join(per_alt))
        return tuple(out)


@contextlib.contextmanager
def vcf_writer(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    header_lines: Sequence[str],
    labels: tuple[str, ...] | None = None,
) -> Iterator[VcfWriter]:
    """Copy ``source`` to ``out`` with the scores :meth:`VcfWriter.add` receives (see the module docstring).

    Parameters
    ----------
    source : str or os.PathLike
        The scored VCF/BCF (read again here, record by record).
    out : str or os.PathLike
        ``.vcf``, or ``.vcf.gz`` (bgzip + tabix index ``out + ".tbi"``).
    header_lines : sequence of str
        From :func:`header_lines`.
    labels : tuple of str, optional
        :func:`labels_of` a window classifier; None for splice scores.

    Yields
    ------
    VcfWriter

    Raises
    ------
    InputError
        An output name other than ``.vcf``/``.vcf.gz`` (``.bcf`` is not written), an unreadable
        input, or (``.vcf.gz``) records not sorted by position.
    """
    out = os.fspath(out)
    if not out.endswith((".vcf", ".vcf.gz")):
        raise InputError(
            "the output must be a .vcf or .vcf.gz file", path=out, fix="Name it .vcf, or .vcf.gz (bgzipped, indexed)"
        )
    indexed = out.endswith(".gz")
    with contextlib.ExitStack() as stack:
        index = stack.enter_context(atomic_path(out + ".tbi")) if indexed else None
        tmp = stack.enter_context(atomic_path(out))
        vcf = stack.enter_context(_open(source))
        with pysam.BGZFile(str(tmp), "wb") if indexed else open(tmp, "wb") as handle:
            handle.write(_header(str(vcf.header), header_lines).encode())
            writer = VcfWriter(iter(vcf), handle, labels)
            yield writer
            writer.finish()
        if indexed:
            tabix_index_vcf(tmp, index, out=out)


def _header(text: str, extra: Sequence[str]) -> str:
    lines = [line for line in text.splitlines() if not _OUR_HEADER.match(line)]
    at = next(i for i, line in enumerate(lines) if line.startswith("#CHROM"))
    return "\n".join([*lines[:at], *extra, *lines[at:]]) + "\n"


@contextlib.contextmanager
def _open(source) -> Iterator[pysam.VariantFile]:
    with quiet_htslib():
        try:
            vcf = pysam.VariantFile(os.fspath(source))
        except (OSError, ValueError) as exc:
            raise InputError(
                f"pysam cannot read this VCF/BCF file ({' '.join(str(exc).split())})",
                path=source,
                fix=f"Check it with: bcftools view -h {source}",
            ) from exc
    try:
        yield vcf
    finally:
        vcf.close()


def write_vcf(
    source: str | os.PathLike,
    results: Iterable,
    out: str | os.PathLike,
    *,
    header_lines: Sequence[str],
    labels: tuple[str, ...] | None = None,
) -> None:
    """Write ``results`` (in input order) into a copy of ``source``: :func:`vcf_writer` in one call."""
    with vcf_writer(source, out, header_lines=header_lines, labels=labels) as writer:
        for result in results:
            writer.add(result)


class TsvWriter:
    """Rows of the TSV (see the module docstring); made by :func:`tsv_writer`."""

    def __init__(self, handle, labels: tuple[str, ...] | None) -> None:
        self._handle, self._labels = handle, labels
        if labels is None:
            names = "symbol strand ds_ag ds_al ds_dg ds_dl dp_ag dp_al dp_dg dp_dl max".split()
        else:
            names = [f"{what}_{_clean(label)}" for label in labels for what in ("ref", "alt", "diff")]
        handle.write("\t".join(["chrom", "pos", "id", "ref", "alt", *names]) + "\n")

    def add(self, result) -> None:
        """Add the rows of one :class:`~bioseq.variants.score.VariantScore` (none when unscored)."""
        if not result.scored:
            return
        v = result.variant
        head = f"{v.chrom}\t{v.pos}\t{v.id or '.'}\t{v.ref}\t{v.alt}\t"
        if self._labels is None:
            for e in result.entries:
                s = e.scores
                scores = (s.acceptor_gain, s.acceptor_loss, s.donor_gain, s.donor_loss)
                places = (s.acceptor_gain_at, s.acceptor_loss_at, s.donor_gain_at, s.donor_loss_at)
                row = [e.symbol, e.strand, *(f"{x:.4f}" for x in scores), *map(str, places), f"{s.maximum:.4f}"]
                self._handle.write(head + "\t".join(row) + "\n")
        else:
            values = [f"{float(x):.4f}" for trio in zip(result.ref, result.alt, result.diff) for x in trio]
            self._handle.write(head + "\t".join(values) + "\n")


@contextlib.contextmanager
def tsv_writer(path: str | os.PathLike, *, labels: tuple[str, ...] | None = None) -> Iterator[TsvWriter]:
    """A :class:`TsvWriter` on ``path``, written atomically (``labels``: as :func:`vcf_writer`)."""
    with atomic_output(path, "w") as handle:
        yield TsvWriter(handle, labels)


def write_tsv(results: Iterable, path: str | os.PathLike, *, labels: tuple[str, ...] | None = None) -> None:
    """Write the rows of ``results`` to ``path``: :func:`tsv_writer` in one call."""
    with tsv_writer(path, labels=labels) as writer:
        for result in results:
            writer.add(result)
