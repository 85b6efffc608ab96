"""Tests of the Snakemake workflow in ``workflows/``: lint, dry runs, tiny real runs, failed and killed jobs.

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
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("snakemake")
pytestmark = pytest.mark.slow  # every test runs snakemake (seconds each; the real runs minutes)

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "workflows"
SNAKEFILE = WORKFLOW / "Snakefile"
DEFAULT_PROFILE = WORKFLOW / "profiles" / "default"
SLURM_PROFILE = WORKFLOW / "profiles" / "slurm"


def snakemake(workdir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run snakemake on the workflow in ``workdir``; stdout and stderr together in ``.stdout``."""
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), *args]
    return subprocess.run(
        command,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


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
    "cnn": {
        "epochs": 1,
        "batch_size": 64,
        "threads": 1,
        "options": {"channels": [8], "kernel_sizes": [9], "dilations": [1], "pools": [1], "head_hidden": 8},
    },
    "kmer_logistic": {"options": {"k": 2}, "threads": 1},
}


def test_lint_is_clean(workdir):
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "config.yaml"), "--lint")
    assert result.returncode == 0, result.stdout
    assert "Congratulations, your workflow is in a good condition!" in result.stdout, result.stdout


def test_default_config_dry_run_with_default_profile(workdir):
    if not (REPO / "data" / "sim" / "genome.fa").is_file():
        pytest.skip("data/sim (made with bioseq simulate) is not there yet")
    result = snakemake(
        workdir, "--configfile", str(WORKFLOW / "config" / "config.yaml"), "--profile", str(DEFAULT_PROFILE), "-n"
    )
    assert result.returncode == 0, result.stdout
    # uci_splice x 4 models + sim promoters x 2 + sim splice sites x 2 = 8 runs; each dataset trains
    # both members of the lstm_transformer ensemble, uci_splice also those of lstm_transformer_cnn:
    # 4 ensembles; 12 evaluations;
    # tracks: promoters 2 models x 1 + splice sites 2 models x (donor, acceptor) = 6;
    # uci_splice's explain: block: the cnn with deeplift_shap (motifs: false).
    assert job_counts(result.stdout) == {
        "split_table": 1,
        "promoter_dataset": 1,
        "splice_site_dataset": 1,
        "train": 8,
        "ensemble": 4,
        "evaluate": 12,
        "compare": 1,
        "scan": 6,
        "predict": 1,
        "explain": 1,
        "all": 1,
    }
    assert "--model-option 'channels=[32, 32]'" in result.stdout  # lists reach bioseq train as YAML
    assert "--accelerator gpu" not in result.stdout and "gpu=1" not in result.stdout  # gpu: false
    assert "--device cpu" in result.stdout


def test_gpu_config_requests_a_gpu_for_model_jobs_only(workdir):
    if not (REPO / "data" / "sim" / "genome.fa").is_file():
        pytest.skip("data/sim (made with bioseq simulate) is not there yet")
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "config.yaml"), "--config", "gpu=True", "-n")
    assert result.returncode == 0, result.stdout
    jobs = result.stdout.split("\n\n")
    requests = {(re.search(r"rule (\w+):", job)[1], "gpu=1" in job) for job in jobs if re.search(r"rule (\w+):", job)}
    # model jobs ask for the GPU; the dataset, split and compare jobs do not
    assert {rule for rule, gpu in requests if gpu} == {"train", "evaluate", "scan", "predict", "explain"}
    assert ("train", False) in requests  # the k-mer baseline never uses a GPU
    kmer = next(job for job in jobs if "--model kmer_logistic" in job)
    assert "gpu=0" in kmer and "--accelerator cpu" in kmer
    assert result.stdout.count("--accelerator gpu") == 7 and "--device cuda" in result.stdout


