"""Tests for bioseq.evaluate.report: metrics JSON/TSV and prediction tables."""

from __future__ import annotations

import csv
import gzip
import io
import json

import numpy as np
import pytest

from bioseq.errors import InputError, MissingFileError
from bioseq.evaluate.metrics import classification_metrics
from bioseq.evaluate.report import read_metrics, write_metrics, write_predictions
from bioseq.io.interval import Interval


def _tsv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text()), delimiter="\t"))


@pytest.fixture
def binary_metrics():
    # predictions > 0.5: [0, 1, 1, 0] against [0, 0, 1, 1]: TN 1, FP 1, FN 1, TP 1
    return classification_metrics([0, 0, 1, 1], [0.2, 0.6, 0.9, 0.4], task="binary", classes=["neg", "pos"])


# ---------------------------------------------------------------- metrics.json / metrics.tsv


def test_json_round_trip_sorted_and_indented(tmp_path, binary_metrics):
    json_path, tsv_path = write_metrics(binary_metrics, tmp_path / "out")
    assert (json_path.name, tsv_path.name) == ("metrics.json", "metrics.tsv")
    text = json_path.read_text()
    assert text.startswith('{\n  "accuracy": 0.5,\n  "auprc": ')  # indent 2, keys sorted
    assert read_metrics(json_path) == binary_metrics
    assert read_metrics(tmp_path / "out") == binary_metrics  # the directory works too
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["metrics.json", "metrics.tsv"]


def test_tsv_layout(tmp_path, binary_metrics):
    _, tsv_path = write_metrics(binary_metrics, tmp_path)
    rows = _tsv(tsv_path)
    assert rows[0] == ["metric", "class", "value"]
    table = {(m, c): v for m, c, v in rows[1:]}
    assert table[("accuracy", "")] == "0.5"
    assert table[("task", "")] == "binary"
    assert table[("threshold", "")] == "0.5"
    assert table[("precision", "pos")] == "0.5"  # TP 1 of the 2 predicted pos
    assert table[("support", "neg")] == "2"
    assert table[("class_index", "pos")] == "1"
    # confusion matrix [[1, 1], [1, 1]]: one neg predicted as pos, one pos predicted as neg
    assert table[("predicted_pos", "neg")] == "1" and table[("predicted_neg", "pos")] == "1"
    assert all(len(r) == 3 for r in rows)


def test_tsv_nulls_warnings_multilabel_and_nesting(tmp_path):
    m = classification_metrics([[1, 0], [1, 0]], [[0.9, 0.2], [0.6, 0.1]], task="multilabel", classes=["x", "y"])
    m["baseline"] = {"accuracy": 0.5, "note": "prior"}  # nested dicts flatten to outer.inner
    write_metrics(m, tmp_path)
    rows = _tsv(tmp_path / "metrics.tsv")
    table = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert table[("auroc", "y")] == "NA"  # y has no examples: null in JSON, NA in the TSV
    # x: both examples positive and predicted positive -> TP 2, no others
    assert [
        table[(cell, "x")] for cell in ("true_negatives", "false_positives", "false_negatives", "true_positives")
    ] == ["0", "0", "0", "2"]
    assert table[("baseline.accuracy", "")] == "0.5"
    warnings = [r[2] for r in rows if r[0] == "warning"]
    assert warnings == m["warnings"] and any("'y' has no examples" in w for w in warnings)
    assert read_metrics(tmp_path)["per_class"]["y"]["auroc"] is None


def test_numpy_values_and_nan_become_json(tmp_path):
    write_metrics({"loss": np.float32(0.25), "counts": np.arange(3), "diverged": float("nan"), "inf": np.inf}, tmp_path)
    back = read_metrics(tmp_path / "metrics.json")
    assert back == {"loss": 0.25, "counts": [0, 1, 2], "diverged": None, "inf": None}
    assert "NaN" not in (tmp_path / "metrics.json").read_text()


