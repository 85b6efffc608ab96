"""Refuse a SLURM launch that would train on other ranks than were asked for.

Under SLURM, Lightning never starts processes itself: inside an ``srun`` job
step it takes the world size from ``SLURM_NTASKS`` (tasks in this step) and
each rank from ``SLURM_PROCID``. A mismatch between those tasks and
``devices * num_nodes`` therefore does not fail; it trains silently on the
wrong number of ranks (``srun -n1`` with ``--devices 2`` trains on one), or
waits forever for ranks that never start (``python`` run directly in a batch
script that asked for two tasks per node). :func:`check_ranks` turns both
into an :class:`~bioseq.errors.InputError` before the Trainer is built.

The environment is left alone (no checks) when

* ``SLURM_JOB_ID`` is unset: not a SLURM job;
* ``TORCHELASTIC_RUN_ID`` or ``LOCAL_RANK`` is set: torchrun (or Lightning's
  own launcher) started this process and set its rank;
* ``SLURM_JOB_NAME`` is ``bash`` or ``interactive``: Lightning ignores SLURM
  for such jobs and starts one process per device itself;
* ``devices`` is ``"auto"``: the count is not known before the Trainer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from bioseq.errors import InputError, option

__all__ = ["check_ranks", "launch_rank"]

# Lightning treats jobs of these names as interactive and does not use SLURM's ranks.
_INTERACTIVE_NAMES = ("bash", "interactive")
_TORCHRUN_VARIABLES = ("TORCHELASTIC_RUN_ID", "LOCAL_RANK")


def check_ranks(devices: int | str, num_nodes: int, *, environ: Mapping[str, str] = os.environ) -> None:
    """Check that SLURM starts one task per requested device.

    Parameters
    ----------
    devices : int or "auto"
        Devices per node, as given to training (``--devices``).
    num_nodes : int
        Nodes, as given to training (``--num-nodes``).
    environ : mapping of str to str, optional
        The process environment; tests pass a fake one.

    Raises
    ------
    InputError
        If ``devices`` or ``num_nodes`` is not a positive integer (``devices``
        may also be ``"auto"``); if this is a SLURM job step whose task count
        (``SLURM_NTASKS``) differs from ``devices * num_nodes``; or if more
        than one device is asked for from the batch script itself (no
        ``SLURM_STEP_ID``), where SLURM started no task per device.

    Examples
    --------
    >>> check_ranks(2, 1, environ={})  # not under SLURM: nothing to check
    >>> check_ranks(2, 1, environ={"SLURM_JOB_ID": "7", "SLURM_STEP_ID": "0", "SLURM_NTASKS": "2"})
    """
    _check_count("devices", devices, allow_auto=True)
    _check_count("num_nodes", num_nodes, allow_auto=False)
    if "SLURM_JOB_ID" not in environ or any(name in environ for name in _TORCHRUN_VARIABLES):
        return
    if environ.get("SLURM_JOB_NAME") in _INTERACTIVE_NAMES or devices == "auto":
        return
    wanted = devices * num_nodes
    job = environ["SLURM_JOB_ID"]
    if "SLURM_STEP_ID" not in environ:
        if wanted > 1:
            raise InputError(
                f"training on {wanted} devices was started in the batch script of SLURM job {job} "
                "rather than in a job step, so SLURM started no task per device and Lightning "
                "would train on one process or wait forever for the other ranks",
                fix=_launch_fix(devices, num_nodes),
            )
        return
    tasks = environ.get("SLURM_NTASKS", "")
    if not tasks.isdigit() or int(tasks) == wanted:
        return
    tasks = int(tasks)
    raise InputError(
        f"SLURM job {job} step {environ['SLURM_STEP_ID']} has {tasks} task(s) (SLURM_NTASKS={tasks}), "
        f"so Lightning would train on {tasks} rank(s) while {option('devices', str(devices))} "
        f"{option('num_nodes', str(num_nodes))} ask for {wanted}",
        fix=_launch_fix(devices, num_nodes) + f", or set {_matching_devices(tasks, num_nodes)}",
    )


def _check_count(name: str, value: object, *, allow_auto: bool) -> None:
    if allow_auto and value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "a positive integer or 'auto'" if allow_auto else "a positive integer"
        raise InputError(f"{name} must be {allowed}, not {value!r}", fix=f"Pass {option(name, 'N')} as {allowed}")


def _launch_fix(devices: int, num_nodes: int) -> str:
    return (
        f"Launch one task per device with srun --nodes={num_nodes} --ntasks-per-node={devices} "
        f"(in a batch script: #SBATCH --nodes={num_nodes} --ntasks-per-node={devices} "
        f"--gpus-per-node={devices}, then srun bioseq train ...), or launch with torchrun"
    )


def _matching_devices(tasks: int, num_nodes: int) -> str:
    if tasks % num_nodes == 0:
        return f"{option('devices', str(tasks // num_nodes))} to match"
    return f"{option('devices', 'N')} and {option('num_nodes', 'M')} so that their product is {tasks}"


def launch_rank(devices: int | str, *, environ: Mapping[str, str] = os.environ) -> int:
    """The global rank of this process as its launcher set it, before any process group exists.

    ``RANK`` (torchrun), ``NODE_RANK * devices + LOCAL_RANK`` (Lightning's own
    launcher, which starts ranks 1.. by running the same command again), or
    ``SLURM_PROCID`` inside an ``srun`` step of several tasks; 0 otherwise.
    Only rank 0 prepares the run directory (:func:`bioseq.train.fit.train`).
    """
    for name in ("RANK",):
        if environ.get(name, "").isdigit():
            return int(environ[name])
    if environ.get("LOCAL_RANK", "").isdigit():
        per_node = devices if isinstance(devices, int) else 1
        return int(environ.get("NODE_RANK", "0") or 0) * per_node + int(environ["LOCAL_RANK"])
    if "SLURM_STEP_ID" in environ and environ.get("SLURM_NTASKS", "1").isdigit() and int(environ["SLURM_NTASKS"]) > 1:
        return int(environ.get("SLURM_PROCID", "0") or 0)
    return 0