def test_dm6_config_dry_run(workdir, shared_data):
    result = snakemake(workdir, "--configfile", str(WORKFLOW / "config" / "dm6.yaml"), "-n")
    assert result.returncode == 0, result.stdout
    # splice sites x 3 models; tracks: transformer x (donor, acceptor); the per-base section: one per-position
    # model, its genome annotation, and a simulated control VCF scored with it.
    assert job_counts(result.stdout) == {
        "splice_site_dataset": 1,
        "train": 3,
        "evaluate": 3,
        "compare": 1,
        "scan": 2,
        "per_base_dataset": 1,
        "train_per_base": 1,
        "annotate": 1,
        "simulate_variants": 1,
        "score_variants": 1,
        "all": 1,
    }
    assert "--test-chroms chr2R" in result.stdout
    assert "results/dm6/tracks/dm6_splice_sites/transformer/donor.bw" in result.stdout


def test_slurm_profile_dry_run(workdir):
    if not (SLURM_PROFILE / "config.v8+.yaml").is_file():
        pytest.skip("workflows/profiles/slurm/config.v8+.yaml does not exist")
    pytest.importorskip("snakemake_executor_plugin_slurm")
    if not (REPO / "data" / "sim" / "genome.fa").is_file():
        pytest.skip("data/sim (made with bioseq simulate) is not there yet")
    # --workflow-profile none: otherwise Snakemake adds profiles/default, whose keys win over --profile.
    result = snakemake(
        workdir,
        "--configfile",
        str(WORKFLOW / "config" / "config.yaml"),
        "--profile",
        str(SLURM_PROFILE),
        "--workflow-profile",
        "none",
        "-n",
    )
    assert result.returncode == 0, result.stdout
    assert job_counts(result.stdout)["train"] == 8


def test_multi_device_models_train_with_ddp_one_task_per_device(workdir):
    small_table(workdir / "t.csv")
    config = write_config(workdir, {"models": {"cnn": {"devices": 2}, "lstm": {}}, "tables": {"t": {"path": "t.csv"}}})
    # --workflow-profile none: the default profile caps every job at its gpu=1 limit
    result = snakemake(
        workdir, "--configfile", str(config), "-n", "-p", "--config", "gpu=True", "--workflow-profile", "none"
    )
    assert result.returncode == 0, result.stdout
    jobs = {
        re.search(r"rule (\w+):", job)[1]: job
        for job in result.stdout.split("\n\n")
        if re.search(r"rule (train\w*):", job)
    }
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
        (
            {"models": {"lstmm": {}}, "tables": {"t": {"path": str(table)}}},
            "unknown model 'lstmm'; the models are cnn, kmer_logistic, lstm, per_base_cnn, per_base_lstm, "
            "per_base_transformer, transformer. Did you mean 'lstm'",
        ),
        (
            {"models": {"cnn": {}}, "tables": {"t": {"path": str(table), "models": ["lstm"]}}},
            "dataset 't' lists lstm, which is not in models:",
        ),
        ({"models": {"cnn": {}}, "tables": {"t": {"path": str(table), "train": str(table)}}}, "is not valid"),
        ({"models": {"cnn": {}}}, "there is nothing to train on"),
        (
            {"models": {"cnn": {}}, "ensembles": {"mix": ["cnn", "lstm"]}, "tables": {"t": {"path": str(table)}}},
            "the ensemble 'mix' lists lstm, which is not in models:",
        ),
        (
            {
                "models": {"cnn": {}, "lstm": {}},
                "ensembles": {"cnn": ["cnn", "lstm"]},
                "tables": {"t": {"path": str(table)}},
            },
            "the ensemble 'cnn' has the name of a model",
        ),
        (
            {"models": {"cnn": {}}, "ensembles": {"mix": ["cnn"]}, "tables": {"t": {"path": str(table)}}},
            "is too short|should be non-empty|minItems",
        ),
        (
            {"models": {"kmer_logistic": {"devices": 2}}, "tables": {"t": {"path": str(table)}}},
            "kmer_logistic has devices: 2, but it trains in one process",
        ),
        (
            {"models": {"cnn": {}}, "genomes": {"g": {"fasta": "g.fa", "promoters": {"negatives": "random"}}}},
            "'random' is not one of \\['gc', 'shuffle', 'genebody'\\]",
        ),
        (
            {"results": "o{u}t", "models": {"cnn": {}}, "tables": {"t": {"path": str(table)}}},
            "'o{u}t' does not match",
        ),  # Snakemake would read {u} as a wildcard
    ]
    for config, message in cases:
        result = snakemake(workdir, "--configfile", str(write_config(workdir, config)), "-n")
        assert result.returncode != 0, config
        assert re.search(message, result.stdout), result.stdout
    result = snakemake(workdir, "-n")
    assert result.returncode != 0 and "run snakemake with --configfile" in result.stdout


