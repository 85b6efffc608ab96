"""Tests of the Snakemake workflow in ``workflows/``: lint, dry runs, a tiny real run, an interrupted run.

Each test runs ``snakemake`` in a fresh working directory laid out like the
repository (``main/data`` -> the bundled data, ``shared/data`` -> the shared
data beside the repository), so the configs' relative paths hold and nothing
is written into the checkout. The real runs use a few hundred UCI splice
sequences and the smallest models; the full default run is measured by hand
(see workflows/README.md).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("snakemake")

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "workflows"
SNAKEFILE = WORKFLOW / "Snakefile"
DEFAULT_PROFILE = WORKFLOW / "profiles" / "default"
SLURM_PROFILE = WORKFLOW / "profiles" / "slurm"


def snakemake(workdir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run snakemake on the workflow in ``workdir``; stdout and stderr together in ``.stdout``."""
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), *args]
    return subprocess.run(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a snakemake run: rule -> number of jobs."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)}


@pytest.fixture()
def workdir(tmp_path: Path, shared_data_dir) -> Path:
    """``tmp/main`` with ``data`` -> the repository's data/ and ``tmp/shared/data`` -> the shared data."""
    main = tmp_path / "main"
    main.mkdir()
    (main / "data").symlink_to(REPO / "data", target_is_directory=True)
    if shared_data_dir is not None:
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "data").symlink_to(shared_data_dir, target_is_directory=True)
    return main


@pytest.fixture()
def shared_data_dir(request) -> Path | None:
    """The shared data folder when the test asks for it (``shared_data``), else None."""
    if "shared_data" in request.fixturenames:
        return request.getfixturevalue("shared_data")
    return None


@pytest.fixture(scope="module")
def bioseq_commands() -> None:
    """The workflow's rules call ``bioseq`` from PATH: fail clearly when it is not installed there."""
    found = shutil.which("bioseq")
    assert found, "no 'bioseq' on PATH: install the package (pip install -e .) before the workflow tests"
    status = subprocess.run([found, "compare", "--help"], capture_output=True, text=True)
    assert status.returncode == 0, f"'{found} compare --help' failed:\n{status.stderr}"


def write_config(workdir: Path, config: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def small_table(path: Path, *, every: int = 8, bad: bool = False) -> Path:
    """Every ``every``-th row of the bundled UCI splice table (about 400 of 60 bp, 3 classes)."""
    rows = (REPO / "data" / "uci_splice.csv").read_text().splitlines()
    kept = [rows[0], *rows[1::every]]
    if bad:  # a letter that is no IUPAC code: bioseq refuses the file
        kept[5] = kept[5].split(",")[0] + ",ACGTJ" + kept[5].split(",")[1][5:]
    path.write_text("\n".join(kept) + "\n")
    return path


TINY_MODELS = {
    "cnn": {"epochs": 1, "batch_size": 64, "threads": 1,
            "options": {"channels": [8], "kernel_sizes": [9], "dilations": [1], "pools": [1], "head_hidden": 8}},
    "kmer_logistic": {"options": {"k": 2}, "threads": 1},
}


def test_lint_is_clean(workdir):
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "config.yaml"), "--lint")
    assert result.returncode == 0, result.stdout
    assert "Congratulations, your workflow is in a good condition!" in result.stdout, result.stdout


def test_default_config_dry_run_with_default_profile(workdir):
    if not (REPO / "data" / "sim" / "genome.fa").is_file():
        pytest.skip("data/sim (made with bioseq simulate) is not there yet")
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "config.yaml"),
                       "--profile", str(DEFAULT_PROFILE), "-n")
    assert result.returncode == 0, result.stdout
    # uci_splice x 4 models + sim promoters x 2 + sim splice sites x 2 = 8 runs; each dataset trains
    # both members of the lstm_transformer ensemble, uci_splice also those of lstm_transformer_cnn:
    # 4 ensembles; 12 evaluations;
    # tracks: promoters 2 models x 1 + splice sites 2 models x (donor, acceptor) = 6.
    assert job_counts(result.stdout) == {
        "split_table": 1, "promoter_dataset": 1, "splice_site_dataset": 1, "train": 8, "ensemble": 4,
        "evaluate": 12, "compare": 1, "scan": 6, "predict": 1, "all": 1}
    assert "--model-option 'channels=[32, 32]'" in result.stdout  # lists reach bioseq train as YAML
    assert "--accelerator gpu" not in result.stdout and "gpu=1" not in result.stdout  # gpu: false
    assert "--device cpu" in result.stdout


