"""A real single-node SLURM cluster: sbatch, srun-launched DDP, the Snakemake SLURM profile, requeued training.

The session fixture starts the cluster with ``.ci/slurm/start.sh`` (which
installs SLURM with apt-get when missing and needs root) and stops it with
``.ci/slurm/stop.sh`` at the end, unless it was already running. Every test is
skipped, with the reason, where no cluster can be started: not Linux, not root,
no SLURM and no apt-get, or ``BIOSEQ_NO_SLURM=1`` (for root users who do not
want packages installed). Every sbatch/srun/snakemake call runs under a timeout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START, STOP = REPO / ".ci" / "slurm" / "start.sh", REPO / ".ci" / "slurm" / "stop.sh"
PROFILE = REPO / "workflows" / "profiles" / "slurm"
SLURM_DIR = Path(os.environ.get("BIOSEQ_SLURM_DIR", "/tmp/bioseq-slurm"))
CHECK_RANKS = "from bioseq.train.ranks import check_ranks; check_ranks(2, 1)"

pytestmark = pytest.mark.slow


def _why_no_cluster() -> str | None:
    if os.environ.get("BIOSEQ_NO_SLURM"):
        return "BIOSEQ_NO_SLURM is set"
    if not sys.platform.startswith("linux"):
        return f"a SLURM cluster needs Linux, this is {sys.platform}"
    if os.geteuid() != 0:
        return "starting the test SLURM cluster (.ci/slurm/start.sh) needs root"
    if shutil.which("slurmctld") is None and shutil.which("apt-get") is None:
        return "SLURM is not installed and there is no apt-get to install it"
    return None


def _running() -> bool:
    pid = SLURM_DIR / "run" / "slurmctld.pid"
    try:
        os.kill(int(pid.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


@pytest.fixture(scope="session")
def slurm_env() -> dict[str, str]:
    """The environment for SLURM commands (SLURM_CONF of the test cluster, no inherited job variables)."""
    reason = _why_no_cluster()
    if reason:
        pytest.skip(reason)
    was_running = _running()
    # 120 s for the daemons; apt-get needs more the first time on a fresh machine.
    timeout = 120 if shutil.which("slurmctld") else 600
    try:
        started = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        started = None
    if started is None or started.returncode != 0:
        if not was_running:  # leave no half-started daemons behind
            subprocess.run(["bash", str(STOP)], capture_output=True, timeout=120)
        if started is None:
            pytest.fail(f"{START} did not finish within {timeout} s; see the logs in {SLURM_DIR / 'log'}")
        if started.returncode == 3:  # start.sh: this machine cannot host a cluster
            pytest.skip(f"no SLURM cluster here: {started.stderr.strip().splitlines()[-1]}")
        pytest.fail(f"{START} failed:\n{started.stderr[-3000:]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_"))}
    # start.sh prints "export SLURM_CONF=..." as its last line.
    name, _, value = started.stdout.strip().splitlines()[-1].removeprefix("export ").partition("=")
    env[name] = value
    yield env
    if not was_running:
        subprocess.run(["bash", str(STOP)], capture_output=True, timeout=120)


def run(
    args: list[str], env: dict[str, str], *, timeout: float, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run a command, failing the test (not hanging) when it outruns ``timeout`` seconds."""
    try:
        return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{' '.join(args)} did not finish within {timeout} s:\n{error.stderr or ''}")


def sacct(job_ids: list[str], env: dict[str, str]) -> dict[str, dict[str, str]]:
    """JobID -> {State, JobName, Comment} of finished jobs, polling until accounting has them all.

    The jobs need not be finished; the caller's assertions then fail with the last state seen.
    """
    finished = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL")
    rows: dict[str, dict[str, str]] = {}
    for _ in range(120):  # up to 30 s: slurmctld hands job records to slurmdbd asynchronously
        out = run(
            ["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", "JobID,State,JobName%100,Comment%200"],
            env,
            timeout=30,
        ).stdout
        rows = {}
        for line in out.splitlines():
            job, state, name, comment = line.split("|")
            rows[job] = {"State": state.split()[0], "JobName": name, "Comment": comment}
        # Right after a job ends sacct may show it once under the placeholder name "allocation".
        if set(job_ids) <= rows.keys() and all(
            rows[j]["State"] in finished and rows[j]["JobName"] != "allocation" for j in job_ids
        ):
            break
        time.sleep(0.25)
    return rows


