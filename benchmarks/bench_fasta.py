"""Speed and memory of bioseq's FASTA readers against Biopython, pysam and pyfastx.

Usage::

    python benchmarks/bench_fasta.py            # 200,000 x 200 bp; 0.25 and 1 GB memory runs
    python benchmarks/bench_fasta.py --quick    # small sizes, for a smoke test

Everything runs on one thread. Speeds are in Mb/s of sequence (best of 3),
each with its ratio to Biopython ``SeqIO.parse`` and to pyfastx measured in
the same run. The memory figure is the peak RSS growth of a subprocess that
streams a large FASTA with :class:`bioseq.io.fasta.FastaReader`; it must not
grow with the file size. Temporary files are deleted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

SEED = 20240601
TARGET_VS_BIOPYTHON = 7.0


def write_fasta_file(path: Path, n_records: int, length: int, *, width: int = 60, seed: int = SEED) -> int:
    """Write ``n_records`` random ``length``-bp records wrapped at ``width``; return bases."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    batch = max(1, min(n_records, (8 << 20) // max(length, 1)))
    with open(path, "wb") as out:
        for first in range(0, n_records, batch):
            count = min(batch, n_records - first)
            seqs = letters[rng.integers(0, 4, size=(count, length))]
            lines = [seqs[:, i : i + width] for i in range(0, length, width)]
            for k in range(count):
                body = b"\n".join(part[k].tobytes() for part in lines)
                out.write(b">seq%d sample=%d\n%s\n" % (first + k, (first + k) % 97, body))
    return n_records * length


def stream_fasta_file(path: Path, total_bytes: int, record_length: int, *, seed: int = SEED) -> None:
    """Stream-write about ``total_bytes`` of FASTA made of ``record_length``-bp records."""
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)[rng.integers(0, 4, size=record_length)].tobytes()
    body = b"".join(bases[i : i + 60] + b"\n" for i in range(0, record_length, 60))
    per_block = max(1, (8 << 20) // len(body))
    written = 0
    with open(path, "wb") as out:
        while written < total_bytes:
            block = b"".join(b">r%d\n%s" % (written + i, body) for i in range(per_block))
            out.write(block)
            written += len(block)


def _one_thread() -> None:
    if "torch" in sys.modules:  # a driver imported it
        sys.modules["torch"].set_num_threads(1)


def _readers(path: str) -> dict:
    from Bio import SeqIO

    from bioseq.io.fasta import read_fasta
    from bioseq.io.fasta_codes import read_fasta_codes

    def biopython():
        return sum(len(str(rec.seq)) for rec in SeqIO.parse(path, "fasta"))

    def bioseq_stream():
        return sum(len(rec.sequence) for rec in read_fasta(path))

    def bioseq_codes():
        return int(read_fasta_codes(path).lengths.sum())

    def bioseq_codes_no_names():
        return int(read_fasta_codes(path, names=False).lengths.sum())

    readers = {"Biopython SeqIO.parse": biopython}
    try:
        import pysam

        def pysam_fastx():
            with pysam.FastxFile(path) as handle:
                return sum(len(entry.sequence) for entry in handle)

        readers["pysam FastxFile"] = pysam_fastx
    except ImportError:  # pragma: no cover
        pass
    try:
        import pyfastx

        def pyfastx_fastx():
            return sum(len(seq) for _, seq in pyfastx.Fastx(path))

        readers["pyfastx Fastx"] = pyfastx_fastx
    except ImportError:  # pragma: no cover
        pass
    readers["bioseq read_fasta"] = bioseq_stream
    readers["bioseq read_fasta_codes"] = bioseq_codes
    readers["bioseq read_fasta_codes(names=False)"] = bioseq_codes_no_names
    return readers


def speed_rows(n_records: int, length: int, workdir: Path) -> list[dict]:
    """Mb/s of each reader on one generated file, with ratios."""
    path = workdir / "bench.fa"
    bases = write_fasta_file(path, n_records, length)
    readers = _readers(str(path))
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(3):  # round robin, so that a busy moment hurts every reader alike
        for name, fn in readers.items():
            start = time.perf_counter()
            if fn() != bases:
                raise RuntimeError(f"{name} read the wrong number of bases")
            best[name] = min(best[name], time.perf_counter() - start)
    path.unlink()
    speeds = {name: bases / seconds / 1e6 for name, seconds in best.items()}
    rows = []
    bio = speeds["Biopython SeqIO.parse"]
    fastx = speeds.get("pyfastx Fastx")
    for name, value in speeds.items():
        rows.append(
            {
                "figure": f"{name}, {n_records:,} x {length} bp",
                "value": value,
                "unit": "Mb/s",
                "baseline": "Biopython SeqIO.parse",
                "baseline_value": bio,
                "ratio": value / bio,
                "target": f">= {TARGET_VS_BIOPYTHON:g}x" if name.startswith("bioseq read_fasta_codes") else None,
            }
        )
        if fastx is not None and name.startswith("bioseq"):
            rows.append(
                {
                    "figure": f"{name} vs pyfastx",
                    "value": value,
                    "unit": "Mb/s",
                    "baseline": "pyfastx Fastx",
                    "baseline_value": fastx,
                    "ratio": value / fastx,
                    "target": None,
                }
            )
    return rows


_MEMORY_CHILD = """
import resource, sys
from bioseq.io.fasta import FastaReader

def status_kb(key):
    try:
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith(key))
    except (OSError, StopIteration):
        return None

def peak_kb():
    # ru_maxrss of a child starts at its parent's peak (it is inherited through fork), so
    # prefer the child's own high-water mark where Linux gives it
    return status_kb("VmHWM:") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

before = status_kb("VmRSS:") or peak_kb()
total = 0
with FastaReader(sys.argv[1]) as reader:
    for record in reader:
        total += len(record.sequence)
print(total, (peak_kb() - before) / 1024)
"""


def memory_mb(path: Path) -> float:
    """Peak RSS growth (MB) of a subprocess while it streams ``path`` with FastaReader."""
    done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(path)], check=True, capture_output=True, text=True)
    return float(done.stdout.split()[1])


