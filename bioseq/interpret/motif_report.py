"""``bioseq motifs``: motifs discovered in an explanation (EXP) and matched to known motifs, as a MOT folder.

Input: an explanation folder written by :func:`bioseq.interpret.explain.explain`
(``attributions.npz`` and ``explain.json``, see that module).

Output layout (a folder that appears whole or not at all)
----------------------------------------------------------
``motifs.tsv``
    Tab-separated, one row per discovered motif and match (best first), with
    the columns of :data:`COLUMNS`: ``motif`` (``pos_1``, ...), ``sign``
    (``+`` raises the target's score, ``-`` lowers it), ``seqlets``,
    ``consensus``, ``width``, ``rank`` (1 = best match), ``match_id``,
    ``match_name``, ``p_value``, ``q_value`` (TOMTOM; the q-value is
    Benjamini-Hochberg per motif over the whole database, see
    :mod:`bioseq.interpret.motif_match`), ``orientation`` and ``offset``.
    A motif without a match has one row with empty match columns.
``motifs.html``
    A self-contained page (logos embedded as base64 PNG): the model, target
    and attribution method, then per motif its CWM and PWM logos, seqlet
    count and best matches with their q-values.
``seqlets.tsv``
    One row per seqlet of each motif: ``motif``, ``sequence`` (its name),
    ``start``, ``end`` (0-based half-open in the sequence) and, when the
    explanation came from BED regions, ``chrom``, ``genome_start``,
    ``genome_end`` (0-based half-open on the genome's + strand) and
    ``strand`` (the region's).
``motifs.meme``
    The motifs' PWMs in the minimal MEME format (``MOTIF pos_1 CONSENSUS``,
    ``nsites`` = seqlets).
``logos/<motif>.png`` and ``.svg``
    The CWM logo (contributions); ``logos/<motif>.pwm.png``: the PWM logo (bits).
``summary.json``
    ``format`` ("bioseq-motifs"), ``format_version`` (1), ``explanation``,
    ``model``, ``model_name``, ``method``, ``target``, ``n``, ``database``
    (JASPAR release, collection and taxonomic group, or the motif file),
    ``top``, ``options`` (max_seqlets, leiden_runs), ``motifs`` (name, sign, seqlets, consensus, width, best match),
    ``seconds``, ``versions``.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bioseq.checks import positive_integer
from bioseq.errors import InputError
from bioseq.interpret.explain import read_explanation
from bioseq.interpret.logos import plot_motif_logo
from bioseq.interpret.motif_match import (
    Match,
    jaspar_motifs,
    jaspar_release,
    match_motifs,
    read_motif_file,
    write_motifs,
)
from bioseq.interpret.motifs import Motif, TooFewSeqlets, discover_motifs

__all__ = ["run_motifs", "COLUMNS", "FORMAT"]

log = logging.getLogger(__name__)

FORMAT, FORMAT_VERSION = "bioseq-motifs", 1
COLUMNS = (
    "motif", "sign", "seqlets", "consensus", "width", "rank", "match_id", "match_name",
    "p_value", "q_value", "orientation", "offset",
)  # fmt: skip


def run_motifs(
    exp_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    database: str | os.PathLike | Sequence | None = None,
    collection: str = "CORE",
    tax_group: str | None = "vertebrates",
    top: int = 5,
    max_seqlets: int = 2000,
    leiden_runs: int = 10,
) -> dict:
    """Discover motifs in the attributions of ``exp_dir``, match them and write the MOT folder ``out_dir``.

    Parameters
    ----------
    exp_dir : str or os.PathLike
        An explanation folder (``attributions.npz``, ``explain.json``).
    out_dir : str or os.PathLike
        The output folder (see the module docstring); replaced atomically when it exists.
    database : path or sequence of MotifRecord, optional
        Known motifs: a MEME (``.meme``, ``.txt``) or JASPAR (``.jaspar``, ``.pfm``)
        file, or records; default: JASPAR ``collection`` / ``tax_group`` offline (pyjaspar).
    collection, tax_group : str
        The JASPAR collection and taxonomic group when ``database`` is None.
    top : int, default 5
        Matches listed per motif.
    max_seqlets, leiden_runs : int
        See :func:`bioseq.interpret.motifs.discover_motifs`.

    Returns
    -------
    dict
        The content of ``summary.json``.

    Raises
    ------
    InputError
        When ``exp_dir`` is not an explanation or the database cannot be read.
        Too few seqlets for MoDISco is a finding, not an error: the report has
        no motif and ``summary["note"]`` (and ``motifs.html``) says why.
    """
    began = time.perf_counter()
    top = positive_integer(top, "top")
    meta, arrays = read_explanation(exp_dir)
    for key in ("attributions", "hypothetical", "codes"):
        if key not in arrays:
            raise InputError(f"attributions.npz has no {key!r} array", path=exp_dir, fix="Rerun bioseq explain")
    records, source = _database(database, collection=collection, tax_group=tax_group)
    options = {"max_seqlets": positive_integer(max_seqlets, "max_seqlets")}
    options["leiden_runs"] = positive_integer(leiden_runs, "leiden_runs")
    try:
        motifs, note = discover_motifs(arrays["attributions"], arrays["hypothetical"], arrays["codes"], **options), None
    except TooFewSeqlets as exc:  # a finding, not a failure: the report says so (a workflow goes on)
        motifs, note = [], exc.render()
        log.warning("%s", note)
    matches = match_motifs(motifs, records, top=top) if motifs else []
    summary = _summary(exp_dir, meta, motifs, matches, source, top=top)
    summary["note"] = note
    summary["options"] = options
    seqlets = _seqlet_rows(motifs, arrays.get("names"), meta.get("regions"))
    _write(Path(out_dir), motifs, matches, seqlets, summary, began)
    return summary


def _database(database, *, collection: str, tax_group: str | None) -> tuple[list, dict]:
    """The motif records to match against, and how to name their source in the summary."""
    if database is None:
        release = jaspar_release()
        records = jaspar_motifs(collection=collection, tax_group=tax_group, release=release)
        return records, {"source": "JASPAR", "release": release, "collection": collection, "tax_group": tax_group}
    if isinstance(database, (str, os.PathLike)):
        return read_motif_file(database), {"source": "file", "path": str(database)}
    records = list(database)
    return records, {"source": "records", "n": len(records)}


def _summary(exp_dir, meta: dict, motifs: list[Motif], matches: list[Match], source: dict, *, top: int) -> dict:
    best = {m.motif: m for m in matches if m.rank == 1}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "explanation": str(Path(exp_dir)),
        "model": meta.get("model"),
        "model_name": meta.get("model_name"),
        "method": meta.get("method"),
        "target": meta.get("target"),
        "n": meta.get("n"),
        "database": source,
        "top": top,
        "motifs": [
            {
                "name": m.name,
                "sign": m.sign,
                "seqlets": m.seqlets,
                "consensus": m.consensus,
                "width": len(m.pwm),
                "best_match": None if m.name not in best else _match_dict(best[m.name]),
            }
            for m in motifs
        ],  # fmt: skip
    }


def _match_dict(match: Match) -> dict:
    return {
        "match_id": match.match_id, "match_name": match.match_name, "p_value": match.p_value,
        "q_value": match.q_value, "orientation": match.orientation, "offset": match.offset,
    }  # fmt: skip


def _rows(motifs: list[Motif], matches: list[Match]) -> list[dict]:
    """The rows of ``motifs.tsv``: one per motif and match; one with empty match columns for a motif without."""
    rows = []
    for motif in motifs:
        base = {"motif": motif.name, "sign": motif.sign, "seqlets": motif.seqlets}
        base.update(consensus=motif.consensus, width=len(motif.pwm))
        own = [m for m in matches if m.motif == motif.name]
        for match in own:
            found = _match_dict(match)
            found.update(p_value=f"{match.p_value:.3g}", q_value=f"{match.q_value:.3g}")
            rows.append({**base, "rank": match.rank, **found})
        if not own:
            rows.append({**base, **{c: "" for c in COLUMNS if c not in base}})
    return rows


def _seqlet_rows(motifs: list[Motif], names, regions) -> list[dict]:
    """The rows of ``seqlets.tsv`` (see the module docstring)."""
    rows = []
    for motif in motifs:
        for index, start, end in motif.positions:
            row = {"motif": motif.name, "sequence": str(names[index]) if names is not None else str(index)}
            row.update(start=start, end=end)
            if regions:  # position 0 is the 5' end of the region on its strand
                chrom, first, last, strand = regions[index]
                span = (last - end, last - start) if strand == "-" else (first + start, first + end)
                row.update(chrom=chrom, genome_start=span[0], genome_end=span[1], strand=strand)
            rows.append(row)
    return rows


def _write_tsv(path: Path, rows: list[dict], columns: Sequence[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _write(out: Path, motifs: list[Motif], matches: list[Match], seqlets: list[dict], summary: dict, began) -> None:
    from bioseq.interrupt import handle_signals
    from bioseq.io.atomic import atomic_directory

    with handle_signals(), atomic_directory(out) as folder:
        _write_tsv(folder / "motifs.tsv", _rows(motifs, matches), COLUMNS)
        genomic = ("chrom", "genome_start", "genome_end", "strand") if seqlets and "chrom" in seqlets[0] else ()
        _write_tsv(folder / "seqlets.tsv", seqlets, ("motif", "sequence", "start", "end", *genomic))
        write_motifs(motifs, folder / "motifs.meme")
        images = {}
        for motif in motifs:
            stem = folder / "logos" / motif.name
            title = f"{motif.name} ({motif.sign}, {motif.seqlets} seqlets)"
            for suffix in (".png", ".svg"):
                plot_motif_logo(motif.cwm, path=stem.with_suffix(suffix), kind="cwm", title=f"{title}: CWM")
            plot_motif_logo(motif.pwm, path=stem.with_suffix(".pwm.png"), kind="pwm", title=f"{title}: PWM")
            images[motif.name] = [_base64(stem.with_suffix(".png")), _base64(stem.with_suffix(".pwm.png"))]
        summary.update(seconds=round(time.perf_counter() - began, 3), versions=_versions())
        (folder / "motifs.html").write_text(_html(motifs, matches, summary, images), encoding="utf-8")
        (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def _base64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _html(motifs: list[Motif], matches: list[Match], summary: dict, images: dict[str, list[str]]) -> str:
    """The self-contained ``motifs.html``."""
    e = html.escape
    db = summary["database"]
    where = db.get("path") or " ".join(str(db.get(k)) for k in ("release", "collection", "tax_group") if db.get(k))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Motifs</title>',
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}img{max-width:100%}</style></head><body>",
        f"<h1>Motifs of {e(str(summary.get('model_name') or 'the model'))} for target {e(str(summary['target']))}</h1>",
        f"<p>Model: {e(str(summary['model']))}. Attributions: {e(str(summary['method']))}"
        f" over {summary['n']} sequences. Motifs: TF-MoDISco (modisco-lite)."
        f" Matches: TOMTOM (memelite) against {e(where)}; q-values are Benjamini"
        "-Hochberg per motif over the database.</p>",
    ]
    if not motifs:
        why = summary.get("note") or "no cluster of seqlets passed its filters"
        parts.append(f"<p>MoDISco found no motif: {e(why)}</p>")
    for motif in motifs:
        cwm, pwm = images[motif.name]
        parts += [
            f'<h2 id="{e(motif.name)}">{e(motif.name)}: {e(motif.consensus)}</h2>',
            f"<p>Sign {e(motif.sign)}, {motif.seqlets} seqlets, width {len(motif.pwm)}.</p>",
            f'<img alt="{e(motif.name)} CWM logo" src="data:image/png;base64,{cwm}">',
            f'<img alt="{e(motif.name)} PWM logo" src="data:image/png;base64,{pwm}">',
            _match_table([m for m in matches if m.motif == motif.name]),
        ]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _match_table(matches: list[Match]) -> str:
    if not matches:
        return "<p>No match.</p>"
    head = "<tr><th>rank</th><th>id</th><th>name</th><th>p-value</th><th>q-value</th><th>orientation</th></tr>"
    body = "".join(
        f"<tr><td>{m.rank}</td><td>{html.escape(m.match_id)}</td><td>{html.escape(m.match_name)}</td>"
        f"<td>{m.p_value:.3g}</td><td>{m.q_value:.3g}</td><td>{m.orientation}</td></tr>"
        for m in matches
    )
    return f"<table>{head}{body}</table>"


def _versions() -> dict:
    from importlib import metadata

    from bioseq import __version__

    found = {"bioseq": __version__, "numpy": np.__version__}
    for name in ("modisco-lite", "memelite", "pyjaspar", "logomaker", "biopython"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found
