"""Variant scoring speed: CPU-seconds per variant and variants per hour, against one-variant-at-a-time scoring.

Usage::

    python benchmarks/bench_variants.py                    # 4,000 variants, contexts 80 and 400, 2 threads
    python benchmarks/bench_variants.py --variants 500 --quick
    python benchmarks/bench_variants.py --bundle RUN       # a trained per-position model instead of a fresh one
    python benchmarks/bench_variants.py --openspliceai /tmp/peers/bin/python   # OpenSpliceAI from another venv
    python benchmarks/bench_variants.py --workers 2        # bioseq's score_vcf in 2 processes

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

SNVs go through :meth:`bioseq.bundle.Bundle.predict_substitutions` (the
per-base CNN recomputes only what the changed base reaches); ``--whole-windows``
adds a row per mode with every SNV's window predicted in full, and the ratio.
The baseline, measured in the same run on ``--baseline`` variants spread over the file,
scores one variant per forward pass with no shared reference prediction and
whole windows (``batch_size=1, chunk=0``), as SpliceAI's ``spliceai`` command
does; the printed ratio is bioseq's rate over it. Peak memory is the process's maximum
resident set (it includes the genome and torch).

CPU-seconds: with ``--workers 1`` the process's own CPU time. With ``--workers N > 1``
the scoring runs in N processes that each take ``cpu_count // N`` torch threads
(bioseq's rule; ``--threads`` does not reach them), so the CPU-seconds are wall
seconds x cores used, ``min(N x max(1, cpu_count // N), usable cores)``; the
measured CPU (this process plus its reaped workers) is printed beside it.

OpenSpliceAI (0.0.7, not a dependency, never imported here) is timed in the same
run, on the same VCF, at each context it supports (flank 80, 400, 2000, 10000), in
a subprocess of the python given by ``--openspliceai`` (default: this interpreter
when ``openspliceai`` is importable in it; else it is skipped and the issue's
figures are printed). Its inputs are made here: a random-weight state dict of its
own architecture (``SpliceAI(32, W, AR)``, seeded, written by that python) and a
SpliceAI annotation table (``#NAME CHROM STRAND TX_START TX_END EXON_START
EXON_END``, 0-based starts, the longest transcript of each dm6 gene). It runs
``openspliceai variant`` with its default batch (1) and with ``--batch-size 64``,
with torch, OpenMP and MKL at ``--threads`` threads. Its CPU-seconds (user + sys)
are the child's own, from ``os.wait4`` (what ``getrusage(RUSAGE_CHILDREN)`` adds for
it); they include its start (python, torch and its imports, the model), which is
also timed alone on the VCF's header and printed below its rows: bioseq's figures
leave out the equivalent (this process imported torch and loaded the model before
timing), so subtract it for the per-variant cost of a long file. Its peak
memory is the child's VmHWM, which it prints as it exits (a child's ``ru_maxrss``
also counts this process's RSS at the moment it was started). ``scored`` counts
the output records carrying its INFO field (it skips variants outside genes).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bioseq.bundle import load_bundle, save_bundle
from bioseq.io.gff import read_annotation
from bioseq.io.reference import Reference
from bioseq.models.registry import model_kind
from bioseq.variants.vcf_job import score_vcf

GENOME = Path(__file__).resolve().parents[2] / "shared" / "data" / "genomes" / "dm6_small"
BASES = "ACGT"
PEER_FLANKS = (80, 400, 2000, 10000)
PEER_BATCH = 64
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

# Run with the peer's python: write a seeded random-weight state dict per flank in OpenSpliceAI's own
# architecture (W and AR as openspliceai/variant/utils.py load_pytorch_models sets them), print facts as JSON.
PEER_MODELS = """
import contextlib, importlib.metadata, io, json, sys
import numpy as np, torch
from openspliceai.openspliceai import parse_args
from openspliceai.train_base.openspliceai import SpliceAI