def test_tiny_run_makes_every_output_then_nothing(workdir, bioseq_commands):
    """Every output, then nothing to do; paths from the config reach every command quoted: the results
    folder holds a space, a ``;`` and a ``$`` (unquoted, the shell would split it, expand ``$x`` and run
    ``/...`` as a second command), the table a space and a quote."""
    (workdir / "in put").mkdir()
    table = "in put/uci's small.csv"
    small_table(workdir / table)
    results = "res ults;$x"
    config = write_config(
        workdir,
        {
            "results": results,
            "models": {"cnn": TINY_MODELS["cnn"], "kmer_logistic": {}},
            "ensembles": {"mix": ["cnn", "kmer_logistic"]},
            "tables": {
                "uci": {
                    "path": table,
                    "split": {"valid": 0.2, "test": 0.2},
                    "explain": {"methods": ["grad_x_input"], "top": 10, "logos": 1, "motifs": False},
                }
            },
            "predict": {"new": {"input": table, "dataset": "uci", "models": ["kmer_logistic"]}},
        },
    )
    first = snakemake(workdir, "--configfile", str(config), "--cores", "2", "-p")
    assert first.returncode == 0, first.stdout[-4000:]

    def q(path: str) -> str:
        return shlex.quote(path)

    # printshellcmds: every path arrived as one shell word
    assert f"bioseq split {q(table)} --out {q(results + '/data/uci')}" in first.stdout, first.stdout
    assert (
        f"--out {q(results + '/runs/uci/cnn')} --resume auto --overwrite 2> {q(results + '/logs/train/uci/cnn.log')}"
    ) in first.stdout
    assert f"bioseq ensemble {q(results + '/runs/uci/cnn')} {q(results + '/runs/uci/kmer_logistic')}" in first.stdout
    assert f"--input {q(table)}" in first.stdout
    out = workdir / results
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
    assert (out / "predictions" / "new" / "kmer_logistic.tsv").stat().st_size > 0
    assert (out / "comparison" / "comparison.png").stat().st_size > 1000
    for rule in ("split_table", "train", "ensemble", "evaluate", "compare"):
        assert any((out / "logs" / rule).rglob("*.log")), rule
        assert any((out / "benchmarks" / rule).rglob("*.tsv")), rule
    # no path was split into several words: nothing was written beside the results folder
    assert {p.name for p in workdir.iterdir()} == {".snakemake", "config.yaml", "data", "in put", results}
    second = snakemake(workdir, "--configfile", str(config), "--cores", "2")
    assert second.returncode == 0, second.stdout
    assert "Nothing to be done" in second.stdout, second.stdout
    report = snakemake(workdir, "--configfile", str(config), "--report", "report.html")
    assert report.returncode == 0, report.stdout
    html = (workdir / "report.html").read_text(errors="replace")
    assert "comparison.tsv" in html and "training_curves.png" in html
    # the explain: block explained the network (cnn), not the k-mer baseline, and its logo is in the report
    explained = out / "explain" / "uci" / "cnn" / "grad_x_input"
    assert json.loads((explained / "explain.json").read_text())["n"] == 10
    assert not (out / "explain" / "uci" / "kmer_logistic").exists()
    logo = next((explained / "logos").glob("*.png")).name
    assert logo in html


