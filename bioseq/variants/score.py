"""Score variants with a model bundle: SpliceAI-style delta scores, or window probabilities.

Data contract
-------------
:func:`score_variants` takes a loaded bundle (anything with the attributes
below), :class:`~bioseq.io.variants.Variant` records (0-based, half-open, as
:func:`~bioseq.io.variants.read_variants` yields them against the same
:class:`~bioseq.io.reference.Reference`) and yields one :class:`VariantScore`
per variant, in input order.

Per-position bundles (``bundle.per_position`` true; ``bundle.flank`` context
bases per side; ``bundle.classes`` holding ``"acceptor"`` and ``"donor"``;
``bundle.predict_proba(codes (N, L) uint8, *, batch_size, device)`` ->
``(N, L - 2 * flank, C)`` float32) give SpliceAI's four delta scores within
``distance`` bases (:func:`~bioseq.variants.delta.delta_scores`), one
:class:`SpliceEntry` per gene that overlaps the variant, scored on that gene's
strand (a gene with strand ``.`` on both). Without genes, every variant gets
two entries, ``+`` and ``-``, with symbol ``"."``. With genes, a variant
outside all of them gets none (``reason="outside genes"``).

Window classifiers (``per_position`` false; ``bundle.length`` the input width
``L``, or ``width=`` for a model that reads any width;
``predict_proba(codes (N, L))`` -> ``(N,)`` or ``(N, C)``) give the class
probabilities of the reference and alternative windows and their difference.
The reference window is ``[c - L // 2, c - L // 2 + L)`` with
``c = start + len(REF) // 2``; the alternative window starts at the same base,
holds the same bases up to the allele, then ALT and the genome after REF, cut
(or extended with the genome) to ``L`` bases at its right end. A REF longer
than ``L`` is not scored (``reason="allele longer than the window"``). Windows
are read on the genome's + strand; genes are not used.

Speed
-----
Variants are read in blocks of ``block`` (bounded memory); inside a block,
per-position scoring groups the (variant, strand) pairs by contig and strand,
sorts them and cuts them into chunks whose REF alleles span at most ``chunk``
bases and whose input windows overlap (so sharing never costs more bases than
it saves). The reference is predicted once per chunk, on
``[min start - distance - flank, max end + distance + flank)``, and each
variant's reference scores are sliced from it; alternative inputs are batched
across variants, grouped by input length. An SNV is an edit of its chunk's
input: a bundle with ``predict_substitutions`` (every loaded
:class:`~bioseq.bundle.Bundle`) predicts the chunks and their SNVs together,
and the per-base CNN then recomputes, block by block, only the positions the
changed base reaches (about a third of a whole window's work at context 400;
the same scores); any other bundle-like object gets each SNV's window in
full. For a block of ``n`` variants the model sees one input per chunk plus
one per indel and strand, in one call per distinct input length. This is exact
for models whose output at a base depends only on the ``flank`` bases around
it (valid convolutions); for others pass ``chunk=0`` (one reference input per variant).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Iterable, Iterator

import numpy as np

from bioseq.alphabet import COMPLEMENT, PAD
from bioseq.checks import is_integer, positive_integer
from bioseq.codes import encode_one
from bioseq.errors import InputError, option
from bioseq.io.annotation import Annotation
from bioseq.io.reference import Reference
from bioseq.io.variants import Variant
from bioseq.variants.delta import DeltaScores, delta_scores
from bioseq.variants.genes import GeneIndex

__all__ = ["SpliceEntry", "VariantScore", "score_variants", "OUTSIDE_GENES", "TOO_LONG"]

log = logging.getLogger(__name__)

OUTSIDE_GENES = "outside genes"
TOO_LONG = "allele longer than the window"


@dataclasses.dataclass(frozen=True)
class SpliceEntry:
    """The delta scores of one variant for one gene (or strand): SpliceAI's per-gene entry."""

    symbol: str
    strand: str
    scores: DeltaScores

    def info(self, allele: str) -> str:
        """``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``."""
        return self.scores.info(allele, self.symbol)