ARCHITECTURES = {
    80: ([11] * 4, [1] * 4),
    400: ([11] * 8, [1] * 4 + [4] * 4),
    2000: ([11] * 8 + [21] * 4, [1] * 4 + [4] * 4 + [10] * 4),
    10000: ([11] * 8 + [21] * 4 + [41] * 4, [1] * 4 + [4] * 4 + [10] * 4 + [25] * 4),
}
directory, seed, flanks = sys.argv[1], int(sys.argv[2]), [int(f) for f in sys.argv[3:]]
try:
    with contextlib.redirect_stderr(io.StringIO()):
        parse_args(["variant", "-R", "r", "-A", "a", "--batch-size", "2"])
    batch_option = True
except SystemExit:
    batch_option = False
facts = {"version": importlib.metadata.version("openspliceai"), "batch_option": batch_option, "params": {}}
for flank in flanks:
    torch.manual_seed(seed)
    w, ar = ARCHITECTURES[flank]
    model = SpliceAI(32, np.asarray(w), np.asarray(ar))
    torch.save(model.state_dict(), f"{directory}/openspliceai_{flank}.pt")
    facts["params"][flank] = sum(p.numel() for p in model.parameters())
print(json.dumps(facts))
"""
# Run with the peer's python: its CLI with torch at a given thread count (argv: threads, then the CLI's arguments);
# then its own peak RSS (VmHWM: a child's ru_maxrss also counts the parent's RSS when it started it).
PEER_MAIN = """
import sys, torch
torch.set_num_threads(int(sys.argv[1]))
from openspliceai.openspliceai import main
try:
    main(sys.argv[2:])
finally:
    try:
        kib = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    except (OSError, IndexError):
        kib = "unknown"
    print("bench_variants VmHWM kB", kib, flush=True)
"""
PEAK_TAG = "bench_variants VmHWM kB "


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


def usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cores_used(workers: int) -> int:
    """Cores a ``workers > 1`` run of :func:`score_vcf` keeps busy.

    Parameters
    ----------
    workers : int
        Processes; bioseq gives each ``max(1, cpu_count // workers)`` torch threads.

    Returns
    -------
    int
        ``min(workers * threads per worker, usable cores)``.
    """
    per_worker = max(1, (os.cpu_count() or 1) // workers)
    return min(workers * per_worker, usable_cores())


def children_cpu() -> float:
    """User + system CPU-seconds of this process's reaped children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(bundle, vcf: Path, out: Path, n: int, workers: int = 1, **options) -> dict:
    """Time one :func:`score_vcf` run.

    Parameters
    ----------
    bundle : Bundle
    vcf, out : Path
    n : int
        Variants in ``vcf``.
    workers : int, default 1
        Passed to :func:`score_vcf`; above 1 the CPU-seconds are wall x :func:`cores_used`.
    **options
        Keyword arguments of :func:`score_vcf`.

    Returns
    -------
    dict
        ``n``, ``scored``, ``wall``, ``cpu`` (as used for the rates), ``measured`` (this process plus
        its reaped workers), ``cpu_per_variant``, ``per_hour`` (wall).
    """
    cpu, children, wall = time.process_time(), children_cpu(), time.perf_counter()
    summary = score_vcf(bundle, vcf, GENOME / "dm6.small.fa", out, workers=workers, **options)
    wall = time.perf_counter() - wall
    measured = time.process_time() - cpu + children_cpu() - children
    cpu = measured if workers == 1 else wall * cores_used(workers)
    return {
        "n": n,
        "scored": summary["scored"],
        "wall": wall,
        "cpu": cpu,
        "measured": measured,
        "cpu_per_variant": cpu / n,
        "per_hour": n / wall * 3600,
    }


class WholeWindows:
    """``bundle`` without ``predict_substitutions``: every SNV's edited window is predicted in full (bioseq before
    stop 27, and SpliceAI's way), so that the substitution path's gain is measured in the same run."""

    def __init__(self, bundle) -> None:
        self._bundle = bundle

    def __getattr__(self, name):
        if name == "predict_substitutions":
            raise AttributeError(name)
        return getattr(self._bundle, name)


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


def canonical_transcripts(gtf: Path) -> list:
    """The longest transcript (genomic span, then spliced length) of each gene with a strand.

    Parameters
    ----------
    gtf : Path
        A GTF or GFF3 file, read with :func:`bioseq.io.gff.read_annotation`.

    Returns
    -------
    list of Transcript
        One per gene (a transcript without a gene is its own), in the annotation's order.
    """
    best = {}
    for tx in read_annotation(gtf).transcripts_by_id.values():
        if tx.strand not in ("+", "-"):
            continue
        key = tx.gene_id or tx.id
        size = (tx.end - tx.start, sum(e - s for s, e in tx.exons))
        if key not in best or size > best[key][0]:
            best[key] = (size, tx)
    return [tx for _, tx in best.values()]


def write_spliceai_table(gtf: Path, path: Path) -> int:
    """Write SpliceAI's annotation table (as its ``grch38.txt``) for the canonical transcripts of ``gtf``.

    Tab-separated ``#NAME CHROM STRAND TX_START TX_END EXON_START EXON_END``; starts are 0-based and
    ends 1-based inclusive (UCSC style: OpenSpliceAI's ``Annotator`` adds 1 to the starts), exon
    lists comma-terminated.

    Parameters
    ----------
    gtf, path : Path

    Returns
    -------
    int
        Genes written.
    """
    rows = canonical_transcripts(gtf)
    with open(path, "w") as handle:
        handle.write("#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n")
        for tx in rows:
            starts = "".join(f"{s}," for s, _ in tx.exons)
            ends = "".join(f"{e}," for _, e in tx.exons)
            name = tx.gene_name or tx.gene_id or tx.id
            handle.write(f"{name}\t{tx.chrom}\t{tx.strand}\t{tx.start}\t{tx.end}\t{starts}\t{ends}\n")
    return len(rows)


def find_peer(python: str | None) -> str | None:
    """The python to run OpenSpliceAI with: ``python``, else this one if it can import ``openspliceai``, else None."""
    if python:
        return python
    return sys.executable if importlib.util.find_spec("openspliceai") is not None else None


def thread_environment(threads: int) -> dict:
    """This process's environment with OpenMP, MKL and OpenBLAS at ``threads`` threads."""
    return {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES}}


