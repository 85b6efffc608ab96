"""``tune(config)``: search training settings and model options with Optuna.

Each trial trains the configured model (:func:`bioseq.train.fit.train`) with
settings drawn from a search space and is scored on the validation set by
``config.monitor`` (the metric early stopping and checkpoints use). The test
set is never read by a trial: when ``config.test`` is given, only the winning
bundle is evaluated on it, once, after the search.

Search space
------------
A mapping (or YAML file) from a setting to its range. A setting is a field of
:class:`~bioseq.train.config.TrainConfig` (``lr``, ``weight_decay``,
``batch_size``, ``label_smoothing``, ``rc_augment``, ...) or a model option
written ``model_options.<name>`` (``model_options.d_model``)::

    lr: {low: 1.0e-4, high: 3.0e-3, log: true}     # float range (log scale)
    model_options.n_layers: {low: 1, high: 4}       # integer range (both ends int)
    model_options.d_model: {choices: [32, 64, 96]}  # one of these values

Without one, each kind of model gives its own (``model_kind(name).search_space``,
declared where the model is registered: :mod:`bioseq.models.registry`).

The study directory (``config.out``) holds::

    study.db      Optuna's SQLite storage: rerunning the same command resumes the study
    trials/NNNN/  each trial's run directory (bundle, logs, metrics)
    trials.tsv    one row per trial: number, state, value, seconds, settings
    best.yaml     the winning training config (``bioseq train --config best.yaml``)
    best.json     the winning trial, its value, settings, bundle and test metrics

Trials that fall below the median of earlier trials at the same epoch are
stopped early (Optuna's median pruner) unless ``pruning=False``. The sampler
(TPE) is seeded with ``config.seed`` and every trial trains with that seed, so
a search repeats on the same hardware.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import math
import numbers
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bioseq.errors import InputError, option
from bioseq.train.config import TrainConfig

__all__ = ["TuneResult", "load_space", "tune"]

log = logging.getLogger(__name__)


# Settings a trial must not change: data, outputs, hardware and what the value means.
_FIXED = {
    "train",
    "valid",
    "test",
    "length",
    "valid_fraction",
    "split_by",
    "sequence_column",
    "label_column",
    "model",
    "monitor",
    "accelerator",
    "devices",
    "num_nodes",
    "strategy",
    "num_workers",
    "seed",
    "out",
    "resume",
    "max_time",
    "model_options",
    "precision",
    "compile",
}
_STUDY = "bioseq"


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """What a finished search produced.

    Attributes
    ----------
    study_dir : Path
    best_trial : int
        Number of the winning trial.
    best_value : float
        Its validation ``monitor`` value.
    best_settings : dict
        The settings it drew (space names to values).
    best_config : Path
        ``best.yaml``: the full training config of the winner.
    bundle_dir : Path
        The winner's model bundle.
    test_metrics : dict or None
        The winner's metrics on ``config.test``, when given.
    n_trials : int
        Finished trials in the study (complete, pruned or failed).
    """

    study_dir: Path
    best_trial: int
    best_value: float
    best_settings: dict
    best_config: Path
    bundle_dir: Path
    test_metrics: dict | None
    n_trials: int


def load_space(source: str | Path | Mapping | None, model: str) -> dict[str, dict]:
    """Check a search space (a mapping, a YAML file, or None for the model's default).

    Returns
    -------
    dict
        Setting name -> spec with ``low``/``high`` (and ``log``, ``step``) or ``choices``.

    Raises
    ------
    InputError
        Naming the file, the setting and what is wrong with it.
    """
    path = None
    if source is None:
        from bioseq.models.registry import model_kind

        space = model_kind(model).search_space
        if not space:
            raise InputError(
                f"there is no default search space for model {model!r}",
                fix=f"Give one with {option('space', 'space.yaml')}",
            )
    elif isinstance(source, Mapping):
        space = source
    elif isinstance(source, str) and source.lstrip().startswith("{"):  # inline YAML/JSON (the workflow's)
        try:
            space = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise InputError(f"the inline search space is not valid YAML ({exc})".replace("\n", " ")) from None
    else:
        path = str(source)
        try:
            space = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("the search space file does not exist", path=path) from None
        except yaml.YAMLError as exc:
            raise InputError(f"the search space is not valid YAML ({exc})".replace("\n", " "), path=path) from None
    if not isinstance(space, Mapping) or not space:
        raise InputError(
            "the search space must be a non-empty mapping of setting -> range",
            path=path,
            fix="e.g. 'lr: {low: 1.0e-4, high: 3.0e-3, log: true}'",
        )
    return {str(name): _check_spec(str(name), spec, model, path) for name, spec in space.items()}


def _check_spec(name: str, spec: Any, model: str, path: str | None) -> dict:
    _check_name(name, model, path)
    where = f"search space entry {name!r}"
    if not isinstance(spec, Mapping):
        raise InputError(
            f"{where} must be a mapping, got {spec!r}", path=path, fix="Use {low: A, high: B} or {choices: [...]}"
        )
    unknown = set(spec) - {"low", "high", "log", "step", "choices"}
    if unknown:
        raise InputError(
            f"{where} has unknown key(s) {', '.join(sorted(map(str, unknown)))}",
            path=path,
            fix="Allowed keys: low, high, log, step, choices",
        )
    if "choices" in spec:
        choices = spec["choices"]
        if set(spec) != {"choices"} or not isinstance(choices, list) or not choices:
            raise InputError(f"{where}: 'choices' must be a non-empty list and stand alone", path=path)
        if not all(c is None or isinstance(c, (bool, int, float, str)) for c in choices):
            raise InputError(
                f"{where}: choices must be numbers, strings, booleans or null, got {choices!r}",
                path=path,
                fix="Tune list-valued options (e.g. CNN channels) one element at a time",
            )
        return {"choices": list(choices)}
    if "low" not in spec or "high" not in spec:
        raise InputError(f"{where} needs 'low' and 'high' (or 'choices')", path=path)
    low, high = spec["low"], spec["high"]
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in (low, high)) or not low < high:
        raise InputError(f"{where}: low and high must be numbers with low < high, got {low!r} and {high!r}", path=path)
    log_scale = spec.get("log", False)
    if not isinstance(log_scale, bool) or (log_scale and low <= 0):
        raise InputError(f"{where}: 'log' must be true or false, and a log range needs low > 0", path=path)
    out = {"low": low, "high": high, "log": log_scale}
    if "step" in spec:
        if (
            log_scale
            or isinstance(spec["step"], bool)
            or not isinstance(spec["step"], numbers.Real)
            or spec["step"] <= 0
        ):
            raise InputError(f"{where}: 'step' must be a positive number and cannot go with 'log'", path=path)
        out["step"] = spec["step"]
    return out


def _model_options(model: str) -> list[str]:
    """The options a search may set (the model kind's, without n_outputs and seed)."""
    from bioseq.models.registry import model_kind

    return model_kind(model).option_names()


def _check_name(name: str, model: str, path: str | None) -> None:
    if name.startswith("model_options."):
        option = name.split(".", 1)[1]
        options = _model_options(model)
        if option not in options:
            close = difflib.get_close_matches(option, options, n=1)
            raise InputError(
                f"model {model!r} has no option {option!r} to tune; its options are {', '.join(sorted(options))}",
                path=path,
                fix=f"Did you mean 'model_options.{close[0]}'?" if close else None,
            )
        return
    tunable = sorted(set(TrainConfig.model_fields) - _FIXED)
    if name not in tunable:
        if name not in TrainConfig.model_fields and name in _model_options(model):
            raise InputError(
                f"{name!r} is a model option, not a training setting", path=path, fix=f"Write it 'model_options.{name}'"
            )
        close = difflib.get_close_matches(name, tunable, n=1)
        raise InputError(
            f"{name!r} cannot be tuned; tunable settings are {', '.join(tunable)} and model_options.<option>",
            path=path,
            fix=f"Did you mean {close[0]!r}?" if close else None,
        )


def _suggest(trial, name: str, spec: dict) -> Any:
    if "choices" in spec:
        return trial.suggest_categorical(name, spec["choices"])
    low, high = spec["low"], spec["high"]
    if (
        isinstance(low, numbers.Integral)
        and isinstance(high, numbers.Integral)
        and isinstance(spec.get("step", 1), numbers.Integral)
    ):
        return trial.suggest_int(name, int(low), int(high), step=int(spec.get("step", 1)), log=spec["log"])
    return trial.suggest_float(name, float(low), float(high), step=spec.get("step"), log=spec["log"])


def trial_options(config: TrainConfig, settings: Mapping[str, Any], out: Path) -> dict:
    """The training options of one trial: ``config`` with ``settings`` applied and no test set."""
    options = json.loads(config.model_dump_json())
    options["model_options"] = dict(options.get("model_options") or {})
    for name, value in settings.items():
        if name.startswith("model_options."):
            options["model_options"][name.split(".", 1)[1]] = value
        else:
            options[name] = value
    options.update(out=str(out), test=None, resume=None)
    return options


def _pruning_callback(trial, monitor: str):
    import optuna
    from lightning.pytorch.callbacks import Callback

    class Pruning(Callback):
        """Report the validation metric each epoch; stop the trial when Optuna says so."""

        def on_validation_end(self, trainer, module) -> None:
            if trainer.sanity_checking:
                return
            value = trainer.callback_metrics.get(monitor)
            if value is None:
                return
            trial.report(float(value), step=trainer.current_epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"trial {trial.number} pruned after epoch {trainer.current_epoch}")

    return Pruning()


def tune(
    config: TrainConfig,
    *,
    trials: int = 20,
    space: str | Path | Mapping | None = None,
    timeout: float | None = None,
    pruning: bool = True,
) -> TuneResult:
    """Search the settings of ``config`` that score best on its validation set.

    Parameters
    ----------
    config : TrainConfig
        The base run; ``config.out`` is the study directory, ``config.monitor``
        the score, ``config.seed`` seeds the sampler and every trial.
    trials : int
        Finished trials the study should hold; rerunning with the same
        directory continues an interrupted study up to this number.
    space : mapping, path, str or None
        The search space (see the module docstring), a YAML file or an
        inline YAML/JSON mapping (``'{lr: {low: 1.0e-4, high: 1.0e-3}}'``); None uses
        the model kind's ``search_space``.
    timeout : float, optional
        Start no new trial after this many seconds.
    pruning : bool
        Stop trials early that trail the median of earlier ones.

    Returns
    -------
    TuneResult

    Raises
    ------
    InputError
        On a bad space or setting, several devices, a study directory that
        holds another search, or when every trial failed.
    """
    import optuna

    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InputError(f"trials must be a positive integer, got {trials!r}")
    if timeout is not None and (not isinstance(timeout, numbers.Real) or timeout <= 0):
        raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if config.monitor == "loss":
        raise InputError(
            "tune scores each trial by a validation metric, not the loss",
            fix=f"Pick {option('monitor', 'mcc')} (or auroc, auprc, accuracy, balanced_accuracy, f1)",
        )
    if (isinstance(config.devices, int) and config.devices > 1) or config.num_nodes > 1:
        raise InputError(
            "tune runs its trials one after another in one process",
            fix=f"Tune with {option('devices', '1')}, then train the winner (best.yaml) on several devices",
        )
    checked = load_space(space, config.model)
    study_dir = Path(config.out)
    study_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = _open_study(study_dir, config, checked, pruning)
    done = [t for t in study.trials if t.state.is_finished()]
    remaining = trials - len(done)
    if remaining > 0:
        log.info("%d trial(s) to run in %s (%d already finished)", remaining, study_dir, len(done))
        study.optimize(
            lambda trial: _objective(trial, config, checked, study_dir, pruning),
            n_trials=remaining,
            timeout=timeout,
            catch=(InputError,),
            callbacks=[lambda study, trial: _record(study, trial, config, study_dir, len(done) + remaining)],
        )
    return _finish(study, config, study_dir)


def _open_study(study_dir: Path, config: TrainConfig, space: dict, pruning: bool):
    import optuna
    from optuna.trial import TrialState

    storage = f"sqlite:///{(study_dir / 'study.db').resolve()}"
    direction = "minimize" if config.monitor_mode == "min" else "maximize"
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2) if pruning else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        storage=storage,
        study_name=_STUDY,
        direction=direction,
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=config.seed),
        pruner=pruner,
    )
    identity = {
        "model": config.model,
        "monitor": config.monitor,
        "space": space,
        "train": str(config.train),
        "valid": None if config.valid is None else str(config.valid),
    }
    recorded = study.user_attrs.get("identity")
    if recorded is None:
        study.set_user_attr("identity", identity)
    elif recorded != identity:
        changed = sorted(k for k in identity if recorded.get(k) != identity[k])
        raise InputError(
            f"the study in this folder searched a different {', '.join(changed)}",
            path=str(study_dir / "study.db"),
            fix=f"Use a new {option('out', 'DIR')} folder, or repeat the original command to resume it",
        )
    for trial in study.trials:  # left RUNNING by an interrupted job: they will never finish
        if trial.state == TrialState.RUNNING:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    return study