def test_unserialisable_value_leaves_no_file(tmp_path):
    with pytest.raises(InputError, match="metric 'metrics.model' is a object, which JSON cannot hold"):
        write_metrics({"accuracy": 1.0, "model": object()}, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary files


def test_write_metrics_bad_arguments(tmp_path):
    with pytest.raises(InputError, match="metrics must be a dict"):
        write_metrics([1, 2], tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="f: this is a file, not a directory"):
        write_metrics({"a": 1}, tmp_path / "f")


def test_read_metrics_errors(tmp_path):
    with pytest.raises(MissingFileError, match="metrics.json: the file does not exist"):
        read_metrics(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "a": 1,\n  oops\n}\n')
    with pytest.raises(InputError, match=r"bad.json, line 3: the file is not valid JSON .*write_metrics"):
        read_metrics(bad)
    array = tmp_path / "array.json"
    array.write_text("[1, 2]")
    with pytest.raises(InputError, match="holds a JSON list, not an object"):
        read_metrics(array)


def test_read_metrics_from_handle_and_gzip(tmp_path):
    payload = json.dumps({"mcc": 0.5}).encode()
    assert read_metrics(io.BytesIO(payload)) == {"mcc": 0.5}
    (tmp_path / "m.json.gz").write_bytes(gzip.compress(payload))
    assert read_metrics(tmp_path / "m.json.gz") == {"mcc": 0.5}


# ---------------------------------------------------------------- predictions


def test_binary_predictions_with_names_and_truth(tmp_path):
    out = tmp_path / "pred.tsv"
    write_predictions(out, ["r1", "r2", "r3"], [0.2, 0.5, 0.875], ["neg", "pos"], task="binary", y_true=[0, 1, 1])
    assert out.read_text() == (
        "name\tp_pos\tpredicted\ttrue\n"  # binary: the positive class's probability only
        "r1\t0.2\tneg\tneg\n"
        "r2\t0.5\tneg\tpos\n"  # 0.5 is not above the 0.5 threshold
        "r3\t0.875\tpos\tpos\n"
    )


def test_multiclass_predictions(tmp_path):
    out = tmp_path / "pred.tsv"
    write_predictions(
        out,
        ["a", "b"],
        np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]], dtype=np.float32),
        ["EI", "IE", "N"],
        task="multiclass",
    )
    rows = _tsv(out)
    assert rows[0] == ["name", "p_EI", "p_IE", "p_N", "predicted"]  # no "true" without labels
    # 7 significant digits: float32 0.7 (0.69999999 in float64) prints as 0.7
    assert rows[1] == ["a", "0.1", "0.7", "0.2", "IE"]
    assert rows[2][-1] == "EI"


def test_multilabel_predictions_join_classes(tmp_path):
    out = tmp_path / "pred.tsv"
    write_predictions(
        out,
        ["a", "b"],
        [[0.9, 0.8, 0.1], [0.1, 0.2, 0.3]],
        ["x", "y", "z"],
        task="multilabel",
        y_true=[[1, 0, 1], [0, 0, 0]],
        threshold=0.5,
    )
    rows = _tsv(out)
    assert rows[1][-2:] == ["x,y", "x,z"]
    assert rows[2][-2:] == ["", ""]  # no class above the threshold, none true


def test_coordinates_from_intervals_tuples_and_columns(tmp_path):
    expected_head = ["chrom", "start", "end", "strand", "p_pos", "predicted"]
    rows_in = [Interval("chr1", 0, 100, strand="+"), ("chr2", 50, 150)]
    write_predictions(tmp_path / "a.tsv", None, [0.9, 0.1], ["neg", "pos"], task="binary", coordinates=rows_in)
    columns_in = {
        "chrom": ["chr1", "chr2"],
        "start": np.array([0, 50]),
        "end": np.array([100, 150]),
        "strand": ["+", "."],
    }
    write_predictions(tmp_path / "b.tsv", None, [0.9, 0.1], ["neg", "pos"], task="binary", coordinates=columns_in)
    for name in ("a.tsv", "b.tsv"):
        rows = _tsv(tmp_path / name)
        assert rows[0] == expected_head
        # 0-based half-open, as given (a tuple without strand gets ".")
        assert rows[1:] == [["chr1", "0", "100", "+", "0.9", "pos"], ["chr2", "50", "150", ".", "0.1", "neg"]]