def test_failed_job_leaves_nothing_and_rerun_completes_only_the_rest(workdir, bioseq_commands):
    small_table(workdir / "good.csv")
    small_table(workdir / "bad.csv", every=9, bad=True)
    config = write_config(
        workdir,
        {
            "results": "out",
            "models": {"kmer_logistic": TINY_MODELS["kmer_logistic"]},
            "tables": {"good": {"path": "good.csv"}, "bad": {"path": "bad.csv"}},
        },
    )
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
    """dm6.yaml, smaller: splice sites from the real GTF and RNA-seq BAM, tested on the held-out chr2R; and the
    per-base section: a per-position model, its genome annotation, and simulated variants scored per contig."""
    pyBigWig = pytest.importorskip("pyBigWig")
    pysam = pytest.importorskip("pysam")
    config = yaml.safe_load((WORKFLOW / "config" / "dm6.yaml").read_text())
    config["results"] = "out"
    config["models"] = {
        "transformer": {**config["models"]["transformer"], "epochs": 6},
        "kmer_logistic": config["models"]["kmer_logistic"],
        "per_base_cnn": {"epochs": 1, "options": {"context": 80, "channels": 8}, "threads": 2, "runtime": 30},
    }
    task = config["genomes"]["dm6"]["splice_sites"]
    task["models"] = ["transformer", "kmer_logistic"]
    task["scan"]["step"] = 50
    dm6 = config["genomes"]["dm6"]
    dm6["per_base"].update(context=80, window=200)
    dm6["variants"].update(shard_by_contig=True, simulate={"contigs": ["chr2L", "chr2R"], "per_category": 3})
    path = write_config(workdir, config)
    ran = snakemake(workdir, "--configfile", str(path), "--cores", "2", timeout=1500)
    assert ran.returncode == 0, ran.stdout[-4000:]
    out = workdir / "out"
    _check_per_base_outputs(workdir, out, path, pysam)
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


def _check_per_base_outputs(workdir, out, config, pysam) -> None:
    assert (out / "runs" / "dm6_per_base" / "per_base_cnn" / "complete.json").is_file()
    annotation = out / "annotation" / "dm6" / "per_base_cnn"
    assert {"sites.bed", "summary.json"} <= {p.name for p in annotation.iterdir()}
    assert any(p.suffix == ".bw" for p in annotation.iterdir())
    scored = out / "variants" / "dm6" / "simulated" / "per_base_cnn.vcf.gz"
    assert Path(f"{scored}.tbi").is_file() and scored.with_name("per_base_cnn.tsv").is_file()
    with pysam.VariantFile(str(scored)) as vcf:
        assert "BIOSEQ" in vcf.header.info
        rows = list(vcf)
        contigs = [r.contig for r in rows]
        assert contigs == sorted(contigs, key=list(vcf.header.contigs).index)  # shards merged in contig order
        assert {"chr2L", "chr2R"} <= set(contigs)
        assert any("BIOSEQ" in r.info for r in rows)
    shards = out / "variants" / "dm6" / "simulated" / "shards"
    assert not shards.exists() or not any(shards.rglob("*.vcf.gz"))  # the pieces were temporary
    report = snakemake(workdir, "--configfile", str(config), "--report", "report.html")
    assert report.returncode == 0, report.stdout
    html = (workdir / "report.html").read_text(errors="replace")
    assert "Per-base models" in html and "Variant scores" in html and "per_base_cnn.vcf.gz.summary.json" in html


def test_a_tune_block_searches_first_and_training_starts_from_the_winner(workdir, bioseq_commands):
    small_table(workdir / "uci_small.csv")
    space = {"model_options.k": {"choices": [2, 3]}}
    config = write_config(
        workdir,
        {
            "results": "out",
            "models": {"kmer_logistic": {"tune": {"trials": 2, "space": space}}, "cnn": TINY_MODELS["cnn"]},
            "tables": {"uci": {"path": "uci_small.csv", "split": {"valid": 0.2, "test": 0.2}}},
        },
    )
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
    # config.yaml records the path as given or made absolute: either way, the workflow's test split
    assert (workdir / trained["test"]).resolve() == (workdir / "out" / "data" / "uci" / "test.csv").resolve()
    assert (workdir / "out" / "logs" / "tune" / "uci" / "kmer_logistic.log").is_file()


# ---------------------------------------------------------------- no shell injection from the config

