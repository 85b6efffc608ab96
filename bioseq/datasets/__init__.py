"""Labelled datasets built from a genome and its annotation (and RNA-seq reads).

:func:`promoter_dataset` and :func:`splice_site_dataset` return
:class:`~bioseq.io.labels.LabelledSequences` named by window coordinates
(``chrom:start-end(strand)``, 0-based half-open);
:func:`split_by_chromosome` and :func:`write_split` turn them into
train/valid/test tables. :func:`build_per_base` writes a per-base dataset
(every base labelled neither/acceptor/donor; memory-mapped uint8 arrays,
:mod:`bioseq.datasets.per_base_store`) that :func:`open_per_base` reads.
Names are imported lazily from their modules.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "promoter_dataset": "promoters",
    "NEGATIVES": "promoters",
    "PROMOTER_CLASSES": "promoters",
    "splice_site_dataset": "splice_sites",
    "SITES": "splice_sites",
    "SPLITS": "splits",
    "split_by_chromosome": "splits",
    "write_split": "splits",
    "chromosome_quotas": "windows",
    "sample_gc_matched": "background",
    "SITE_CLASSES": "per_base",
    "site_labels": "per_base",
    "select_transcripts": "per_base",
    "PerBaseOptions": "per_base",
    "build_per_base": "per_base",
    "PerBaseDataset": "per_base_store",
    "PerBaseSplit": "per_base_store",
    "is_per_base": "per_base_store",
    "open_per_base": "per_base_store",
    "per_base_writer": "per_base_store",
    "design_splits": "per_base_sampling",
    "tile_windows": "per_base_sampling",
    "training_windows": "per_base_sampling",
    "gene_folds": "gene_folds",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