@dataclasses.dataclass(frozen=True, eq=False)
class VariantScore:
    """What a model says about one variant.

    Attributes
    ----------
    variant : Variant
    entries : tuple of SpliceEntry
        Per-position models: one per gene (strand); empty otherwise.
    ref, alt : numpy.ndarray of shape ``(K,)``, float32, or None
        Window classifiers: probabilities of the reference and alternative
        windows (``K = 1``, the positive class, for a binary model; else one per class).
    reason : str or None
        Why the variant has no score (:data:`OUTSIDE_GENES`, :data:`TOO_LONG`), None when scored.
    """

    variant: Variant
    entries: tuple[SpliceEntry, ...] = ()
    ref: np.ndarray | None = None
    alt: np.ndarray | None = None
    reason: str | None = None

    @property
    def scored(self) -> bool:
        """Whether the variant got scores (``reason`` is None)."""
        return self.reason is None

    @property
    def diff(self) -> np.ndarray | None:
        """``alt - ref`` for a window classifier, else None."""
        return None if self.ref is None else self.alt - self.ref

    @property
    def maximum(self) -> float | None:
        """The largest delta score over the entries (per-position), or the largest ``|alt - ref|``; None unscored."""
        if self.entries:
            return max(entry.scores.maximum for entry in self.entries)
        if self.ref is not None:
            return float(np.abs(self.diff).max())
        return None


def score_variants(
    bundle,
    variants: Iterable[Variant],
    reference: Reference,
    *,
    genes: GeneIndex | Annotation | None = None,
    distance: int = 50,
    batch_size: int = 256,
    device=None,
    chunk: int = 5000,
    block: int = 4096,
    width: int | None = None,
    rc_average: bool = False,
) -> Iterator[VariantScore]:
    """Score each variant with ``bundle`` (see the module docstring), yielding results in input order.

    Parameters
    ----------
    bundle : Bundle
        A loaded bundle (:func:`bioseq.bundle.resolve.as_bundle`) or an object with the same attributes.
    variants : iterable of Variant
        0-based half-open, ``contig`` naming a contig of ``reference``.
    reference : Reference
        The genome the variants were read against.
    genes : GeneIndex or Annotation, optional
        Per-position models: score each overlapping gene on its strand; without, both strands.
    distance : int, default 50
        Bases scored on each side of the allele (per-position models), >= 0.
    batch_size : int, default 256
        Inputs per forward pass; scores do not depend on it.
    device : str or torch.device, optional
        Passed to ``bundle.predict_proba``.
    chunk : int, default 5000
        Largest span (bases) of variants that share one reference prediction; 0 shares none.
        Sharing is exact only for a model whose outputs read just their flank
        (``bundle.local``); for any other (``bundle.local`` false) it is 0.
    block : int, default 4096
        Variants read and scored together (bounds memory).
    width : int, optional
        Window width for a window classifier that reads any width (``bundle.length`` None).
    rc_average : bool, default False
        Window classifiers: average each window's prediction with its reverse complement's.

    Yields
    ------
    VariantScore

    Raises
    ------
    InputError
        On bad arguments, a per-position bundle without ``acceptor`` and ``donor``
        classes (or with ``rc_average``), or a contig the reference lacks.
    """
    if not isinstance(reference, Reference):
        raise InputError(f"reference must be a Reference, got {type(reference).__name__}")
    for name, value, low in (("distance", distance, 0), ("chunk", chunk, 0), ("block", block, 1)):
        if not is_integer(value) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
    batch_size = positive_integer(batch_size, "batch_size")
    if isinstance(genes, Annotation):
        genes = GeneIndex.from_annotation(genes, reference)
    elif genes is not None and not isinstance(genes, GeneIndex):
        raise InputError(f"genes must be a GeneIndex or an Annotation, got {type(genes).__name__}")
    if rc_average and getattr(bundle, "per_position", False):
        raise InputError(
            f"{option('rc_average', 'True')} does not apply to a per-position model: each strand is scored on its own",
            fix=f"Leave out {option('rc_average', 'True')}",
        )
    predict = _Predictor(bundle, batch_size, device, bool(rc_average))
    if not getattr(bundle, "local", True):  # its outputs read the whole input: one reference input per variant
        chunk = 0
    if getattr(bundle, "per_position", False):
        scorer = _SpliceScorer(predict, reference, genes, int(distance), int(chunk), _splice_columns(bundle))
    else:
        scorer = _WindowScorer(predict, reference, _window_width(bundle, width))
    return _stream(scorer, variants, int(block))