# Every bioseq train option (TrainConfig field) that the workflow sets or manages itself, and so is
# not allowed under a model's extra:, with the reason. Every other field must be allowed there.
NOT_EXTRA = {
    "train": "the workflow passes the split files",
    "valid": "the workflow passes the split files",
    "test": "the workflow passes the split files",
    "out": "the run directory of the rule's output (RUN/complete.json)",
    "resume": "the train rule passes --resume auto: a rerun continues from the run's checkpoint",
    "overwrite": "the train rule passes --overwrite: a run of other settings is replaced",
    "model": "the key of the model block",
    "model_options": "the block's options:",
    "epochs": "a key of the model block (or of the dataset)",
    "batch_size": "a key of the model block (or of the dataset)",
    "lr": "a key of the model block",
    "patience": "a key of the model block",
    "sequence_column": "a key of the tables: entry",
    "label_column": "a key of the tables: entry",
    "seed": "the config's seed:",
    "accelerator": "the config's gpu:",
    "devices": "the block's devices:",
    "strategy": "ddp when devices: is above 1",
    "num_nodes": "train_ddp asks SLURM for one node",
}

HOSTILE_KEYS = ["x $(touch pwned)", "a;touch pwned", "a||touch pwned||", "b`touch pwned`"]


def split_tables(workdir: Path) -> dict:
    """A tables: entry of already split files (no split job: training is the first job)."""
    small_table(workdir / "t.csv")
    return {"train": "t.csv", "test": "t.csv"}


def no_pwned(workdir: Path) -> None:
    out = workdir / "out"
    found = [workdir / "pwned", *(out.rglob("pwned") if out.is_dir() else [])]
    assert not any(p.exists() for p in found), "an injected command ran"


def test_extra_keys_are_exactly_the_train_options_the_workflow_leaves_open():
    from bioseq.train.config import TrainConfig

    schema = yaml.safe_load((WORKFLOW / "schemas" / "config.schema.yaml").read_text())
    allowed = set(schema["$defs"]["model"]["properties"]["extra"]["propertyNames"]["enum"])
    fields = set(TrainConfig.model_fields)
    assert not allowed - fields, f"extra: allows {sorted(allowed - fields)}, which bioseq train does not know"
    assert not allowed & set(NOT_EXTRA), f"extra: allows {sorted(allowed & set(NOT_EXTRA))}, set by the workflow"
    assert not set(NOT_EXTRA) - fields, f"NOT_EXTRA lists {sorted(set(NOT_EXTRA) - fields)}, no TrainConfig fields"
    unsorted = fields - allowed - set(NOT_EXTRA)
    assert not unsorted, (
        f"TrainConfig fields {sorted(unsorted)} are neither allowed in extra: (schema) nor "
        "listed in NOT_EXTRA with the reason the workflow sets them"
    )


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_a_hostile_extra_key_is_refused_before_any_job_runs(workdir, key):
    config = write_config(
        workdir,
        {
            "results": "out",
            "tables": {"t": split_tables(workdir)},
            "models": {"kmer_logistic": {**TINY_MODELS["kmer_logistic"], "extra": {key: 1}}},
        },
    )
    result = snakemake(workdir, "--configfile", str(config), "--cores", "1", "-p")
    assert result.returncode != 0, result.stdout
    assert repr(key) in result.stdout, result.stdout  # the message names the key
    assert "bioseq train" not in result.stdout  # refused at validation: no job ran
    no_pwned(workdir)


@pytest.mark.parametrize(
    "block, message",
    [
        ({"options": {"k;touch pwned": 2}}, "'k;touch pwned' does not match"),
        (
            {"tune": {"trials": 1, "space": {"lr $(touch pwned)": {"low": 0.001, "high": 0.01}}}},
            r"'lr \$\(touch pwned\)' does not match",
        ),
    ],
)
def test_model_option_and_search_space_keys_must_be_names(workdir, block, message):
    config = write_config(
        workdir, {"results": "out", "tables": {"t": split_tables(workdir)}, "models": {"kmer_logistic": block}}
    )
    result = snakemake(workdir, "--configfile", str(config), "--cores", "1", "-p")
    assert result.returncode != 0, result.stdout
    assert re.search(message, result.stdout), result.stdout
    no_pwned(workdir)


