"""Interpretation on real data: donor attributions on UCI splice, TATA-box motifs from the GUE tata promoter model.

Usage::

    python benchmarks/interpret_real.py                       # both tasks, the CNN, 2 threads
    python benchmarks/interpret_real.py --tasks uci --model lstm
    python benchmarks/interpret_real.py --logos docs/img      # also keep one logo per task there

Everything goes through bioseq's API as the commands call it (``bioseq train``,
``bioseq explain``, ``bioseq motifs``):

1. UCI splice-junction (``../shared/data/splice/uci_splice``, else
   ``data/uci_splice.csv``; 60 bp, exon-intron boundary between positions 30
   and 31, 1-based): a model trained on the whole table (3 classes), then
   DeepLIFT/SHAP attributions of the donor class (``EI``) for every donor
   sequence. Reported: the fraction whose largest positive attribution falls
   on the intron's ``GT`` (0-based positions 30 and 31), the fraction within
   the 9-mer ``MAG|GTRAGT`` (positions 27 to 35), and the three positions of
   largest mean attribution.
2. GUE prom_core_tata (``../shared/data/promoters/gue_prom_core_tata``; 70 bp
   human core promoters, train / dev / test): a model trained on train
   (validation dev), DeepLIFT/SHAP attributions of the promoter class for the
   2,452 training promoters (the 309 test promoters give MoDISco too few
   seqlets), motifs by TF-MoDISco (modisco-lite) matched by TOMTOM
   (memelite) against JASPAR CORE vertebrates (offline). Reported: each motif
   with its seqlets and best match, and the rank and q-value of the best TBP
   (TATA-box binding protein) match over all motifs.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bioseq.interpret.explain import explain, read_explanation
from bioseq.interpret.motif_report import run_motifs
from bioseq.train.config import TrainConfig
from bioseq.train.fit import train

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
UCI = SHARED / "splice" / "uci_splice" / "splice_statlog_decoded.csv"
TATA = SHARED / "promoters" / "gue_prom_core_tata"
GT = (30, 31)  # 0-based: the intron's first two bases in a UCI donor (EI) sequence
DONOR_9MER = range(27, 36)


def trained(data: Path, out: Path, args, valid: Path | None = None) -> Path:
    """Train ``args.model`` on ``data``; the bundle directory."""
    config = TrainConfig(train=data, valid=valid, out=out, model=args.model, epochs=args.epochs, seed=args.seed)
    began = time.process_time()
    result = train(config)
    print(f"  trained {args.model} on {data.name} in {(time.process_time() - began) / 60:.1f} CPU-min", flush=True)
    return result.bundle_dir


def uci(work: Path, args) -> dict:
    table = UCI if UCI.is_file() else ROOT / "data" / "uci_splice.csv"
    bundle = trained(table, work / "uci_run", args)
    began = time.perf_counter()
    summary = explain(bundle, table, work / "uci_exp", method="deeplift_shap", target="EI", label="EI", logos=1)
    seconds = time.perf_counter() - began
    _, arrays = read_explanation(work / "uci_exp")
    per_position = arrays["attributions"].sum(axis=1)  # (N, L)
    top = per_position.argmax(axis=1)
    mean = per_position.mean(axis=0)
    figures = {
        "sequences": int(len(top)),
        "seconds": round(seconds, 1),
        "sequences_per_second": round(len(top) / seconds, 1),
        "fraction_top_on_GT": float(np.isin(top, GT).mean()),
        "fraction_top_in_donor_9mer": float(np.isin(top, list(DONOR_9MER)).mean()),
        "top_mean_positions_0based": [int(i) for i in np.argsort(mean)[::-1][:3]],
        "logos": summary["logos"],
    }
    _keep_logo(work / "uci_exp", summary, args.logos, "explain_uci_donor")
    return figures


def tata(work: Path, args) -> dict:
    bundle = trained(TATA / "train.csv", work / "tata_run", args, valid=TATA / "dev.csv")
    began = time.perf_counter()
    # MoDISco needs a few hundred sequences with a signal: the 2,452 training promoters (the 309 of the test split
    # give too few seqlets); what the model learned is the question, not how it generalises
    summary = explain(bundle, TATA / "train.csv", work / "tata_exp", method="deeplift_shap", label="1", logos=1)
    seconds = time.perf_counter() - began
    motifs = run_motifs(work / "tata_exp", work / "tata_mot")
    rows = list(csv.DictReader(open(work / "tata_mot" / "motifs.tsv"), delimiter="\t"))
    tbp = [r for r in rows if "TBP" in (r.get("match_name") or "").upper()]
    best = min(tbp, key=lambda r: float(r["q_value"])) if tbp else None
    _keep_logo(work / "tata_exp", summary, args.logos, "explain_gue_tata")
    if args.logos:
        logos = sorted((work / "tata_mot" / "logos").glob("*.png"))
        if best is not None:
            logos = [p for p in logos if p.stem == best["motif"]] or logos
        if logos:
            shutil.copy(logos[0], Path(args.logos) / "motif_gue_tata.png")
    return {
        "sequences": summary["n"],
        "explain_seconds": round(seconds, 1),
        "motifs": [
            {k: r[k] for k in ("motif", "seqlets", "consensus", "rank", "match_id", "match_name", "q_value")}
            for r in rows
            if r.get("rank") in ("1", "")
        ],
        "tbp": None if best is None else {k: best[k] for k in ("motif", "seqlets", "rank", "match_id", "q_value")},
        "summary_motifs": motifs.get("motifs"),
    }


def _keep_logo(exp: Path, summary: dict, folder: str | None, name: str) -> None:
    if folder and summary["logos"]:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(exp / "logos" / f"{summary['logos'][0]}.png", Path(folder) / f"{name}.png")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=("uci", "tata"), default=["uci", "tata"])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--logos", help="copy one attribution logo per task (and the TBP motif logo) here")
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    report = {"settings": vars(args)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "uci" in args.tasks:
            report["uci_splice_donor"] = uci(work, args)
            print(f"UCI splice, donor (EI): {json.dumps(report['uci_splice_donor'], indent=1)}", flush=True)
        if "tata" in args.tasks:
            if not (TATA / "train.csv").is_file():
                print(f"skipped GUE tata: {TATA} is absent", file=sys.stderr)
            else:
                report["gue_tata"] = tata(work, args)
                print(f"GUE prom_core_tata: {json.dumps(report['gue_tata'], indent=1)}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
