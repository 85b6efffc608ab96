"""The training configuration: one validated object from YAML, flags or Python.

:class:`TrainConfig` is a pydantic model, so a YAML file (``bioseq train
--config run.yaml``), command-line flags (which override the file) and
keyword arguments in Python all go through the same checks. A bad value gets
one sentence naming the field, the value and what is allowed
(:func:`load_config`).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bioseq.bundle.format import MAX_MEMBERS
from bioseq.errors import InputError, option
from bioseq.models.registry import MAX_LENGTH

__all__ = ["TrainConfig", "load_config", "config_from_options", "is_per_base_data"]

SMALL_TRAINING_SET = 8192
"""Below this many training sequences the default batch is 32, not 128: a small set gives few
steps per epoch, and more, noisier steps train better (benchmarks/quality.py: on CNNProm B. subtilis,
about 1,000 sequences, MCC +0.02 Transformer, +0.04 LSTM; on UCI splice, about 2,300, LSTM accuracy
0.88 -> 0.94; on GUE tata, 4,400, level)."""

MONITORS = ("mcc", "auroc", "auprc", "accuracy", "balanced_accuracy", "f1", "topk_accuracy", "loss")
PER_POSITION_MONITORS = ("auprc", "topk_accuracy", "loss")
"""What a per-position run can monitor: the mean over site classes of AUPRC or top-k accuracy, or the loss."""
PER_POSITION_MODEL = "per_base_cnn"
"""The model a per-base dataset trains when none is named: the dilated CNN, the fastest to train and to score
variants with (``benchmarks/bench_variants.py``)."""


PER_BASE_DEFAULTS = {"model": PER_POSITION_MODEL, "monitor": "auprc", "class_weights": "sqrt", "weight_decay": 0.05}
"""Settings a per-base dataset trains with unless told otherwise. A site is about one base in a thousand, and a
small genome gives few of them: on dm6_small (chr2L, 6,400 windows of 400 + 400 bases, 8 epochs of per_base_cnn),
validation top-k accuracy / AUPRC were 0.52 / 0.52 with balanced class weights, 0.57 / 0.60 with their square root,
dropout 0.3 and weight decay 0.05; unweighted, AUPRC was 0.003 after one epoch (0.36 weighted)."""
PER_BASE_DROPOUT = 0.3
"""The per-position model's dropout when a per-base dataset trains it and sets none (:data:`PER_BASE_DEFAULTS`)."""


def is_per_base_data(path) -> bool:
    """Whether ``path`` is a per-base dataset directory (:mod:`bioseq.datasets.per_base_store`)."""
    from bioseq.datasets.per_base_store import is_per_base

    return path is not None and is_per_base(path)


