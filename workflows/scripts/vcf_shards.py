"""Split a VCF into one file per contig, and merge per-contig VCFs (and TSVs) back in contig order.

The workflow scores a large VCF as one ``bioseq score-variants`` job per contig (``shard_by_contig:
true``): rule ``split_vcf`` runs ``split``, rule ``merge_variant_shards`` runs ``merge``::

    python vcf_shards.py split IN.vcf.gz --contigs chr2L chr2R --out DIR
        -> DIR/chr2L.vcf.gz, DIR/chr2R.vcf.gz: the records of each contig, with IN's header (a contig
           without records gets the header alone); DIR appears whole or not at all
    python vcf_shards.py merge A.vcf.gz B.vcf.gz --out OUT.vcf.gz [--tsv OUT.tsv --tsv-shards A.tsv B.tsv]
                               [--summary OUT.json --summary-shards A.json B.json]
        -> OUT.vcf.gz (bgzip) + OUT.vcf.gz.tbi: the header of the first shard, then the records of every
           shard in the order given; OUT.tsv: the header line of the first TSV, then the rows of every one;
           OUT.json: the JSON summaries of bioseq score-variants with their counts summed

Input is VCF or BCF (plain, gzip or bgzip; pysam reads it). Records keep their text as written, so
INFO fields (e.g. BIOSEQ) pass through unchanged. Every output is written under a temporary name and
renamed when complete. Errors print one line to stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import pysam

from bioseq.errors import BioseqError
from bioseq.io.atomic import atomic_directory, atomic_path


class ShardError(Exception):
    """A problem with the input files, said in one line."""


def split(source: Path, contigs: Sequence[str], out: Path) -> dict[str, int]:
    """Write the records of each contig of ``source`` to ``out/<contig>.vcf.gz``, atomically as a folder.

    Parameters
    ----------
    source : pathlib.Path
        VCF or BCF; read once from start to end, or by contig when it is indexed (.tbi/.csi).
    contigs : sequence of str
        The contigs to write, one file each (a contig without records gets the header only).
    out : pathlib.Path
        The folder to create; an existing one is replaced.

    Returns
    -------
    dict of str to int
        Records written per contig.

    Raises
    ------
    ShardError
        When ``source`` cannot be read, or holds records of a contig not in ``contigs``.
    """
    if len(set(contigs)) != len(contigs) or any("/" in c or c in ("", ".", "..") for c in contigs):
        raise ShardError(f"contigs must be distinct names that can name a file, got {list(contigs)}")
    with atomic_directory(out) as staging:  # the umask's modes; replaces an old folder only when complete
        return _write_shards(source, contigs, staging)


def _write_shards(source: Path, contigs: Sequence[str], folder: Path) -> dict[str, int]:
    counts = dict.fromkeys(contigs, 0)
    try:
        with pysam.VariantFile(str(source)) as vcf:
            writers = {c: pysam.VariantFile(str(folder / f"{c}.vcf.gz"), "wz", header=vcf.header) for c in contigs}
            try:
                indexed = set(vcf.index.keys()) if vcf.index is not None else None
                records = _by_contig(vcf, contigs, indexed) if indexed is not None else vcf
                for record in records:
                    if record.contig not in writers:
                        raise ShardError(
                            f"{source}: record {record.contig}:{record.pos} is on a contig that is not split "
                            f"out ({', '.join(contigs)}); list every contig of the VCF"
                        )
                    writers[record.contig].write(record)
                    counts[record.contig] += 1
            finally:
                for writer in writers.values():
                    writer.close()
    except (OSError, ValueError) as exc:
        raise ShardError(f"{source}: cannot read it as VCF or BCF ({exc})") from None
    return counts


def _by_contig(vcf, contigs: Sequence[str], indexed: set[str]):
    """The records of an indexed VCF, contig by contig; a contig of the index not listed is an error."""
    missing = sorted(indexed - set(contigs))
    if missing:
        raise ShardError(f"the VCF has records on {', '.join(missing)}, which is not split out; list every contig")
    for contig in contigs:
        if contig in indexed:
            yield from vcf.fetch(contig)


SUMMED = ("counts", "scored", "entries", "unscored")
"""Keys of a score-variants summary that count variants: summed over the shards (the rest is the first's)."""


def merge(
    shards: Sequence[Path],
    out: Path,
    *,
    tsv: Path | None = None,
    tsv_shards: Sequence[Path] = (),
    summary: Path | None = None,
    summary_shards: Sequence[Path] = (),
) -> int:
    """Concatenate per-contig VCFs (and TSVs) in the order given; bgzip and tabix-index the VCF.

    Parameters
    ----------
    shards : sequence of pathlib.Path
        bgzipped (or plain) VCFs, one contig each, in the order of the merged file.
    out : pathlib.Path
        The merged VCF (``.vcf.gz``); its index is ``out`` + ``.tbi``.
    tsv, tsv_shards : pathlib.Path, sequence of pathlib.Path
        The merged TSV and its parts, in the order of ``shards``; each part starts with one header line.
    summary, summary_shards : pathlib.Path, sequence of pathlib.Path
        The merged JSON summary and those of the shards: the counts (:data:`SUMMED`) are summed, the
        other keys are the first shard's, and ``outputs`` names the merged files.

    Returns
    -------
    int
        Records in the merged VCF.

    Raises
    ------
    ShardError
        On no shards, a part that is not a VCF, TSV or summary parts that do not match the shards, a summary
        that is not JSON, or a contig in two shards.
    """
    if not shards:
        raise ShardError("no shards to merge")
    for what, path, parts in (("TSV", tsv, tsv_shards), ("summary", summary, summary_shards)):
        if (path is None) != (not parts) or (parts and len(parts) != len(shards)):
            raise ShardError(f"give the merged {what} with one {what} per shard ({len(shards)}), got {len(parts)}")
    with atomic_path(f"{out}.tbi") as index, atomic_path(out) as staged:  # the data is renamed first
        records = _concatenate_vcfs(shards, staged)
        pysam.tabix_index(str(staged), preset="vcf", index=str(index), force=True)
        if tsv is not None:
            with atomic_path(tsv) as staged_tsv:
                _concatenate_tsvs(tsv_shards, staged_tsv)
        if summary is not None:
            merged = _sum_summaries(summary_shards, outputs=[str(p) for p in (out, tsv) if p is not None])
            with atomic_path(summary) as staged_summary:
                staged_summary.write_text(json.dumps(merged, indent=2) + "\n")
    return records


def _concatenate_vcfs(shards: Sequence[Path], staged: Path) -> int:
    records, seen = 0, set()
    with pysam.BGZFile(str(staged), "wb") as merged:
        for number, shard in enumerate(shards):
            contigs = set()
            try:
                with _open_text(shard) as lines:
                    for line in lines:
                        if not line.startswith("#"):
                            contigs.add(line.split("\t", 1)[0])
                            records += 1
                        elif number:
                            continue  # the header of the first shard only
                        merged.write(line.encode())
            except (OSError, EOFError, UnicodeDecodeError) as exc:
                raise ShardError(f"{shard}: cannot read it as VCF text ({exc})") from None
            if len(contigs) > 1 or contigs & seen:
                raise ShardError(
                    f"{shard}: holds records of {', '.join(sorted(contigs))}; each shard must hold one contig "
                    "that no other shard holds"
                )
            seen |= contigs
    return records


def _concatenate_tsvs(parts: Sequence[Path], staged: Path) -> None:
    with open(staged, "w") as merged:
        for number, part in enumerate(parts):
            with open(part) as handle:
                header = handle.readline()
                if number == 0:
                    merged.write(header)
                shutil.copyfileobj(handle, merged)


def _sum_summaries(parts: Sequence[Path], *, outputs: list[str]) -> dict:
    summaries = []
    for part in parts:
        try:
            summaries.append(json.loads(Path(part).read_text()))
        except (OSError, ValueError) as exc:
            raise ShardError(f"{part}: cannot read it as a JSON summary ({exc})") from None
    merged = dict(summaries[0])
    for key in SUMMED:
        if key in merged:
            merged[key] = _sum([s.get(key) for s in summaries], key)
    return {**merged, "outputs": outputs, "shards": len(parts)}


def _sum(values: list, key: str):
    """The sum of counts: numbers, or mappings of counts summed key by key."""
    if all(isinstance(v, dict) for v in values):
        keys = dict.fromkeys(k for v in values for k in v)
        return {k: _sum([v.get(k, 0) for v in values], f"{key}.{k}") for k in keys}
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sum(values)
    raise ShardError(f"the summaries' {key!r} are not all counts: {values}")


def _open_text(path: Path):
    """A VCF as text lines, bgzip/gzip (by its magic bytes) or plain."""
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if compressed else open(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    splitter = commands.add_parser("split", help="one VCF per contig")
    splitter.add_argument("vcf", type=Path)
    splitter.add_argument("--contigs", nargs="+", required=True)
    splitter.add_argument("--out", type=Path, required=True, help="folder of <contig>.vcf.gz files")
    merger = commands.add_parser("merge", help="concatenate per-contig VCFs (and TSVs) in the order given")
    merger.add_argument("shards", type=Path, nargs="+")
    merger.add_argument("--out", type=Path, required=True, help="merged .vcf.gz (indexed: .vcf.gz.tbi)")
    merger.add_argument("--tsv", type=Path, help="merged TSV")
    merger.add_argument("--tsv-shards", type=Path, nargs="+", default=[], help="one TSV per shard, in order")
    merger.add_argument("--summary", type=Path, help="merged JSON summary (counts summed)")
    merger.add_argument("--summary-shards", type=Path, nargs="+", default=[], help="one summary per shard, in order")
    args = parser.parse_args(argv)
    try:
        if args.command == "split":
            counts = split(args.vcf, args.contigs, args.out)
            print(f"split {sum(counts.values())} records into {len(counts)} contigs: {args.out}", file=sys.stderr)
        else:
            records = merge(
                args.shards,
                args.out,
                tsv=args.tsv,
                tsv_shards=args.tsv_shards,
                summary=args.summary,
                summary_shards=args.summary_shards,
            )
            print(f"merged {records} records of {len(args.shards)} shards: {args.out}", file=sys.stderr)
    except (ShardError, OSError, BioseqError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
