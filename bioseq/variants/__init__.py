"""Variant effects: what a sequence change does to a model's predictions.

:func:`delta_scores` turns per-position splice predictions of a reference and
an alternative window into SpliceAI's four delta scores and their positions
(:mod:`bioseq.variants.delta`); :func:`allele_windows` cuts the model inputs
of both alleles from the genome (:mod:`bioseq.variants.windows`);
:func:`score_variants` scores variants with a bundle, sharing reference
predictions and batching (:mod:`bioseq.variants.score`), :func:`score_vcf`
does it from a VCF to a scored VCF and TSV, resumably and in several processes
(:mod:`bioseq.variants.vcf_job`, :mod:`bioseq.variants.pieces`, :mod:`bioseq.variants.vcf_output`),
and :class:`GeneIndex` says which genes a variant falls in
(:mod:`bioseq.variants.genes`). Names are imported lazily from their modules.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "DeltaScores": "delta",
    "delta_scores": "delta",
    "align_alternative": "delta",
    "INFO_FORMAT": "delta",
    "info_header": "delta",
    "allele_windows": "windows",
    "GeneIndex": "genes",
    "GeneSpan": "genes",
    "SpliceEntry": "score",
    "VariantScore": "score",
    "score_variants": "score",
    "score_vcf": "vcf_job",
    "write_vcf": "vcf_output",
    "write_tsv": "vcf_output",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
