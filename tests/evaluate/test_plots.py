"""Tests for bioseq.evaluate.plots: valid, non-trivial images; bad inputs raise InputError."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bioseq.errors import InputError, MissingFileError
from bioseq.evaluate.figures import colour, image_format
from bioseq.evaluate.metrics import classification_metrics
from bioseq.evaluate.plots import plot_all, plot_confusion, plot_pr, plot_roc, plot_training_curves

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# A Lightning CSVLogger log: sparse rows, each filling only some columns.
LOG = """epoch,step,train_loss,val_loss,val_mcc,val_auroc,lr-AdamW
0,0,,,,,0.001
0,49,0.69,,,,
0,99,0.65,,,,
0,99,,0.66,0.1,0.6,
1,100,,,,,0.0009
1,149,0.55,,,,
1,199,0.50,,,,
1,199,,0.52,0.35,0.75,
"""


def assert_png(path, *, min_bytes=10_000):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > min_bytes  # a blank figure is a few kB; curves, text and legends are more
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05  # not a single colour


def _binary(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, n), 0, 1)


def _multiclass(n=200, c=3, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    logits = rng.normal(0, 1, (n, c))
    logits[np.arange(n), y] += 1.5
    return y, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def _multilabel(n=200, c=4, seed=2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (n, c))
    return y, np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.25, (n, c)), 0, 1)


@pytest.mark.parametrize(
    ("task", "data", "classes"),
    [
        ("binary", _binary, ["neg", "pos"]),
        ("multiclass", _multiclass, ["EI", "IE", "N"]),
        ("multilabel", _multilabel, ["a", "b", "c", "d"]),
    ],
)
def test_roc_and_pr_are_pngs(tmp_path, task, data, classes):
    y, s = data()
    assert plot_roc(y, s, task, classes, tmp_path / "roc.png") == tmp_path / "roc.png"
    assert plot_pr(y, s, task=task, classes=classes, path=tmp_path / "pr.png") == tmp_path / "pr.png"
    assert_png(tmp_path / "roc.png")
    assert_png(tmp_path / "pr.png")


def test_undefined_class_is_drawn_not_raised(tmp_path):
    y, s = _multiclass(c=3)
    y[y == 2] = 0  # class "c" now has no examples: its curve is listed as undefined
    plot_roc(y, s, "multiclass", ["a", "b", "c"], tmp_path / "roc.png")
    assert_png(tmp_path / "roc.png")


def test_confusion_from_metrics_and_matrix(tmp_path):
    y, s = _multiclass()
    metrics = classification_metrics(y, s, task="multiclass", classes=["EI", "IE", "N"])
    plot_confusion(metrics, ["EI", "IE", "N"], tmp_path / "a.png")
    plot_confusion(np.array(metrics["confusion_matrix"]), ["EI", "IE", "N"], tmp_path / "b.png")
    assert_png(tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()  # same figure


def test_confusion_multilabel_grid(tmp_path):
    y, s = _multilabel(c=5)
    metrics = classification_metrics(y, s, task="multilabel", classes=list("abcde"))
    plot_confusion(metrics, list("abcde"), tmp_path / "c.png")
    assert_png(tmp_path / "c.png")


@pytest.mark.parametrize(
    ("matrix", "classes", "message"),
    [
        ([[1, 2], [3, 4]], ["a", "b", "c"], r"shape \(2, 2\), but 3 classes need \(3, 3\)"),
        ([[1, -2], [3, 4]], ["a", "b"], "counts"),
        ([[1.5, 2], [3, 4]], ["a", "b"], "counts"),
        ([["x", "y"], ["z", "w"]], ["a", "b"], "not a numeric array"),
        ({"accuracy": 1.0}, ["a", "b"], "has no 'confusion_matrix'"),
        ({"confusion_matrix": [[1, 0], [0, 1]], "classes": ["a", "b"]}, ["b", "a"], "differ from the metrics"),
    ],
)
def test_confusion_bad_inputs(tmp_path, matrix, classes, message):
    with pytest.raises(InputError, match=message):
        plot_confusion(matrix, classes, tmp_path / "c.png")
    assert not (tmp_path / "c.png").exists()


def test_training_curves_from_sparse_log(tmp_path):
    log = tmp_path / "metrics.csv"
    log.write_text(LOG)
    plot_training_curves(log, tmp_path / "curves.png")
    assert_png(tmp_path / "curves.png")


def test_training_curves_only_some_columns(tmp_path):
    log = tmp_path / "metrics.csv"
    log.write_text("epoch,step,train_loss_step,train_loss_epoch\n0,10,0.9,\n0,10,,0.8\n")
    plot_training_curves(log, tmp_path / "curves.png")  # one panel, one epoch: drawn as a marker
    assert_png(tmp_path / "curves.png", min_bytes=5_000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the training log is empty"),
        ("step,loss\n1,0.5\n", r"line 1: the training log has no 'epoch' column \(columns: step, loss\)"),
        ("epoch,step,loss\n0,1,0.5\n0,2,abc\n", r"line 3: column 'loss' holds 'abc', which is not a number"),
        ("epoch,step,loss\n0,1\n", r"line 2: the row has 2 fields but the header has 3"),
        ("epoch,step,loss\n0,1,\n", "no metric column with values"),
    ],
)
def test_training_curves_bad_logs(tmp_path, text, message):
    log = tmp_path / "metrics.csv"
    log.write_text(text)
    with pytest.raises(InputError, match=f"metrics.csv, {message}" if "line" in message else message):
        plot_training_curves(log, tmp_path / "curves.png")
    assert not (tmp_path / "curves.png").exists()


def test_training_curves_missing_log(tmp_path):
    with pytest.raises(MissingFileError, match="nope.csv: the file does not exist"):
        plot_training_curves(tmp_path / "nope.csv", tmp_path / "curves.png")


def test_bad_scores_and_extension(tmp_path):
    y, s = _binary()
    s[3] = np.nan
    with pytest.raises(InputError, match="1 NaN or infinite"):
        plot_roc(y, s, "binary", ["neg", "pos"], tmp_path / "roc.png")
    with pytest.raises(InputError, match=r"roc.jpeg: cannot tell the image format.*\.png"):
        plot_pr(*_binary(), "binary", ["neg", "pos"], tmp_path / "roc.jpeg")
    assert list(tmp_path.iterdir()) == []


def test_plot_all_writes_four_files(tmp_path):
    log = tmp_path / "metrics.csv"
    log.write_text(LOG)
    y, s = _binary()
    written = plot_all(y, s, "binary", ["neg", "pos"], tmp_path / "plots", training_log=log)
    assert sorted(written) == ["confusion", "pr", "roc", "training_curves"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "confusion.png",
        "pr.png",
        "roc.png",
        "training_curves.png",
    ]
    for path in written.values():
        assert_png(path)
    assert sorted(plot_all(y, s, "binary", ["neg", "pos"], tmp_path / "nolog")) == ["confusion", "pr", "roc"]


def test_no_pyplot_and_no_backend_change(tmp_path):
    # Importing the module loads no matplotlib; plotting never imports pyplot or switches backend.
    code = (
        "import sys, matplotlib; backend = matplotlib.rcParams._get_backend_or_none()\n"
        "import bioseq.evaluate.plots as p\n"
        "p.plot_roc([0, 1, 1], [0.2, 0.6, 0.9], 'binary', ['a', 'b'], sys.argv[1])\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert matplotlib.rcParams._get_backend_or_none() == backend\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.png")], check=True)
    code = "import sys, bioseq.evaluate.plots, bioseq.evaluate.compare; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_figure_helpers():
    assert [image_format(name) for name in ("a.PNG", "b.pdf", "c.Svg")] == ["png", "pdf", "svg"]
    with pytest.raises(InputError, match=r"a.jpeg: cannot tell the image format from the extension '\.jpeg'"):
        image_format("a.jpeg")
    assert colour(1, 10) != colour(1, 11)  # tab10 up to 10 series, tab20 beyond
    assert colour(21, 30) == colour(1, 30)  # tab20 repeats after 20


def test_plot_all_with_precomputed_metrics(tmp_path):
    # how training calls it: keywords, and the metrics it already computed
    y, s = _multiclass()
    metrics = classification_metrics(y, s, task="multiclass", classes=["a", "b", "c"])
    written = plot_all(
        y, s, task="multiclass", classes=["a", "b", "c"], metrics=metrics, directory=tmp_path, training_log=None
    )
    assert_png(written["confusion"])
    with pytest.raises(InputError, match="differ from the metrics' classes"):
        plot_all(y, s, task="multiclass", classes=["x", "y", "z"], metrics=metrics, directory=tmp_path / "b")
    assert not (tmp_path / "b").exists()  # checked before drawing anything
