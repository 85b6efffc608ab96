"""Compare trained models: one row of metrics per run, as a table and a plot.

A *source* is one of

* a training run directory (``bioseq train --out RUN``): ``RUN/metrics.json``
  holds a ``valid`` and maybe a ``test`` block, ``RUN/bundle/config.json``
  names the model;
* a bundle directory (``RUN/bundle``), which holds the same two files;
* an evaluation written by ``bioseq evaluate RUN --data X`` into its default
  place ``RUN/evaluation/<name>`` (flat ``metrics.json``): the model is read
  from the run two levels up and the split is called ``<name>``;
* the ``metrics.json`` file of any of these.

Each source gives a :class:`RunMetrics` row: the dataset name (given, else
the run directory's name, or its parent's when the run directory is named
after the model as in ``runs/<dataset>/<model>``), the model name, the split
(``test`` when the run has one, else ``valid``) and the scalar metrics of
:data:`COLUMNS`. Metrics describe whole sequences; no genomic coordinates
are involved. :func:`write_comparison` writes ``comparison.tsv`` and
``comparison.png`` atomically.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from bioseq.bundle import ENSEMBLE
from bioseq.checks import is_integer
from bioseq.errors import InputError, MissingFileError, option
from bioseq.evaluate.figures import colour, image_format, new_figure, save_figure
from bioseq.io.handles import atomic_output
from bioseq.rundir import require_complete

__all__ = ["COLUMNS", "RunMetrics", "read_run_metrics", "write_comparison", "plot_comparison"]

COLUMNS = ("dataset", "model", "split", "accuracy", "balanced_accuracy", "mcc", "f1", "auroc", "auprc", "n")
"""Columns of ``comparison.tsv``, in order."""

METRICS = COLUMNS[3:9]
PLOTTED = ("mcc", "balanced_accuracy", "auroc", "auprc")
SPLITS = ("test", "valid")
_FIX_SOURCE = "Pass a training run directory (bioseq train --out RUN), its bundle/ or its metrics.json"


@dataclasses.dataclass(frozen=True)
class RunMetrics:
    """The scalar metrics of one model on one split of one dataset.

    Attributes
    ----------
    dataset, model, split : str
    metrics : dict of str to float or None
        The keys of :data:`METRICS` (None where undefined, e.g. AUROC of a
        split with one class) and ``"n"``, the number of sequences (int; None
        when the file does not give it).
    source : pathlib.Path
        The ``metrics.json`` the values were read from.
    """

    dataset: str
    model: str
    split: str
    metrics: Mapping[str, float | int | None]
    source: Path


def read_run_metrics(source: str | os.PathLike, *, dataset: str | None = None, split: str | None = None) -> RunMetrics:
    """Read one source (see the module docstring) into a :class:`RunMetrics`.

    Parameters
    ----------
    source : str or os.PathLike
        A run, bundle or evaluation directory, or its ``metrics.json``.
    dataset : str, optional
        The dataset name; default from the directory names.
    split : {"test", "valid"}, optional
        Which block of a run's ``metrics.json`` to read; default ``test``
        when present, else ``valid``. Not allowed for an evaluation, whose
        file holds a single split.

    Returns
    -------
    RunMetrics

    Raises
    ------
    MissingFileError
        ``source`` does not exist, holds no ``metrics.json``, or no bundle
        ``config.json`` could be found for it.
    InputError
        A bad ``split`` or ``dataset``, a metrics file that is not JSON,
        lacks the requested split or holds a metric that is not a number, a
        bundle config that names no model, or a training run that did not
        finish (:func:`bioseq.rundir.require_complete`).
    """
    from bioseq.evaluate.report import read_metrics

    if split is not None and split not in SPLITS:
        raise InputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if dataset is not None and (not isinstance(dataset, str) or not dataset.strip()):
        raise InputError(f"the dataset name must be a non-empty string, got {dataset!r}")
    require_complete(source)  # an interrupted run's metrics.json may be an earlier run's
    metrics_path, directory = _metrics_path(Path(source))
    metrics = read_metrics(metrics_path)
    if _is_flat(metrics):
        if split is not None:
            raise InputError(
                "this is one evaluation, not a run with splits, so a split cannot be chosen",
                path=metrics_path,
                fix="Leave the split out for bioseq evaluate outputs",
            )
        run_dir, config_path = _evaluated_run(directory, metrics_path)
        values, split_name = metrics, directory.name
    else:
        run_dir, config_path = _run_of(directory)
        split_name = _pick_split(metrics, split, metrics_path)
        values = metrics[split_name]
    model = _model_name(config_path)
    name = dataset if dataset is not None else _dataset_name(run_dir, model)
    return RunMetrics(name, model, split_name, _scalars(values, metrics_path), metrics_path)


def _metrics_path(path: Path) -> tuple[Path, Path]:
    if path.is_file():
        return path, path.parent
    if not path.is_dir():
        raise MissingFileError("this run does not exist", path=path, fix=_FIX_SOURCE)
    metrics_path = path / "metrics.json"
    if not metrics_path.is_file():
        raise MissingFileError(
            "the directory holds no metrics.json",
            path=path,
            fix="Let bioseq train (or bioseq evaluate) finish; an interrupted run has none",
        )
    return metrics_path, path


def _is_flat(metrics: Mapping) -> bool:
    """True for a ``bioseq evaluate`` file (metrics at the top level, no split blocks)."""
    return "accuracy" in metrics and not any(isinstance(metrics.get(s), Mapping) for s in SPLITS)


def _pick_split(metrics: Mapping, split: str | None, path: Path) -> str:
    present = [s for s in SPLITS if isinstance(metrics.get(s), Mapping)]
    if not present:
        raise InputError(
            "metrics.json holds neither 'test' nor 'valid' metrics",
            path=path,
            fix="Pass the metrics.json of a training run or of bioseq evaluate",
        )
    chosen = split or present[0]
    if chosen not in present:
        raise InputError(
            f"metrics.json has no {chosen!r} metrics (it has {', '.join(present)})",
            path=path,
            fix=f"Choose another split, or train with {option('test', 'DATA')} to evaluate on a test set",
        )
    return chosen


def _bundle_config(directory: Path) -> Path | None:
    """The bundle ``config.json`` of a run directory or of a bundle directory, if there is one."""
    for candidate in (directory / "bundle" / "config.json", directory / "config.json"):
        if candidate.is_file() and _is_bundle(candidate):
            return candidate
    return None


def _is_bundle(config_path: Path) -> bool:
    try:
        return json.loads(config_path.read_text(encoding="utf-8")).get("format") == "bioseq-bundle"
    except (OSError, ValueError, AttributeError):
        return False


def _run_of(directory: Path) -> tuple[Path, Path]:
    config_path = _bundle_config(directory)
    if config_path is None:
        raise MissingFileError(
            "no model bundle (bundle/config.json) was found beside metrics.json", path=directory, fix=_FIX_SOURCE
        )
    run_dir = directory.parent if directory.name == "bundle" and config_path.parent == directory else directory
    return run_dir, config_path


def _evaluated_run(directory: Path, metrics_path: Path) -> tuple[Path, Path]:
    """The run above an evaluation directory (``RUN/evaluation/<name>``)."""
    for run_dir in directory.parents[:2]:
        config_path = _bundle_config(run_dir)
        if config_path is not None:
            return run_dir, config_path
    raise MissingFileError(
        "cannot tell which model wrote this evaluation: no run with a bundle was found two levels up",
        path=metrics_path,
        fix="Pass the training run directory instead, or evaluate into RUN/evaluation/<name> (the default)",
    )


def _model_name(config_path: Path) -> str:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        name = config["model"]["name"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"the bundle config names no model ({type(exc).__name__})",
            path=config_path,
            fix="Save the bundle again with bioseq train",
        ) from None
    if not isinstance(name, str) or not name:
        raise InputError(
            f"the bundle config's model name is {name!r}, not a name",
            path=config_path,
            fix="Save the bundle again with bioseq train",
        )
    members = (config["model"].get("options") or {}).get("member_model") if name == ENSEMBLE else None
    return f"{name}({members})" if isinstance(members, str) and members else name


def _dataset_name(run_dir: Path, model: str) -> str:
    resolved = run_dir.resolve()
    if resolved.name == model and resolved.parent.name:
        return resolved.parent.name
    return resolved.name


def _scalars(values: Mapping, path: Path) -> dict[str, float | int | None]:
    fix = "Write the file again with bioseq train or bioseq evaluate"
    result: dict[str, float | int | None] = {}
    for key in METRICS:
        value = values.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(f"metric {key!r} is {value!r}, not a number", path=path, fix=fix)
        result[key] = None if value is None or not math.isfinite(value) else float(value)
    n = values.get("n")
    if n is not None and (not is_integer(n) or n < 0):
        raise InputError(f"'n' is {n!r}, not a number of sequences", path=path, fix=fix)
    result["n"] = n
    return result


def write_comparison(rows: Sequence[RunMetrics], directory: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``comparison.tsv`` and ``comparison.png`` into ``directory``.

    Rows are sorted by dataset, model and split. The TSV has the columns of
    :data:`COLUMNS`; undefined metrics are ``NA``.

    Parameters
    ----------
    rows : sequence of RunMetrics
    directory : str or os.PathLike
        Created if needed.

    Returns
    -------
    tsv, png : pathlib.Path

    Raises
    ------
    InputError
        No rows, or two rows with the same dataset, model and split (name
        the datasets apart).
    """
    rows = _checked(rows)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(
            "this is a file, not a directory", path=directory, fix="Pass the directory the comparison should go to"
        )
    tsv = directory / "comparison.tsv"
    with atomic_output(tsv, "w") as handle:
        handle.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            cells = [row.dataset, row.model, row.split] + [_cell(row.metrics[key]) for key in COLUMNS[3:]]
            handle.write("\t".join(cells) + "\n")
    png = plot_comparison(rows, directory / "comparison.png")
    return tsv, png


