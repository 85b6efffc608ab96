"""Accuracy of bioseq's models on real promoter and splice-site benchmarks.

Usage::

    python benchmarks/quality.py                         # every dataset and model
    python benchmarks/quality.py --datasets uci_splice --models cnn lstm
    python benchmarks/quality.py --max-folds 2 --epochs 5   # a quicker, partial run
    python benchmarks/quality.py --folds 2 3 4 ...          # only these folds (0-based) of CV tasks
    python benchmarks/quality.py --seeds 0 1 2 ...          # mean and spread over seeds
    python benchmarks/quality.py --models lstm+transformer  # an ensemble of the two (bioseq ensemble)
    python benchmarks/quality.py --write-docs               # only rewrite the docs table

Data come from ``../shared/data`` (or ``$BIOSEQ_SHARED_DATA``); see its
README for provenance and published baselines. Splits follow the data: GUE
train/dev/test (select on dev, report test once); sets without a split get
stratified k-fold cross-validation with a fixed seed (10-fold for UCI splice,
5-fold for splice42 and CNNProm), and the figure is the mean and standard
deviation over folds (and seeds). Results are appended to
``benchmarks/results/quality.jsonl`` (one JSON line per task, model, seed and
fold, as each run finishes, with wall time, hardware and versions; lines that
only add seeds or folds pool into one row) and the table is printed as
Markdown; ``--write-docs`` rewrites the accuracy table of ``docs/benchmarks.md``
(between its ``quality:begin``/``quality:end`` markers) from the latest line
of each task and model in the JSON lines file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bioseq.bundle import save_ensemble
from bioseq.evaluate.bundle_eval import evaluate_bundle
from bioseq.io.labels import LabelledSequences
from bioseq.io.tables import read_fasta_classes, read_labelled, write_table
from bioseq.train.config import config_from_options
from bioseq.train.fit import train

ROOT = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("BIOSEQ_SHARED_DATA", ROOT.parent.parent / "shared" / "data"))
RESULTS = ROOT / "results" / "quality.jsonl"
DOCS = ROOT.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- quality:begin -->", "<!-- quality:end -->"


@dataclasses.dataclass(frozen=True)
class Task:
    """One benchmark: how to read it, how to split it, which metric to report."""

    name: str
    metric: str
    folds: int  # 0 = fixed train/dev/test files
    published: str
    epochs: int = 20  # bioseq's default; fewer where a Transformer run would pass 30 min on 2 CPU cores


TASKS = {
    "gue_prom_core_all": Task("gue_prom_core_all", "mcc", 0, "DNABERT-2 0.694, DNABERT-3mer 0.709 (MCC)", 12),
    "gue_prom_core_notata": Task("gue_prom_core_notata", "mcc", 0, "DNABERT-2 0.680, DNABERT-3mer 0.698", 12),
    "gue_prom_core_tata": Task("gue_prom_core_tata", "mcc", 0, "DNABERT-2 0.742, DNABERT-3mer 0.782"),
    "uci_splice": Task("uci_splice", "accuracy", 10, "KBANN ~0.94 (10-fold CV accuracy)"),
    "splice42_dm_don_n1": Task("splice42_dm_don_n1", "accuracy", 5, "WAM2 0.942, PWM 0.927", 10),
    "splice42_dm_acc_n2": Task("splice42_dm_acc_n2", "accuracy", 5, "WAM2 0.827, PWM 0.761", 10),
    "splice42_dm_don_n3": Task("splice42_dm_don_n3", "accuracy", 5, "WAM2 0.700", 10),
    "cnnprom_ecoli": Task("cnnprom_ecoli", "mcc", 5, "CNNProm CC 0.84"),
    "cnnprom_bsubtilis": Task("cnnprom_bsubtilis", "mcc", 5, "CNNProm CC 0.86"),
}

# Every model trains with bioseq's defaults (a user gets what the table shows); only the epochs
# (--epochs, or each task's budget that fits 30 minutes on 2 CPU cores) and --override differ.
MODELS = ("cnn", "lstm", "transformer", "kmer_logistic")


def load(name: str) -> tuple[LabelledSequences, LabelledSequences | None, LabelledSequences | None]:
    """The data of a task: (train, dev, test) for GUE; (all, None, None) for CV sets."""
    if name.startswith("gue_"):
        folder = SHARED / "promoters" / name
        train_set = read_labelled(folder / "train.csv")
        return (
            train_set,
            read_labelled(folder / "dev.csv", classes=list(train_set.classes)),
            read_labelled(folder / "test.csv", classes=list(train_set.classes)),
        )
    if name == "uci_splice":  # the same file ships in data/ (Debian r-cran-mlbench, GPL-2)
        path = SHARED / "splice" / "uci_splice" / "splice_statlog_decoded.csv"
        return read_labelled(path if path.is_file() else ROOT.parent / "data" / "uci_splice.csv"), None, None
    if name.startswith("splice42_"):
        _, species, kind, decoy = name.split("_")
        folder = SHARED / "splice" / "splice42"
        return (
            read_fasta_classes(
                {"decoy": folder / f"{species}.{decoy}{kind}.fa.gz", "site": folder / f"{species}.{kind}.fa.gz"}
            ),
            None,
            None,
        )
    if name.startswith("cnnprom_"):
        folder = SHARED / "promoters" / "cnnprom"
        stem = {"ecoli": "Ecoli", "bsubtilis": "Bacillus"}[name.removeprefix("cnnprom_")]
        return (
            read_fasta_classes(
                {"non_promoter": folder / f"{stem}_non_prom.fa", "promoter": folder / f"{stem}_prom.fa"}
            ),
            None,
            None,
        )
    raise KeyError(name)


def stratified_folds(data: LabelledSequences, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (train index, test index) pairs with a fixed seed."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(data)), data.labels))


def model_spec(text: str) -> str:
    """A ``--models`` entry: a model of MODELS, or several joined by ``+`` (an ensemble of them)."""
    parts = text.split("+")
    unknown = [part for part in parts if part not in MODELS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown model {unknown[0]!r} in {text!r}; choose from {', '.join(MODELS)}"
            " or join several with '+' (an ensemble of them)"
        )
    return text


def run_one(
    model: str, train_set, valid_set, test_set, work: Path, epochs: int, seed: int, settings: dict | None = None
) -> dict:
    """Train ``model`` (or each model of ``a+b+...``, then average them) and score the test set.

    The members of an ensemble train with the same seed, so they share the
    validation split; the ensemble is ``bioseq ensemble`` of their bundles
    (:func:`bioseq.bundle.save_ensemble`), evaluated like any bundle.
    """
    paths = {}
    for split, part in (("train", train_set), ("valid", valid_set), ("test", test_set)):
        if part is not None:
            paths[split] = work / f"{split}.csv"
            write_table(part, paths[split])
    start = time.perf_counter()
    members = model.split("+")
    results = []
    for name in members:
        options = {
            "model": name,
            "epochs": epochs,
            "seed": seed,
            "out": work / (name if len(members) > 1 else "run"),
            **(settings or {}),
            **paths,
        }
        results.append(train(config_from_options(options)))
    batches = sorted({b for b in (_batch_size(result.bundle_dir) for result in results) if b is not None})
    if len(members) == 1:
        return {"metrics": results[0].metrics, "seconds": time.perf_counter() - start, "batch_sizes": batches}
    bundle = save_ensemble(work / "ensemble", [result.bundle_dir for result in results])
    test = evaluate_bundle(bundle, paths["test"], out=work / "ensemble_test", plots=False)
    return {
        "metrics": {"test": test},
        "seconds": time.perf_counter() - start,
        "batch_sizes": batches,
        "members": [result.metrics["test"] for result in results],
    }


def _batch_size(bundle_dir: Path) -> int | None:
    """The batch size a run trained with, as its bundle recorded it (None for the k-mer baseline)."""
    training = json.loads((Path(bundle_dir) / "config.json").read_text(encoding="utf-8")).get("training") or {}
    return training.get("batch_size")


def evaluate_task(
    task: Task,
    model: str,
    *,
    epochs: int,
    seed: int,
    max_folds: int | None = None,
    folds: list[int] | None = None,
    override: dict | None = None,
) -> dict:
    """One JSON line: ``model`` on ``task`` trained with ``seed`` (on the test split, or on CV folds).

    CV tasks run ``folds`` (0-based fold numbers), else the first
    ``max_folds``, else every fold; the folds are always those of fold seed 0,
    so that seeds vary only the training. The line's ``runs`` gives the
    ``[seed, fold]`` of each value (fold None for a fixed split).
    """
    train_set, dev_set, test_set = load(task.name)
    settings = dict(override or {})  # over bioseq's defaults
    scores, seconds, batches, runs = [], [], set(), []
    members = {name: [] for name in model.split("+")} if "+" in model else {}  # each member's own test scores
    with tempfile.TemporaryDirectory(prefix="bioseq-quality-") as tmp:
        if task.folds == 0:
            out = run_one(model, train_set, dev_set, test_set, Path(tmp) / f"seed{seed}", epochs, seed, settings)
            _record(out, task.metric, scores, seconds, batches, members)
            runs.append([seed, None])
            protocol = "GUE train/dev/test: select on dev, test once"
        else:
            splits = stratified_folds(train_set, task.folds, 0)
            for i in fold_numbers(task, max_folds, folds):
                fit_index, test_index = splits[i]
                fold_dir = Path(tmp) / f"seed{seed}_fold{i}"
                fold_dir.mkdir(parents=True)
                out = run_one(
                    model,
                    train_set.subset(fit_index),
                    None,
                    train_set.subset(test_index),
                    fold_dir,
                    epochs,
                    seed,
                    settings,
                )
                _record(out, task.metric, scores, seconds, batches, members)
                runs.append([seed, i])
            protocol = cv_protocol(task)
    return {
        "task": task.name,
        "model": model,
        "label": label(model, override),
        "metric": task.metric,
        "mean": float(np.mean(scores)),
        "sd": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
        "values": scores,
        "runs": runs,
        "seconds_per_run": float(np.mean(seconds)),
        "protocol": protocol,
        "epochs": epochs,
        "batch_sizes": sorted(batches),
        "seeds": [seed],
        **({"members": members} if members else {}),
        "settings": {k: v for k, v in settings.items()},
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "published": task.published,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "date": time.strftime("%Y-%m-%d"),
    }


def cv_protocol(task: Task) -> str:
    """The protocol of a CV task, without which folds ran (:func:`protocol_column` adds those)."""
    return f"stratified {task.folds}-fold CV (fold seed 0)"


def fold_numbers(task: Task, max_folds: int | None = None, folds: list[int] | None = None) -> list[int]:
    """The 0-based folds of a CV task to run: ``folds``, else the first ``max_folds``, else all.

    Raises
    ------
    ValueError
        On a fold number outside ``0 .. task.folds - 1``, or ``max_folds < 1``.
    """
    if folds is not None:
        wrong = [i for i in folds if not 0 <= i < task.folds]
        if wrong:
            raise ValueError(
                f"fold {wrong[0]} does not exist in {task.name}: its {task.folds} folds are "
                f"numbered 0 to {task.folds - 1}"
            )
        return list(dict.fromkeys(folds))
    if max_folds is not None and max_folds < 1:
        raise ValueError(f"--max-folds must be at least 1, got {max_folds}")
    return list(range(min(max_folds or task.folds, task.folds)))


def _record(out: dict, metric: str, scores: list, seconds: list, batches: set, members: dict) -> None:
    """Add one run's results (``run_one``'s return) to the lists of a row."""
    scores.append(out["metrics"]["test"][metric])
    seconds.append(out["seconds"])
    batches.update(out["batch_sizes"])
    for name, test in zip(members, out.get("members", ())):
        members[name].append(test[metric])


def label(model: str, override: dict | None) -> str:
    """The model's name in the table: with the settings that differ from bioseq's defaults, if any."""
    if not override:
        return model
    parts = [f"{key}={json.dumps(value, separators=(',', ':'))}" for key, value in override.items()]
    return f"{model} ({', '.join(parts)})"


def latest_rows(path: Path = RESULTS) -> list[dict]:
    """The last recorded line of each (task, model label), in TASKS then MODELS order.

    A line that repeats the runs of the line before it under other seeds or
    folds (same protocol, epochs, batch sizes and settings; no (seed, fold)
    run in common), as ``--seeds 1 2`` after ``--seeds 0`` or ``--folds 2 3 4``
    after ``--max-folds 2`` does, is pooled with it into one row.
    """
    latest: dict[tuple[str, str], dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                key = row["task"], row.get("label", row["model"])
                latest[key] = pool(latest[key], row) if key in latest and poolable(latest[key], row) else row
    order = {name: i for i, name in enumerate(TASKS)}
    models = {name: i for i, name in enumerate(MODELS)}
    return sorted(
        latest.values(),
        key=lambda r: (order.get(r["task"], 99), models.get(r["model"], 99), r.get("label", r["model"])),
    )


SAME_RUN = ("epochs", "settings", "metric")
"""The fields two lines must share to be runs of one row (with the protocol and the batch size, see
:func:`base_protocol` and :func:`batch_column`)."""

_FOLDS_RUN = re.compile(r", \d+ fold\(s\) run$")


def base_protocol(row: dict) -> str:
    """The protocol without which folds ran (lines before per-fold lines ended in ", N fold(s) run")."""
    return _FOLDS_RUN.sub("", row["protocol"])


def run_ids(row: dict) -> list[tuple[int, int | None]]:
    """The (seed, fold) of each value of a line; fold None on a fixed split.

    Lines written before ``runs`` was recorded ran the first ``len(values) /
    len(seeds)`` folds of each of their seeds, in that order.
    """
    if "runs" in row:
        return [(seed, fold) for seed, fold in row["runs"]]
    seeds = row.get("seeds", [row.get("seed", 0)])
    if not _FOLDS_RUN.search(row["protocol"]):
        return [(seed, None) for seed in seeds]
    per_seed = len(row["values"]) // len(seeds)
    return [(seed, fold) for seed in seeds for fold in range(per_seed)]


def poolable(earlier: dict, later: dict) -> bool:
    """Whether ``later`` repeats ``earlier``'s runs under new seeds or folds only."""
    return (
        all(earlier.get(field) == later.get(field) for field in SAME_RUN)
        and base_protocol(earlier) == base_protocol(later)
        and batch_column(earlier) == batch_column(later)
        and not set(run_ids(earlier)) & set(run_ids(later))
    )


