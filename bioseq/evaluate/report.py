"""Metric reports (JSON and TSV) and prediction tables.

Files
-----
``metrics.json``
    The metrics dict of :func:`bioseq.evaluate.metrics.classification_metrics`
    (or any dict of plain values), indented by 2 with sorted keys. NaN and
    infinity, which JSON cannot hold, are written as ``null``.
``metrics.tsv``
    Columns ``metric``, ``class``, ``value``: one row per overall metric
    (``class`` empty), one per per-class metric and class, the confusion
    matrix as ``predicted_<class>`` counts per true class (multi-label:
    ``true_negatives``, ``false_positives``, ``false_negatives``,
    ``true_positives`` per class), one ``class_index`` row per class and one
    ``warning`` row per warning. Nested dicts become ``outer.inner`` metric
    names; ``null`` is written as ``NA``.
Predictions TSV
    One row per example: ``chrom``, ``start``, ``end``, ``strand`` (0-based,
    half-open, as in BED) when coordinates are given, ``name`` when names are
    given, ``p_<class>`` per class (binary: the positive class only; 7
    significant digits, the precision of float32),
    ``predicted`` and, with labels, ``true``. Multi-label sets are
    comma-separated class names (empty for none).

Every file is written atomically: it appears whole or not at all.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bioseq.checks import check_threshold, is_integer
from bioseq.errors import InputError
from bioseq.evaluate.metrics import check_predictions, predicted
from bioseq.io.handles import atomic_output, input_name, open_input

__all__ = ["read_metrics", "write_metrics", "write_predictions"]

_CHUNK = 65536
_STRANDS = ("+", "-", ".")
_CONFUSION_CELLS = ("true_negatives", "false_positives", "false_negatives", "true_positives")


def _plain(value, key: str):
    """``value`` as JSON-ready Python (numpy and torch values unwrapped, NaN -> None)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{key}.{k}") for k, v in value.items()}
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy arrays and scalars, torch tensors
    if isinstance(value, (list, tuple)):
        return [_plain(v, key) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise InputError(
        f"metric {key!r} is a {type(value).__name__}, which JSON cannot hold",
        fix="Store numbers, strings, lists or dicts of them",
    )


def _cell(value) -> str:
    if value is None:
        return "NA"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _confusion_rows(matrix, classes, prefix: str) -> list[tuple[str, str, str]]:
    array = np.asarray(matrix)
    names = (
        list(classes)
        if isinstance(classes, list) and len(classes) == len(array)
        else [str(i) for i in range(len(array))]
    )
    if array.ndim == 3:  # multi-label: one [[tn, fp], [fn, tp]] per class
        return [
            (prefix + cell, name, str(v))
            for name, square in zip(names, array.tolist())
            for cell, v in zip(_CONFUSION_CELLS, (*square[0], *square[1]))
        ]
    return [
        (f"{prefix}predicted_{names[j]}", names[i], str(v))
        for i, row in enumerate(array.tolist())
        for j, v in enumerate(row)
    ]


def _is_matrix(value) -> bool:
    try:
        return np.asarray(value, dtype=np.int64).ndim in (2, 3)
    except (TypeError, ValueError):
        return False


def _tsv_rows(metrics: Mapping, prefix: str = "") -> list[tuple[str, str, str]]:
    rows = []
    for key in sorted(metrics):
        value, name = metrics[key], prefix + key
        nested = isinstance(value, Mapping) and all(isinstance(v, Mapping) for v in value.values())
        if key == "per_class" and nested:
            rows += [(prefix + stat, str(cls), _cell(v)) for cls, stats in value.items() for stat, v in stats.items()]
        elif key == "confusion_matrix" and _is_matrix(value):
            rows += _confusion_rows(value, metrics.get("classes"), prefix)
        elif key == "classes" and isinstance(value, list):
            rows += [(prefix + "class_index", str(c), str(i)) for i, c in enumerate(value)]
        elif key == "warnings" and isinstance(value, list):
            rows += [(prefix + "warning", "", str(w)) for w in value]
        elif isinstance(value, Mapping):
            rows += _tsv_rows(value, name + ".")
        elif isinstance(value, list):
            rows.append((name, "", json.dumps(value)))
        else:
            rows.append((name, "", _cell(value)))
    return rows


def write_metrics(metrics: Mapping, directory: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``metrics.tsv`` into ``directory``, atomically.

    Parameters
    ----------
    metrics : mapping
        Usually the dict of :func:`~bioseq.evaluate.metrics.classification_metrics`;
        any mapping of numbers, strings, lists and mappings works (numpy and
        torch values are converted).
    directory : str or os.PathLike
        Created if needed.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The JSON and TSV paths.

    Raises
    ------
    InputError
        When ``metrics`` is not a mapping, holds a value JSON cannot store
        (the message names its key), or ``directory`` is an existing file.
    """
    if not isinstance(metrics, Mapping):
        raise InputError(f"metrics must be a dict, got {type(metrics).__name__}")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(
            "this is a file, not a directory", path=directory, fix="Pass the directory the reports should go to"
        )
    plain = _plain(metrics, "metrics")
    text = json.dumps(plain, indent=2, sort_keys=True, allow_nan=False) + "\n"
    table = io.StringIO()
    writer = csv.writer(table, delimiter="\t", lineterminator="\n")
    writer.writerow(["metric", "class", "value"])
    writer.writerows(_tsv_rows(plain))
    json_path, tsv_path = directory / "metrics.json", directory / "metrics.tsv"
    with atomic_output(json_path, "w") as handle:
        handle.write(text)
    with atomic_output(tsv_path, "w") as handle:
        handle.write(table.getvalue())
    return json_path, tsv_path


def read_metrics(source) -> dict:
    """Read a ``metrics.json`` written by :func:`write_metrics`.

    Parameters
    ----------
    source : str, os.PathLike or file object
        The JSON file (plain or gzip), a handle to it, or the directory that
        holds ``metrics.json``.

    Returns
    -------
    dict
        Undefined values are ``None``.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InputError
        The file is not JSON (the message gives the 1-based line) or does not
        hold a JSON object.
    """
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        source = Path(source) / "metrics.json"
    name = input_name(source)
    with open_input(source) as stream:
        data = stream.read()
    try:
        metrics = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError("the file is not UTF-8 text", path=name, fix="Pass a metrics.json file") from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the file is not valid JSON ({exc.msg})",
            path=name,
            line=exc.lineno,
            fix="Write it again with bioseq.evaluate.write_metrics",
        ) from exc
    if not isinstance(metrics, dict):
        raise InputError(
            f"the file holds a JSON {type(metrics).__name__}, not an object of metrics",
            path=name,
            fix="Pass a metrics.json file written by write_metrics",
        )
    return metrics


def _check_text_field(values: Sequence[str], what: str, path) -> list[str]:
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise InputError(f"{what} {i} is a {type(value).__name__}, not a string", path=path)
        if "\t" in value or "\n" in value or "\r" in value:
            raise InputError(
                f"{what} {i} ({value!r}) holds a tab or a line break",
                path=path,
                fix="Rename it: the predictions table is tab-separated",
            )
        out.append(value)
    return out


def _coordinate_columns(coordinates, n: int, path) -> list[list[str]]:
    """``chrom, start, end, strand`` columns from rows (Interval or tuples) or a column mapping."""
    if isinstance(coordinates, Mapping):
        missing = {"chrom", "start", "end"} - set(coordinates)
        if missing:
            raise InputError(
                f"coordinates lack the columns {sorted(missing)}",
                path=path,
                fix="Pass a mapping with chrom, start, end and optionally strand",
            )
        strand = coordinates.get("strand", ".")
        columns = [
            coordinates["chrom"],
            coordinates["start"],
            coordinates["end"],
            [strand] * n if isinstance(strand, str) else strand,
        ]
        columns = [c.tolist() if hasattr(c, "tolist") else list(c) for c in columns]
    else:
        rows = [(r.chrom, r.start, r.end, r.strand) if hasattr(r, "chrom") else tuple(r) for r in coordinates]
        if any(len(r) not in (3, 4) for r in rows):
            raise InputError("each coordinate must be an Interval or a (chrom, start, end[, strand]) tuple", path=path)
        rows = [r if len(r) == 4 else (*r, ".") for r in rows]
        columns = [list(c) for c in zip(*rows)] if rows else [[], [], [], []]
    if any(len(c) != n for c in columns):
        raise InputError(
            f"coordinates have {len(columns[0])} rows for {n} predictions",
            path=path,
            fix="Pass one coordinate per prediction, in the same order",
        )
    chrom = _check_text_field(columns[0], "chrom", path)
    for i, (start, end, strand) in enumerate(zip(*columns[1:])):
        if not (is_integer(start) and is_integer(end)) or start > end:
            raise InputError(
                f"coordinate {i} ({chrom[i]}, {start!r}, {end!r}) needs integers with start <= end",
                path=path,
                fix="Use 0-based, half-open coordinates",
            )
        if strand not in _STRANDS:
            raise InputError(f"coordinate {i} has strand {strand!r}; allowed: + - .", path=path)
    return [chrom, [str(int(s)) for s in columns[1]], [str(int(e)) for e in columns[2]], list(columns[3])]


def _class_column(labels: np.ndarray, task: str, classes) -> list[str]:
    if task == "multilabel":
        return [",".join(classes[j] for j in np.flatnonzero(row)) for row in labels]
    return [classes[i] for i in labels.tolist()]


def write_predictions(
    path, names, y_score, classes, *, task: str, y_true=None, coordinates=None, threshold: float = 0.5
) -> None:
    """Write one row of probabilities and the predicted class per example, as TSV.

    Parameters
    ----------
    path : str or os.PathLike
        The output; ``.gz`` gzip-compresses it. It appears only when complete.
    names : sequence of str, length ``N``, or None
        Example names (``name`` column). ``None`` when coordinates name the rows.
    y_score : array-like, shape ``(N,)`` or ``(N, C)``, float
        Probabilities as for :func:`~bioseq.evaluate.metrics.classification_metrics`.
    classes : sequence of str, length ``C``
    task : {"binary", "multiclass", "multilabel"}
    y_true : array-like, shape ``(N,)`` or ``(N, C)``, int, optional
        Labels; adds a ``true`` column.
    coordinates : sequence or mapping, optional
        0-based, half-open windows: a sequence of
        :class:`~bioseq.io.interval.Interval` or ``(chrom, start, end[,
        strand])`` tuples, or a mapping of columns ``chrom``, ``start``,
        ``end`` and optionally ``strand`` (one string or one per row).
    threshold : float, default 0.5
        ``p > threshold`` predicts the class (binary and multi-label).

    Raises
    ------
    InputError
        Neither names nor coordinates; lengths that disagree; a name or class
        holding a tab or line break (or, for multi-label, a comma); a bad
        coordinate or strand; bad scores or labels (see
        :func:`~bioseq.evaluate.metrics.check_predictions`).
    """
    labels, scores, classes = check_predictions(y_true, y_score, task=task, classes=classes)
    threshold = check_threshold(threshold)
    n = scores.shape[0]
    _check_text_field(classes, "class", path)
    if task == "multilabel" and any("," in c for c in classes):
        raise InputError(
            "a multi-label class name holds a comma, which separates classes in the table",
            path=path,
            fix="Rename the class",
        )
    if names is None and coordinates is None:
        raise InputError("pass names or coordinates to identify the rows", path=path)
    header, columns = [], []
    if coordinates is not None:
        header += ["chrom", "start", "end", "strand"]
        columns += _coordinate_columns(coordinates, n, path)
    if names is not None:
        names = _check_text_field(list(names), "name", path)
        if len(names) != n:
            raise InputError(
                f"{len(names)} names were given for {n} predictions", path=path, fix="Pass one name per prediction"
            )
        header.append("name")
        columns.append(names)
    shown = scores[:, None] if task == "binary" else scores
    header += [f"p_{c}" for c in (classes[1:] if task == "binary" else classes)]
    columns += [[f"{v:.7g}" for v in shown[:, j].tolist()] for j in range(shown.shape[1])]
    header.append("predicted")
    columns.append(_class_column(predicted(scores, task, threshold), task, classes))
    if labels is not None:
        header.append("true")
        columns.append(_class_column(labels, task, classes))
    _write_rows(path, header, columns, n)


def _write_rows(path, header: list[str], columns: list[list[str]], n: int) -> None:
    with atomic_output(path) as raw:
        handle = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if os.fspath(path).endswith(".gz") else raw
        handle.write(("\t".join(header) + "\n").encode("utf-8"))
        for lo in range(0, n, _CHUNK):
            rows = zip(*(c[lo : lo + _CHUNK] for c in columns))
            handle.write("".join("\t".join(r) + "\n" for r in rows).encode("utf-8"))
        if handle is not raw:
            handle.close()