def _objective(trial, config: TrainConfig, space: dict, study_dir: Path, pruning: bool) -> float:
    from bioseq.train.config import config_from_options
    from bioseq.train.fit import train

    settings = {name: _suggest(trial, name, spec) for name, spec in space.items()}
    run = study_dir / "trials" / f"{trial.number:04d}"
    trial_config = config_from_options(trial_options(config, settings, run))
    started = time.perf_counter()
    callbacks = [_pruning_callback(trial, f"val_{config.monitor}")] if pruning else []
    try:
        result = train(trial_config, callbacks=callbacks)
    except InputError as exc:
        trial.set_user_attr("error", str(exc))
        raise
    finally:
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
    trial.set_user_attr("bundle", str(result.bundle_dir))
    value = result.metrics["valid"].get(config.monitor)
    if value is None or not math.isfinite(value):
        raise InputError(
            f"trial {trial.number} has no finite validation {config.monitor}",
            fix=f"Pick a {option('monitor', 'METRIC')} this task reports (e.g. auroc for multi-label data)",
        )
    return float(value)


def _record(study, trial, config: TrainConfig, study_dir: Path, total: int) -> None:
    """After each trial: log one line, rewrite trials.tsv and the best config so far."""
    value = "-" if trial.value is None else f"{trial.value:.4f}"
    error = trial.user_attrs.get("error", "")
    log.info(
        "trial %d/%d %s %s %s%s",
        trial.number + 1,
        total,
        trial.state.name.lower(),
        value,
        json.dumps(trial.params),
        f" ({error})" if error else "",
    )
    _write_trials(study, study_dir)
    if any(t.state.name == "COMPLETE" for t in study.trials):
        _write_best(study, config, study_dir)