def test_coordinates_and_names_together_gzip(tmp_path):
    out = tmp_path / "p.tsv.gz"
    write_predictions(
        out, ["w1"], [0.3], ["neg", "pos"], task="binary", coordinates={"chrom": ["chrX"], "start": [5], "end": [10]}
    )
    text = gzip.decompress(out.read_bytes()).decode()
    assert text == "chrom\tstart\tend\tstrand\tname\tp_pos\tpredicted\nchrX\t5\t10\t.\tw1\t0.3\tneg\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"names": None}, "pass names or coordinates"),
        ({"names": ["a"]}, "1 names were given for 2 predictions"),
        ({"names": ["a", "b\tc"]}, r"name 1 \('b\\tc'\) holds a tab or a line break.*Rename it"),
        ({"coordinates": [("c", 5, 1), ("c", 1, 2)]}, r"coordinate 0 \(c, 5, 1\) needs integers with start <= end"),
        ({"coordinates": [("c", 0, 1, "x"), ("c", 1, 2)]}, "strand 'x'"),
        ({"coordinates": [("c", 0, 1)]}, "coordinates have 1 rows for 2 predictions"),
        ({"coordinates": {"chrom": ["c", "c"], "start": [0, 1]}}, r"lack the columns \['end'\]"),
        ({"y_score": [0.1, float("nan")]}, "1 NaN or infinite"),
        ({"y_true": [0, 1, 1]}, "y_true has 3 rows but y_score has 2"),
        ({"threshold": 1.0}, "threshold"),
    ],
)
def test_prediction_errors_leave_no_file(tmp_path, kwargs, message):
    out = tmp_path / "p.tsv"
    arguments = {"names": ["a", "b"], "y_score": [0.1, 0.9], **kwargs}
    names, scores = arguments.pop("names"), arguments.pop("y_score")
    with pytest.raises(InputError, match=message):
        write_predictions(out, names, scores, ["neg", "pos"], task="binary", **arguments)
    assert list(tmp_path.iterdir()) == []


def test_multilabel_class_with_comma_rejected(tmp_path):
    with pytest.raises(InputError, match="p.tsv: a multi-label class name holds a comma"):
        write_predictions(tmp_path / "p.tsv", ["a"], [[0.5, 0.5]], ["x,1", "y"], task="multilabel")


def test_many_rows_stream_in_chunks(tmp_path):
    n = 70_000  # more than one 65,536-row chunk
    scores = np.linspace(0, 1, n)
    write_predictions(tmp_path / "big.tsv", [f"r{i}" for i in range(n)], scores, ["a", "b"], task="binary")
    lines = (tmp_path / "big.tsv").read_text().splitlines()
    assert len(lines) == n + 1
    assert lines[-1] == f"r{n - 1}\t1\tb"


def test_tsv_of_other_dicts(tmp_path):
    # training metrics or hand-made dicts: odd shapes fall back to plain rows, nothing is lost
    write_metrics({"confusion_matrix": [[1, 2], [3]], "per_class": {"a": 1}, "epochs": [1, 2]}, tmp_path)
    rows = _tsv(tmp_path / "metrics.tsv")[1:]
    assert rows == [["confusion_matrix", "", "[[1, 2], [3]]"], ["epochs", "", "[1, 2]"], ["per_class.a", "", "1"]]


def test_nested_train_report(tmp_path, binary_metrics):
    # training writes {"valid": metrics, "test": metrics}: rows get "valid." / "test." prefixes
    write_metrics({"valid": binary_metrics, "test": binary_metrics}, tmp_path)
    table = {(m, c): v for m, c, v in _tsv(tmp_path / "metrics.tsv")[1:]}
    assert table[("valid.accuracy", "")] == "0.5" and table[("test.precision", "pos")] == "0.5"
    assert table[("test.predicted_pos", "neg")] == "1"
    assert read_metrics(tmp_path)["valid"] == binary_metrics