def memory_rows(sizes: tuple[int, int], record_length: int, workdir: Path, label: str) -> list[dict]:
    """Peak RSS growth for a small and a large file; the ratio should be ~1."""
    figures = []
    for size in sizes:
        path = workdir / "memory.fa"
        stream_fasta_file(path, size, record_length)
        figures.append(memory_mb(path))
        path.unlink()
    small, large = figures
    return [
        {
            "figure": f"FastaReader peak RSS growth, {_size(size)} file, {label}",
            "value": value,
            "unit": "MB",
            "baseline": f"same at {_size(sizes[0])}",
            "baseline_value": small,
            "ratio": value / small if small else None,
            "target": "flat (ratio ~1)",
        }
        for size, value in ((sizes[0], small), (sizes[1], large))
    ]


def _size(size: int) -> str:
    return f"{size / 1e9:g} GB" if size >= 1e8 else f"{size / 1e6:.0f} MB"


def run(quick: bool = False) -> list[dict]:
    """All figures as dicts with figure, value, unit, baseline, baseline_value, ratio, target."""
    _one_thread()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_fasta_") as tmp:
        workdir = Path(tmp)
        rows += speed_rows(20_000 if quick else 200_000, 200, workdir)
        if quick:
            rows += memory_rows((10 << 20, 40 << 20), 1 << 20, workdir, "1 Mb records")
        else:
            rows += memory_rows((250_000_000, 1_000_000_000), 1_000_000, workdir, "1 Mb records")
            rows += memory_rows((62_500_000, 250_000_000), 200, workdir, "200 bp records")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    args = parser.parse_args(argv)
    for row in run(quick=args.quick):
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        print(
            f"{row['figure']}: {row['value']:.1f} {row['unit']} "
            f"(baseline {row['baseline']} {row['baseline_value']:.1f}; ratio {ratio}"
            + (f"; target {row['target']})" if row["target"] else ")")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
