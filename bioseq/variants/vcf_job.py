"""Scoring a VCF file into a scored VCF (and TSV): the job behind ``bioseq score-variants``.

:func:`score_vcf` reads the variants (:func:`~bioseq.io.variants.read_variants`,
0-based half-open), scores them piece by piece (:mod:`bioseq.variants.pieces`:
pieces kept in ``OUT.parts`` so a killed job resumes where it stopped, in one
process or several) and, once every piece is on disk, writes the outputs
atomically (:mod:`bioseq.variants.vcf_output`) and removes the pieces.
Scores do not depend on the piece size or the number of processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from collections.abc import Iterator

from bioseq import __version__
from bioseq.checks import positive_integer
from bioseq.errors import InputError
from bioseq.io.annotation import Annotation
from bioseq.io.atomic import atomic_output
from bioseq.io.pieces import file_stamp
from bioseq.io.reference import Reference
from bioseq.variants.genes import GeneIndex
from bioseq.variants.pieces import PiecePool, PieceStore, pieces_of
from bioseq.variants.score import VariantScore, score_variants

__all__ = ["score_vcf", "summary_path", "parts_path", "DEFAULT_PIECE"]

log = logging.getLogger(__name__)

DEFAULT_PIECE = 20_000
"""Variants per stored piece: what a kill can lose (about 30 s of work at 2.4 M variants per hour)."""


def score_vcf(
    model,
    vcf: str | os.PathLike,
    reference: str | os.PathLike | Reference,
    out: str | os.PathLike,
    *,
    annotation: str | os.PathLike | Annotation | None = None,
    tsv: str | os.PathLike | None = None,
    distance: int = 50,
    batch_size: int = 256,
    device=None,
    chunk: int = 5000,
    width: int | None = None,
    rc_average: bool = False,
    ref_mismatch: str = "skip",
    unknown_contig: str = "skip",
    workers: int = 1,
    piece: int = DEFAULT_PIECE,
) -> dict:
    """Score a VCF/BCF file and write the scored VCF (``.vcf`` or bgzipped, tabix-indexed ``.vcf.gz``).

    Every input record is written, in input order; the scores go into INFO
    (:mod:`bioseq.variants.vcf_output`). ``tsv`` adds one row per variant and
    gene (or per variant, for a window classifier). A summary (the reader's
    counts, scored and unscored variants) is returned and written as JSON to
    ``out + ".summary.json"``. Every file is written atomically; pieces
    already scored by a killed run of the same request are reused.

    Parameters
    ----------
    model : Bundle, str or os.PathLike
        A bundle (or an object with its attributes, see
        :func:`~bioseq.variants.score.score_variants`), a bundle directory or a
        training run directory.
    vcf : str or os.PathLike
        The input VCF (plain, gzip, bgzip) or BCF: a file on disk, read three times.
    reference : str, os.PathLike or Reference
    out : str or os.PathLike
    annotation, tsv, distance, batch_size, device, chunk, width, rc_average
        As :func:`~bioseq.variants.score.score_variants`; ``annotation`` may be a GTF/GFF3/GenBank path.
    ref_mismatch, unknown_contig
        As :func:`bioseq.io.variants.read_variants`.
    workers : int, default 1
        Processes that score pieces (CPU): each loads the model and opens the genome.
    piece : int, default :data:`DEFAULT_PIECE`
        Variants per stored piece.

    Returns
    -------
    dict
        JSON-ready: ``counts`` (the reader's), ``scored``, ``unscored`` (by reason), ``entries``,
        ``pieces`` (``total``, ``reused``, ``scored``), ``outputs``.

    Raises
    ------
    InputError
        As :func:`~bioseq.io.variants.read_variants`, :func:`~bioseq.variants.score.score_variants`
        and the writers; on ``workers`` or ``piece`` < 1.
    """
    workers, piece = positive_integer(workers, "workers"), positive_integer(piece, "piece")
    bundle = model
    if isinstance(model, (str, os.PathLike)):
        from bioseq.bundle.resolve import as_bundle  # torch: only for a model given as a path

        bundle = as_bundle(model, device=device)
    out = os.fspath(out)
    options = {
        "distance": distance, "batch_size": batch_size, "chunk": chunk, "width": width, "rc_average": rc_average,
    }  # fmt: skip
    with _genome(reference) as genome:
        genes = _genes(bundle, annotation, genome)
        score_variants(bundle, [], genome, genes=genes, device=device, **options)  # checks the options now
        request = _request(bundle, vcf, genome, annotation, options, ref_mismatch, unknown_contig, piece)
        store = PieceStore(parts_path(out), request)
        reused = store.open()

        def score(variants: list) -> list[VariantScore]:
            return list(score_variants(bundle, variants, genome, genes=genes, device=device, **options))

        spec = {"model": _on_disk(getattr(bundle, "path", None)), "reference": genome.path, "genes": genes}
        pool = PiecePool(store, score, workers=workers, spec={**spec, "options": options})
        with _reader(vcf, genome, ref_mismatch, unknown_contig) as reader:
            scored_now = pool.run(pieces_of(reader, piece))
        summary = _write_outputs(bundle, vcf, genome, store, out, tsv, annotation, genes, options, piece,
                                 ref_mismatch, unknown_contig)  # fmt: skip
        summary["pieces"] = {"total": summary.pop("n_pieces"), "reused": reused, "scored": scored_now}
        with atomic_output(summary_path(out), "w") as handle:
            json.dump(summary, handle, indent=2)
            handle.write("\n")
    store.remove()
    return summary


def _write_outputs(bundle, vcf, genome, store, out, tsv, annotation, genes, options, piece, ref_mismatch,
                   unknown_contig) -> dict:  # fmt: skip
    """Merge the stored pieces into the VCF (and TSV); the summary of what was written."""
    from bioseq.variants import vcf_output

    header = vcf_output.header_lines(bundle, distance=options["distance"], reference=genome.path, annotation=annotation)
    labels = vcf_output.labels_of(bundle)
    tally = {"scored": 0, "entries": 0, "unscored": {}}
    n_pieces = 0
    with _reader(vcf, genome, ref_mismatch, unknown_contig) as reader:
        with vcf_output.vcf_writer(vcf, out, header_lines=header, labels=labels) as writer:
            rows_writer = vcf_output.tsv_writer(tsv, labels=labels) if tsv else contextlib.nullcontext()
            with rows_writer as rows:
                for index, variants in enumerate(pieces_of(reader, piece)):
                    n_pieces += 1
                    for result in store.load(index, variants):
                        _count(tally, result)
                        writer.add(result)
                        if rows is not None:
                            rows.add(result)
    counts = {k: v for k, v in dataclasses.asdict(reader.counts).items() if not k.startswith("_")}
    log.info("%s; scored %s variants (%s)", reader.counts.summary(), f"{tally['scored']:,}", _unscored(tally))
    return {
        "counts": counts,
        **tally,
        "genes_dropped": genes.dropped if genes is not None else 0,
        "outputs": [os.fspath(p) for p in (out, tsv) if p],
        "model": os.fspath(getattr(bundle, "path", "")),
        "distance": options["distance"],
        "n_pieces": n_pieces,
    }


def summary_path(out: str | os.PathLike) -> str:
    """Where :func:`score_vcf` writes its JSON summary: ``out + ".summary.json"``."""
    return os.fspath(out) + ".summary.json"


def parts_path(out: str | os.PathLike) -> str:
    """Where :func:`score_vcf` keeps its pieces until the outputs are written: ``out + ".parts"``."""
    return os.fspath(out) + ".parts"


def _genes(bundle, annotation, genome) -> GeneIndex | None:
    from bioseq.io.gff import read_annotation

    if annotation is None:
        return None
    if not getattr(bundle, "per_position", False):
        log.warning("a window classifier does not use the annotation; every variant is scored")
        return None
    annotation = annotation if isinstance(annotation, Annotation) else read_annotation(annotation)
    return GeneIndex.from_annotation(annotation, genome)


def _request(bundle, vcf, genome, annotation, options, ref_mismatch, unknown_contig, piece) -> dict:
    """What identifies a run's pieces: the model, the inputs as they are on disk, the options."""
    model = _on_disk(getattr(bundle, "path", None))
    if isinstance(annotation, Annotation):  # an object in memory: no stamp, so its pieces are never reused
        annotation = f"object {id(annotation)} in process {os.getpid()}"
    elif annotation is not None:
        annotation = file_stamp(annotation)
    return {
        "bioseq": __version__,
        "model": file_stamp(model) if model else f"object {id(bundle)} in process {os.getpid()}",
        "vcf": file_stamp(vcf),
        "reference": file_stamp(genome.path) if genome.path else None,
        "annotation": annotation if getattr(bundle, "per_position", False) else None,
        "options": {**options, "ref_mismatch": ref_mismatch, "unknown_contig": unknown_contig, "piece": piece},
    }


def _on_disk(path) -> str | None:
    return os.fspath(path) if path is not None and os.path.isdir(path) else None


def _count(tally: dict, result: VariantScore) -> None:
    if result.scored:
        tally["scored"] += 1
        tally["entries"] += len(result.entries) or 1
    else:
        tally["unscored"][result.reason] = tally["unscored"].get(result.reason, 0) + 1


def _unscored(tally: dict) -> str:
    return ", ".join(f"{n:,} {reason}" for reason, n in tally["unscored"].items()) or "none unscored"


def _reader(vcf, genome, ref_mismatch, unknown_contig):
    from bioseq.io.variants import read_variants

    return read_variants(vcf, reference=genome, ref_mismatch=ref_mismatch, unknown_contig=unknown_contig)


@contextlib.contextmanager
def _genome(reference) -> Iterator[Reference]:
    """``reference`` itself (left open), or the :class:`Reference` opened from a path (closed after)."""
    if isinstance(reference, Reference):
        yield reference
        return
    if not isinstance(reference, (str, os.PathLike)):
        raise InputError(f"reference must be a Reference or a genome path, got {type(reference).__name__}")
    with Reference(reference) as genome:
        yield genome
