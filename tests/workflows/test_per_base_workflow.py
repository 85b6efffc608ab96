"""Tests of the workflow's per-base section (``workflows/rules/per_base.smk``, ``variants.smk``) and of
``workflows/scripts/vcf_shards.py``, which splits a VCF by contig and merges the scored contigs.

The script tests are cheap (pysam only). The Snakemake tests run ``snakemake`` on the dm6 config in a
fresh working directory laid out like the repository (``main/data`` -> the bundled data,
``shared/data`` -> the shared data), so the config's relative paths hold and nothing is written into
the checkout: dry runs that list the jobs (seconds each, marked slow like tests/workflows/test_workflow.py)
and one end-to-end run on a reduced dm6 config (minutes), skipped while a command it needs is missing.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pysam
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "workflows"
SNAKEFILE = WORKFLOW / "Snakefile"
DM6 = WORKFLOW / "config" / "dm6.yaml"
# The jobs' `bioseq` is the checkout's, whatever is installed.
ENV = {
    **os.environ,
    "PYTHONWARNINGS": "ignore",
    "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
}


def _load_script():
    spec = importlib.util.spec_from_file_location("vcf_shards", WORKFLOW / "scripts" / "vcf_shards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vcf_shards = _load_script()


def write_vcf(path: Path, records: list[tuple[str, int]], *, contigs=("chr2L", "chr2R", "chrX"), index=True) -> Path:
    """A bgzipped VCF of A>C SNVs at 1-based ``(contig, pos)``, with an INFO field; tabix-indexed when asked."""
    header = pysam.VariantHeader()
    for contig in contigs:
        header.contigs.add(contig, length=1_000_000)
    header.add_line('##INFO=<ID=NOTE,Number=1,Type=String,Description="a label">')
    with pysam.VariantFile(str(path), "wz", header=header) as vcf:
        for number, (contig, pos) in enumerate(records):
            vcf.write(vcf.new_record(contig=contig, start=pos - 1, alleles=("A", "C"), info={"NOTE": f"v{number}"}))
    if index:
        pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


def records(path: Path) -> list[tuple[str, int, str]]:
    with pysam.VariantFile(str(path)) as vcf:
        return [(r.contig, r.pos, r.info["NOTE"]) for r in vcf]


# ---------------------------------------------------------------- scripts/vcf_shards.py


@pytest.mark.parametrize("index", [True, False])
def test_split_writes_one_vcf_per_contig_with_the_header(tmp_path, index):
    source = write_vcf(tmp_path / "in.vcf.gz", [("chr2L", 10), ("chr2L", 20), ("chr2R", 5)], index=index)
    counts = vcf_shards.split(source, ["chr2L", "chr2R", "chrX"], tmp_path / "split")
    assert counts == {"chr2L": 2, "chr2R": 1, "chrX": 0}
    assert sorted(p.name for p in (tmp_path / "split").iterdir()) == ["chr2L.vcf.gz", "chr2R.vcf.gz", "chrX.vcf.gz"]
    assert records(tmp_path / "split" / "chr2L.vcf.gz") == [("chr2L", 10, "v0"), ("chr2L", 20, "v1")]
    assert records(tmp_path / "split" / "chrX.vcf.gz") == []  # the header alone
    with pysam.VariantFile(str(tmp_path / "split" / "chrX.vcf.gz")) as vcf:
        assert list(vcf.header.contigs) == ["chr2L", "chr2R", "chrX"] and "NOTE" in vcf.header.info
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # nothing left of the staging folder


def test_split_refuses_records_of_a_contig_not_listed_and_leaves_nothing(tmp_path):
    source = write_vcf(tmp_path / "in.vcf.gz", [("chr2L", 10), ("chr2R", 5)], index=False)
    with pytest.raises(vcf_shards.ShardError, match="chr2R:5 is on a contig that is not split out"):
        vcf_shards.split(source, ["chr2L"], tmp_path / "split")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf.gz"]
    assert vcf_shards.main(["split", str(source), "--contigs", "chr2L", "--out", str(tmp_path / "s")]) == 1


def test_merge_keeps_the_order_given_and_indexes(tmp_path):
    source = write_vcf(tmp_path / "in.vcf.gz", [("chr2L", 10), ("chr2L", 20), ("chr2R", 5), ("chrX", 7)])
    vcf_shards.split(source, ["chr2L", "chr2R", "chrX"], tmp_path / "split")
    shards = [tmp_path / "split" / f"{c}.vcf.gz" for c in ("chr2L", "chr2R", "chrX")]
    tsvs = []
    for contig, rows in (("chr2L", ["a", "b"]), ("chr2R", ["c"]), ("chrX", [])):
        tsvs.append(tmp_path / f"{contig}.tsv")
        tsvs[-1].write_text("".join(["name\tscore\n", *(f"{r}\t0.5\n" for r in rows)]))
    summaries = []
    for number, contig in enumerate(("chr2L", "chr2R", "chrX")):
        summaries.append(tmp_path / f"{contig}.json")
        summary = {"counts": {"records": number + 1}, "scored": number, "unscored": {"ref_mismatch": 1}, "distance": 50}
        if number == 2:
            summary["unscored"] = {"unknown_contig": 2}
        summaries[-1].write_text(json.dumps(summary))
    out, tsv = tmp_path / "merged.vcf.gz", tmp_path / "merged.tsv"
    merged = tmp_path / "merged.json"
    arguments = ["--out", str(out), "--tsv", str(tsv), "--tsv-shards", *map(str, tsvs)]
    arguments += ["--summary", str(merged), "--summary-shards", *map(str, summaries)]
    assert vcf_shards.main(["merge", *map(str, shards), *arguments]) == 0
    assert json.loads(merged.read_text()) == {
        "counts": {"records": 6},
        "scored": 3,
        "unscored": {"ref_mismatch": 2, "unknown_contig": 2},
        "distance": 50,  # not a count: the first shard's
        "outputs": [str(out), str(tsv)],
        "shards": 3,
    }
    assert records(out) == records(source)
    with pysam.VariantFile(str(out)) as vcf:  # bgzipped and indexed: fetch by region works
        assert [r.pos for r in vcf.fetch("chr2R")] == [5]
    assert (tmp_path / "merged.vcf.gz.tbi").is_file()
    assert tsv.read_text() == "name\tscore\na\t0.5\nb\t0.5\nc\t0.5\n"
    with gzip.open(out, "rt") as handle:
        assert sum(line.startswith("#CHROM") for line in handle) == 1  # one header


def test_merge_refuses_a_contig_in_two_shards_and_writes_nothing(tmp_path):
    source = write_vcf(tmp_path / "in.vcf.gz", [("chr2L", 10)])
    out = tmp_path / "merged.vcf.gz"
    with pytest.raises(vcf_shards.ShardError, match="one contig that no other shard holds"):
        vcf_shards.merge([source, source], out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf.gz", "in.vcf.gz.tbi"]
    with pytest.raises(vcf_shards.ShardError, match="one TSV per shard"):
        vcf_shards.merge([source], out, tsv=tmp_path / "m.tsv")


# ---------------------------------------------------------------- snakemake


def snakemake(workdir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run snakemake on the workflow in ``workdir``; stdout and stderr together in ``.stdout``."""
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), *args]
    return subprocess.run(
        command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, env=ENV
    )


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a snakemake run: rule -> number of jobs."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)}