def pool(earlier: dict, later: dict) -> dict:
    """One row holding the runs of both lines (mean, sd and s/run over all runs; the later line's date)."""
    values = list(earlier["values"]) + list(later["values"])
    runs = run_ids(earlier) + run_ids(later)
    n_early, n_late = len(earlier["values"]), len(later["values"])
    row = {
        **later,
        "values": values,
        "runs": [list(run) for run in runs],
        "seeds": list(dict.fromkeys(seed for seed, _ in runs)),
        "protocol": base_protocol(later),
        "mean": float(np.mean(values)),
        "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "seconds_per_run": (earlier["seconds_per_run"] * n_early + later["seconds_per_run"] * n_late)
        / (n_early + n_late),
    }
    row.pop("members", None)
    if earlier.get("members") and later.get("members") and list(earlier["members"]) == list(later["members"]):
        row["members"] = {
            name: list(earlier["members"][name]) + list(later["members"][name]) for name in later["members"]
        }
    return row


def protocol_column(row: dict) -> str:
    """The protocol, and for CV which folds ran: "5 fold(s) run" when every seed ran folds 0 to 4, else
    the fold numbers (per seed where the seeds differ)."""
    runs = run_ids(row)
    if all(fold is None for _, fold in runs):
        return row["protocol"]
    per_seed: dict[int, list[int]] = {}
    for seed, fold in runs:
        per_seed.setdefault(seed, []).append(fold)
    sets = {tuple(sorted(set(folds))) for folds in per_seed.values()}
    if len(sets) == 1:
        (folds,) = sets
        ran = f"{len(folds)} fold(s) run" if folds == tuple(range(len(folds))) else f"{_fold_list(folds)} run"
    else:
        ran = "; ".join(f"seed {seed}: {_fold_list(sorted(set(folds)))}" for seed, folds in per_seed.items())
    return f"{base_protocol(row)}, {ran}"


