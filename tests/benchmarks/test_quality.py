"""A reduced run of benchmarks/quality.py: the accuracy of bioseq's defaults must not regress.

UCI splice-junction (bundled in data/, so the test runs without ../shared):
the first 2 of the 10 stratified folds, 8 epochs. The Transformer with bioseq's
default settings reaches 0.93-0.96 per fold in the full benchmark and the k-mer
logistic baseline 0.63-0.73; the test asks for 0.90 and a 0.20 margin over the
baseline measured in the same run.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("bioseq_benchmark_quality", REPO / "benchmarks" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def reduced_rows(quality):
    task = quality.TASKS["uci_splice"]
    return {
        model: quality.evaluate_task(task, model, epochs=8, max_folds=2, seed=0)
        for model in ("transformer", "kmer_logistic")
    }


@pytest.mark.slow
def test_default_transformer_keeps_a_clear_margin_over_the_kmer_baseline(reduced_rows):
    transformer, kmer = reduced_rows["transformer"], reduced_rows["kmer_logistic"]
    assert len(transformer["values"]) == 2 and transformer["protocol"].startswith("stratified 10-fold CV")
    assert transformer["settings"] == {} and transformer["metric"] == "accuracy"  # bioseq's defaults
    assert transformer["batch_sizes"] == [32] and kmer["batch_sizes"] == []  # ~2,300 training sequences
    assert min(transformer["values"]) >= 0.90, transformer["values"]
    assert transformer["mean"] >= kmer["mean"] + 0.20, (transformer["mean"], kmer["mean"])
    assert 0.55 <= kmer["mean"] <= 0.80, kmer["values"]  # the baseline itself is sane


@pytest.mark.slow
def test_rows_make_the_docs_table(quality, reduced_rows, tmp_path):
    results = tmp_path / "quality.jsonl"
    with open(results, "w") as handle:
        for row in reduced_rows.values():
            handle.write(json.dumps(row) + "\n")
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\nbefore\n{quality.BEGIN}\nold table\n{quality.END}\nafter\n")
    quality.write_docs(quality.latest_rows(results), docs)
    text = docs.read_text()
    assert "old table" not in text and text.startswith("# Benchmarks\n\nbefore\n") and text.endswith("after\n")
    lines = [line for line in text.splitlines() if line.startswith("| uci_splice")]
    assert [line.split(" | ")[2] for line in lines] == ["transformer", "kmer_logistic"]
    assert [line.split(" | ")[6] for line in lines] == ["32", "-"]  # the batch column
    assert quality.batch_column({"model": "cnn", "settings": {}}) == "128"  # lines from before it was recorded
    bad = tmp_path / "plain.md"
    bad.write_text("no markers\n")
    with pytest.raises(SystemExit, match="lacks the markers"):
        quality.write_docs([], bad)


def test_a_plus_joined_model_is_the_ensemble_of_its_members(quality):
    import argparse

    assert quality.model_spec("cnn+kmer_logistic") == "cnn+kmer_logistic"
    with pytest.raises(argparse.ArgumentTypeError, match="unknown model 'cnnn' in 'lstm\\+cnnn'"):
        quality.model_spec("lstm+cnnn")
    row = quality.evaluate_task(quality.TASKS["uci_splice"], "cnn+kmer_logistic", epochs=1, max_folds=1, seed=0)
    assert row["label"] == "cnn+kmer_logistic" and len(row["values"]) == 1
    assert 0.5 <= row["mean"] <= 1.0 and row["batch_sizes"] == [32]
    assert list(row["members"]) == ["cnn", "kmer_logistic"] and all(len(v) == 1 for v in row["members"].values())
    assert all(0.0 <= v[0] <= 1.0 for v in row["members"].values())
    table = quality.markdown_table([row])
    assert f"; members cnn {row['members']['cnn'][0]:.3f}, kmer_logistic " in table


def test_new_seeds_of_the_same_runs_pool_into_one_row(quality, tmp_path):
    base = {
        "task": "uci_splice",
        "model": "lstm+cnn",
        "label": "lstm+cnn",
        "metric": "accuracy",
        "protocol": "stratified 10-fold CV (fold seed 0), 1 fold(s) run",
        "epochs": 20,
        "batch_sizes": [32],
        "settings": {},
        "date": "2026-11-27",
        "published": "-",
    }
    lines = [
        {
            **base,
            "seeds": [0],
            "values": [0.90],
            "mean": 0.90,
            "sd": 0.0,
            "seconds_per_run": 10.0,
            "members": {"lstm": [0.8], "cnn": [0.85]},
        },
        {
            **base,
            "seeds": [1, 2],
            "values": [0.92, 0.94],
            "mean": 0.93,
            "sd": 0.014,
            "seconds_per_run": 40.0,
            "members": {"lstm": [0.82, 0.84], "cnn": [0.86, 0.88]},
        },
        {
            **base,
            "model": "lstm",
            "label": "lstm",
            "seeds": [0],
            "values": [0.8],
            "mean": 0.8,
            "sd": 0.0,
            "seconds_per_run": 5.0,
        },
        {
            **base,
            "model": "lstm",
            "label": "lstm",
            "seeds": [0, 1],
            "values": [0.7, 0.9],
            "mean": 0.8,
            "sd": 0.14,
            "seconds_per_run": 5.0,
        },  # seed 0 again: a new measurement, which replaces the line before
        {
            **base,
            "model": "cnn",
            "label": "cnn",
            "seeds": [0],
            "values": [0.8],
            "mean": 0.8,
            "sd": 0.0,
            "seconds_per_run": 5.0,
        },
        {
            **base,
            "model": "cnn",
            "label": "cnn",
            "seeds": [1],
            "values": [0.9],
            "mean": 0.9,
            "sd": 0.0,
            "seconds_per_run": 5.0,
            "epochs": 10,
        },  # other epochs: not the same runs
    ]
    results = tmp_path / "q.jsonl"
    results.write_text("".join(json.dumps(line) + "\n" for line in lines))
    rows = {row["label"]: row for row in quality.latest_rows(results)}
    pooled = rows["lstm+cnn"]
    assert pooled["seeds"] == [0, 1, 2] and pooled["values"] == [0.90, 0.92, 0.94]
    assert pooled["mean"] == pytest.approx(0.92) and pooled["sd"] == pytest.approx(0.02)
    assert pooled["seconds_per_run"] == pytest.approx((10 + 40 + 40) / 3)
    assert pooled["members"] == {"lstm": [0.8, 0.82, 0.84], "cnn": [0.85, 0.86, 0.88]}
    assert rows["lstm"]["values"] == [0.7, 0.9] and rows["cnn"]["values"] == [0.9]
    assert "; members lstm 0.820, cnn 0.863" in quality.markdown_table([pooled])
    # a line without member scores pools, but the row then claims none; a line from before batch
    # sizes were recorded trained with 128
    lines[0].pop("members")
    results.write_text("".join(json.dumps(line) + "\n" for line in lines[:2]))
    assert "members" not in quality.latest_rows(results)[0]
    lines[0].pop("batch_sizes")
    results.write_text("".join(json.dumps(line) + "\n" for line in lines[:2]))
    assert quality.latest_rows(results)[0]["values"] == [0.92, 0.94]  # 128 then 32: not the same runs
    lines[1]["batch_sizes"] = [128]
    results.write_text("".join(json.dumps(line) + "\n" for line in lines[:2]))
    assert quality.latest_rows(results)[0]["seeds"] == [0, 1, 2]


def test_each_seed_is_written_as_it_finishes_so_a_stopped_run_keeps_them(quality, tmp_path, monkeypatch, capsys):
    def fake_evaluate(task, model, *, epochs, seed, folds=None, override=None):
        if seed == 2:
            raise KeyboardInterrupt  # the run is stopped during seed 2
        return {
            "task": task.name,
            "model": model,
            "label": model,
            "metric": "mcc",
            "mean": 0.9 + seed / 100,
            "sd": 0.0,
            "values": [0.9 + seed / 100],
            "runs": [[seed, None]],
            "seconds_per_run": 1.0,
            "protocol": "p",
            "epochs": epochs,
            "batch_sizes": [32],
            "seeds": [seed],
            "settings": {},
            "published": "-",
            "date": "2026-11-27",
        }

    monkeypatch.setattr(quality, "SHARED", tmp_path)
    monkeypatch.setattr(quality, "evaluate_task", fake_evaluate)
    results = tmp_path / "q.jsonl"
    with pytest.raises(KeyboardInterrupt):
        quality.main(
            ["--datasets", "gue_prom_core_tata", "--models", "cnn", "--seeds", "0", "1", "2", "--results", str(results)]
        )
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert [line["seeds"] for line in lines] == [[0], [1]]
    (row,) = quality.latest_rows(results)
    assert row["seeds"] == [0, 1] and row["mean"] == pytest.approx(0.905)
    # run to the end, the printed table pools the seeds of this run into one row
    monkeypatch.setattr(quality, "evaluate_task", lambda *a, seed, **k: fake_evaluate(*a, seed=seed + 3, **k))
    capsys.readouterr()
    assert (
        quality.main(
            ["--datasets", "gue_prom_core_tata", "--models", "cnn", "--seeds", "0", "1", "--results", str(results)]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines()[-1].startswith("| gue_prom_core_tata | mcc | cnn | 0.935 ± 0.007 (2)")


def test_each_fold_is_a_line_and_later_folds_pool_with_the_first(quality, tmp_path, monkeypatch, capsys):
    calls, stop = [], [(0, 3)]

    def fake_evaluate(task, model, *, epochs, seed, folds=None, override=None):
        (fold,) = folds
        calls.append((seed, fold))
        if (seed, fold) in stop:
            stop.clear()
            raise KeyboardInterrupt  # the first run is stopped during fold 3
        value = 0.9 + fold / 100 + seed / 1000
        return {
            "task": task.name,
            "model": model,
            "label": model,
            "metric": "accuracy",
            "mean": value,
            "sd": 0.0,
            "values": [value],
            "runs": [[seed, fold]],
            "seconds_per_run": 1.0,
            "protocol": quality.cv_protocol(task),
            "epochs": epochs,
            "batch_sizes": [32],
            "seeds": [seed],
            "settings": {},
            "published": "-",
            "date": "2026-11-28",
        }

    monkeypatch.setattr(quality, "SHARED", tmp_path)
    monkeypatch.setattr(quality, "evaluate_task", fake_evaluate)
    results = tmp_path / "q.jsonl"
    run = ["--datasets", "cnnprom_ecoli", "--models", "cnn", "--results", str(results)]
    with pytest.raises(KeyboardInterrupt):
        quality.main(run)
    assert calls == [(0, 0), (0, 1), (0, 2), (0, 3)]
    (row,) = quality.latest_rows(results)
    assert row["values"] == [0.9, 0.91, 0.92] and quality.protocol_column(row).endswith(", 3 fold(s) run")
    # the folds it had not reached, then a second seed on two folds
    assert quality.main(run + ["--folds", "3", "4"]) == 0
    assert quality.main(run + ["--folds", "1", "0", "--seeds", "1"]) == 0
    (row,) = quality.latest_rows(results)
    assert [tuple(r) for r in row["runs"]] == [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 1), (1, 0)]
    assert row["seeds"] == [0, 1] and len(row["values"]) == 7
    assert row["mean"] == pytest.approx((0.9 + 0.91 + 0.92 + 0.93 + 0.94 + 0.911 + 0.901) / 7)
    assert quality.protocol_column(row) == ("stratified 5-fold CV (fold seed 0), seed 0: folds 0-4; seed 1: folds 0-1")
    # a fold run again is a new measurement: it replaces what came before
    assert quality.main(run + ["--folds", "4"]) == 0
    (row,) = quality.latest_rows(results)
    assert row["runs"] == [[0, 4]] and quality.protocol_column(row).endswith(", fold 4 run")
    assert capsys.readouterr().out.splitlines()[-1].startswith("| cnnprom_ecoli | accuracy | cnn | 0.940 ± 0.000 (1)")
    # fold numbers are checked before anything trains
    calls.clear()
    assert quality.main(run + ["--folds", "0", "5"]) == 2
    assert (
        calls == []
        and "fold 5 does not exist in cnnprom_ecoli: its 5 folds are numbered 0 to 4" in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        quality.main(run + ["--folds", "1", "--max-folds", "2"])  # one or the other


def test_lines_from_before_per_fold_lines_pool_with_new_ones(quality):
    old = {
        "task": "uci_splice",
        "model": "cnn",
        "metric": "accuracy",
        "epochs": 20,
        "settings": {},
        "batch_sizes": [32],
        "protocol": "stratified 10-fold CV (fold seed 0), 2 fold(s) run",
        "seeds": [0, 1],
        "values": [0.91, 0.92, 0.93, 0.94],
        "seconds_per_run": 2.0,
    }
    assert quality.run_ids(old) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert quality.protocol_column(old) == old["protocol"]
    new = {**old, "protocol": "stratified 10-fold CV (fold seed 0)", "seeds": [0], "values": [0.95], "runs": [[0, 2]]}
    assert quality.poolable(old, new) and not quality.poolable(old, {**new, "runs": [[1, 1]]})
    row = quality.pool(old, new)
    assert quality.protocol_column(row) == "stratified 10-fold CV (fold seed 0), seed 0: folds 0-2; seed 1: folds 0-1"
    gue = {**old, "protocol": "GUE train/dev/test: select on dev, test once", "values": [0.7, 0.71]}
    assert quality.run_ids(gue) == [(0, None), (1, None)] and quality.protocol_column(gue) == gue["protocol"]
    assert quality._spans([0, 1, 2, 4, 6, 7]) == "0-2, 4, 6-7"