@pytest.fixture()
def workdir(tmp_path: Path, shared_data) -> Path:
    """``tmp/main`` with ``data`` -> the repository's data/ and ``tmp/shared/data`` -> the shared data."""
    pytest.importorskip("snakemake")
    main = tmp_path / "main"
    main.mkdir()
    (main / "data").symlink_to(REPO / "data", target_is_directory=True)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(shared_data, target_is_directory=True)
    return main


def dm6_config(workdir: Path, edit) -> Path:
    """dm6.yaml changed by ``edit(config)``, written into ``workdir``."""
    config = yaml.safe_load(DM6.read_text())
    edit(config)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.slow
def test_dm6_dry_run_lists_the_per_base_jobs(workdir):
    def edit(config):  # dm6.yaml, but its splice-site windows train every model (the default)
        assert config["genomes"]["dm6"]["splice_sites"].pop("models") == ["lstm", "transformer", "kmer_logistic"]

    result = snakemake(workdir, "--configfile", str(dm6_config(workdir, edit)), "-n")
    assert result.returncode == 0, result.stdout
    counts = job_counts(result.stdout)
    assert {rule: counts.get(rule, 0) for rule in PER_BASE_RULES} == {
        "per_base_dataset": 1,
        "train_per_base": 1,
        "annotate": 1,
        "simulate_variants": 1,
        "score_variants": 1,
        "split_vcf": 0,
        "score_variant_shard": 0,
        "merge_variant_shards": 0,
    }
    assert counts["train"] == 3  # every window model; per_base_cnn never trains on the splice-site windows
    out = result.stdout
    assert (
        "--per-base --context 400 --window 400 --test-chroms chr2R --seed 0 --out results/dm6/data/dm6_per_base" in out
    )
    assert "bioseq train --train results/dm6/data/dm6_per_base --model per_base_cnn" in out
    assert "--model-option context=400 --out results/dm6/runs/dm6_per_base/per_base_cnn --resume auto" in out
    assert "bioseq annotate results/dm6/runs/dm6_per_base/per_base_cnn" in out
    assert "--out results/dm6/annotation/dm6/per_base_cnn --threshold 0.5 --pairing" in out
    assert "--contigs chr2R --per-category 50 --seed 0 --out results/dm6/variants/dm6/simulated.vcf.gz" in out
    assert "--vcf results/dm6/variants/dm6/simulated.vcf.gz" in out and "--distance 50" in out
    assert "--out results/dm6/variants/dm6/simulated/per_base_cnn.vcf.gz --tsv " in out