def prepare_peer(python: str, flanks: list[int], directory: Path, seed: int = 0) -> dict:
    """Write OpenSpliceAI's models (``openspliceai_{flank}.pt``) and the annotation table into ``directory``.

    Parameters
    ----------
    python : str
        A python that can import ``openspliceai``.
    flanks : list of int
        Its flanking sizes (from :data:`PEER_FLANKS`).
    directory : Path
    seed : int, default 0

    Returns
    -------
    dict
        ``version``, ``batch_option`` (whether ``variant`` takes ``--batch-size``), ``params`` (by flank,
        as a string), ``directory``, ``table`` (its path), ``genes`` (rows of the table).

    Raises
    ------
    RuntimeError
        When the python cannot write the models.
    """
    command = [python, "-c", PEER_MODELS, str(directory), str(seed), *map(str, flanks)]
    done = subprocess.run(command, capture_output=True, text=True, env=thread_environment(1))
    if done.returncode:
        raise RuntimeError(f"{python} could not write OpenSpliceAI models: {done.stderr.strip()[-800:]}")
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    facts["directory"], facts["table"] = directory, directory / "openspliceai_annotation.txt"
    facts["genes"] = write_spliceai_table(GENOME / "dm6.small.gtf", facts["table"])
    return facts


def count_annotated(vcf: Path, key: str = "OpenSpliceAI") -> tuple[int, int]:
    """Records of a plain VCF, and those whose INFO has ``key``."""
    records = annotated = 0
    with open(vcf) as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            records += 1
            info = line.rstrip("\n").split("\t")[7]
            annotated += any(field.split("=")[0] == key for field in info.split(";"))
    return records, annotated