def test_a_hostile_extra_value_reaches_bioseq_quoted_and_is_refused_there(workdir, bioseq_commands):
    config = write_config(
        workdir,
        {
            "results": "out",
            "tables": {"t": split_tables(workdir)},
            "models": {"kmer_logistic": {"extra": {"monitor": "mcc; touch pwned", "max_time": "$(touch pwned)"}}},
        },
    )
    result = snakemake(workdir, "--configfile", str(config), "--cores", "1", "-p")
    assert result.returncode != 0, result.stdout
    assert "--monitor 'mcc; touch pwned' --max-time '$(touch pwned)'" in result.stdout, result.stdout
    log = (workdir / "out" / "logs" / "train" / "t" / "kmer_logistic.log").read_text()
    assert "'monitor'" in log and "mcc; touch pwned" in log, log
    no_pwned(workdir)


def test_allowed_extra_options_reach_bioseq_train(workdir):
    extra = {"rc_augment": True, "weight_decay": 0.0, "monitor": "auroc", "compile": False}
    config = write_config(workdir, {"tables": {"t": split_tables(workdir)}, "models": {"cnn": {"extra": extra}}})
    result = snakemake(workdir, "--configfile", str(config), "-n", "-p")
    assert result.returncode == 0, result.stdout
    assert "--rc-augment --weight-decay 0.0 --monitor auroc --no-compile" in result.stdout, result.stdout


# ---------------------------------------------------------------- a killed training job resumes

# A CNN that trains for about 12 s on one core (8 epochs of ~1.5 s on the whole UCI table), so that a
# kill after the first epoch's checkpoint lands mid-training with a wide margin. patience > epochs: all 8 run.
RESUMABLE_CNN = {
    "epochs": 8,
    "batch_size": 64,
    "patience": 10,
    "threads": 1,
    "options": {"channels": [96, 96], "kernel_sizes": [9, 9], "dilations": [1, 2], "pools": [1, 1]},
}
RUN = Path("out") / "runs" / "t" / "cnn"


def resumable_config(workdir: Path) -> Path:
    """One already split table (train: the whole UCI table, valid carved from it; test: every 8th row), one CNN."""
    small_table(workdir / "train.csv", every=1)
    small_table(workdir / "test.csv", every=8)
    return write_config(
        workdir,
        {
            "results": "out",
            "models": {"cnn": RESUMABLE_CNN},
            "tables": {"t": {"train": "train.csv", "test": "test.csv"}},
        },
    )


@pytest.fixture(scope="module")
def uninterrupted_run(tmp_path_factory, bioseq_commands) -> Path:
    """The run directory of the same config trained in one go (training only: its marker is the target)."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    config = resumable_config(workdir)
    ran = snakemake(workdir, "--configfile", str(config), "--cores", "2", str(RUN / "complete.json"))
    assert ran.returncode == 0, ran.stdout[-4000:]
    return workdir / RUN


def train_processes(session: int) -> list[int]:
    """The ``bioseq train`` processes of a snakemake started as the leader of process group ``session``.

    Matched by argv (``.../bioseq train ...``), not by the ``bash -c`` line that starts it.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = [w.decode(errors="replace") for w in (entry / "cmdline").read_bytes().split(b"\0")]
            group = os.getpgid(int(entry.name))
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile
        if group == session and any(
            Path(w).name == "bioseq" and words[i + 1 : i + 2] == ["train"] for i, w in enumerate(words)
        ):
            found.append(int(entry.name))
    return found


def val_epochs(metrics_csv: Path) -> list[int]:
    """The epochs of the validation rows of Lightning's metrics.csv, in file order."""
    with open(metrics_csv, newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle) if row["val_loss"]]