def _checked(rows: Iterable[RunMetrics]) -> list[RunMetrics]:
    rows = sorted(rows, key=lambda r: (r.dataset, r.model, r.split))
    if not rows:
        raise InputError("there is nothing to compare", fix="Pass at least one run")
    for first, second in zip(rows, rows[1:]):
        if (first.dataset, first.model, first.split) == (second.dataset, second.model, second.split):
            raise InputError(
                f"{first.source} and {second.source} both give dataset {first.dataset!r}, model "
                f"{first.model!r}, split {first.split!r}",
                fix=f"Name the datasets apart: {option('dataset', 'NAME', dest='labels')} for each run",
            )
    return rows


def _cell(value) -> str:
    if value is None:
        return "NA"
    return repr(value) if isinstance(value, float) else str(value)


def plot_comparison(rows: Sequence[RunMetrics], path: str | os.PathLike) -> Path:
    """Grouped bars of MCC, balanced accuracy, AUROC and AUPRC: one panel per metric.

    Bars are grouped by dataset (and split, when the rows mix splits) along
    the x axis, one colour per model; undefined values get no bar.

    Parameters
    ----------
    rows : sequence of RunMetrics
    path : str or os.PathLike
        PNG (or ``.pdf``/``.svg``) file, written atomically.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        As :func:`write_comparison`, or an unknown image extension.
    """
    rows = _checked(rows)
    fmt = image_format(path)
    mixed = len({r.split for r in rows}) > 1
    groups = list(dict.fromkeys(f"{r.dataset} ({r.split})" if mixed else r.dataset for r in rows))
    models = list(dict.fromkeys(r.model for r in rows))
    width = 0.8 / len(models)
    figure = new_figure(max(6.0, 1.2 + 0.45 * len(groups) * len(models)), 2.4 * len(PLOTTED) + 0.6)
    axes = figure.subplots(len(PLOTTED), 1, sharex=True, squeeze=False)[:, 0]
    for ax, metric in zip(axes, PLOTTED):
        for m, model in enumerate(models):
            xs, ys = [], []
            for row in rows:
                group = f"{row.dataset} ({row.split})" if mixed else row.dataset
                if row.model == model and row.metrics[metric] is not None:
                    xs.append(groups.index(group) - 0.4 + width * (m + 0.5))
                    ys.append(row.metrics[metric])
            ax.bar(xs, ys, width=width * 0.9, color=colour(m, len(models)), label=model)
        lower = -1.0 if metric == "mcc" and any((r.metrics["mcc"] or 0) < 0 for r in rows) else 0.0
        ax.set_ylim(lower, 1.0)
        ax.set_ylabel(metric)
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xticks(range(len(groups)), groups, rotation=30 if len(groups) > 3 else 0, ha="right")
    axes[0].legend(loc="lower left", bbox_to_anchor=(1.0, 0.0), frameon=False, title="model")
    axes[0].set_title(f"{rows[0].split} metrics" if not mixed else "metrics per split")
    return save_figure(figure, path, fmt)