def _fold_list(numbers) -> str:
    """Sorted fold numbers in words: [4] -> "fold 4", [0, 1, 2, 4] -> "folds 0-2, 4"."""
    return f"fold {numbers[0]}" if len(numbers) == 1 else f"folds {_spans(numbers)}"


def _spans(numbers) -> str:
    """Sorted integers as spans: [0, 1, 2, 4] -> "0-2, 4"."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| data | metric | model | value (mean ± sd, n runs) | protocol | epochs | batch | seeds | s/run | "
        "published | date |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        seeds = r.get("seeds", [r.get("seed", 0)])
        lines.append(
            f"| {r['task']} | {r['metric']} | {r.get('label', r['model'])} | {r['mean']:.3f} ± {r['sd']:.3f} "
            f"({len(r['values'])}){members_note(r)} | {protocol_column(r)} | {r['epochs']} | {batch_column(r)} | "
            f"{' '.join(map(str, seeds))} | {r['seconds_per_run']:.0f} | {r['published']} | {r['date']} |"
        )
    return "\n".join(lines)


def members_note(row: dict) -> str:
    """For an ensemble row that recorded them, its members' own mean scores on the same runs."""
    members = row.get("members") or {}
    if not members:
        return ""
    return "; members " + ", ".join(f"{name} {np.mean(values):.3f}" for name, values in members.items())


