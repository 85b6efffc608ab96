"""Training data: code arrays, validation splits and loaders.

Data contract
-------------
:class:`SequenceSet` holds ``codes`` ``(N, L)`` uint8 (PAD-padded, see
:mod:`bioseq.alphabet`), ``labels`` (``(N,)`` int64 class indices, or
``(N, C)`` uint8 for multi-label), ``names`` and the task and classes. A
loader batch is a pair of tensors ``(codes (B, L) uint8, labels)``: one byte
per base travels to the device, where the model one-hot encodes.

For a per-position model (task ``"per_position"``, :meth:`SequenceSet.from_per_base`)
``labels`` is ``(N, W)`` uint8, the class of each of the ``W`` central
positions of an input of ``L = W + 2 * flank`` bases.

Validation splits (:func:`split_validation`) are stratified by class, or by
chromosome when the sequence names carry coordinates (``chr1:100-200`` or
``chr1:100-200(+)``, 0-based half-open), so that no region of a validation
chromosome is seen in training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler

from bioseq.codes import check_codes
from bioseq.errors import InputError, option
from bioseq.io.interval import chromosome_of
from bioseq.io.labels import LabelledSequences

__all__ = ["SequenceSet", "split_validation", "make_loader", "chromosomes_of", "EpochOrder", "ResumableLoader"]


@dataclasses.dataclass(frozen=True)
class SequenceSet:
    """Encoded sequences with labels (see the module docstring)."""

    codes: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    classes: tuple[str, ...]
    task: str

    def __post_init__(self) -> None:
        check_codes(self.codes)  # once, on the host: models read code values unchecked (bioseq.models.layers)
        if self.codes.ndim != 2:
            raise InputError(
                f"codes must be a 2-D (N, L) array, got shape {self.codes.shape}",
                fix="Encode sequences with bioseq.codes.encode()",
            )

    @classmethod
    def from_per_base(cls, split, *, classes: tuple[str, ...], crop: int = 0) -> SequenceSet:
        """One split of a per-base dataset (:mod:`bioseq.datasets.per_base_store`), ``crop`` bases cut off each side.

        A dataset stores more context than a model may read; ``crop`` is the
        difference per side (dataset flank - model flank). The arrays stay
        memory-mapped views until a loader copies them.
        """
        codes = split.codes if crop == 0 else split.codes[:, crop : split.codes.shape[1] - crop]
        return cls(codes, split.labels, tuple(split.regions), tuple(classes), "per_position")

    @classmethod
    def from_labelled(cls, data: LabelledSequences, *, length: int | None = None) -> SequenceSet:
        """Encode a :class:`LabelledSequences` to codes of width ``length`` (default: the longest)."""
        codes, _ = data.codes(length)
        return cls(codes, np.asarray(data.labels), tuple(data.names), tuple(data.classes), data.task)

    def __len__(self) -> int:
        return len(self.codes)

    def subset(self, index: np.ndarray) -> SequenceSet:
        """The rows at ``index`` (0-based positions)."""
        return dataclasses.replace(
            self,
            codes=self.codes[index],
            labels=self.labels[index],
            names=tuple(self.names[i] for i in np.asarray(index).tolist()),
        )

    @property
    def n_outputs(self) -> int:
        """Logits the model needs (per position for ``per_position``): 1 for binary, the number of classes otherwise."""
        return 1 if self.task == "binary" else len(self.classes)

    def class_weights(self) -> np.ndarray:
        """Inverse-frequency weights ``(C,)`` float32 ("balanced": ``n / (C * count)``); for binary ``(2,)``.

        Per position, the counts are of labelled positions."""
        if self.task == "multilabel":
            positives = self.labels.sum(axis=0).astype(np.float64)
            negatives = len(self) - positives
            return (negatives / np.maximum(positives, 1)).astype(np.float32)  # pos_weight per class
        counts = np.bincount(self.labels.reshape(-1), minlength=len(self.classes)).astype(np.float64)
        weights = counts.sum() / (len(self.classes) * np.maximum(counts, 1))
        return weights.astype(np.float32)


def chromosomes_of(names: Sequence[str]) -> list[str] | None:
    """The chromosome of each name when every name is a coordinate (``chr1:100-200``), else None."""
    chroms = [chromosome_of(name) for name in names]
    return None if any(c is None for c in chroms) else chroms


def split_validation(
    data: SequenceSet, *, fraction: float = 0.1, by: str = "auto", seed: int = 0
) -> tuple[SequenceSet, SequenceSet, str]:
    """Carve a validation set out of ``data``.

    Parameters
    ----------
    data : SequenceSet
    fraction : float
        Share of sequences for validation (by chromosome: the chromosomes
        whose sequences add up closest to it, at least one).
    by : {"auto", "stratified", "chromosome"}
        ``"auto"`` splits by chromosome when every name is a coordinate and
        there are at least 3 chromosomes, else stratified by class.
    seed : int

    Returns
    -------
    train, valid : SequenceSet
    how : str
        A sentence saying how the split was made (for logs and the bundle).
    """
    rng = np.random.default_rng(seed)
    chroms = chromosomes_of(data.names) if by in ("auto", "chromosome") else None
    if by == "chromosome" and (chroms is None or len(set(chroms)) < 2):
        raise InputError(
            "split_by='chromosome' needs sequence names that are coordinates (chr1:100-200) on at "
            "least two chromosomes",
            fix=f"Use {option('split_by', repr('stratified'))}, or give a validation file with {option('valid')}",
        )
    if chroms is not None and (by == "chromosome" or len(set(chroms)) >= 3):
        valid_mask, how = _by_chromosome(np.array(chroms), fraction, rng)
    else:
        valid_mask, how = _stratified(data, fraction, rng)
    train_idx, valid_idx = np.flatnonzero(~valid_mask), np.flatnonzero(valid_mask)
    if len(valid_idx) == 0 or len(train_idx) == 0:
        raise InputError(
            f"the training data ({len(data)} sequences) are too few to split off a validation set",
            fix=f"Give a validation file with {option('valid', repr('valid.csv'))}",
        )
    return data.subset(train_idx), data.subset(valid_idx), how


def _by_chromosome(chroms: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    names, counts = np.unique(chroms, return_counts=True)
    order = rng.permutation(len(names))
    target, chosen, total = fraction * len(chroms), [], 0
    for i in order:
        if total >= target:
            break
        if chosen and total + counts[i] > 1.5 * target:
            continue
        chosen.append(names[i])
        total += counts[i]
    mask = np.isin(chroms, chosen)
    return mask, f"validation = chromosomes {', '.join(sorted(chosen))} ({mask.sum()} sequences)"


def _stratified(data: SequenceSet, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    keys = data.labels if data.labels.ndim == 1 else np.zeros(len(data), dtype=np.int64)
    mask = np.zeros(len(data), dtype=bool)
    for key in np.unique(keys):
        members = np.flatnonzero(keys == key)
        take = int(round(fraction * len(members)))
        if len(members) >= 2:
            take = min(max(take, 1), len(members) - 1)
        mask[rng.choice(members, size=take, replace=False)] = True
    return mask, f"validation = stratified random {fraction:.0%} ({mask.sum()} sequences)"


class _Batches(Dataset):
    """Map-style dataset whose ``__getitems__`` returns a whole batch by fancy indexing.

    Arrays in memory become tensors once. A memory-mapped array (a per-base
    dataset, :mod:`bioseq.datasets.per_base_store`, cropped or not) stays on
    disk: each batch reads only its rows, so a genome-scale dataset trains in
    the memory of one batch (the page cache does the rest).
    """

    def __init__(self, codes: np.ndarray, labels: np.ndarray) -> None:
        self.mapped = isinstance(codes, np.memmap) or isinstance(labels, np.memmap)
        self.float_labels = labels.ndim == 2 and not self.mapped  # multi-label targets (N, C) -> float32
        if self.mapped:
            self.codes, self.labels = codes, labels
        else:
            labels = labels.astype(np.float32) if self.float_labels else labels
            self.codes, self.labels = torch.from_numpy(_writable(codes)), torch.from_numpy(_writable(labels))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: int):
        codes, labels = self.__getitems__([index])
        return codes[0], labels[0]

    def __getitems__(self, indices: list[int]):
        if self.mapped:
            index = np.asarray(indices, dtype=np.int64)
            rows = lambda array: torch.from_numpy(np.ascontiguousarray(array[index]))  # noqa: E731  (a copy)
            return rows(self.codes), rows(self.labels)  # (B, L) uint8, (B, W) uint8
        index = torch.as_tensor(indices)
        return self.codes[index], self.labels[index]  # (B, L) uint8, (B,) or (B, C)


def _writable(array: np.ndarray) -> np.ndarray:
    """A C-contiguous, writable array (torch refuses read-only memory); copies only if needed."""
    array = np.ascontiguousarray(array)
    return array if array.flags.writeable else array.copy()


def _as_batch(batch):
    return batch  # __getitems__ already built the batch


def _rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes (0, 1 without torch.distributed)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class EpochOrder(Sampler[int]):
    """Indices of one epoch: a permutation drawn from ``(seed, epoch)`` (or 0..n-1), this rank's share.

    The order of an epoch depends only on the seed and the epoch number, not
    on what ran before in the process, so a resumed run sees the same batches.
    Under DDP each of ``W`` ranks takes every ``W``-th index of the order,
    padded by repeating its start to a multiple of ``W`` (as
    ``torch.utils.data.DistributedSampler`` does). Lightning calls
    :meth:`set_epoch` before each epoch; ``start`` skips indices once (for a
    resume in the middle of an epoch).
    """

    def __init__(self, n: int, *, shuffle: bool, seed: int = 0) -> None:
        self.n, self.shuffle, self.seed = int(n), bool(shuffle), int(seed)
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _share(self) -> torch.Tensor:
        rank, world = _rank_and_world()
        if self.shuffle:
            generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % (1 << 63))
            order = torch.randperm(self.n, generator=generator)
        else:
            order = torch.arange(self.n)
        if world > 1:
            padded = -(-self.n // world) * world
            order = torch.cat([order, order[: padded - self.n]])[rank::world]
        return order

    def __iter__(self):
        start, self.start = self.start, 0
        return iter(self._share()[start:].tolist())

    def __len__(self) -> int:
        _, world = _rank_and_world()
        return -(-self.n // world)


class ResumableLoader(DataLoader):
    """A loader whose position in the epoch is saved in Lightning checkpoints and restored on resume.

    ``state_dict()`` gives ``{"epoch", "batches"}`` (batches handed out in the
    current epoch); after ``load_state_dict`` the next iteration over the same
    epoch skips those batches. Lightning stores the state of a loader with
    these two methods in its checkpoints (``loops.fit_loop.state_dict.combined_loader``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._handed_out = 0
        self._resume: dict | None = None

    def state_dict(self) -> dict:
        return {"epoch": self.batch_sampler.sampler.epoch, "batches": self._handed_out}

    def load_state_dict(self, state: dict) -> None:
        self._resume = dict(state)

    def __iter__(self):
        # A generator: the body runs at the first batch, after Lightning's set_epoch for this epoch.
        order = self.batch_sampler.sampler
        resume, self._resume = self._resume, None
        skip = 0
        if resume is not None and int(resume.get("epoch", -1)) == order.epoch:
            skip = min(int(resume.get("batches", 0)), len(self.batch_sampler))
        order.start = skip * self.batch_sampler.batch_size
        self._handed_out = skip
        for batch in super().__iter__():
            self._handed_out += 1
            yield batch


def make_loader(
    data: SequenceSet, *, batch_size: int, shuffle: bool, num_workers: int = 0, seed: int = 0
) -> DataLoader:
    """A loader of ``(codes (B, L) uint8, labels)`` batches in :class:`EpochOrder`, resumable mid-epoch.

    Parameters
    ----------
    data : SequenceSet
    batch_size : int
    shuffle : bool
        A new order every epoch, drawn from ``(seed, epoch)``; else the stored order.
    num_workers : int, default 0
    seed : int, default 0

    Returns
    -------
    ResumableLoader
        With ``batch_sampler.sampler`` an :class:`EpochOrder` (sharded per rank
        under DDP, so the Trainer must not add a distributed sampler:
        ``use_distributed_sampler=False``).
    """
    batches = BatchSampler(EpochOrder(len(data), shuffle=shuffle, seed=seed), batch_size=batch_size, drop_last=False)
    return ResumableLoader(
        _Batches(data.codes, data.labels),
        batch_sampler=batches,
        num_workers=num_workers,
        collate_fn=_as_batch,
        persistent_workers=num_workers > 0,
    )