def test_gpu_config_requests_a_gpu_for_model_jobs_only(workdir):
    if not (REPO / "data" / "sim" / "genome.fa").is_file():
        pytest.skip("data/sim (made with bioseq simulate) is not there yet")
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "config.yaml"), "--config", "gpu=True",
                       "-n")
    assert result.returncode == 0, result.stdout
    jobs = result.stdout.split("\n\n")
    requests = {(re.search(r"rule (\w+):", job)[1], "gpu=1" in job) for job in jobs if re.search(r"rule (\w+):", job)}
    # model jobs ask for the GPU; the dataset, split and compare jobs do not
    assert {rule for rule, gpu in requests if gpu} == {"train", "evaluate", "scan", "predict"}
    assert ("train", False) in requests  # the k-mer baseline never uses a GPU
    kmer = next(job for job in jobs if "--model kmer_logistic" in job)
    assert "gpu=0" in kmer and "--accelerator cpu" in kmer
    assert result.stdout.count("--accelerator gpu") == 7 and "--device cuda" in result.stdout


def test_dm6_config_dry_run(workdir, shared_data):
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "dm6.yaml"), "-n")
    assert result.returncode == 0, result.stdout
    # splice sites x 3 models; tracks: transformer x (donor, acceptor).
    assert job_counts(result.stdout) == {
        "splice_site_dataset": 1, "train": 3, "evaluate": 3, "compare": 1, "scan": 2, "all": 1}
    assert "--test-chroms chr2R" in result.stdout
    assert "results/dm6/tracks/dm6_splice_sites/transformer/donor.bw" in result.stdout


def test_slurm_profile_dry_run(workdir):
    if not (SLURM_PROFILE / "config.v8+.yaml").is_file():
        pytest.skip("workflows/profiles/slurm/config.v8+.yaml does not exist")
    pytest.importorskip("snakemake_executor_plugin_slurm")
    if not (REPO / "data" / "sim" / "genome.fa").is_file():
        pytest.skip("data/sim (made with bioseq simulate) is not there yet")
    # --workflow-profile none: otherwise Snakemake adds profiles/default, whose keys win over --profile.
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "config.yaml"),
                       "--profile", str(SLURM_PROFILE), "--workflow-profile", "none", "-n")
    assert result.returncode == 0, result.stdout
    assert job_counts(result.stdout)["train"] == 8


def test_multi_device_models_train_with_ddp_one_task_per_device(workdir):
    small_table(workdir / "t.csv")
    config = write_config(workdir, {"models": {"cnn": {"devices": 2}, "lstm": {}}, "tables": {"t": {"path": "t.csv"}}})
    # --workflow-profile none: the default profile caps every job at its gpu=1 limit
    result = snakemake(workdir, "--configfile", str(config), "-n", "-p", "--config", "gpu=True",
                       "--workflow-profile", "none")
    assert result.returncode == 0, result.stdout
    jobs = {re.search(r"rule (\w+):", job)[1]: job for job in result.stdout.split("\n\n")
            if re.search(r"rule (train\w*):", job)}
    assert set(jobs) == {"train", "train_ddp"}
    ddp, single = jobs["train_ddp"], jobs["train"]
    assert "--model cnn" in ddp and "--devices 2 --strategy ddp" in ddp
    # on SLURM: one task per device, started by srun; locally Lightning starts the processes
    assert "${SLURM_JOB_ID:+srun --nodes=1 --ntasks-per-node=2} bioseq train" in ddp
    assert "mpi=srun" in ddp and "tasks_per_node=2" in ddp and "gpu=2" in ddp
    assert "--model lstm" in single and "--devices" not in single and "srun" not in single and "gpu=1" in single


def test_bad_configs_fail_with_a_clear_message(workdir):
    table = small_table(workdir / "t.csv")
    cases = [
        ({"models": {"lstmm": {}}, "tables": {"t": {"path": str(table)}}}, "'lstmm' is not one of"),
        ({"models": {"cnn": {}}, "tables": {"t": {"path": str(table), "models": ["lstm"]}}},
         "dataset 't' lists lstm, which is not in models:"),
        ({"models": {"cnn": {}}, "tables": {"t": {"path": str(table), "train": str(table)}}}, "is not valid"),
        ({"models": {"cnn": {}}}, "there is nothing to train on"),
        ({"models": {"cnn": {}}, "ensembles": {"mix": ["cnn", "lstm"]}, "tables": {"t": {"path": str(table)}}},
         "the ensemble 'mix' lists lstm, which is not in models:"),
        ({"models": {"cnn": {}, "lstm": {}}, "ensembles": {"cnn": ["cnn", "lstm"]}, "tables": {"t": {"path": str(table)}}},
         "the ensemble 'cnn' has the name of a model"),
        ({"models": {"cnn": {}}, "ensembles": {"mix": ["cnn"]}, "tables": {"t": {"path": str(table)}}},
         "is too short|should be non-empty|minItems"),
        ({"models": {"kmer_logistic": {"devices": 2}}, "tables": {"t": {"path": str(table)}}},
         "kmer_logistic has devices: 2, but the k-mer baseline trains in one process"),
        ({"models": {"cnn": {}}, "genomes": {"g": {"fasta": "g.fa", "promoters": {"negatives": "random"}}}},
         "'random' is not one of \\['gc', 'shuffle', 'genebody'\\]"),
    ]
    for config, message in cases:
        result = snakemake(workdir, "--configfile", str(write_config(workdir, config)), "-n")
        assert result.returncode != 0, config
        assert re.search(message, result.stdout), result.stdout
    result = snakemake(workdir, "-n")
    assert result.returncode != 0 and "run snakemake with --configfile" in result.stdout