def bioseq_command() -> str:
    path = shutil.which("bioseq")
    if path is None:
        pytest.skip("the bioseq command is not on PATH (pip install -e .)")
    return path


@pytest.fixture(scope="module")
def small_table(tmp_path_factory, example_data) -> Path:
    """The first 300 rows of the UCI splice table: enough for one epoch of each class."""
    lines = (example_data / "uci_splice.csv").read_text().splitlines(keepends=True)
    path = tmp_path_factory.mktemp("slurm_data") / "splice.csv"
    path.write_text("".join(lines[:301]))
    return path


# ------------------------------------------------------------------ (a) sbatch and sacct


def test_sbatch_wrap_completes_and_sacct_records_it(slurm_env, tmp_path):
    submitted = run(
        [
            "sbatch",
            "--parsable",
            "--wait",
            "--job-name",
            "bioseq-ci-wrap",
            "-o",
            str(tmp_path / "%j.out"),
            "--wrap",
            "echo hello from $SLURM_JOB_ID",
        ],
        slurm_env,
        timeout=120,
        cwd=tmp_path,
    )
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().split(";")[0]
    assert (tmp_path / f"{job}.out").read_text() == f"hello from {job}\n"
    assert sacct([job], slurm_env)[job] == {"State": "COMPLETED", "JobName": "bioseq-ci-wrap", "Comment": ""}


def test_batch_script_training_on_two_devices_is_refused(slurm_env, tmp_path):
    # Run in the batch script itself (no srun): SLURM sets SLURM_JOB_ID but no SLURM_STEP_ID there.
    submitted = run(
        [
            "sbatch",
            "--parsable",
            "--wait",
            "--ntasks-per-node",
            "2",
            "-o",
            str(tmp_path / "%j.out"),
            "--wrap",
            f"{sys.executable} -c '{CHECK_RANKS}'",
        ],
        slurm_env,
        timeout=120,
        cwd=tmp_path,
    )
    job = submitted.stdout.strip().split(";")[0]
    assert submitted.returncode != 0  # sbatch --wait passes the job's failure on
    assert sacct([job], slurm_env)[job]["State"] == "FAILED"
    log = (tmp_path / f"{job}.out").read_text()
    assert f"training on 2 devices was started in the batch script of SLURM job {job}" in log
    assert "srun --nodes=1 --ntasks-per-node=2" in log


# ------------------------------------------------------------------ (b) srun and DDP training


