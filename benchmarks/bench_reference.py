"""Speed of random window extraction from a reference genome.

Usage::

    python benchmarks/bench_reference.py            # 20,000 random 1 kb windows
    python benchmarks/bench_reference.py --quick    # 2,000 windows, for a smoke test

Reads the same random 1 kb windows (fixed seed, both contigs, uniform
starts) from ``../shared/data/genomes/dm6_small/dm6.small.fa`` when present,
else from a 10 Mb random genome written to a temporary directory, with

* pyfaidx ``str(Fasta(path)[chrom][s:e])`` (the baseline),
* pysam ``FastaFile.fetch`` (strings),
* bioseq :meth:`Reference.fetch` (strings, with argument checks),
* bioseq :meth:`Reference.windows` on the memory-mapped code cache
  (uint8 codes; target >= 5x pyfaidx).

Everything runs on one thread; speeds are Mb/s of sequence, best of 3, each
with its ratio to pyfaidx in the same run. The cache lives in a temporary
directory; its one-off build is reported separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pysam  # noqa: E402

from bioseq.io.reference import Reference  # noqa: E402

SEED = 20240601
WIDTH = 1000
TARGET_WINDOWS = 5.0
SHARED = Path(os.environ.get("BIOSEQ_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DM6 = SHARED / "genomes" / "dm6_small" / "dm6.small.fa"


def write_random_genome(path: Path, *, contigs: int = 5, length: int = 2_000_000, seed: int = SEED) -> Path:
    """Write ``contigs`` random contigs of ``length`` bp, 60 bases a line."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as out:
        for i in range(contigs):
            seq = letters[rng.integers(0, 4, size=length)].tobytes()
            out.write(b">chr%d\n" % (i + 1))
            out.write(b"".join(seq[j : j + 60] + b"\n" for j in range(0, length, 60)))
    return path


def best_of(call, repeats: int = 3) -> float:
    """Fastest of ``repeats`` runs of ``call()``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def run(quick: bool = False) -> list[dict]:
    """Measure every reader on the same windows; return one dict per figure."""
    n = 2_000 if quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        fasta = DM6 if DM6.exists() else write_random_genome(Path(tmp) / "random.fa")
        with Reference(fasta, cache=Path(tmp) / "cache") as ref:
            names, lengths = np.array(ref.references), np.array(ref.lengths)
            rng = np.random.default_rng(SEED)
            picks = rng.integers(0, len(names), size=n)
            chroms = names[picks]
            starts = rng.integers(0, lengths[picks] - WIDTH + 1)
            pairs = list(zip(chroms.tolist(), starts.tolist()))
            seconds = {"cache build": best_of(lambda: _build_cache(fasta, Path(tmp) / "build"), 1)}
            seconds.update(_time_readers(fasta, ref, pairs, chroms, starts))
    mb = n * WIDTH / 1e6
    base = mb / seconds["pyfaidx Fasta[chrom][s:e]"]
    rows = []
    for figure, secs in seconds.items():
        if figure == "cache build":
            value = sum(int(x) for x in lengths) / 1e6 / secs
            rows.append(_row(f"{figure} ({fasta.name})", value, None, None))
            continue
        target = f">= {TARGET_WINDOWS:g}x" if figure.startswith("bioseq windows") else None
        rows.append(_row(f"{figure}, {n:,} x 1 kb", mb / secs, base, target))
    return rows


def _row(figure: str, value: float, base: float | None, target: str | None) -> dict:
    return {
        "figure": figure,
        "value": value,
        "unit": "Mb/s",
        "baseline": None if base is None else "pyfaidx",
        "baseline_value": base,
        "ratio": None if base is None else value / base,
        "target": target,
    }


def _build_cache(fasta: Path, folder: Path) -> None:
    with Reference(fasta, cache=folder) as ref:
        for name in ref.references:
            ref.fetch_codes(name, 0, 1)


def _time_readers(fasta: Path, ref: Reference, pairs, chroms, starts) -> dict[str, float]:
    import pyfaidx

    faidx = pyfaidx.Fasta(str(fasta))
    handle = pysam.FastaFile(str(fasta))
    ref.windows(chroms, starts, WIDTH)  # warm: encode the contigs, fault the pages in
    try:
        return {
            "pyfaidx Fasta[chrom][s:e]": best_of(lambda: [str(faidx[c][s : s + WIDTH]) for c, s in pairs]),
            "pysam FastaFile.fetch": best_of(lambda: [handle.fetch(c, s, s + WIDTH) for c, s in pairs]),
            "bioseq Reference.fetch": best_of(lambda: [ref.fetch(c, s, s + WIDTH) for c, s in pairs]),
            "bioseq windows (cached codes)": best_of(lambda: ref.windows(chroms, starts, WIDTH)),
        }
    finally:
        faidx.close()
        handle.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 windows, for a smoke test")
    args = parser.parse_args(argv)
    for row in run(quick=args.quick):
        ratio = "" if row["ratio"] is None else f"  {row['ratio']:.2f}x pyfaidx"
        target = "" if row["target"] is None else f"  (target {row['target']})"
        print(f"{row['figure']:<48} {row['value']:>9.1f} {row['unit']}{ratio}{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
