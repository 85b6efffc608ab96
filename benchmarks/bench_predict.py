"""Speed of bundle prediction, prediction files and genome scans against bare baselines.

Usage::

    python benchmarks/bench_predict.py            # 20,000 x 200 bp, yeast chrI scan
    python benchmarks/bench_predict.py --quick    # 2,000 x 200 bp, 60 kb of chrI

One thread, CPU. The model is a small CNN from the registry (random
weights: speed does not depend on them). Figures are best of 3, each with its
ratio to a baseline measured in the same run:

- ``Bundle.predict_proba`` (input checks, batches of 256, sigmoid, model
  mode and device restored) against the bare loop a user would write:
  ``torch.sigmoid(model(batch))`` under ``torch.inference_mode()``.
- ``predict_file`` on a FASTA of the same sequences (read in blocks, fitted
  to the model width, TSV written atomically) against ``predict_proba`` on
  the codes already in memory: the cost of reading and writing.
- ``scan_genome`` to bigWig over yeast chrI (``../shared/data``; skipped when
  absent) against ``Reference.windows`` + ``predict_proba`` on the same
  windows: the cost of bins, blocks and the bigWig writer.
- the k-mer baseline's ``predict_proba`` against scikit-learn's
  ``LogisticRegression.predict_proba`` on the same features.
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
import torch  # noqa: E402

from bioseq.bundle import load_bundle, save_bundle  # noqa: E402
from bioseq.inference import InferenceOptions  # noqa: E402
from bioseq.models.kmer_baseline import KmerLogisticBaseline  # noqa: E402
from bioseq.models.registry import build_model  # noqa: E402
from bioseq.predict import predict_file  # noqa: E402
from bioseq.scan import scan_genome  # noqa: E402

torch.set_num_threads(1)

SEED = 20240601
WIDTH = 200
BATCH = 256
CNN = {
    "channels": [32, 32],
    "kernel_sizes": [9, 5],
    "dilations": [1, 1],
    "pools": [2, 1],
    "head_hidden": 16,
    "n_outputs": 1,
}
SHARED = Path(os.environ.get("BIOSEQ_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def report(name: str, count: int, seconds: float, baseline: float | None, unit: str) -> None:
    ratio = "" if baseline is None else f"  {baseline / seconds:5.2f}x baseline"
    print(f"{name:<48} {count / seconds:>12,.0f} {unit}/s{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as work:
        run(2_000 if args.quick else 20_000, Path(work), quick=args.quick)
    return 0


def run(n: int, work: Path, *, quick: bool) -> None:
    codes = np.random.default_rng(SEED).integers(0, 4, (n, WIDTH), dtype=np.uint8)
    torch.manual_seed(0)
    save_bundle(
        work / "cnn",
        model=build_model("cnn", CNN).eval(),
        model_name="cnn",
        model_options=CNN,
        task="binary",
        classes=("no", "yes"),
        length=WIDTH,
    )
    bundle = load_bundle(work / "cnn")
    print(f"{n:,} sequences x {WIDTH} bp, CNN {CNN['channels']}, batch {BATCH}, 1 thread")
    bench_bundle(bundle, codes)
    bench_file(bundle, codes, work)
    bench_scan(bundle, work, span=60_000 if quick else 230_218)
    bench_kmer(codes)


def bench_bundle(bundle, codes: np.ndarray) -> None:
    n = codes.shape[0]

    def bare():
        with torch.inference_mode():
            return [
                torch.sigmoid(bundle.model(torch.from_numpy(codes[i : i + BATCH]))).numpy() for i in range(0, n, BATCH)
            ]

    base = best_of(bare)
    report("bare loop (baseline)", n, base, None, "seq")
    report("Bundle.predict_proba", n, best_of(lambda: bundle.predict_proba(codes, batch_size=BATCH)), base, "seq")


def bench_file(bundle, codes: np.ndarray, work: Path) -> None:
    n = codes.shape[0]
    fasta = work / "seqs.fa"
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    fasta.write_bytes(b"".join(b">s%d\n" % i + letters[row].tobytes() + b"\n" for i, row in enumerate(codes)))
    base = best_of(lambda: bundle.predict_proba(codes, batch_size=BATCH))
    report("predict_proba on codes in memory (baseline)", n, base, None, "seq")
    report(
        "predict_file FASTA -> TSV", n, best_of(lambda: predict_file(bundle, fasta, output=work / "p.tsv")), base, "seq"
    )


def bench_scan(bundle, work: Path, *, span: int, step: int = 50) -> None:
    from bioseq.io.interval import Interval
    from bioseq.io.reference import Reference

    genome = SHARED / "genomes" / "dm6_small" / "yeast_chrI.fa"
    if not genome.is_file():
        print(f"(scan skipped: {genome} is absent)")
        return
    with Reference(genome, cache=work / "cache") as ref:
        span = min(span, ref.length("chrI"))
        bins = -(-span // step)
        starts = np.arange(bins) * step + (step - WIDTH) // 2  # the windows scan_genome centres on its bins

        def windows_then_predict():
            for i in range(0, bins, 100_000):
                bundle.predict_proba(ref.windows("chrI", starts[i : i + 100_000], WIDTH), batch_size=BATCH)

        base = best_of(windows_then_predict)
        report(f"windows + predict_proba, {span:,} bp (baseline)", bins, base, None, "bin")
        report(
            "scan_genome -> bigWig",
            bins,
            best_of(
                lambda: scan_genome(
                    bundle,
                    ref,
                    output=work / "s.bw",
                    step=step,
                    regions=[Interval("chrI", 0, span)],
                    options=InferenceOptions(batch_size=BATCH),
                )
            ),
            base,
            "bin",
        )


def bench_kmer(codes: np.ndarray) -> None:
    from sklearn.linear_model import LogisticRegression

    n = codes.shape[0]
    labels = (np.isin(codes, (1, 2)).mean(axis=1) > 0.5).astype(np.int64)
    kmer = KmerLogisticBaseline().fit(codes, labels)
    sklearn_model = LogisticRegression(max_iter=1000).fit(kmer.features(codes), labels)
    base = best_of(lambda: sklearn_model.predict_proba(kmer.features(codes)))
    report("k-mer features + sklearn predict_proba (baseline)", n, base, None, "seq")
    report("KmerLogisticBaseline.predict_proba", n, best_of(lambda: kmer.predict_proba(codes)), base, "seq")


if __name__ == "__main__":
    sys.exit(main())