def peer_peak(log: str, maxrss: int) -> float:
    """The child's peak RSS in MiB: its VmHWM from ``log``, else ``maxrss`` (KiB, an upper bound)."""
    for line in reversed(log.splitlines()):
        if line.startswith(PEAK_TAG) and line[len(PEAK_TAG) :].strip().isdigit():
            return int(line[len(PEAK_TAG) :]) / 1024
    return maxrss / 1024


def run_peer(python: str, flank: int, facts: dict, vcf: Path, n: int, threads: int, batch: int | None) -> dict:
    """Time ``openspliceai variant`` on ``vcf`` in a child process.

    Parameters
    ----------
    python : str
    flank : int
    facts : dict
        From :func:`prepare_peer`.
    vcf : Path
        A plain VCF of ``n`` records; the output and a log go beside it.
    n : int
    threads : int
        Torch, OpenMP and MKL threads of the child.
    batch : int or None
        ``--batch-size``; None for its default.

    Returns
    -------
    dict
        ``n``, ``scored`` (records with its INFO field), ``wall``, ``cpu`` (the child's user + sys),
        ``peak`` (MiB, :func:`peer_peak`), ``cpu_per_variant``, ``cpu_per_scored``, ``per_hour`` (wall),
        ``skipped`` (records it logged as skipped).

    Raises
    ------
    RuntimeError
        When it fails or writes another number of records (it exits with status 0 on some errors).
    """
    name = f"{vcf.stem}.openspliceai_{flank}_{batch or 1}"
    out, log = vcf.with_name(f"{name}.vcf"), vcf.with_name(f"{name}.log")
    command = [python, "-c", PEER_MAIN, str(threads), "variant", "-R", str(GENOME / "dm6.small.fa"),
               "-A", str(facts["table"]), "-I", str(vcf), "-O", str(out), "-D", "50", "-t", "pytorch",
               "-m", str(facts["directory"] / f"openspliceai_{flank}.pt"), "-f", str(flank)]  # fmt: skip
    command += ["--batch-size", str(batch)] if batch else []
    wall = time.perf_counter()
    with open(log, "w") as handle:
        child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=thread_environment(threads))
        _, status, usage = os.wait4(child.pid, 0)  # its own rusage: what RUSAGE_CHILDREN adds for it
    child.returncode, wall = os.waitstatus_to_exitcode(status), time.perf_counter() - wall
    records, scored = count_annotated(out) if out.is_file() else (0, 0)
    if child.returncode or records != n:
        tail = log.read_text()[-800:]
        raise RuntimeError(f"exit status {child.returncode}, {records} of {n} records written: {tail}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "n": n,
        "scored": scored,
        "wall": wall,
        "cpu": cpu,
        "peak": peer_peak(log.read_text(), usage.ru_maxrss),
        "cpu_per_variant": cpu / max(n, 1),
        "cpu_per_scored": cpu / max(scored, 1),
        "per_hour": n / wall * 3600,
        "skipped": log.read_text().count("Skipping record"),
    }


def bioseq_line(context: int, params: int, mode: str, result: dict, base: dict, workers: int) -> str:
    """One row of bioseq's figures."""
    line = (
        f"{context:>7} {params:>8,} {mode:<17} {result['per_hour']:>11,.0f} "
        f"{result['cpu_per_variant']:>10.5f} {base['per_hour']:>11,.0f} "
        f"{result['per_hour'] / base['per_hour']:>6.1f}"
        f"   ({result['scored']:,} of {result['n']:,} scored in {result['wall']:.1f} s, "
        f"{result['cpu'] / max(result['scored'], 1):.5f} CPU-s/scored"
    )
    if workers > 1:
        line += f", measured CPU {result['measured']:.1f} s vs {result['cpu']:.1f} s = wall x {cores_used(workers)}"
    return line + ")"


