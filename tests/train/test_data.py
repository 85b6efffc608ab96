"""Training data: encoding, stratified and chromosome splits, batch loaders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bioseq.errors import InputError
from bioseq.io.labels import LabelledSequences
from bioseq.train.data import SequenceSet, chromosomes_of, make_loader, split_validation


def labelled(n: int, names=None, classes=("neg", "pos")) -> LabelledSequences:
    labels = np.arange(n) % len(classes)
    return LabelledSequences(
        sequences=["ACGT" * 5] * n,
        labels=labels,
        classes=classes,
        task="binary" if len(classes) == 2 else "multiclass",
        names=names or [f"s{i}" for i in range(n)],
    )


def test_stratified_split_keeps_class_balance_and_is_seeded():
    data = SequenceSet.from_labelled(labelled(200))
    train, valid, how = split_validation(data, fraction=0.1, seed=1)
    assert len(valid) == 20 and np.bincount(valid.labels).tolist() == [10, 10]
    assert "stratified" in how
    assert set(train.names).isdisjoint(valid.names)
    again = split_validation(data, fraction=0.1, seed=1)[1]
    assert again.names == valid.names


def test_chromosome_split_holds_out_whole_chromosomes():
    names = [f"chr{i % 5}:{i * 100}-{i * 100 + 20}(+)" for i in range(100)]
    data = SequenceSet.from_labelled(labelled(100, names=names))
    train, valid, how = split_validation(data, fraction=0.2, seed=0)
    train_chroms, valid_chroms = set(chromosomes_of(train.names)), set(chromosomes_of(valid.names))
    assert train_chroms.isdisjoint(valid_chroms) and valid_chroms
    assert "chromosomes" in how


def test_chromosome_split_needs_coordinates():
    data = SequenceSet.from_labelled(labelled(20))
    with pytest.raises(InputError, match="coordinates"):
        split_validation(data, by="chromosome")


def test_class_weights_balanced():
    data = SequenceSet.from_labelled(
        LabelledSequences(
            sequences=["AC"] * 4, labels=[0, 0, 0, 1], classes=("a", "b"), task="binary", names=list("wxyz")
        )
    )
    # 4 sequences, 2 classes: weight = 4 / (2 * count) -> a: 4/6, b: 4/2
    assert np.allclose(data.class_weights(), [4 / 6, 2.0])


def test_loader_yields_uint8_batches_in_seeded_order():
    data = SequenceSet.from_labelled(labelled(10))
    batches = list(make_loader(data, batch_size=4, shuffle=True, seed=3))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    assert batches[0][0].dtype.is_floating_point is False and str(batches[0][0].dtype) == "torch.uint8"
    again = list(make_loader(data, batch_size=4, shuffle=True, seed=3))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(batches, again))


def test_a_set_checks_its_codes_once_where_they_enter():
    """Models read code values unchecked (no device sync per batch), so a set refuses bad codes up front."""
    good = np.zeros((2, 5), dtype=np.uint8)
    SequenceSet(good, np.array([0, 1]), ("a", "b"), ("n", "y"), "binary")
    with pytest.raises(InputError, match="0..15"):
        SequenceSet(np.full((2, 5), 16, dtype=np.uint8), np.array([0, 1]), ("a", "b"), ("n", "y"), "binary")
    with pytest.raises(InputError, match="2-D"):
        SequenceSet(good[0], np.array([0]), ("a",), ("n", "y"), "binary")


def test_a_memory_mapped_per_base_set_is_read_batch_by_batch_with_the_same_batches(tmp_path):
    rng = np.random.default_rng(0)
    codes, labels = rng.integers(0, 4, (10, 12), dtype=np.uint8), rng.integers(0, 3, (10, 8), dtype=np.uint8)
    np.save(tmp_path / "codes.npy", codes)
    np.save(tmp_path / "labels.npy", labels)
    mapped_codes = np.load(tmp_path / "codes.npy", mmap_mode="r")[:, 1:-1]  # cropped, as a model of less context
    mapped = SequenceSet(mapped_codes, np.load(tmp_path / "labels.npy", mmap_mode="r"), ("r",) * 10, ("n", "a", "d"),
                         "per_position")  # fmt: skip
    in_memory = SequenceSet(codes[:, 1:-1].copy(), labels.copy(), ("r",) * 10, ("n", "a", "d"), "per_position")
    lazy, eager = (make_loader(s, batch_size=4, shuffle=True, seed=3) for s in (mapped, in_memory))
    assert lazy.dataset.mapped and isinstance(lazy.dataset.codes, np.memmap)  # no copy of the whole array
    for (c1, l1), (c2, l2) in zip(lazy, eager, strict=True):
        assert c1.dtype == c2.dtype == torch.uint8 and c1.shape == (c1.shape[0], 10)
        assert torch.equal(c1, c2) and torch.equal(l1.long(), l2.long())
    codes_row, labels_row = lazy.dataset[2]
    assert torch.equal(codes_row, torch.from_numpy(codes[2, 1:-1])) and labels_row.shape == (8,)
