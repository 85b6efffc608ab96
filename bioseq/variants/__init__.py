"""Variant effects: what a sequence change does to a model's predictions.

:func:`delta_scores` turns per-position splice predictions of a reference and
an alternative window into SpliceAI's four delta scores and their positions
(:mod:`bioseq.variants.delta`); :func:`allele_windows` cuts the model inputs
of both alleles from the genome (:mod:`bioseq.variants.windows`). Names are
imported lazily from their modules.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "DeltaScores": "delta",
    "delta_scores": "delta",
    "align_alternative": "delta",
    "INFO_FORMAT": "delta",
    "info_header": "delta",
    "allele_windows": "windows",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