def peer_line(context: int, params: int, batch: int | None, peer: dict, bioseq: dict) -> str:
    """One row of OpenSpliceAI's figures, with bioseq's CPU-s over its (annotated mode, same context)."""
    mode = f"OpenSpliceAI b={batch or 1}"
    per_variant = bioseq["cpu_per_variant"] / peer["cpu_per_variant"]
    per_scored = (bioseq["cpu"] / max(bioseq["scored"], 1)) / peer["cpu_per_scored"]
    return (
        f"{context:>7} {params:>8,} {mode:<17} {peer['per_hour']:>11,.0f} {peer['cpu_per_variant']:>10.5f} "
        f"{'-':>11} {'-':>6}   ({peer['scored']:,} of {peer['n']:,} scored in {peer['wall']:.1f} s, "
        f"{peer['cpu_per_scored']:.5f} CPU-s/scored, peak {peer['peak']:.0f} MiB; bioseq/OpenSpliceAI CPU-s "
        f"{per_variant:.3f} per variant, {per_scored:.3f} per scored)"
    )


def peer_lines(context: int, peer: dict | None, vcf: Path, n: int, threads: int, bioseq: dict) -> None:
    """Print OpenSpliceAI's rows at ``context`` (its default batch, then :data:`PEER_BATCH`), or why not."""
    if peer is None or context not in PEER_FLANKS:
        return
    facts = peer["facts"]
    for batch in (None, PEER_BATCH) if facts["batch_option"] else (None,):
        try:
            result = run_peer(peer["python"], context, facts, vcf, n, threads, batch)
        except RuntimeError as error:
            print(f"{context:>7} OpenSpliceAI b={batch or 1} failed: {error}")
            continue
        print(peer_line(context, facts["params"][str(context)], batch, result, bioseq))
        if result["skipped"]:
            print(f"{'':>8}(OpenSpliceAI logged {result['skipped']:,} skipped records)")
    print(peer_start_line(peer, context, vcf, n, threads))


def peer_start_line(peer: dict, context: int, vcf: Path, n: int, threads: int) -> str:
    """OpenSpliceAI's fixed cost (python, imports, model), timed on ``vcf``'s header alone."""
    empty = vcf.with_name("header_only.vcf")
    with open(vcf) as handle:
        empty.write_text("".join(line for line in handle if line.startswith("#")))
    try:
        start = run_peer(peer["python"], context, peer["facts"], empty, 0, threads, None)
    except RuntimeError as error:
        return f"{'':>8}(OpenSpliceAI on a header-only VCF failed: {error})"
    return (
        f"{'':>8}(OpenSpliceAI's start, timed on the header alone and included above: {start['cpu']:.1f} CPU-s "
        f"= {start['cpu'] / n:.5f} CPU-s/var of this file, {start['wall']:.1f} s, peak {start['peak']:.0f} MiB)"
    )


def openspliceai_note(reason: str) -> str:
    """Why OpenSpliceAI was not timed, and the issue's figures for it."""
    return (
        f"OpenSpliceAI: {reason}. The issue measured its `variant` on this kind of machine at 0.044 CPU-s/variant "
        "(flank 80), 0.098 (flank 400), about 0.01 with -b 64, i.e. about 36,700 variants per CPU-hour at flank 400 "
        "(360,000 batched), scoring only variants inside genes."
    )


def setup_peer(option: str | None, contexts: list[int], directory: Path) -> tuple[dict | None, str]:
    """Find OpenSpliceAI and write its inputs; ``(peer or None, what to print about it)``."""
    python = find_peer(option)
    if python is None:
        return None, openspliceai_note("not importable here and no --openspliceai PYTHON given (not a dependency)")
    flanks = sorted({c for c in contexts if c in PEER_FLANKS})
    if not flanks:
        return None, openspliceai_note(f"no context in {list(PEER_FLANKS)}, its flanking sizes")
    try:
        facts = prepare_peer(python, flanks, directory)
    except (OSError, RuntimeError, ValueError) as error:
        return None, openspliceai_note(f"not run ({error})")
    message = (
        f"OpenSpliceAI {facts['version']} `variant` ({python}): random-weight SpliceAI(32, W, AR) per flank, "
        f"{facts['genes']:,} canonical dm6 genes, distance 50, its default batch and --batch-size {PEER_BATCH}"
        f"{'' if facts['batch_option'] else ' (absent in this version)'}; peak = the child's VmHWM"
    )
    return {"python": python, "facts": facts}, message