def test_srun_two_tasks_train_one_ddp_model(slurm_env, small_table, tmp_path):
    # Lightning's SLURM environment takes world size and ranks from the two tasks srun starts.
    out = tmp_path / "run"
    trained = run(
        [
            "srun",
            "-n",
            "2",
            "--ntasks-per-node",
            "2",
            bioseq_command(),
            "train",
            "--train",
            str(small_table),
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--batch-size",
            "64",
            "--devices",
            "2",
            "--accelerator",
            "cpu",
            "--strategy",
            "ddp",
            "--out",
            str(out),
        ],
        slurm_env,
        timeout=600,
        cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    training = json.loads((out / "bundle" / "config.json").read_text())["training"]
    assert training["world_size"] == 2
    assert training["devices"] == 2
    assert json.loads((out / "metrics.json").read_text())["valid"]["accuracy"] >= 0


def test_srun_one_task_with_two_devices_is_refused(slurm_env, tmp_path):
    # srun -n1 starts one task: check_ranks sees SLURM_NTASKS=1 in a real job step.
    refused = run(["srun", "-n", "1", sys.executable, "-c", CHECK_RANKS], slurm_env, timeout=120, cwd=tmp_path)
    assert refused.returncode != 0
    assert "has 1 task(s) (SLURM_NTASKS=1), so Lightning would train on 1 rank(s)" in refused.stderr
    # a Python caller (check_ranks from python -c) reads the parameters; bioseq train would print the flags
    assert "while devices=2 num_nodes=1 ask for 2" in refused.stderr
    assert "or set devices=1 to match." in refused.stderr


def test_bioseq_train_under_srun_n1_with_two_devices_is_refused(slurm_env, small_table, tmp_path):
    from bioseq.train import fit

    if "check_ranks" not in Path(fit.__file__).read_text():
        pytest.skip("bioseq/train/fit.py does not call check_ranks yet")
    refused = run(
        [
            "srun",
            "-n",
            "1",
            bioseq_command(),
            "train",
            "--train",
            str(small_table),
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--devices",
            "2",
            "--accelerator",
            "cpu",
            "--strategy",
            "ddp",
            "--out",
            str(tmp_path / "run"),
        ],
        slurm_env,
        timeout=300,
        cwd=tmp_path,
    )
    assert refused.returncode == 1, refused.stderr[-3000:]
    assert "SLURM_NTASKS=1" in refused.stderr and "--ntasks-per-node=2" in refused.stderr
    assert "while --devices 2 --num-nodes 1 ask for 2" in refused.stderr  # the command's own flags
    assert not (tmp_path / "run" / "bundle").exists()


# ------------------------------------------------------------------ (c) Snakemake through sbatch

SNAKEFILE = """
rule all:
    input:
        expand("out/{part}.txt", part=["head", "tail"]),


rule inspect:
    input:
        "{part}.csv",
    output:
        "out/{part}.txt",
    log:
        "logs/{part}.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "bioseq inspect {input} > {output} 2> {log} && echo job $SLURM_JOB_ID >> {output}"
"""


def test_snakemake_profile_submits_each_job_with_sbatch(slurm_env, small_table, tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install 'bioseq[workflow]'")
    bioseq_command()
    lines = small_table.read_text().splitlines(keepends=True)
    (tmp_path / "head.csv").write_text("".join(lines[:101]))  # header + rows 1-100
    (tmp_path / "tail.csv").write_text(lines[0] + "".join(lines[-50:]))  # header + last 50 rows
    (tmp_path / "Snakefile").write_text(textwrap.dedent(SNAKEFILE))
    ran = run(
        [sys.executable, "-m", "snakemake", "--profile", str(PROFILE), "--cores", "2", "--slurm-keep-successful-logs"],
        slurm_env,
        timeout=600,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr[-4000:]
    jobs = {}
    for part, records in (("head", 100), ("tail", 50)):
        report = (tmp_path / "out" / f"{part}.txt").read_text()
        assert f"records               {records}\n" in report  # the whole table was inspected
        assert report.splitlines()[-1].startswith("job ")  # ... inside a SLURM job
        jobs[part] = report.splitlines()[-1].split()[1]
        # The plugin's log of that job, named by rule, wildcards and SLURM job id.
        assert (tmp_path / ".snakemake" / "slurm_logs" / "rule_inspect" / part / f"{jobs[part]}.log").is_file()
    accounted = sacct(list(jobs.values()), slurm_env)
    run_names = set()
    for part, job in jobs.items():
        assert accounted[job]["State"] == "COMPLETED"
        assert accounted[job]["Comment"] == f"rule_inspect_wildcards_{part}"  # the plugin's sbatch --comment
        run_names.add(accounted[job]["JobName"])  # the plugin names every job after the run's uuid
    assert len(run_names) == 1


# ------------------------------------------------------------------ (c) the bioseq workflow on SLURM

WORKFLOW = REPO / "workflows" / "Snakefile"


def workflow_command(*extra: str) -> list[str]:
    """The bioseq workflow with its default config and the SLURM profile (not the local default one)."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(WORKFLOW),
        "--configfile",
        str(REPO / "workflows" / "config" / "config.yaml"),
        "--workflow-profile",
        "none",
        "--profile",
        str(PROFILE),
        *extra,
    ]


@pytest.fixture
def workflow_dir(tmp_path) -> Path:
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install 'bioseq[workflow]'")
    if not WORKFLOW.is_file():
        pytest.skip(f"{WORKFLOW} is not there")
    (tmp_path / "data").symlink_to(REPO / "data")  # the config's paths are relative to the run directory
    return tmp_path


def test_workflow_plans_slurm_jobs_with_the_profile(slurm_env, workflow_dir):
    # Dry run: the profile's options and default resources are accepted and reach every job.
    planned = run(workflow_command("--dry-run"), slurm_env, timeout=300, cwd=workflow_dir)
    assert planned.returncode == 0, planned.stderr[-4000:]
    plan = planned.stdout + planned.stderr
    assert "slurm_partition=debug" in plan
    assert "rule train:" in plan


@pytest.mark.skipif(
    not os.environ.get("BIOSEQ_SLURM_WORKFLOW"),
    reason="the whole workflow on SLURM takes about 15 min on 2 cores; set BIOSEQ_SLURM_WORKFLOW=1",
)
def test_workflow_runs_to_the_end_on_slurm(slurm_env, workflow_dir):
    ran = run(workflow_command(), slurm_env, timeout=2400, cwd=workflow_dir)
    assert ran.returncode == 0, ran.stderr[-4000:]
    assert "steps (100%) done" in ran.stderr
    assert (workflow_dir / "results" / "comparison" / "comparison.tsv").is_file()
    logs = list((workflow_dir / ".snakemake" / "slurm_logs").glob("rule_train/*"))
    assert logs, "no training job went through sbatch"


def test_workflow_on_slurm_trains_ddp_through_srun(slurm_env, workflow_dir, small_table):
    # The bioseq workflow, small: a split table, the k-mer baseline (one task) and a CNN trained
    # with DDP on 2 CPU processes (devices: 2), whose job asks SLURM for 2 tasks and starts them
    # with srun. Every job goes through sbatch; the outputs are complete.
    import yaml

    config = {
        "results": "out",
        "models": {
            "cnn": {
                "epochs": 1,
                "batch_size": 64,
                "devices": 2,
                "threads": 1,
                "mem_mb": 1500,
                "runtime": 15,
                "options": {"channels": [8], "kernel_sizes": [9], "dilations": [1], "pools": [1], "head_hidden": 8},
            },
            "kmer_logistic": {"options": {"k": 2}, "threads": 1, "mem_mb": 1000, "runtime": 15},
        },
        "tables": {"uci": {"path": str(small_table), "split": {"valid": 0.2, "test": 0.2}}},
    }
    (workflow_dir / "small.yaml").write_text(yaml.safe_dump(config))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(WORKFLOW),
        "--configfile",
        "small.yaml",
        "--workflow-profile",
        "none",
        "--profile",
        str(PROFILE),
        "--slurm-keep-successful-logs",
    ]
    ran = run(command, slurm_env, timeout=900, cwd=workflow_dir)
    assert ran.returncode == 0, ran.stderr[-4000:]
    out = workflow_dir / "out"
    for model in ("cnn", "kmer_logistic"):
        assert (out / "evaluation" / "uci" / model / "metrics.json").is_file(), model
    with open(out / "comparison" / "comparison.tsv") as handle:
        assert sorted(line.split("\t")[1] for line in handle.read().splitlines()[1:]) == ["cnn", "kmer_logistic"]
    training = json.loads((out / "runs" / "uci" / "cnn" / "bundle" / "config.json").read_text())["training"]
    assert training["world_size"] == 2 and training["devices"] == 2  # two ranks, one per SLURM task
    logs = workflow_dir / ".snakemake" / "slurm_logs"
    ddp_jobs = [p.stem for p in (logs / "rule_train_ddp").rglob("*.log")]
    assert len(ddp_jobs) == 1, "the DDP training did not go through sbatch"
    other_jobs = [p.stem for rule in ("rule_train", "rule_evaluate") for p in (logs / rule).rglob("*.log")]
    assert len(other_jobs) == 3  # k-mer training, two evaluations (split_table and compare are local rules)
    accounted = sacct(ddp_jobs + other_jobs, slurm_env)
    assert {accounted[j]["State"] for j in ddp_jobs + other_jobs} == {"COMPLETED"}
    steps = run(["sacct", "-n", "-P", "-j", ddp_jobs[0], "-o", "JobID,NTasks"], slurm_env, timeout=30).stdout
    assert any(line.split("|")[1] == "2" for line in steps.splitlines()), steps  # the srun step ran 2 tasks


# ------------------------------------------------------------------ (d) a requeued training job continues

# A CNN that trains for about 12 s on one core (8 epochs of ~1.5 s on the whole UCI table), so that the
# requeue, sent once the first epoch's checkpoint is there, lands mid-training. patience > epochs: all 8 run.
TRAIN_FLAGS = [
    "--model",
    "cnn",
    "--epochs",
    "8",
    "--batch-size",
    "64",
    "--patience",
    "10",
    "--seed",
    "0",
    "--accelerator",
    "cpu",
    "--model-option",
    "channels=[96, 96]",
    "--model-option",
    "kernel_sizes=[9, 9]",
    "--model-option",
    "dilations=[1, 2]",
    "--model-option",
    "pools=[1, 1]",
]

# The batch script of workflows/README.md ("bioseq train on SLURM"), with this test's command. The job
# runs again after `scontrol requeue` (or a node failure, or preemption), and requeues itself on USR1,
# which --signal=B:USR1@300 sends to this script 5 minutes before the time limit. Either way SLURM then
# sends SIGTERM to the job's processes: bioseq train saves last.ckpt after the step in flight and exits
# 143, and the next start (`--resume auto`) continues from there. The log is appended to across starts.
REQUEUE_SCRIPT = """\
#!/bin/bash
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --signal=B:USR1@300
echo "start ${{SLURM_RESTART_COUNT:-0}} of job $SLURM_JOB_ID"
export OMP_NUM_THREADS=1
{command} --resume auto &
pid=$!
trap 'scontrol requeue "$SLURM_JOB_ID"' USR1
trap : TERM
wait "$pid"; status=$?
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done
exit "$status"
"""


def train_command(table: Path, out: Path) -> list[str]:
    return [bioseq_command(), "train", "--train", str(table), *TRAIN_FLAGS, "--out", str(out)]


@pytest.fixture(scope="module")
def uninterrupted(example_data, tmp_path_factory) -> Path:
    """The same training run outside SLURM, in one go, on one thread (as the batch script)."""
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    trained = run(train_command(example_data / "uci_splice.csv", out), env, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    return out


def wait_for_job(job: str, env: dict[str, str], *, timeout: float) -> None:
    """Until squeue no longer lists ``job`` (pending, running, requeued or completing)."""
    deadline = time.monotonic() + timeout
    while run(["squeue", "-h", "-j", job, "-o", "%T"], env, timeout=30).stdout.strip():
        if time.monotonic() > deadline:
            run(["scancel", job], env, timeout=30)
            pytest.fail(f"job {job} did not finish within {timeout} s")
        time.sleep(1)


@pytest.mark.parametrize("how", ["scontrol requeue", "USR1 before the time limit"])
def test_a_requeued_training_job_resumes_from_its_checkpoint(slurm_env, example_data, uninterrupted, tmp_path, how):
    out = tmp_path / "run"
    command = " ".join(shlex.quote(word) for word in train_command(example_data / "uci_splice.csv", out))
    (tmp_path / "train.sh").write_text(REQUEUE_SCRIPT.format(command=command))
    submitted = run(
        [
            "sbatch",
            "--parsable",
            "--job-name",
            "bioseq-ci-requeue",
            "-o",
            str(tmp_path / "%j.out"),
            str(tmp_path / "train.sh"),
        ],
        slurm_env,
        timeout=60,
        cwd=tmp_path,
    )
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().split(";")[0]
    deadline, polled = time.monotonic() + 300, 0.0
    while not (out / "checkpoints" / "last.ckpt").exists():
        if time.monotonic() > polled + 1:  # once a second: is the job still there?
            polled = time.monotonic()
            ended = not run(["squeue", "-h", "-j", job, "-o", "%T"], slurm_env, timeout=30).stdout.strip()
            if ended or polled > deadline:
                run(["scancel", job], slurm_env, timeout=30)
                pytest.fail(
                    f"no checkpoint {'before the job ended' if ended else 'within 300 s'}; job log:\n"
                    f"{(tmp_path / f'{job}.out').read_text()[-3000:]}"
                )
        time.sleep(0.05)
    if how == "scontrol requeue":
        sent = run(["scontrol", "requeue", job], slurm_env, timeout=30)
    else:  # what --signal=B:USR1@300 sends to the batch script 5 minutes before the time limit
        sent = run(["scancel", "--batch", "--signal", "USR1", job], slurm_env, timeout=30)
    assert sent.returncode == 0, sent.stderr
    wait_for_job(job, slurm_env, timeout=600)  # a requeued job waits cred_expire (.ci/slurm/start.sh: 15 s)

    log = (tmp_path / f"{job}.out").read_text()
    assert sacct([job], slurm_env)[job]["State"] == "COMPLETED", log[-3000:]
    states = run(["sacct", "-X", "-n", "-P", "-D", "-j", job, "-o", "State"], slurm_env, timeout=30).stdout.split()
    assert states == ["REQUEUED", "COMPLETED"], states
    first, second = log.split(f"start 1 of job {job}\n")  # the second start appended to the same log
    assert first.startswith(f"start 0 of job {job}\n"), log
    assert "bioseq train: stopped by SIGTERM; checkpoint " in first, first[-3000:]  # saved, then exited 143
    assert re.search(rf"resuming {re.escape(str(out))} from \S*last\.ckpt", second), second
    assert "epoch 1/8:" in first and "epoch 1/8:" not in second  # the first epoch was not trained again
    assert (out / "complete.json").is_file()
    found, expected = (json.loads((r / "metrics.json").read_text())["valid"] for r in (out, uninterrupted))
    for key, value in expected.items():
        if isinstance(value, float):
            assert found[key] == pytest.approx(value, abs=1e-6), key
    assert found["confusion_matrix"] == expected["confusion_matrix"]


def test_workflow_train_job_requeued_by_slurm_continues_in_the_same_run(
    slurm_env, workflow_dir, example_data, uninterrupted
):
    # The bioseq workflow with the SLURM profile (slurm-requeue: true, so every job is sbatch --requeue):
    # `scontrol requeue` of the training job mid-training, as a preemption or node failure would; the
    # same Snakemake run waits for the job's second start, which continues from the checkpoint.
    import yaml

    rows = (example_data / "uci_splice.csv").read_text().splitlines()
    (workflow_dir / "test.csv").write_text("\n".join([rows[0], *rows[1::8]]) + "\n")
    cnn = {
        "epochs": 8,
        "batch_size": 64,
        "patience": 10,
        "threads": 1,
        "mem_mb": 1500,
        "runtime": 15,
        "options": {"channels": [96, 96], "kernel_sizes": [9, 9], "dilations": [1, 2], "pools": [1, 1]},
    }
    config = {
        "results": "out",
        "models": {"cnn": cnn},
        "tables": {"t": {"train": str(example_data / "uci_splice.csv"), "test": "test.csv"}},
    }
    (workflow_dir / "small.yaml").write_text(yaml.safe_dump(config))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(WORKFLOW),
        "--configfile",
        "small.yaml",
        "--workflow-profile",
        "none",
        "--profile",
        str(PROFILE),
    ]
    snakemake = subprocess.Popen(
        command, cwd=workflow_dir, env=slurm_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    run_dir = workflow_dir / "out" / "runs" / "t" / "cnn"
    try:
        deadline = time.monotonic() + 300
        while not (run_dir / "checkpoints" / "last.ckpt").exists() and snakemake.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.05)
        queue = run(["squeue", "-h", "-o", "%i|%k"], slurm_env, timeout=30).stdout.splitlines()
        jobs = [line.split("|")[0] for line in queue if line.endswith("|rule_train_wildcards_t_cnn")]
        assert len(jobs) == 1, queue
        requeued = run(["scontrol", "requeue", jobs[0]], slurm_env, timeout=30)
        assert requeued.returncode == 0, requeued.stderr
        output = snakemake.communicate(timeout=600)[0]
    finally:
        if snakemake.poll() is None:
            snakemake.terminate()  # the plugin cancels its jobs
            snakemake.wait(timeout=120)
    assert snakemake.returncode == 0, output[-4000:]
    states = run(["sacct", "-X", "-n", "-P", "-D", "-j", jobs[0], "-o", "State"], slurm_env, timeout=30).stdout.split()
    assert states == ["REQUEUED", "COMPLETED"], states
    log = (workflow_dir / "out" / "logs" / "train" / "t" / "cnn.log").read_text()  # the second start's
    assert "resuming out/runs/t/cnn from out/runs/t/cnn/checkpoints/last.ckpt" in log, log
    assert "epoch 1/8:" not in log, log
    assert (workflow_dir / "out" / "evaluation" / "t" / "cnn" / "metrics.json").is_file()
    found, expected = (json.loads((r / "metrics.json").read_text())["valid"] for r in (run_dir, uninterrupted))
    for key, value in expected.items():
        if isinstance(value, float):
            assert found[key] == pytest.approx(value, abs=1e-6), key
    assert found["confusion_matrix"] == expected["confusion_matrix"]
