"""Train/valid/test splits: by chromosome for genome windows, stratified at random for tables.

Examples contract
-----------------
The dataset builders return :class:`~bioseq.io.labels.LabelledSequences`
whose ``names`` are the windows' coordinates, ``chrom:start-end(strand)``,
0-based half-open on the reference's contig names (:func:`window_name`). A
``start`` below 0 or an ``end`` past the contig length means the window hangs
off the contig and its outer bases are N. A dinucleotide shuffle of a window
is named ``<window>_shuf<k>`` (k = 1, 2, ...): it parses as the coordinates of
its source window (:func:`chromosome_of`), so that it always lands in the
same split as the positive it was made from.

Splits
------
:func:`split_by_chromosome` sends whole chromosomes to train, valid and test,
so that no region of a held-out chromosome is seen in training, then removes
exact duplicate sequences (compared case-insensitively): a sequence is kept
once within a split, a valid sequence that also occurs in train is dropped,
and a test sequence that also occurs in train or valid is dropped.
:func:`split_stratified` splits examples without coordinates (a labelled
table) at random, stratified by class (multi-label: unstratified), and
removes duplicates the same way.
:func:`write_split` writes ``train.csv``, ``valid.csv``, ``test.csv``
(columns ``name,sequence,label``, read by
:func:`bioseq.io.tables.read_labelled`) and ``summary.json``, each file
atomically and ``summary.json`` last, so that its presence marks a complete
split.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bioseq.checks import integer
from bioseq.errors import InputError
from bioseq.io.contigs import ContigAliases, missing_contig
from bioseq.io.handles import atomic_output
from bioseq.io.interval import chromosome_of
from bioseq.io.labels import LabelledSequences

__all__ = ["SPLITS", "split_by_chromosome", "split_stratified", "write_split"]

SPLITS = ("train", "valid", "test")
"""Split names, in the order they are filled and written."""

_NAME_FIX = "Name each example by its window, chrom:start-end(strand), as bioseq dataset does"


logger = logging.getLogger(__name__)


def split_by_chromosome(
    examples: LabelledSequences,
    *,
    valid: Sequence[str] | None = None,
    test: Sequence[str] | None = None,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> tuple[dict[str, LabelledSequences], dict]:
    """Split examples by chromosome into train, valid and test, then drop duplicates.

    Chromosomes named in ``valid`` and ``test`` go there; the splits not given
    are filled from the other chromosomes, visited in a seeded random order,
    adding each one that brings the split's example count closer to its
    fraction (at least one chromosome each, and at least one left for train).
    With too few chromosomes for a valid split of its own (two in all, for
    example), train keeps one, test gets the other, and valid is a random
    ``fractions[1]`` of each class of train; the summary says so.

    Parameters
    ----------
    examples : LabelledSequences
        Named by window coordinates (see the module docstring).
    valid, test : sequence of str, optional
        Chromosomes for the valid and test splits (aliases such as ``2L``
        for ``chr2L`` resolve).
    fractions : (float, float, float), default (0.8, 0.1, 0.1)
        Target shares of the examples for train, valid and test; positive,
        summing to 1.
    seed : int, default 0

    Returns
    -------
    splits : dict of str to LabelledSequences
        Keys ``"train"``, ``"valid"``, ``"test"``; the classes and task of
        ``examples``; rows in their original order.
    summary : dict
        ``how`` (a sentence), ``chromosomes`` and ``counts`` per split
        (``total`` and per class), ``duplicates_removed``, ``fractions`` and
        ``seed``.

    Raises
    ------
    InputError
        On a name that is not a window, a single chromosome, a chromosome
        given twice, too few chromosomes for the splits asked, bad fractions,
        or a split left empty.
    MissingContigError
        A ``valid`` or ``test`` chromosome that holds no example.
    """
    if not isinstance(examples, LabelledSequences):
        raise InputError(f"examples must be LabelledSequences, got {type(examples).__name__}")
    fractions = _check_fractions(fractions)
    seed = integer(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    chroms = _chromosomes(examples)
    counts = Counter(chroms)
    if len(counts) < 2:
        where = f"one chromosome ({chroms[0]})" if chroms else "no chromosome"
        raise InputError(
            f"all {len(examples)} examples lie on {where}; a chromosome split needs at least two",
            fix="Build the dataset from a genome with more contigs",
        )
    given = {"valid": _resolve(valid, counts, "valid"), "test": _resolve(test, counts, "test")}
    place, stratified = _assign(counts, given, fractions, rng, len(examples))
    rows = {split: [i for i, c in enumerate(chroms) if place[c] == split] for split in SPLITS}
    if stratified:
        rows["train"], rows["valid"] = _stratified(examples, rows["train"], fractions[1], rng)
    kept, removed = _deduplicate(examples, rows)
    splits = {split: examples.subset(np.asarray(kept[split], dtype=np.int64)) for split in SPLITS}
    for split in SPLITS:
        if not len(splits[split]):
            raise InputError(
                f"the {split} split holds no example after removing duplicates",
                fix="Pass other valid/test chromosomes, or build more examples",
            )
    chromosomes = {split: [c for c in counts if place[c] == split] for split in SPLITS}
    how = "whole chromosomes per split"
    if stratified:
        how = (
            f"{len(counts)} chromosomes: train and test get whole chromosomes, valid is a "
            f"stratified random {fractions[1]:g} of the train chromosomes' examples"
        )
    summary = {
        "how": how,
        "chromosomes": chromosomes,
        "counts": _split_counts(splits),
        "duplicates_removed": removed,
        "fractions": list(fractions),
        "seed": seed,
    }
    return splits, summary


def _split_counts(splits: dict[str, LabelledSequences]) -> dict[str, dict]:
    """Examples per split: ``{"train": {"total": n, "per_class": {class: n}}, ...}``."""
    out = {}
    for split, data in splits.items():
        labels = np.asarray(data.labels).tolist()
        per_class = Counter(data.classes[i] for i in labels)
        out[split] = {"total": len(data), "per_class": {c: per_class.get(c, 0) for c in data.classes}}
    return out


def _check_fractions(fractions) -> tuple[float, float, float]:
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or min(values) <= 0 or abs(sum(values) - 1) > 1e-6:
        raise InputError(
            f"fractions must be three positive numbers summing to 1, got {fractions!r}",
            fix="Pass e.g. (0.8, 0.1, 0.1) for train, valid and test",
        )
    return values


def _chromosomes(examples: LabelledSequences) -> list[str]:
    chroms = []
    for name in examples.names:
        chrom = chromosome_of(name)
        if chrom is None:
            raise InputError(
                "the example name is not a window's coordinates",
                record=name,
                path=examples.source or None,
                fix=_NAME_FIX,
            )
        chroms.append(chrom)
    return chroms


def _resolve(names, counts: Counter, split: str) -> list[str] | None:
    """The chromosomes of ``names`` as the examples spell them; None when not given."""
    if names is None:
        return None
    if isinstance(names, str):
        names = [names]
    aliases = ContigAliases(counts)
    found = []
    for name in names:
        chrom = aliases.resolve(name) if isinstance(name, str) else None
        if chrom is None:
            raise missing_contig(str(name), list(counts), path=None, what=f"the examples (asked for the {split} split)")
        found.append(chrom)
    if not found:
        raise InputError(f"the {split} chromosome list is empty", fix="Name at least one, or leave it out")
    return found


def _assign(counts: Counter, given: dict, fractions, rng, n: int) -> tuple[dict[str, str], bool]:
    """Chromosome -> split, and whether valid must be carved out of train."""
    place = dict.fromkeys(counts, "train")
    for split, chroms in given.items():
        for chrom in chroms or ():
            if place[chrom] != "train":
                raise InputError(
                    f"chromosome {chrom!r} is asked for both the valid and the test split",
                    fix="Give each chromosome to one split",
                )
            place[chrom] = split
    free = [c for c in counts if place[c] == "train"]
    auto = [split for split in ("test", "valid") if given[split] is None]
    stratified = False
    if "valid" in auto and len(free) < len(auto) + 1:
        auto.remove("valid")
        stratified = True
    if len(free) < len(auto) + 1:
        raise InputError(
            f"{len(counts)} chromosomes are too few for the splits asked (train needs one left after valid and test)",
            fix="Give fewer chromosomes to valid/test, or use a genome with more contigs",
        )
    for k, split in enumerate(auto):
        keep = len(auto) - k  # train, plus the auto splits still to fill
        target = fractions[SPLITS.index(split)] * n
        for chrom in _closest(free, counts, target, keep, rng):
            place[chrom] = split
            free.remove(chrom)
    return place, stratified


def _closest(free: list[str], counts: Counter, target: float, keep: int, rng) -> list[str]:
    """Chromosomes from ``free`` whose counts add up near ``target``, leaving ``keep`` of them."""
    chosen, total = [], 0
    for i in rng.permutation(len(free)).tolist():
        if len(free) - len(chosen) <= keep:
            break
        if abs(total + counts[free[i]] - target) < abs(total - target):
            chosen.append(free[i])
            total += counts[free[i]]
    if not chosen:
        chosen = [min(free, key=lambda c: abs(counts[c] - target))]
    return chosen


def split_stratified(
    examples: LabelledSequences,
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> tuple[dict[str, LabelledSequences], dict]:
    """Split examples at random into train, valid and test, stratified by class, then drop duplicates.

    Each class (each distinct label row, for multi-label data, which is
    split unstratified when that leaves a class with fewer than three
    members) gives ``round(fraction * members)`` examples to test and to
    valid, at least one each when it has three or more members; the rest go
    to train. Duplicates are then removed as :func:`split_by_chromosome`
    does. Sequences need no coordinates.

    Parameters
    ----------
    examples : LabelledSequences
    fractions : (float, float, float), default (0.8, 0.1, 0.1)
        Shares of train, valid and test; positive, summing to 1.
    seed : int, default 0

    Returns
    -------
    splits : dict of str to LabelledSequences
        Keys ``"train"``, ``"valid"``, ``"test"``; rows in their original order.
    summary : dict
        ``how``, ``counts``, ``duplicates_removed``, ``fractions``, ``seed``.

    Raises
    ------
    InputError
        On bad fractions or seed, or a split left empty (too few examples).
    """
    if not isinstance(examples, LabelledSequences):
        raise InputError(f"examples must be LabelledSequences, got {type(examples).__name__}")
    fractions = _check_fractions(fractions)
    seed = integer(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    labels = np.asarray(examples.labels).reshape(len(examples), -1)
    _, group = np.unique(labels, axis=0, return_inverse=True)
    group = group.reshape(-1)
    stratify = examples.task != "multilabel" or np.bincount(group).min() >= 3
    if not stratify:
        group = np.zeros(len(examples), dtype=np.int64)
    rows: dict[str, list[int]] = {split: [] for split in SPLITS}
    for k in np.unique(group).tolist():
        members = rng.permutation(np.flatnonzero(group == k))
        n_test, n_valid = (_share_of(members.size, f) for f in fractions[2:0:-1])
        rows["test"] += members[:n_test].tolist()
        rows["valid"] += members[n_test : n_test + n_valid].tolist()
        rows["train"] += members[n_test + n_valid :].tolist()
    kept, removed = _deduplicate(examples, {split: sorted(r) for split, r in rows.items()})
    splits = {split: examples.subset(np.asarray(kept[split], dtype=np.int64)) for split in SPLITS}
    for split in SPLITS:
        if not len(splits[split]):
            raise InputError(
                f"the {split} split of {len(examples)} examples is empty",
                fix="Give more examples, or train/valid/test files that are already split",
            )
    how = "random, stratified by class" if stratify else "random (unstratified: multi-label)"
    summary = {
        "how": how,
        "counts": _split_counts(splits),
        "duplicates_removed": removed,
        "fractions": list(fractions),
        "seed": seed,
    }
    return splits, summary


def _share_of(members: int, fraction: float) -> int:
    """Examples of a class for a valid or test split: rounded, at least 1 when the class has 3 or more."""
    return max(int(round(fraction * members)), 1 if members >= 3 else 0)


def _stratified(examples, train: list[int], fraction: float, rng) -> tuple[list[int], list[int]]:
    """Move a random ``fraction`` of each class of ``train`` to valid."""
    labels = np.asarray(examples.labels)[train]
    rows = np.asarray(train, dtype=np.int64)
    picked = []
    for k in np.unique(labels, axis=0):
        members = rows[(labels == k).reshape(len(rows), -1).all(axis=1)]
        picked.append(rng.choice(members, size=int(round(fraction * members.size)), replace=False))
    valid = np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64)
    return sorted(set(train) - set(valid.tolist())), valid.tolist()


def _deduplicate(examples, rows: dict[str, list[int]]) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Drop repeats within a split, and valid/test sequences seen in an earlier split."""
    seen: set[str] = set()
    kept: dict[str, list[int]] = {}
    removed: dict[str, int] = {}
    for k, split in enumerate(SPLITS):
        here: set[str] = set()
        kept[split] = []
        repeated = earlier = 0
        for i in rows[split]:
            key = examples.sequences[i].upper()
            if key in here:
                repeated += 1
            elif key in seen:
                earlier += 1
            else:
                here.add(key)
                kept[split].append(i)
        removed[f"within_{split}"] = repeated
        if k:
            removed[f"{split}_in_{'_or_'.join(SPLITS[:k])}"] = earlier
        seen |= here
    return kept, removed