def bench_context(bundle, args, files: dict, peer: dict | None) -> None:
    """Print bioseq's rows for one model (annotated, both strands), then OpenSpliceAI's at its context."""
    params = sum(p.numel() for p in bundle.model.parameters())
    context, n, tmp = 2 * bundle.flank, files["n"], files["tmp"]
    whole = WholeWindows(bundle)
    base = timed(whole, files["small"], tmp / "base.vcf.gz", files["n_base"], batch_size=1, chunk=0)
    annotated = None
    for mode, annotation in (("annotated", GENOME / "dm6.small.gtf"), ("both strands", None)):
        result = timed(
            bundle, files["vcf"], tmp / "out.vcf.gz", n, args.workers, batch_size=args.batch_size, annotation=annotation
        )
        base_mode = base
        if annotation is not None:
            annotated = result
            base_mode = timed(
                whole,
                files["small"],
                tmp / "base.vcf.gz",
                files["n_base"],
                batch_size=1,
                chunk=0,
                annotation=annotation,
            )
        print(bioseq_line(context, params, mode, result, base_mode, args.workers))
        if args.whole_windows:
            full = timed(
                whole,
                files["vcf"],
                tmp / "out.vcf.gz",
                n,
                args.workers,
                batch_size=args.batch_size,
                annotation=annotation,
            )
            print(bioseq_line(context, params, f"{mode[:10]}, whole", full, base_mode, args.workers))
            print(f"{'':>17} substitution path / whole windows: {result['per_hour'] / full['per_hour']:.2f}x")
    peer_lines(context, peer, files["vcf"], n, args.threads, annotated)


def parse_arguments(argv) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=4000)
    parser.add_argument("--baseline", type=int, default=200, help="variants scored one at a time (the baseline)")
    parser.add_argument("--contexts", type=int, nargs="+", default=[80, 400])
    parser.add_argument("--bundle", help="a trained per-position bundle or run (its own context)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of bioseq and of OpenSpliceAI")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=1, help="processes of bioseq's score_vcf")
    parser.add_argument(
        "--openspliceai",
        metavar="PYTHON",
        help="a python that can import openspliceai, to time its `variant` (default: this one if it can)",
    )
    parser.add_argument("--quick", action="store_true", help="500 variants, baseline 50")
    parser.add_argument(
        "--whole-windows",
        action="store_true",
        help="also time each mode with every SNV window predicted in full (without the substitution path)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.quick:
        args.variants, args.baseline = 500, 50
    return args


def main(argv=None) -> int:
    args = parse_arguments(argv)
    if not (GENOME / "dm6.small.fa").is_file():
        print(f"skipped: {GENOME} is absent", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    reference = Reference(GENOME / "dm6.small.fa")
    workers = f", workers {args.workers} (CPU-s = wall x {cores_used(args.workers)} cores)" if args.workers > 1 else ""
    print(f"threads {torch.get_num_threads()}, {args.variants} variants on dm6_small, distance 50{workers}\n")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {"tmp": tmp, "vcf": tmp / "all.vcf", "small": tmp / "first.vcf"}
        files["n"] = write_vcf(files["vcf"], reference, args.variants)
        files["n_base"] = every_kth_record(files["vcf"], files["small"], args.baseline)
        bundles = [load_bundle(args.bundle)] if args.bundle else [make_bundle(tmp, c) for c in args.contexts]
        peer, peer_message = setup_peer(args.openspliceai, [2 * b.flank for b in bundles], tmp)
        print(
            f"{'context':>7} {'params':>8} {'mode':<17} {'variants/h':>11} {'CPU-s/var':>10} "
            f"{'baseline/h':>11} {'ratio':>6}"
        )
        for bundle in bundles:
            bench_context(bundle, args, files, peer)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (max RSS of the process) {peak:.0f} MiB")
    print(peer_message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
