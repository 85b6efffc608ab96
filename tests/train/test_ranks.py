"""check_ranks against fake SLURM environments (the real cluster is in tests/workflows/test_slurm.py).

The variables are the ones SLURM sets: a batch script has SLURM_JOB_ID but no
SLURM_STEP_ID; ``srun`` adds SLURM_STEP_ID and SLURM_NTASKS (tasks in the step).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bioseq.errors import InputError
from bioseq.train.ranks import check_ranks


def step(tasks: int, **extra: str) -> dict[str, str]:
    """The environment of one task of ``srun -n <tasks> ...`` in job 42 (job name as srun sets it)."""
    return {
        "SLURM_JOB_ID": "42",
        "SLURM_STEP_ID": "0",
        "SLURM_NTASKS": str(tasks),
        "SLURM_PROCID": "0",
        "SLURM_JOB_NAME": "bioseq",
        **extra,
    }


def batch(**extra: str) -> dict[str, str]:
    """The environment of an sbatch script of job 42 that asked for two tasks per node."""
    return {
        "SLURM_JOB_ID": "42",
        "SLURM_NTASKS": "2",
        "SLURM_NTASKS_PER_NODE": "2",
        "SLURM_JOB_NAME": "train.sh",
        **extra,
    }


@pytest.mark.parametrize("devices, num_nodes, tasks", [(1, 1, 1), (2, 1, 2), (4, 2, 8), (2, 3, 6)])
def test_matching_step_passes(devices, num_nodes, tasks):
    # srun started exactly devices * num_nodes tasks: one rank per device.
    check_ranks(devices, num_nodes, environ=step(tasks))


def test_srun_n1_with_two_devices_is_refused():
    # The case from the brief: `srun -n1 bioseq train --devices 2` trains on one rank.
    with pytest.raises(InputError) as caught:
        check_ranks(2, 1, environ=step(1))
    message = caught.value.render({"devices": "--devices", "num_nodes": "--num-nodes"})  # as bioseq train prints it
    assert "SLURM job 42 step 0 has 1 task(s) (SLURM_NTASKS=1)" in message
    assert "Lightning would train on 1 rank(s) while --devices 2 --num-nodes 1 ask for 2" in message
    assert "while devices=2 num_nodes=1 ask for 2" in str(caught.value)  # as a Python caller reads it
    assert "srun --nodes=1 --ntasks-per-node=2" in message
    assert "#SBATCH --nodes=1 --ntasks-per-node=2 --gpus-per-node=2" in message
    assert "torchrun" in message
    # One task on one node: --devices 1 would match what SLURM started.
    assert message.endswith("or set --devices 1 to match.")


def test_too_many_tasks_is_refused():
    # srun -n 4 with --devices 2: four ranks would train, two were asked for.
    with pytest.raises(InputError, match=r"train on 4 rank\(s\) while devices=2 num_nodes=1 ask for 2"):
        check_ranks(2, 1, environ=step(4))


def test_fix_when_tasks_do_not_divide_by_nodes():
    # 3 tasks over 2 nodes: no --devices alone matches, so the fix names the product.
    with pytest.raises(InputError, match="devices=N and num_nodes=M so that their product is 3"):
        check_ranks(1, 2, environ=step(3))


def test_batch_script_with_several_devices_is_refused():
    with pytest.raises(InputError) as caught:
        check_ranks(2, 1, environ=batch())
    message = str(caught.value)
    assert "training on 2 devices was started in the batch script of SLURM job 42" in message
    assert "Launch one task per device with srun --nodes=1 --ntasks-per-node=2" in message


def test_batch_script_counts_nodes_too():
    # One device on each of two nodes still needs srun to start the second rank.
    with pytest.raises(InputError, match="training on 2 devices was started in the batch script"):
        check_ranks(1, 2, environ=batch())


def test_batch_script_with_one_device_passes():
    # A single process trains alone, as asked; nothing to launch.
    check_ranks(1, 1, environ=batch())


@pytest.mark.parametrize(
    "environ",
    [
        {},  # not under SLURM
        step(1, TORCHELASTIC_RUN_ID="abc"),  # torchrun inside an allocation sets its own ranks
        step(1, LOCAL_RANK="1"),  # a process Lightning or torchrun launched
        step(1, SLURM_JOB_NAME="interactive"),  # Lightning ignores SLURM for these job names
        step(1, SLURM_JOB_NAME="bash"),
        batch(SLURM_JOB_NAME="bash"),
    ],
)
def test_environments_that_set_their_own_ranks_pass(environ):
    check_ranks(2, 1, environ=environ)


def test_auto_devices_is_not_checked():
    # The device count is only known once Lightning looks at the hardware.
    check_ranks("auto", 1, environ=step(1))
    check_ranks("auto", 1, environ=batch())


@pytest.mark.parametrize(
    "devices, num_nodes, name",
    [
        (0, 1, "devices"),
        (-1, 1, "devices"),
        ("2", 1, "devices"),
        (True, 1, "devices"),
        (1.5, 1, "devices"),
        (1, 0, "num_nodes"),
        (1, "auto", "num_nodes"),
        (1, None, "num_nodes"),
    ],
)
def test_bad_counts_are_refused_everywhere(devices, num_nodes, name):
    # Checked before the environment, so a bad value fails on a laptop as on the cluster.
    with pytest.raises(InputError, match=f"^{name} must be a positive integer"):
        check_ranks(devices, num_nodes, environ={})


def test_reads_os_environ_by_default(monkeypatch):
    for name in ("SLURM_JOB_NAME", "TORCHELASTIC_RUN_ID", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in step(1).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match="SLURM_NTASKS=1"):
        check_ranks(2, 1)


@given(devices=st.integers(1, 8), num_nodes=st.integers(1, 4), tasks=st.integers(1, 64))
def test_step_passes_exactly_when_tasks_match(devices, num_nodes, tasks):
    # Invariant: inside a step the only accepted task count is devices * num_nodes.
    environ = step(tasks)
    if tasks == devices * num_nodes:
        check_ranks(devices, num_nodes, environ=environ)
    else:
        with pytest.raises(InputError):
            check_ranks(devices, num_nodes, environ=environ)


def test_launch_rank_reads_the_launchers_variables():
    from bioseq.train.ranks import launch_rank

    assert launch_rank(2, environ={}) == 0
    assert launch_rank(2, environ={"RANK": "3", "LOCAL_RANK": "1"}) == 3  # torchrun
    assert launch_rank(2, environ={"LOCAL_RANK": "1", "NODE_RANK": "1"}) == 3  # Lightning's launcher, node 1
    assert launch_rank(2, environ={"SLURM_STEP_ID": "0", "SLURM_NTASKS": "2", "SLURM_PROCID": "1"}) == 1
    assert launch_rank(1, environ={"SLURM_JOB_ID": "7", "SLURM_PROCID": "0"}) == 0  # a batch script: no step
