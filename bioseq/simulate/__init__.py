"""SYNTHETIC data: a genome with genes, promoters, splice sites and repeats, and RNA-seq reads.

:func:`simulate_genome` builds the genome and annotation,
:func:`write_genome` and :func:`write_gtf` write FASTA (+ ``.fai``) and GTF,
:func:`simulate_rnaseq` writes reads aligned to it as an indexed BAM.
:func:`splice_variants` draws labelled control variants at the annotated
splice sites of a real genome and :func:`write_vcf` / :func:`write_labels`
write them as VCF and TSV. :func:`simulate_planted` draws labelled sequences
with motifs planted at known positions (:func:`write_planted`). All coordinates are 0-based and half-open. Names
are imported lazily.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "Feature": "genome",
    "SimulatedGene": "genome",
    "SimulatedGenome": "genome",
    "simulate_genome": "genome",
    "write_genome": "genome",
    "write_gtf": "genome",
    "write_truth": "genome",
    "SimulatedReads": "reads",
    "simulate_rnaseq": "reads",
    "CATEGORIES": "variants",
    "DISRUPTING": "variants",
    "INJECTED": "variants",
    "SimulatedVariant": "variants",
    "SpliceVariants": "variants",
    "chr_aliases": "variants",
    "splice_variants": "variants",
    "write_labels": "variants",
    "write_vcf": "variants",
    "BUILTIN_MOTIFS": "planted",
    "PlantedSet": "planted",
    "PlantedSite": "planted",
    "planted_motif": "planted",
    "simulate_planted": "planted",
    "write_planted": "planted",
    "write_meme": "planted",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