@pytest.mark.skipif(not Path("/proc/self/cmdline").is_file(), reason="finds the training process under /proc")
@pytest.mark.parametrize("how", ["SIGTERM to bioseq train", "SIGKILL to bioseq train", "SIGTERM to snakemake's group"])
def test_a_killed_training_job_resumes_from_its_checkpoint_when_rerun(workdir, uninterrupted_run, how):
    config = resumable_config(workdir)
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--configfile", str(config), "--cores", "2"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    run = workdir / RUN
    first = subprocess.Popen(
        command,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )  # snakemake leads a process group of its own
    try:
        deadline = time.monotonic() + 240
        while not (run / "checkpoints" / "last.ckpt").exists() and first.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.05)
        assert first.poll() is None, first.communicate()[0][-4000:]
        trainers = train_processes(first.pid)
        assert len(trainers) == 1, trainers
        if how.endswith("group"):
            os.killpg(first.pid, signal.SIGTERM)
        else:
            os.kill(trainers[0], signal.SIGKILL if how.startswith("SIGKILL") else signal.SIGTERM)
        output = first.communicate(timeout=120)[0]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert first.returncode != 0, output[-4000:]
    assert not (run / "complete.json").exists(), "the kill came too late: training had finished"
    assert not (workdir / "out" / "evaluation" / "t" / "cnn").exists()
    assert (run / "checkpoints" / "last.ckpt").is_file()  # Snakemake kept the run directory
    log = workdir / "out" / "logs" / "train" / "t" / "cnn.log"
    if how.startswith("SIGTERM to bioseq"):
        assert "Error in rule train" in output, output[-4000:]
        last = log.read_text().strip().splitlines()[-1]
        assert last.startswith("bioseq train: stopped by SIGTERM; checkpoint "), last

    again = snakemake(workdir, *command[3:], timeout=600)  # the same command
    assert again.returncode == 0, again.stdout[-4000:]
    assert job_counts(again.stdout) == {"train": 1, "evaluate": 1, "compare": 1, "all": 1}
    text = log.read_text()
    assert re.search(rf"resuming {re.escape(str(RUN))} from \S*last\.ckpt", text), text
    assert "epoch 1/8:" not in text, text  # the first epoch ended before the kill: not trained again
    assert val_epochs(run / "logs" / "metrics.csv") == list(range(8))  # every epoch once, in order
    assert (run / "complete.json").is_file()
    assert (workdir / "out" / "evaluation" / "t" / "cnn" / "metrics.json").is_file()
    found, expected = (json.loads((r / "metrics.json").read_text()) for r in (run, uninterrupted_run))
    for split in ("valid", "test"):
        for key, value in expected[split].items():
            if isinstance(value, float):
                assert found[split][key] == pytest.approx(value, abs=1e-6), (split, key)
        assert found[split]["confusion_matrix"] == expected[split]["confusion_matrix"]


def test_edited_settings_retrain_afresh_and_settings_that_keep_the_numbers_do_not(workdir, bioseq_commands):
    """The train job reruns when a model's block changes (params); ``--resume auto --overwrite`` then trains
    afresh when the numbers would differ, and only writes the outputs again when they would not."""
    small_table(workdir / "t.csv")
    cnn = {**TINY_MODELS["cnn"], "epochs": 1}
    tables = {"t": {"train": "t.csv", "test": "t.csv"}}
    target = str(RUN / "complete.json")
    log = workdir / "out" / "logs" / "train" / "t" / "cnn.log"

    def train(block: dict) -> str:
        config = write_config(workdir, {"results": "out", "models": {"cnn": block}, "tables": tables})
        ran = snakemake(workdir, "--configfile", str(config), "--cores", "1", target)
        assert ran.returncode == 0, ran.stdout[-4000:]
        assert job_counts(ran.stdout) == {"train": 1}, ran.stdout
        return log.read_text()

    train(cnn)
    text = train({**cnn, "epochs": 2})  # shapes the numbers: the old run is removed, both epochs trained
    assert "removing the earlier outputs" in text and "epoch 1/2:" in text and "epoch 2/2:" in text, text
    assert val_epochs(workdir / RUN / "logs" / "metrics.csv") == [0, 1]
    metrics = (workdir / RUN / "metrics.json").read_text()
    text = train({**cnn, "epochs": 2, "extra": {"num_workers": 0}})  # same numbers: not trained again
    assert not re.search(r"epoch \d+/\d+:", text) and "removing" not in text and "resuming" not in text, text
    assert (workdir / RUN / "metrics.json").read_text() == metrics
    assert val_epochs(workdir / RUN / "logs" / "metrics.csv") == [0, 1]