class TrainConfig(BaseModel):
    """Everything a training run needs.

    Data paths accept what :func:`bioseq.io.tables.read_labelled` reads (a
    ``sequence,label`` CSV/TSV, FASTA with labels in the headers, a folder
    per class), or, for ``train``, a per-base dataset directory
    (``bioseq dataset splice-sites --per-base``), which holds its own
    validation and test splits and trains a per-position model with the
    settings of :data:`PER_BASE_DEFAULTS` unless told otherwise.
    Sizes are in bases; coordinates, where sequences carry them in their
    names (``chr1:100-200``), are 0-based half-open.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # data
    train: Path = Field(description="labelled training sequences")
    valid: Path | None = Field(None, description="validation set; carved from train when absent")
    test: Path | None = Field(None, description="test set, evaluated once after training")
    length: int | None = Field(
        None, ge=1, le=MAX_LENGTH, description="fixed input width (pad/refuse longer); default the longest"
    )
    valid_fraction: float = Field(0.1, gt=0, lt=0.5)
    split_by: Literal["auto", "stratified", "chromosome"] = "auto"
    sequence_column: str = "sequence"
    label_column: str = "label"
    # model
    model: str = "transformer"
    model_options: dict[str, Any] = Field(default_factory=dict)
    init: Path | None = Field(
        None,
        description="start from the weights of this bundle or training run (fine-tuning, transfer learning): "
        "same kind of model, options and classes; model and model options default to its",
    )
    # optimisation
    epochs: int = Field(20, ge=1)
    batch_size: int | None = Field(
        None,
        ge=1,
        description="sequences per batch; default 32 for training sets "
        f"under {SMALL_TRAINING_SET:,} sequences, else 128",
    )
    lr: float | None = Field(
        None, gt=0, description="peak learning rate; default the model's (transformer 1e-3, lstm and cnn 2e-3)"
    )
    weight_decay: float = Field(0.01, ge=0)
    warmup_fraction: float = Field(0.05, ge=0, lt=1)
    gradient_clip: float | None = Field(1.0, gt=0)
    class_weights: Literal["none", "balanced", "sqrt"] = Field(
        "none", description="loss weights per class: none, balanced (inverse frequency) or sqrt (its square root)"
    )
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)
    rc_augment: bool = False
    shift_augment: int = Field(0, ge=0, description="random shifts of up to this many bases")
    ema_epochs: float = Field(
        0.0,
        ge=0,
        description="validate, checkpoint and keep an exponential moving "
        "average of the weights with this time constant in epochs; 0 = off",
    )
    monitor: Literal[MONITORS] = "mcc"
    patience: int = Field(5, ge=1)
    # hardware and reproducibility
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps"] = "auto"
    devices: int | Literal["auto"] = 1
    num_nodes: int = Field(1, ge=1)
    strategy: Literal["auto", "ddp", "ddp_spawn"] = "auto"
    precision: Literal["auto", "32-true", "bf16-mixed", "16-mixed"] = "auto"
    num_workers: int = Field(0, ge=0)
    seed: int = 0
    split_seed: int | None = Field(None, description="seed of the validation split carved from train; default seed")
    ensemble: int = Field(
        1, ge=1, le=MAX_MEMBERS, description="train this many models (seeds seed, seed+1, ...) and average them"
    )
    compile: bool = False
    # output
    out: Path = Field(description="run directory: logs, checkpoints and the model bundle")
    resume: Path | Literal["last", "auto"] | None = Field(
        None,
        description="continue an interrupted run: 'last' (OUT/checkpoints/last.ckpt), 'auto' (continue it "
        "when OUT holds one of these settings, finish at once when OUT is complete, else start) or a .ckpt file",
    )
    overwrite: bool = Field(
        False,
        description="replace a finished run in OUT (its outputs are removed first); "
        "with resume 'auto', also a run of other settings",
    )
    checkpoint_steps: int | None = Field(
        None,
        ge=1,
        description="also write OUT/checkpoints/last.ckpt every N "
        "training steps (last.ckpt is always written after each epoch)",
    )
    max_time: str | None = Field(None, description="stop after DD:HH:MM:SS")

    def __init__(self, **options: Any) -> None:
        if options.get("init") is not None and "model" not in options:
            options = _init_defaults(options)
        try:
            super().__init__(**options)
        except ValidationError as exc:
            raise _explain(exc, None) from None

    @model_validator(mode="before")
    @classmethod
    def _per_base_defaults(cls, data: Any) -> Any:
        """A per-base dataset trains a per-position model of the dataset's context unless told otherwise."""
        if not (isinstance(data, dict) and is_per_base_data(data.get("train"))):
            return data
        from bioseq.datasets.per_base_store import read_description
        from bioseq.models.registry import model_kind, model_names

        data = {**PER_BASE_DEFAULTS, **data}
        options = data.get("model_options")
        if (
            data["model"] in model_names()
            and model_kind(data["model"]).per_position
            and isinstance(options, dict | None)
        ):
            context = read_description(data["train"])["context"]
            data["model_options"] = {"context": context, "dropout": PER_BASE_DROPOUT, **(options or {})}
        return data

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        from bioseq.models.registry import model_names

        names = model_names()
        if value not in names:
            close = difflib.get_close_matches(value, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown model {value!r}{hint}; allowed: {', '.join(names)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        kind = self.kind
        if self.monitor == "loss" and kind.trainer == "fit":
            raise ValueError(
                f"monitor='loss' has no meaning for model {self.model!r}, which is fitted in one call without epochs"
            )
        if self.init is not None and kind.trainer == "fit":
            raise ValueError(
                f"init starts a network from another run's weights; model {self.model!r} is fitted in one call "
                "and has none to start from; leave init out"
            )
        if self.ensemble > 1 and not kind.seeded:
            raise ValueError(
                f"model {self.model!r} fits the same model for every seed, so an ensemble of it adds "
                "nothing; leave ensemble at 1"
            )
        self._check_per_position(kind)
        if not kind.distributed and (self.num_nodes > 1 or (isinstance(self.devices, int) and self.devices > 1)):
            raise ValueError(f"model {self.model!r} trains in one process; leave devices and num_nodes at 1")
        return self

    def _check_per_position(self, kind) -> None:
        per_base = is_per_base_data(self.train)
        if kind.per_position and not per_base:
            raise ValueError(
                f"model {self.model!r} predicts a class per position and trains on a per-base dataset "
                "(bioseq dataset splice-sites --per-base), not on labelled sequences"
            )
        if per_base and not kind.per_position:
            raise ValueError(
                f"the training data is a per-base dataset, but model {self.model!r} predicts one value per "
                f"sequence; use a per-position model ({PER_POSITION_MODEL}, per_base_lstm, per_base_transformer)"
            )
        if not per_base:
            if self.monitor == "topk_accuracy":
                raise ValueError("monitor 'topk_accuracy' is for per-position models; use mcc, auroc or auprc")
            return
        settings = {"valid": self.valid, "test": self.test, "length": self.length}
        given = [name for name, value in settings.items() if value is not None]
        if given:
            raise ValueError(
                f"{given[0]} does not apply to a per-base dataset, which holds its own validation and test "
                "splits and windows; leave it out"
            )
        if self.rc_augment or self.shift_augment:
            raise ValueError(
                "rc_augment and shift_augment do not apply to per-position labels (a site belongs to one "
                "strand and one base); the dataset already holds both strands"
            )
        if self.monitor not in PER_POSITION_MONITORS:
            raise ValueError(
                f"monitor {self.monitor!r} is not computed for per-position models; use one of "
                f"{', '.join(PER_POSITION_MONITORS)}"
            )

    @property
    def kind(self):
        """The :class:`~bioseq.models.kinds.ModelKind` of ``model``."""
        from bioseq.models.registry import model_kind

        return model_kind(self.model)

    @property
    def learning_rate(self) -> float:
        """``lr``, or the model's default peak learning rate when it is not set."""
        if self.lr is not None:
            return self.lr
        return self.kind.default_lr or 1e-3

    def batch_size_for(self, n_train: int) -> int:
        """``batch_size``, or the default for a training set of ``n_train`` sequences when it is not set."""
        if self.batch_size is not None:
            return self.batch_size
        return 32 if n_train < SMALL_TRAINING_SET else 128

    @property
    def monitor_mode(self) -> str:
        """``"min"`` for the loss, ``"max"`` for every other metric."""
        return "min" if self.monitor == "loss" else "max"


def _init_defaults(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the model and its options of the ``init`` bundle where they are not given."""
    from bioseq.bundle import as_bundle

    try:
        bundle = as_bundle(options["init"])
    except InputError as exc:  # name the init path in the message: a config file's errors carry the file's path
        raise InputError(f"init {options['init']}: {exc.problem}", path=exc.path, fix=exc.fix) from None
    given = options.get("model_options") or {}
    inherited = {k: v for k, v in bundle.config["model"].get("options", {}).items() if k != "n_outputs"}
    return {**options, "model": bundle.model_name, "model_options": {**inherited, **given}}


def _explain(error: ValidationError, source: str | None) -> InputError:
    """One sentence for the first problem pydantic found."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "config"
    value = first.get("input")
    kind = first["type"]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(field, TrainConfig.model_fields, n=1)
        problem = f"unknown field {field!r}"
        fix = f"Did you mean {close[0]!r}?" if close else "Remove it; see 'bioseq train --help'"
        return InputError(problem, path=source, fix=fix)
    if kind == "missing":
        return InputError(
            f"the field {field!r} is required",
            path=source,
            fix=f"Give it in the config or as {option(field, field.upper())}",
        )
    message = first["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        allowed = message.split("Input should be ", 1)[-1]
        message = f"must be {allowed}"
    return InputError(f"field {field!r} = {value!r}: {message}", path=source)


def config_from_options(options: dict[str, Any], *, source: str | None = None) -> TrainConfig:
    """Validate plain options (from YAML and/or flags) into a :class:`TrainConfig`.

    Raises
    ------
    InputError
        Naming the field, the value and the allowed values.
    """
    try:
        return TrainConfig(**options)
    except InputError as exc:
        raise InputError(exc.problem, path=source, fix=exc.fix) from None


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config (optional) and apply ``overrides`` (e.g. command-line flags) on top.

    Parameters
    ----------
    path : str or Path, optional
        A YAML mapping of :class:`TrainConfig` fields.
    overrides : dict, optional
        Fields that win over the file; ``None`` values are ignored.
    """
    options: dict[str, Any] = {}
    source = None
    if path is not None:
        source = str(path)
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = yaml.safe_load(handle)
        except FileNotFoundError:
            raise InputError("the config file does not exist", path=source) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(
                f"the config is not valid YAML ({getattr(exc, 'problem', exc)})",
                path=source,
                line=None if mark is None else mark.line + 1,
            ) from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise InputError("the config must be a YAML mapping of fields", path=source)
        options.update(loaded)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "model_options" and isinstance(value, dict):
            options.setdefault("model_options", {})
            options["model_options"] = {**options["model_options"], **value}
        else:
            options[key] = value
    return config_from_options(options, source=source)