def test_tiny_run_makes_every_output_then_nothing(workdir, bioseq_commands):
    small_table(workdir / "uci_small.csv")
    config = write_config(workdir, {
        "results": "out", "models": {"cnn": TINY_MODELS["cnn"], "kmer_logistic": {}},
        "ensembles": {"mix": ["cnn", "kmer_logistic"]},
        "tables": {"uci": {"path": "uci_small.csv", "split": {"valid": 0.2, "test": 0.2}}},
    })
    first = snakemake(workdir, "--configfile", str(config), "--cores", "2")
    assert first.returncode == 0, first.stdout
    out = workdir / "out"
    for split in ("train", "valid", "test"):
        assert (out / "data" / "uci" / f"{split}.csv").is_file()
    assert (out / "runs" / "uci" / "cnn" / "bundle" / "config.json").is_file()
    assert (out / "runs" / "uci" / "cnn" / "plots" / "training_curves.png").is_file()
    evaluation = {p.name for p in (out / "evaluation" / "uci" / "cnn").iterdir()}
    assert {"metrics.json", "predictions.tsv", "roc.png"} <= evaluation
    with open(out / "comparison" / "comparison.tsv", newline="") as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle, delimiter="\t")}
    # 20% of ~400 rows are test sequences; the runs have a test split, so compare reports it.
    assert set(rows) == {"cnn", "kmer_logistic", "ensemble(cnn+kmer_logistic)"}
    for row in rows.values():
        assert (row["dataset"], row["split"]) == ("uci", "test")
        assert 70 <= int(row["n"]) == int(rows["cnn"]["n"]) <= 90
    mix = json.loads((out / "runs" / "uci" / "mix" / "config.json").read_text())
    assert mix["model"]["options"] == {"members": 2, "member_model": "cnn+kmer_logistic"}
    assert (out / "evaluation" / "uci" / "mix" / "metrics.json").is_file()
    assert (out / "comparison" / "comparison.png").stat().st_size > 1000
    for rule in ("split_table", "train", "ensemble", "evaluate", "compare"):
        assert any((out / "logs" / rule).rglob("*.log")), rule
        assert any((out / "benchmarks" / rule).rglob("*.tsv")), rule
    second = snakemake(workdir, "--configfile", str(config), "--cores", "2")
    assert second.returncode == 0, second.stdout
    assert "Nothing to be done" in second.stdout, second.stdout
    report = snakemake(workdir, "--configfile", str(config), "--report", "out/report.html")
    assert report.returncode == 0, report.stdout
    html = (out / "report.html").read_text(errors="replace")
    assert "comparison.tsv" in html and "training_curves.png" in html


def test_failed_job_leaves_nothing_and_rerun_completes_only_the_rest(workdir, bioseq_commands):
    small_table(workdir / "good.csv")
    small_table(workdir / "bad.csv", every=9, bad=True)
    config = write_config(workdir, {
        "results": "out", "models": {"kmer_logistic": TINY_MODELS["kmer_logistic"]},
        "tables": {"good": {"path": "good.csv"}, "bad": {"path": "bad.csv"}},
    })
    first = snakemake(workdir, "--configfile", str(config), "--cores", "2", "--keep-going")
    assert first.returncode != 0
    assert "Error in rule split_table" in first.stdout and "wildcards: table=bad" in first.stdout
    out = workdir / "out"
    assert (out / "evaluation" / "good" / "kmer_logistic" / "metrics.json").is_file()  # kept going
    assert not (out / "data" / "bad").exists() or not any((out / "data" / "bad").iterdir())  # no partial split
    assert not (out / "runs" / "bad").exists() and not (out / "comparison").exists()
    log = (out / "logs" / "split_table" / "bad.log").read_text()
    assert "bad.csv, line 6" in log and "'J'" in log  # the 1-based line of the bad row
    small_table(workdir / "bad.csv", every=9)  # fix the input
    second = snakemake(workdir, "--configfile", str(config), "--cores", "2")
    assert second.returncode == 0, second.stdout
    assert job_counts(second.stdout) == {"split_table": 1, "train": 1, "evaluate": 1, "compare": 1, "all": 1}
    with open(out / "comparison" / "comparison.tsv", newline="") as handle:
        assert [r["dataset"] for r in csv.DictReader(handle, delimiter="\t")] == ["bad", "good"]