PER_BASE_RULES = (
    "per_base_dataset",
    "train_per_base",
    "annotate",
    "simulate_variants",
    "score_variants",
    "split_vcf",
    "score_variant_shard",
    "merge_variant_shards",
)


@pytest.mark.slow
def test_sharded_dry_run_scores_each_contig_as_a_job(workdir):
    # an indexed VCF whose header declares chrX too: only the contigs with records become shards
    write_vcf(workdir / "mine.vcf.gz", [("chr2L", 1000), ("chr2R", 2000)])

    def edit(config):
        dm6 = config["genomes"]["dm6"]
        del dm6["splice_sites"]  # a per-base-only config: no window models, no comparison
        config["models"] = {"per_base_cnn": config["models"]["per_base_cnn"]}
        dm6["variants"].update(
            shard_by_contig=True, vcfs={"mine": "mine.vcf.gz"}, simulate={"contigs": ["chr2L", "chr2R"]}
        )

    result = snakemake(workdir, "--configfile", str(dm6_config(workdir, edit)), "-n", "--config", "gpu=True")
    assert result.returncode == 0, result.stdout
    # with gpu: true the model jobs ask for the GPU; the dataset, simulation, split and merge jobs do not
    jobs = [job for job in result.stdout.split("\n\n") if re.search(r"rule (\w+):", job)]
    on_gpu = {re.search(r"rule (\w+):", job)[1] for job in jobs if "gpu=1" in job}
    assert on_gpu == {"train_per_base", "annotate", "score_variant_shard"}
    assert "--accelerator gpu" in result.stdout and "--device cuda" in result.stdout
    assert job_counts(result.stdout) == {
        "per_base_dataset": 1,
        "train_per_base": 1,
        "annotate": 1,
        "simulate_variants": 1,
        "split_vcf": 2,
        "score_variant_shard": 4,  # 2 VCFs x (chr2L, chr2R)
        "merge_variant_shards": 2,
        "all": 1,
    }
    out = result.stdout
    assert "split mine.vcf.gz --contigs chr2L chr2R --out results/dm6/variants/dm6/mine/split" in out
    assert "--vcf results/dm6/variants/dm6/mine/split/chr2R.vcf.gz" in out
    merge = next(m for m in re.findall(r"vcf_shards.py merge (.*)", out) if "/mine/" in m)
    assert merge.index("shards/per_base_cnn/chr2L.vcf.gz") < merge.index("shards/per_base_cnn/chr2R.vcf.gz")
    assert (
        "--out results/dm6/variants/dm6/mine/per_base_cnn.vcf.gz --tsv results/dm6/variants/dm6/mine/per_base_cnn.tsv"
        in merge
    )


@pytest.mark.slow
def test_lint_of_the_dm6_config_is_clean(workdir):
    result = snakemake(workdir, "--configfile", str(DM6), "--lint")
    assert result.returncode == 0, result.stdout
    assert "Congratulations, your workflow is in a good condition!" in result.stdout, result.stdout


@pytest.mark.slow
def test_bad_per_base_configs_fail_with_a_clear_message(workdir):
    def lists_window_model(config):
        config["genomes"]["dm6"]["per_base"]["models"] = ["lstm"]

    def window_dataset_lists_per_base_model(config):
        config["genomes"]["dm6"]["splice_sites"]["models"] = ["lstm", "per_base_cnn"]

    def variants_without_per_base(config):
        del config["genomes"]["dm6"]["per_base"]

    def missing_vcf(config):
        config["genomes"]["dm6"]["variants"].update(shard_by_contig=True, vcfs={"gone": "gone.vcf.gz"})

    cases = [
        (lists_window_model, "the per_base: block of 'dm6' lists lstm, which scores a window"),
        (window_dataset_lists_per_base_model, "lists per_base_cnn, which scores every base"),
        (variants_without_per_base, "genome 'dm6' has a variants: block but no per_base: block"),
        (missing_vcf, "the VCF gone.vcf.gz does not exist"),
    ]
    for edit, message in cases:
        result = snakemake(workdir, "--configfile", str(dm6_config(workdir, edit)), "-n")
        assert result.returncode != 0, edit.__name__
        assert message in result.stdout, result.stdout


# The end-to-end run of this section is part of tests/workflows/test_workflow.py::
# test_dm6_genome_pipeline_on_real_data (one snakemake run of dm6.yaml for both sections).


def test_split_and_merge_write_files_a_colleague_can_read(tmp_path):
    old = os.umask(0o022)
    try:
        source = write_vcf(tmp_path / "in.vcf.gz", [("chr2L", 5), ("chr2R", 7)])
        vcf_shards.split(source, ["chr2L", "chr2R", "chrX"], tmp_path / "shards")
        parts = [tmp_path / "shards" / f"{c}.vcf.gz" for c in ("chr2L", "chr2R", "chrX")]
        vcf_shards.merge(parts, tmp_path / "out.vcf.gz")
    finally:
        os.umask(old)
    for path in [tmp_path / "shards", *parts, tmp_path / "out.vcf.gz", tmp_path / "out.vcf.gz.tbi"]:
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path
