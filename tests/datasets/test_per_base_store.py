"""Tests of bioseq.datasets.per_base_store: round trip, atomic writes and validation of a per-base dataset folder."""

from __future__ import annotations

import json
import os
import re
import signal
import socket

import numpy as np
import pytest

from bioseq.datasets.per_base_store import FORMAT, is_per_base, open_per_base, per_base_writer
from bioseq.errors import InputError
from bioseq.interrupt import Interrupted
from bioseq.io.interval import Interval

CLASSES = ("neither", "acceptor", "donor")


def rows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[Interval]]:
    """``n`` examples of window 5, context 2 (input 7), on chr1 at 10, 20, ..."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 5, (n, 7)).astype(np.uint8)
    labels = rng.integers(0, 3, (n, 5)).astype(np.uint8)
    regions = [Interval("chr1", 10 * i - 1, 10 * i + 6, "+-"[i % 2], "tile") for i in range(n)]
    return codes, labels, regions


def write(path, sizes={"train": 3, "test": 2}, **extra):  # noqa: B006 (read only)
    data = {split: rows(n, seed=i) for i, (split, n) in enumerate(sizes.items())}
    with per_base_writer(path, classes=CLASSES, context=2, window=5, sizes=sizes) as writer:
        writer.metadata.update(extra)
        for split, (codes, labels, regions) in data.items():
            writer.append(split, codes[:1], labels[:1], regions[:1])  # in two pieces
            writer.append(split, codes[1:], labels[1:], regions[1:])
    return data


def test_round_trip(tmp_path):
    out = tmp_path / "DS"
    data = write(out, source={"genome": "g.fa"}, splits={"test": {"genes": 4}})
    assert is_per_base(out) and not is_per_base(tmp_path) and not is_per_base(tmp_path / "nothing")
    ds = open_per_base(out)
    assert (ds.classes, ds.context, ds.window, list(ds.splits)) == (CLASSES, 2, 5, ["train", "test"])
    for split, (codes, labels, _) in data.items():
        got = ds.splits[split]
        assert isinstance(got.codes, np.memmap) and not got.codes.flags.writeable
        assert got.codes.dtype == got.labels.dtype == np.uint8 and len(got) == len(codes)
        np.testing.assert_array_equal(got.codes, codes)
        np.testing.assert_array_equal(got.labels, labels)
    assert ds.splits["test"].regions == ("chr1:-1-6(+)", "chr1:9-16(-)")
    assert (out / "test.regions.bed").read_text().splitlines()[1] == "chr1\t9\t16\ttile\t0\t-"
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["format"] == FORMAT and meta["version"] == 1 and meta["source"] == {"genome": "g.fa"}
    test_labels = data["test"][1]
    assert meta["splits"]["test"] == {
        "n": 2,
        "labels": {c: int((test_labels == i).sum()) for i, c in enumerate(CLASSES)},
        "genes": 4,
    }
    assert sum(meta["splits"]["train"]["labels"].values()) == 3 * 5


def test_empty_split_round_trips(tmp_path):
    write(tmp_path / "DS", sizes={"train": 1, "valid": 0})
    ds = open_per_base(tmp_path / "DS")
    assert ds.splits["valid"].codes.shape == (0, 7) and ds.splits["valid"].regions == ()


def test_interrupted_or_short_write_leaves_nothing(tmp_path):
    out = tmp_path / "DS"
    codes, labels, regions = rows(2)
    with pytest.raises(Interrupted):  # SIGTERM inside the writer, as bioseq.interrupt raises it
        with per_base_writer(out, classes=CLASSES, context=2, window=5, sizes={"train": 2}) as writer:
            writer.append("train", codes[:1], labels[:1], regions[:1])
            raise Interrupted(signal.SIGTERM)
    with pytest.raises(InputError, match="not filled"):
        with per_base_writer(out, classes=CLASSES, context=2, window=5, sizes={"train": 2}) as writer:
            writer.append("train", codes[:1], labels[:1], regions[:1])
    assert os.listdir(tmp_path) == []
    write(out)
    before = (out / "train.codes.npy").read_bytes()
    with pytest.raises(RuntimeError):  # an existing dataset is untouched by a failed rewrite
        with per_base_writer(out, classes=CLASSES, context=2, window=5, sizes={"train": 2}):
            raise RuntimeError("boom")
    assert (out / "train.codes.npy").read_bytes() == before and os.listdir(tmp_path) == ["DS"]


def test_rerun_replaces_a_killed_writers_temporary(tmp_path):
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".")[0]) or "localhost"
    stale = tmp_path / f".DS.{host}.999999999.0123abcd.part"  # no such process: a killed writer
    stale.mkdir()
    (stale / "train.codes.npy").write_bytes(b"half")
    write(tmp_path / "DS")
    assert os.listdir(tmp_path) == ["DS"]


def test_writer_refuses_bad_rows(tmp_path):
    codes, labels, regions = rows(2)
    with pytest.raises(InputError, match="not filled"):
        with per_base_writer(tmp_path / "DS", classes=CLASSES, context=2, window=5, sizes={"train": 2}) as writer:
            with pytest.raises(InputError, match="unknown split"):
                writer.append("valid", codes, labels, regions)
            with pytest.raises(InputError, match="expected codes"):
                writer.append("train", codes[:, :6], labels, regions)
            with pytest.raises(InputError, match="class indices"):
                writer.append("train", codes, labels + 3, regions)
            with pytest.raises(InputError, match="sized for 2"):
                writer.append("train", *rows(3))
    with pytest.raises(InputError, match="context must be even"):
        per_base_writer(tmp_path / "x", classes=CLASSES, context=3, window=5, sizes={"train": 1}).__enter__()
    assert not (tmp_path / "DS").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: (d / "dataset.json").write_text("{"), "not JSON"),
        (lambda d: (d / "dataset.json").write_text('{"format": "other"}'), "not a bioseq-per-base"),
        (lambda d: _meta(d, version=2), "format version 2"),
        (lambda d: _meta(d, context=3), "even integer"),
        (lambda d: _meta(d, splits={"train": {"n": 4}, "test": {"n": 2}}), r"implies uint8 \(4, 7\)"),
        (lambda d: (d / "test.labels.npy").unlink(), "array file is missing"),
        (lambda d: np.save(d / "test.labels.npy", np.full((2, 5), 3, np.uint8)), "not a class index"),
        (lambda d: np.save(d / "test.codes.npy", np.full((2, 7), 16, np.uint8)), "not a nucleotide code"),
        (lambda d: np.save(d / "test.codes.npy", np.zeros((2, 7), np.int64)), "int64"),
        (lambda d: (d / "test.regions.bed").write_text("chr1\t1\t8\t.\t0\t+\n"), "1 regions for 2"),
    ],
)
def test_open_names_the_file_and_the_fix(tmp_path, edit, message):
    write(tmp_path / "DS")
    edit(tmp_path / "DS")
    with pytest.raises(InputError, match=message) as caught:
        open_per_base(tmp_path / "DS")
    assert str(tmp_path / "DS") in str(caught.value)
    assert "Rebuild" in str(caught.value) or "bioseq that wrote it" in str(caught.value)


def _meta(folder, **changes) -> None:
    path = folder / "dataset.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | changes))


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_per_base(tmp_path / "none")