def test_dm6_genome_pipeline_on_real_data(workdir, shared_data, bioseq_commands):
    """dm6.yaml, smaller: splice sites from the real GTF and RNA-seq BAM, tested on the held-out chr2R."""
    pyBigWig = pytest.importorskip("pyBigWig")
    config = yaml.safe_load((WORKFLOW / "config" / "dm6.yaml").read_text())
    config["results"] = "out"
    config["models"] = {"transformer": {**config["models"]["transformer"], "epochs": 6},
                        "kmer_logistic": config["models"]["kmer_logistic"]}
    task = config["genomes"]["dm6"]["splice_sites"]
    task["models"] = ["transformer", "kmer_logistic"]
    task["scan"]["step"] = 50
    ran = snakemake(workdir, "--configfile", str(write_config(workdir, config)), "--cores", "2", timeout=1200)
    assert ran.returncode == 0, ran.stdout[-4000:]
    out = workdir / "out"
    summary = json.loads((out / "data" / "dm6_splice_sites" / "summary.json").read_text())
    assert summary["chromosomes"]["test"] == ["chr2R"] and "chr2R" not in summary["chromosomes"]["train"]
    with open(out / "comparison" / "comparison.tsv", newline="") as handle:
        rows = {r["model"]: r for r in csv.DictReader(handle, delimiter="\t")}
    assert set(rows) == {"transformer", "kmer_logistic"} and {r["split"] for r in rows.values()} == {"test"}
    # Real donor/acceptor windows against GT/AG decoys on a chromosome no model saw (macro AUROC, 3 classes).
    assert float(rows["transformer"]["auroc"]) > 0.9, rows["transformer"]
    assert float(rows["kmer_logistic"]["auroc"]) > 0.65, rows["kmer_logistic"]
    fai = shared_data / "genomes" / "dm6_small" / "dm6.small.fa.fai"  # shipped with the shared genome
    lengths = {line.split("\t")[0]: int(line.split("\t")[1]) for line in fai.read_text().splitlines()}
    for site in ("donor", "acceptor"):
        track = pyBigWig.open(str(out / "tracks" / "dm6_splice_sites" / "transformer" / f"{site}.bw"))
        try:
            assert track.chroms() == lengths  # every contig of the genome, with its length
            values = np.array(track.values("chr2R", 0, 200_000), dtype=float)
        finally:
            track.close()
        scored = values[~np.isnan(values)]
        assert scored.size > 0.9 * values.size and ((scored >= 0) & (scored <= 1)).all()


def test_a_tune_block_searches_first_and_training_starts_from_the_winner(workdir, bioseq_commands):
    small_table(workdir / "uci_small.csv")
    space = {"model_options.k": {"choices": [2, 3]}}
    config = write_config(workdir, {
        "results": "out", "models": {"kmer_logistic": {"tune": {"trials": 2, "space": space}}, "cnn": TINY_MODELS["cnn"]},
        "tables": {"uci": {"path": "uci_small.csv", "split": {"valid": 0.2, "test": 0.2}}},
    })
    plan = snakemake(workdir, "--configfile", str(config), "-n")
    assert plan.returncode == 0, plan.stdout
    assert job_counts(plan.stdout).get("tune") == 1  # the CNN has no tune block
    run = snakemake(workdir, "--configfile", str(config), "--cores", "2")
    assert run.returncode == 0, run.stdout
    study = workdir / "out" / "tune" / "uci" / "kmer_logistic"
    with open(study / "trials.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) == 2 and {r["state"] for r in rows} == {"complete"}
    best = json.loads((study / "best.json").read_text())
    assert best["test"] is None  # the study never reads the test split
    trained = yaml.safe_load((workdir / "out" / "runs" / "uci" / "kmer_logistic" / "config.yaml").read_text())
    assert trained["model_options"]["k"] == best["settings"]["model_options.k"]
    assert trained["test"] == "out/data/uci/test.csv"
    assert (workdir / "out" / "logs" / "tune" / "uci" / "kmer_logistic.log").is_file()