def _stream(scorer, variants: Iterable[Variant], block: int) -> Iterator[VariantScore]:
    iterator = iter(variants)
    while batch := list(itertools.islice(iterator, block)):
        for v in batch:
            if not isinstance(v, Variant):
                raise InputError(f"variants must be Variant records, got {type(v).__name__}")
        yield from scorer.score(batch)


def _splice_columns(bundle) -> tuple[int, int]:
    classes = tuple(bundle.classes)
    if "acceptor" not in classes or "donor" not in classes:
        raise InputError(
            f"this per-position model's classes are {classes}, but splice delta scores need 'acceptor' and 'donor'",
            path=getattr(bundle, "path", None),
            fix="Use a splice-site model trained on per-base acceptor/donor labels",
        )
    return classes.index("acceptor"), classes.index("donor")


def _window_width(bundle, width: int | None) -> int:
    if bundle.length is not None:
        return int(bundle.length)
    if width is None:
        raise InputError(
            "the model reads windows of any width, so the window around a variant is not known",
            path=getattr(bundle, "path", None),
            fix=option("width", "N", clause="Pass {} (the window width in bp)", dest="length"),
        )
    return positive_integer(width, "width")


class _Predictor:
    """``bundle.predict_proba`` over inputs of several lengths, in one call per length bucket.

    A local per-position model (``bundle.local``: each output reads only the
    ``flank`` bases around it) gets its inputs right-padded with ``PAD`` up to
    the bucket's length (a length rounded up to a multiple of a power of two
    that is 1/16 to 1/8 of it: at most 12.5 % more bases), so that chunks of many lengths batch
    together; the padding reaches no output that is kept. Any other model
    gets one call per distinct length.
    """

    def __init__(self, bundle, batch_size: int, device, rc_average: bool) -> None:
        self.bundle = bundle
        self.options = {"batch_size": batch_size, "device": device, **({"rc_average": True} if rc_average else {})}
        self.pad = bool(getattr(bundle, "per_position", False) and getattr(bundle, "local", False))
        self.flank = int(getattr(bundle, "flank", 0)) if self.pad else 0

    def _buckets(self, inputs: list[np.ndarray]) -> dict[int, list[int]]:
        """Bucket length -> the indices of the inputs it holds."""
        buckets: dict[int, list[int]] = {}
        for i, codes in enumerate(inputs):
            length = len(codes)
            if self.pad:
                quantum = 1 << max(0, length.bit_length() - 4)  # 1/8 to 1/16 of the length
                length = -(-length // quantum) * quantum
            buckets.setdefault(length, []).append(i)
        return buckets

    def _stack(self, inputs: list[np.ndarray], rows: list[int], length: int) -> np.ndarray:
        batch = np.full((len(rows), length), PAD, dtype=np.uint8)
        for n, i in enumerate(rows):
            batch[n, : len(inputs[i])] = inputs[i]
        return batch

    def _real(self, proba: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """The outputs of an input's own bases (a padded input's extra outputs cut)."""
        return proba[: len(codes) - 2 * self.flank] if self.pad else proba

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        out: list = [None] * len(inputs)
        for length, rows in self._buckets(inputs).items():
            proba = self.bundle.predict_proba(self._stack(inputs, rows, length), **self.options)
            for i, p in zip(rows, proba):
                out[i] = self._real(p, inputs[i])
        return out

    def substitutions(self, inputs: list[np.ndarray], edits: list[tuple[int, int, int]], side: int) -> tuple:
        """Predictions of ``inputs`` and of one-base edits ``(input, position, base)`` of them (windows of ``side``)."""
        if not hasattr(self.bundle, "predict_substitutions"):  # a bundle-like object: predict the edited windows
            windows = []
            for i, at, base in edits:
                window = inputs[i][at - side : at + side + 1].copy()
                window[side] = base
                windows.append(window)
            return self(inputs), self(windows)
        out: list = [None] * len(inputs)
        edited: list = [None] * len(edits)
        buckets = self._buckets(inputs)
        bucket_of = {i: length for length, rows in buckets.items() for i in rows}
        mine: dict[int, list[int]] = {}
        for e, (i, _, _) in enumerate(edits):
            mine.setdefault(bucket_of[i], []).append(e)
        options = {k: v for k, v in self.options.items() if k != "rc_average"}
        for length, rows in buckets.items():
            index = {i: n for n, i in enumerate(rows)}
            picked = mine.get(length, [])
            ref, alt = self.bundle.predict_substitutions(
                self._stack(inputs, rows, length),
                np.array([index[edits[e][0]] for e in picked], dtype=np.int64),
                np.array([edits[e][1] for e in picked], dtype=np.int64),
                np.array([edits[e][2] for e in picked], dtype=np.uint8),
                side=side,
                **options,
            )
            for i, p in zip(rows, ref):
                out[i] = self._real(p, inputs[i])
            for e, p in zip(picked, alt):
                edited[e] = p
        return out, edited


class _SpliceScorer:
    def __init__(self, predict, reference, genes, distance, chunk, columns) -> None:
        self.predict, self.reference, self.genes = predict, reference, genes
        self.distance, self.chunk, (self.acceptor, self.donor) = distance, chunk, columns
        self.side = distance + int(predict.bundle.flank)
        self._alt_codes: dict[str, np.ndarray] = {}

    def targets(self, v: Variant) -> tuple[tuple[str, str], ...]:
        """``(strand, symbol)`` of each entry the variant gets."""
        if self.genes is None:
            return (("+", "."), ("-", "."))
        hits = self.genes.overlapping(v.contig, v.start, v.end)
        return tuple((s, g.symbol) for g in hits for s in (("+", "-") if g.strand == "." else (g.strand,)))

    def score(self, block: list[Variant]) -> list[VariantScore]:
        targets = [self.targets(v) for v in block]
        groups: dict[tuple[str, str], list[int]] = {}
        for i, (v, entries) in enumerate(zip(block, targets)):
            for strand in sorted({s for s, _ in entries}):
                groups.setdefault((v.contig, strand), []).append(i)
        chunks, ref_in, alt_keys, alt_in, snv_keys, snvs = [], [], [], [], [], []
        for (contig, strand), rows in groups.items():
            rows.sort(key=lambda i: block[i].start)
            for members in self._chunks(block, rows):
                lo, hi = block[members[0]].start, max(block[i].end for i in members)
                codes = self.reference.fetch_codes(contig, lo - self.side, hi + self.side)  # + orientation
                chunks.append((strand, lo, members))
                ref_in.append(_oriented(codes, strand))
                for i in members:
                    v = block[i]
                    if len(v.ref) == len(v.alt) == 1:  # an edit of the chunk's input, scored by predict_substitutions
                        at, base = v.start - lo + self.side, self._alt(v)[0]
                        if strand == "-":
                            at, base = len(codes) - 1 - at, COMPLEMENT[base]
                        snv_keys.append((i, strand))
                        snvs.append((len(ref_in) - 1, at, int(base)))
                    else:
                        alt_keys.append((i, strand))
                        alt_in.append(_oriented(self._alt_window(codes, lo, v), strand))
        ref_out, snv_out = self.predict.substitutions(ref_in, snvs, self.side)
        alt_keys, alt_out = alt_keys + snv_keys, self.predict(alt_in) + snv_out
        refs = {}
        for (strand, lo, members), proba in zip(chunks, ref_out):
            proba = proba[::-1] if strand == "-" else proba  # (hi - lo + 2d, C), + orientation
            for i in members:
                refs[i, strand] = proba[block[i].start - lo : block[i].end - lo + 2 * self.distance]
        deltas = {}
        for (i, strand), proba in zip(alt_keys, alt_out):
            v = block[i]
            alt = proba[::-1] if strand == "-" else proba
            deltas[i, strand] = delta_scores(
                refs[i, strand], alt, distance=self.distance, ref_length=len(v.ref), alt_length=len(v.alt),
                acceptor=self.acceptor, donor=self.donor,
            )  # fmt: skip
        return [
            VariantScore(v, tuple(SpliceEntry(sym, s, deltas[i, s]) for s, sym in entries))
            if entries
            else VariantScore(v, reason=OUTSIDE_GENES)
            for i, (v, entries) in enumerate(zip(block, targets))
        ]

    def _chunks(self, block: list[Variant], rows: list[int]) -> Iterator[list[int]]:
        """Runs of ``rows`` (sorted by start) whose alleles span at most ``chunk`` bases and whose windows overlap.

        A variant joins the run when its input window overlaps the run's (``start - hi < 2 * side``), so a
        shared input is never longer than the separate inputs it replaces.
        """
        members, lo, hi = [rows[0]], block[rows[0]].start, block[rows[0]].end
        for i in rows[1:]:
            v = block[i]
            if v.start - hi < 2 * self.side and max(hi, v.end) - lo <= self.chunk:
                members.append(i)
                hi = max(hi, v.end)
            else:
                yield members
                members, lo, hi = [i], v.start, v.end
        yield members

    def _alt(self, v: Variant) -> np.ndarray:
        """The codes of ``v.alt``."""
        alt = self._alt_codes.get(v.alt)
        if alt is None:
            alt = encode_one(v.alt, name=str(v))
            if len(v.alt) == 1:  # cache single bases only: indel alleles are many and rarely repeat
                self._alt_codes[v.alt] = alt
        return alt

    def _alt_window(self, codes: np.ndarray, lo: int, v: Variant) -> np.ndarray:
        """``genome[start - side : start] + ALT + genome[end : end + side]`` from the chunk's + codes."""
        alt = self._alt(v)
        left = v.start - lo  # index of start - side in the chunk's codes
        right = v.end - lo + self.side
        return np.concatenate([codes[left : left + self.side], alt, codes[right : right + self.side]])


def _oriented(codes: np.ndarray, strand: str) -> np.ndarray:
    return COMPLEMENT[codes[::-1]] if strand == "-" else codes


class _WindowScorer:
    def __init__(self, predict, reference, width: int) -> None:
        self.predict, self.reference, self.width = predict, reference, width

    def score(self, block: list[Variant]) -> list[VariantScore]:
        width, half = self.width, self.width // 2
        rows = [i for i, v in enumerate(block) if len(v.ref) <= width]
        ref_in, alt_in = [], []
        for i in rows:
            v = block[i]
            offset = half - len(v.ref) // 2  # of the allele in the window, >= 0
            codes = self.reference.fetch_codes(v.contig, v.start - offset, v.start - offset + width + len(v.ref))
            alt = encode_one(v.alt, name=str(v))
            ref_in.append(codes[:width])
            alt_in.append(np.concatenate([codes[:offset], alt, codes[offset + len(v.ref) :]])[:width])
        ref_out, alt_out = self.predict(ref_in), self.predict(alt_in)
        results = [VariantScore(v, reason=TOO_LONG) for v in block]
        for i, r, a in zip(rows, ref_out, alt_out):
            ref, alt = (np.atleast_1d(np.asarray(p, dtype=np.float32)) for p in (r, a))
            results[i] = VariantScore(block[i], ref=ref, alt=alt)
        return results
