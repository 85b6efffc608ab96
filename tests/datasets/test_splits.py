"""Tests of bioseq.datasets.splits (window names, chromosome splits, duplicates, writing)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.datasets.splits import SPLITS, split_by_chromosome, split_stratified, write_split
from bioseq.datasets.windows import chromosome_quotas
from bioseq.errors import InputError, MissingContigError
from bioseq.io.interval import Interval, chromosome_of, window_name
from bioseq.io.labels import LabelledSequences
from bioseq.io.tables import read_labelled


def examples(per_chrom: dict[str, int], *, seed: int = 0) -> LabelledSequences:
    """Distinct random 30-mers, alternately labelled promoter / non_promoter, named by windows."""
    rng = np.random.default_rng(seed)
    names, sequences = [], []
    for chrom, count in per_chrom.items():
        for i in range(count):
            names.append(f"{chrom}:{100 * i}-{100 * i + 30}(+)")
            sequences.append("".join(rng.choice(list("ACGT"), 30)))
    labels = np.arange(len(names)) % 2
    return LabelledSequences(sequences, labels, ("non_promoter", "promoter"), "binary", names)


def test_window_names_round_trip_to_their_chromosome():
    assert window_name(Interval("chr2L", 7428, 7628, "+")) == "chr2L:7428-7628(+)"
    assert window_name(Interval("chr1", -7, 13, "-")) == "chr1:-7-13(-)"  # hangs off the contig start
    assert chromosome_of("chr1:-7-13(-)") == "chr1"
    assert chromosome_of("chr1:10-210(+)_shuf3") == "chr1"  # a shuffle follows its source window
    assert chromosome_of("chr1:10-210") == "chr1"
    for bad in ("seq7", "chr1:10", "chr1:10-210(+)_x", "train.csv:12"):
        assert chromosome_of(bad) is None


def test_quotas_are_proportional_and_add_up():
    windows = [Interval("a", 0, 1)] * 2 + [Interval("b", 0, 1)] * 1
    assert chromosome_quotas(windows, 3) == {"a": 2, "b": 1}
    assert chromosome_quotas(windows, 4) == {"a": 3, "b": 1}  # 2.67 / 1.33: the larger remainder wins
    assert chromosome_quotas(windows, 0) == {"a": 0, "b": 0}
    assert chromosome_quotas(windows, np.int64(3)) == {"a": 2, "b": 1}
    for bad, message in ((-1, "n must be >= 0, got -1"), (True, "n must be an integer, got True")):
        with pytest.raises(InputError, match=message):
            chromosome_quotas(windows, bad)


def test_explicit_chromosomes_make_disjoint_splits():
    data = examples({"chr1": 40, "chr2": 10, "chr3": 10, "chr4": 20})
    splits, summary = split_by_chromosome(data, valid=["chr2"], test=["3"])  # '3' is an alias of chr3
    assert summary["chromosomes"] == {"train": ["chr1", "chr4"], "valid": ["chr2"], "test": ["chr3"]}
    assert [len(splits[s]) for s in SPLITS] == [60, 10, 10]
    chroms = {s: {chromosome_of(n) for n in splits[s].names} for s in SPLITS}
    assert chroms == {"train": {"chr1", "chr4"}, "valid": {"chr2"}, "test": {"chr3"}}
    assert summary["counts"]["valid"] == {"total": 10, "per_class": {"non_promoter": 5, "promoter": 5}}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=3, max_size=12), st.integers(0, 1000))
def test_automatic_splits_cover_every_chromosome_once(sizes, seed):
    data = examples({f"chr{i}": n for i, n in enumerate(sizes)})
    splits, summary = split_by_chromosome(data, seed=seed)
    placed = [c for s in SPLITS for c in summary["chromosomes"][s]]
    assert sorted(placed) == sorted(f"chr{i}" for i in range(len(sizes)))  # each exactly once
    assert all(summary["chromosomes"][s] for s in SPLITS)
    assert sum(len(splits[s]) for s in SPLITS) == len(data)  # distinct sequences: nothing dropped


def test_automatic_split_approaches_the_fractions():
    data = examples({f"chr{i}": 10 for i in range(20)})  # 200 examples on 20 equal chromosomes
    splits, summary = split_by_chromosome(data, seed=3)
    # 10 % of 200 is 20 examples, i.e. exactly two chromosomes each for valid and test.
    assert [len(splits[s]) for s in SPLITS] == [160, 20, 20]
    assert summary["how"] == "whole chromosomes per split"


def test_two_chromosomes_give_a_stratified_valid_split():
    data = examples({"chr2L": 200, "chr2R": 20})
    splits, summary = split_by_chromosome(data)
    assert summary["chromosomes"] == {"train": ["chr2L"], "valid": [], "test": ["chr2R"]}
    assert "stratified" in summary["how"]
    # 10 % of each class of the 200 chr2L examples (100 + 100) goes to valid.
    assert summary["counts"]["valid"]["per_class"] == {"non_promoter": 10, "promoter": 10}
    assert len(splits["train"]) == 180 and not set(splits["train"].names) & set(splits["valid"].names)


def test_duplicates_are_kept_once_and_dropped_from_later_splits():
    data = examples({"chr1": 6, "chr2": 3, "chr3": 3})
    seqs = list(data.sequences)
    seqs[1] = seqs[0]  # repeated inside train (chr1)
    seqs[6] = seqs[2].lower()  # valid (chr2) repeats a train sequence (case does not matter)
    seqs[7] = seqs[8]  # repeated inside valid
    seqs[9] = seqs[3]  # test (chr3) repeats train
    seqs[10] = seqs[8]  # test repeats valid
    data = LabelledSequences(seqs, data.labels, data.classes, data.task, data.names)
    splits, summary = split_by_chromosome(data, valid=["chr2"], test=["chr3"])
    assert summary["duplicates_removed"] == {
        "within_train": 1,
        "within_valid": 1,
        "valid_in_train": 1,
        "within_test": 0,
        "test_in_train_or_valid": 2,
    }
    assert [len(splits[s]) for s in SPLITS] == [5, 1, 1]
    assert splits["train"].names[:2] == ("chr1:0-30(+)", "chr1:200-230(+)")  # the first copy stays
    everywhere = [s.upper() for split in SPLITS for s in splits[split].sequences]
    assert len(everywhere) == len(set(everywhere))


def test_bad_input_raises_one_clear_error():
    data = examples({"chr1": 5, "chr2": 5, "chr3": 5})
    with pytest.raises(MissingContigError, match="contig 'chr9' is not in the examples"):
        split_by_chromosome(data, valid=["chr9"])
    with pytest.raises(InputError, match="'chr2' is asked for both the valid and the test split"):
        split_by_chromosome(data, valid=["chr2"], test=["chr2"])
    with pytest.raises(InputError, match="too few for the splits"):
        split_by_chromosome(data, valid=["chr2"], test=["chr1", "chr3"])
    with pytest.raises(InputError, match="three positive numbers summing to 1"):
        split_by_chromosome(data, fractions=(0.5, 0.5, 0.5))
    with pytest.raises(InputError, match="seed must be >= 0, got -1"):
        split_by_chromosome(data, seed=-1)
    with pytest.raises(InputError, match="seed must be an integer, got 1.5"):
        split_stratified(data, seed=1.5)
    one = examples({"chr1": 5})
    with pytest.raises(InputError, match="needs at least two"):
        split_by_chromosome(one)
    plain = LabelledSequences(["ACGT", "ACGA"], [0, 1], ("a", "b"), "binary", ["s1", "s2"])
    with pytest.raises(InputError, match="record 's1': the example name is not a window's coordinates"):
        split_by_chromosome(plain)


def test_write_split_round_trips_and_records_the_summary(tmp_path):
    data = examples({"chr1": 20, "chr2": 6, "chr3": 6})
    splits, summary = split_by_chromosome(data, valid=["chr2"], test=["chr3"])
    write_split(tmp_path / "out", splits, {**summary, "options": {"length": 30}})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "summary.json",
        "test.csv",
        "train.csv",
        "valid.csv",
    ]
    assert (tmp_path / "out" / "train.csv").read_text().splitlines()[0] == "name,sequence,label"
    back = read_labelled(tmp_path / "out" / "test.csv", name_column="name")
    assert back.names == splits["test"].names and back.sequences == splits["test"].sequences
    assert [back.classes[i] for i in back.labels] == [splits["test"].classes[i] for i in splits["test"].labels]
    record = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert record["counts"]["train"]["total"] == 20 and record["options"] == {"length": 30}
    assert record["chromosomes"]["test"] == ["chr3"] and "bioseq_version" in record


def test_write_split_leaves_nothing_behind_on_bad_input(tmp_path):
    data = examples({"chr1": 20, "chr2": 6, "chr3": 6})
    splits, summary = split_by_chromosome(data)
    with pytest.raises(InputError, match="cannot be written as JSON"):
        write_split(tmp_path / "out", splits, {**summary, "bad": object()})
    with pytest.raises(InputError, match="keys train, valid, test"):
        write_split(tmp_path / "out", {"train": splits["train"]}, summary)
    assert not (tmp_path / "out").exists()


def test_stratified_split_keeps_class_shares_and_covers_every_example():
    data = examples({"chr1": 200})  # 100 per class; coordinates are not used
    three = LabelledSequences(
        data.sequences, np.arange(200) % 4 // 2 + (np.arange(200) % 4 == 3), ("a", "b", "c"), "multiclass", data.names
    )  # classes 100, 50, 50
    splits, summary = split_stratified(three, fractions=(0.8, 0.1, 0.1), seed=4)
    assert summary["how"] == "random, stratified by class"
    assert {s: summary["counts"][s]["per_class"] for s in SPLITS} == {
        "train": {"a": 80, "b": 40, "c": 40},
        "valid": {"a": 10, "b": 5, "c": 5},
        "test": {"a": 10, "b": 5, "c": 5},
    }
    names = [n for s in SPLITS for n in splits[s].names]
    assert sorted(names) == sorted(three.names)  # a partition: every example once
    again, _ = split_stratified(three, fractions=(0.8, 0.1, 0.1), seed=4)
    assert all(again[s].names == splits[s].names for s in SPLITS)  # seeded
    other, _ = split_stratified(three, fractions=(0.8, 0.1, 0.1), seed=5)
    assert other["test"].names != splits["test"].names


def test_stratified_split_drops_duplicates_and_gives_small_classes_a_member_each():
    seqs = ["ACGTACGT", "acgtacgt", "TTTTCCCC", "GGGGAAAA", "CCCCAAAA", "ATATATAT", "GCGCGCGC"]
    data = LabelledSequences(seqs, np.array([0, 0, 0, 1, 1, 1, 1]), ("x", "y"), "binary", [f"s{i}" for i in range(7)])
    splits, summary = split_stratified(data, seed=0)
    everywhere = [s.upper() for split in SPLITS for s in splits[split].sequences]
    assert len(everywhere) == len(set(everywhere)) == 6  # one copy of ACGTACGT is gone
    assert sum(summary["duplicates_removed"].values()) == 1
    assert len(splits["test"]) >= 1 and len(splits["valid"]) >= 1
    with pytest.raises(InputError, match="fractions must be three positive numbers summing to 1"):
        split_stratified(data, fractions=(0.5, 0.5, 0.5))
    with pytest.raises(InputError, match="the valid split of 2 examples is empty"):
        split_stratified(LabelledSequences(["AC", "GT"], np.array([0, 1]), ("x", "y"), "binary", ["a", "b"]))