def _write_trials(study, study_dir: Path) -> None:
    from bioseq.io.handles import atomic_output

    names = sorted({name for t in study.trials for name in t.params})
    with atomic_output(study_dir / "trials.tsv", "w") as handle:
        handle.write("\t".join(["trial", "state", "value", "seconds", *names, "error"]) + "\n")
        for t in study.trials:
            cells = [
                t.number,
                t.state.name.lower(),
                "" if t.value is None else f"{t.value:.10g}",
                t.user_attrs.get("seconds", ""),
                *(t.params.get(n, "") for n in names),
                t.user_attrs.get("error", ""),
            ]
            handle.write("\t".join(str(c) for c in cells) + "\n")


def _write_best(study, config: TrainConfig, study_dir: Path) -> None:
    from bioseq.io.handles import atomic_output

    best = study.best_trial
    options = trial_options(config, best.params, study_dir / "best")
    options["test"] = None if config.test is None else str(config.test)
    with atomic_output(study_dir / "best.yaml", "w") as handle:
        handle.write(
            f"# bioseq tune: trial {best.number} of {study_dir}, validation {config.monitor} {best.value:.4f}\n"
        )
        yaml.safe_dump(options, handle, sort_keys=False)


def _finish(study, config: TrainConfig, study_dir: Path) -> TuneResult:
    from bioseq.io.handles import atomic_output

    finished = [t for t in study.trials if t.state.is_finished()]
    if not any(t.state.name == "COMPLETE" for t in study.trials):
        errors = [t.user_attrs["error"] for t in finished if t.user_attrs.get("error")]
        raise InputError(
            f"no trial finished in {study_dir}" + (f"; the first error: {errors[0]}" if errors else ""),
            fix="Check the search space ranges against the model's options",
        )
    best = study.best_trial
    _write_trials(study, study_dir)
    _write_best(study, config, study_dir)
    bundle_dir = Path(best.user_attrs["bundle"])
    test_metrics = _test_metrics(config, bundle_dir) if config.test else None
    summary = {
        "trial": best.number,
        "value": best.value,
        "monitor": config.monitor,
        "settings": best.params,
        "bundle": str(bundle_dir),
        "test": test_metrics,
        "n_trials": len(finished),
        "states": {s: sum(t.state.name.lower() == s for t in finished) for s in ("complete", "pruned", "fail")},
    }
    with atomic_output(study_dir / "best.json", "w") as handle:
        json.dump(summary, handle, indent=2, default=float)
    return TuneResult(
        study_dir,
        best.number,
        float(best.value),
        dict(best.params),
        study_dir / "best.yaml",
        bundle_dir,
        test_metrics,
        len(finished),
    )


def _test_metrics(config: TrainConfig, bundle_dir: Path) -> dict:
    """The winner's metrics on the test set (read here, once)."""
    from bioseq.bundle import load_bundle
    from bioseq.train.data import SequenceSet
    from bioseq.train.fit import read_split
    from bioseq.train.outputs import evaluate_split

    bundle = load_bundle(bundle_dir)
    test = read_split(config.test, config, bundle.classes)
    length = bundle.length or max(map(len, test.sequences))
    return evaluate_split(bundle, SequenceSet.from_labelled(test, length=length))