def write_split(directory: str | os.PathLike, splits: dict[str, LabelledSequences], summary: dict) -> None:
    """Write ``train.csv``, ``valid.csv``, ``test.csv`` and ``summary.json`` into ``directory``.

    Tables have the columns ``name,sequence,label`` (see
    :func:`bioseq.io.tables.write_table`). ``summary.json`` is ``summary``
    with ``counts`` recomputed from ``splits`` and ``bioseq_version`` added;
    it is written last. Each file appears whole or not at all.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if missing; files of an earlier run are replaced.
    splits : dict of str to LabelledSequences
        Keys ``"train"``, ``"valid"``, ``"test"``, as
        :func:`split_by_chromosome` or :func:`split_stratified` return them.
    summary : dict
        JSON-serialisable facts to record (options, sources, ...).

    Raises
    ------
    InputError
        On other keys, a value that is not LabelledSequences, splits with
        different classes, or a summary that is not JSON-serialisable.
    """
    from bioseq import __version__
    from bioseq.io.tables import write_table

    if not isinstance(splits, dict) or set(splits) != set(SPLITS):
        raise InputError(
            f"splits must be a dict with the keys {', '.join(SPLITS)}", fix="Pass what split_by_chromosome returns"
        )
    if (
        not all(isinstance(v, LabelledSequences) for v in splits.values())
        or len({v.classes for v in splits.values()}) != 1
    ):
        raise InputError(
            "every split must be LabelledSequences with the same classes", fix="Pass what split_by_chromosome returns"
        )
    record = {**summary, "counts": _split_counts(splits), "bioseq_version": __version__}
    try:
        text = json.dumps(record, indent=2) + "\n"
    except (TypeError, ValueError) as exc:
        raise InputError(f"the summary cannot be written as JSON ({exc})") from exc
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise InputError(
            "the output exists and is not a folder", path=root, fix="Pass a folder path for the split tables"
        )
    for split in SPLITS:
        write_table(splits[split], root / f"{split}.csv")
    with atomic_output(root / "summary.json", "w") as out:
        out.write(text)