def batch_column(row: dict) -> str:
    """The batch size(s) of a row; lines written before quality.py recorded it trained with batch 128
    (bioseq's only default then) unless their settings gave one. The k-mer baseline has none."""
    from bioseq.models.registry import model_kind

    if all(model_kind(name).trainer != "lightning" for name in row["model"].split("+")):  # fitted in one call
        return "-"
    sizes = row.get("batch_sizes") or [row.get("settings", {}).get("batch_size", 128)]
    return " ".join(map(str, sizes))


def write_docs(rows: list[dict], docs: Path = DOCS) -> None:
    """Replace the table between the markers of ``docs`` (written whole, via a temporary file)."""
    text = docs.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"quality.py: {docs} lacks the markers {BEGIN} and {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{markdown_table(rows)}\n{END}{tail}"
    temporary = docs.with_suffix(".md.tmp")
    temporary.write_text(new, encoding="utf-8")
    temporary.replace(docs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(MODELS),
        type=model_spec,
        metavar="MODEL",
        help=f"models of {', '.join(MODELS)}; 'a+b' is the ensemble of a and b "
        "(each trained, their probabilities averaged)",
    )
    parser.add_argument("--epochs", type=int, help="training epochs (default: each task's budget, see TASKS)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--max-folds", type=int, help="run only the first N folds of CV tasks")
    which.add_argument(
        "--folds",
        type=int,
        nargs="+",
        metavar="I",
        help="run only these folds (numbered from 0) of CV tasks, e.g. the ones a stopped run had not reached",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (default 0)")
    parser.add_argument(
        "--override",
        type=json.loads,
        default=None,
        metavar="JSON",
        help='training settings over the defaults, e.g. \'{"lr": 5e-4, "model_options": {"d_model": 96}}\'',
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help=f"JSON lines file to append to (default {RESULTS})"
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help=f"only rewrite the table in {DOCS.name} from {RESULTS.name}; train nothing",
    )
    args = parser.parse_args(argv)
    if args.write_docs:
        write_docs(latest_rows())
        print(f"quality.py: wrote the accuracy table of {DOCS}", file=sys.stderr)
        return 0
    if not SHARED.is_dir():
        print(f"quality.py: the shared data folder {SHARED} is absent", file=sys.stderr)
        return 1
    tasks = [TASKS[name] for name in args.datasets]
    try:  # every fold number checked before anything trains
        plans = {task.name: fold_numbers(task, args.max_folds, args.folds) if task.folds else [None] for task in tasks}
    except ValueError as error:
        print(f"quality.py: {error}", file=sys.stderr)
        return 2
    args.results.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for task in tasks:
        for model in args.models:
            pooled = None
            # a line per seed and fold, written as it finishes: a run stopped early keeps what it finished
            for seed, fold in [(seed, fold) for seed in args.seeds for fold in plans[task.name]]:
                row = evaluate_task(
                    task,
                    model,
                    epochs=args.epochs or task.epochs,
                    seed=seed,
                    folds=None if fold is None else [fold],
                    override=args.override,
                )
                with open(args.results, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(row) + "\n")
                print(markdown_table([row]).splitlines()[-1], flush=True)
                pooled = row if pooled is None else pool(pooled, row)
            rows.append(pooled)
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
