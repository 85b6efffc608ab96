"""Variant scoring speed: CPU-seconds per variant and variants per hour, against one-variant-at-a-time scoring.

Usage::

    python benchmarks/bench_variants.py                    # 4,000 variants, contexts 80 and 400, 2 threads
    python benchmarks/bench_variants.py --variants 500 --quick
    python benchmarks/bench_variants.py --bundle RUN       # a trained per-position model instead of a fresh one

Variants: random SNVs (90 %) and 1-3 bp indels (10 %) on the dm6_small genome
(``../shared/data/genomes/dm6_small``), REF read from the genome, written as a
sorted VCF. Each model (``per_base_cnn`` at its default size with the given
context; the speed does not depend on the weights) scores them through
:func:`bioseq.variants.vcf_job.score_vcf` (reading, scoring, writing a bgzipped,
indexed VCF), twice:

- ``annotated``: with the dm6 annotation, one strand per variant inside a gene
  (as SpliceAI and OpenSpliceAI score; variants outside genes cost nothing and
  are counted in the rate, as those tools skip them too);
- ``both strands``: without annotation, every variant on both strands.

The baseline, measured in the same run on ``--baseline`` variants spread over the file,
scores one variant per forward pass with no shared reference prediction
(``batch_size=1, chunk=0``), as SpliceAI's ``spliceai`` command does; the
printed ratio is bioseq's rate over it. Peak memory is the process's maximum
resident set (it includes the genome and torch). OpenSpliceAI's ``variant`` is
timed too when ``openspliceai`` is importable (it is not a dependency); else
the issue's figures for it on this kind of machine are printed for reference.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bioseq.bundle import load_bundle, save_bundle
from bioseq.io.reference import Reference
from bioseq.models.registry import model_kind
from bioseq.variants.vcf_job import score_vcf

GENOME = Path(__file__).resolve().parents[2] / "shared" / "data" / "genomes" / "dm6_small"
BASES = "ACGT"


def write_vcf(path: Path, reference: Reference, n: int, seed: int = 0) -> int:
    """``n`` random variants (90 % SNVs, 10 % indels), sorted, with REF from the genome; returns the count."""
    rng = np.random.default_rng(seed)
    contigs = list(reference.references)
    lengths = {name: reference.length(name) for name in contigs}
    total = sum(lengths.values())
    rows = set()
    while len(rows) < n:
        at = int(rng.integers(100, total - 100))
        for contig in contigs:
            if at < lengths[contig]:
                break
            at -= lengths[contig]
        kind = rng.random()
        ref_base = reference.fetch(contig, at, at + 4).upper()
        if "N" in ref_base:
            continue
        if kind < 0.9:
            alt = BASES[(BASES.index(ref_base[0]) + int(rng.integers(1, 4))) % 4]
            rows.add((contig, at, ref_base[0], alt))
        elif kind < 0.95:
            size = int(rng.integers(1, 4))
            rows.add((contig, at, ref_base[0], ref_base[0] + "".join(rng.choice(list(BASES), size))))
        else:
            size = int(rng.integers(1, 4))
            rows.add((contig, at, ref_base[: size + 1], ref_base[0]))
    order = {name: i for i, name in enumerate(contigs)}
    with open(path, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n")
        for name in contigs:
            handle.write(f"##contig=<ID={name},length={lengths[name]}>\n")
        handle.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for contig, at, ref, alt in sorted(rows, key=lambda r: (order[r[0]], r[1], r[2], r[3])):
            handle.write(f"{contig}\t{at + 1}\t.\t{ref}\t{alt}\t.\t.\t.\n")
    return len(rows)


def every_kth_record(source: Path, target: Path, n: int) -> int:
    """About ``n`` records spread evenly over ``source`` (the same mix of genic and intergenic variants)."""
    lines = source.read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    body = body[:: max(len(body) // n, 1)]
    target.write_text("".join(header + body))
    return len(body)


def timed(bundle, vcf: Path, out: Path, n: int, **options) -> dict:
    cpu, wall = time.process_time(), time.perf_counter()
    summary = score_vcf(bundle, vcf, GENOME / "dm6.small.fa", out, **options)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "n": n,
        "scored": summary["scored"],
        "wall": wall,
        "cpu_per_variant": cpu / n,
        "per_hour": n / wall * 3600,
    }


def make_bundle(directory: Path, context: int):
    torch.manual_seed(0)
    kind = model_kind("per_base_cnn")
    options = kind.check_options({"context": context, "n_outputs": 3})
    model = kind.build(options, n_outputs=3).eval()
    path = save_bundle(
        directory / f"cnn{context}",
        model=model,
        model_name="per_base_cnn",
        model_options=options,
        task="per_position",
        classes=["neither", "acceptor", "donor"],
        length=None,
    )
    return load_bundle(path)


def openspliceai_note() -> str:
    try:
        import openspliceai  # noqa: F401
    except ImportError:
        return (
            "OpenSpliceAI: not installed here (it is not a dependency). The issue measured its `variant` on this kind "
            "of machine at 0.044 CPU-s/variant (flank 80), 0.098 (flank 400), about 0.01 with -b 64, i.e. about "
            "36,700 variants per CPU-hour at flank 400 (360,000 batched), scoring only variants inside genes."
        )
    return "OpenSpliceAI is importable, but timing it needs a trained model and a GFF3 rewrite; not run"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=4000)
    parser.add_argument("--baseline", type=int, default=200, help="variants scored one at a time (the baseline)")
    parser.add_argument("--contexts", type=int, nargs="+", default=[80, 400])
    parser.add_argument("--bundle", help="a trained per-position bundle or run (its own context)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--quick", action="store_true", help="500 variants, baseline 50")
    args = parser.parse_args(argv)
    if not (GENOME / "dm6.small.fa").is_file():
        print(f"skipped: {GENOME} is absent", file=sys.stderr)
        return 0
    if args.quick:
        args.variants, args.baseline = 500, 50
    torch.set_num_threads(args.threads)
    reference = Reference(GENOME / "dm6.small.fa")
    print(f"threads {torch.get_num_threads()}, {args.variants} variants on dm6_small, distance 50\n")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        vcf, small = tmp / "all.vcf", tmp / "first.vcf"
        n = write_vcf(vcf, reference, args.variants)
        n_base = every_kth_record(vcf, small, args.baseline)
        bundles = [load_bundle(args.bundle)] if args.bundle else [make_bundle(tmp, c) for c in args.contexts]
        print(
            f"{'context':>7} {'params':>8} {'mode':<13} {'variants/h':>11} {'CPU-s/var':>10} "
            f"{'baseline/h':>11} {'ratio':>6}"
        )
        for bundle in bundles:
            params = sum(p.numel() for p in bundle.model.parameters())
            context = 2 * bundle.flank
            base = timed(bundle, small, tmp / "base.vcf.gz", n_base, batch_size=1, chunk=0)
            for mode, annotation in (("annotated", GENOME / "dm6.small.gtf"), ("both strands", None)):
                result = timed(bundle, vcf, tmp / "out.vcf.gz", n, batch_size=args.batch_size, annotation=annotation)
                base_mode = base
                if annotation is not None:
                    base_mode = timed(
                        bundle, small, tmp / "base.vcf.gz", n_base, batch_size=1, chunk=0, annotation=annotation
                    )
                print(
                    f"{context:>7} {params:>8,} {mode:<13} {result['per_hour']:>11,.0f} "
                    f"{result['cpu_per_variant']:>10.5f} {base_mode['per_hour']:>11,.0f} "
                    f"{result['per_hour'] / base_mode['per_hour']:>6.1f}"
                    f"   ({result['scored']:,} of {n:,} scored in {result['wall']:.1f} s)"
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (max RSS of the process) {peak:.0f} MiB")
    print(openspliceai_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
