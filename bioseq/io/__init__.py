"""Readers and writers: FASTA/FASTQ, reference genomes, intervals, annotation
(GTF/GFF3, GenBank/EMBL), alignments and labelled tables.

All coordinates are 0-based and half-open. Every reader accepts a path or an
open handle (plain, gzip or bgzip) and raises
:class:`bioseq.errors.InputError` naming the file, the line or record, the
problem and the fix. Names are imported lazily from their modules.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    # sequences
    "FastaRecord": "fasta",
    "FastaReader": "fasta",
    "read_fasta": "fasta",
    "write_fasta": "fasta",
    "FastqRecord": "fastq",
    "FastqReader": "fastq",
    "read_fastq": "fastq",
    "write_fastq": "fastq",
    "FastaCodes": "fasta_codes",
    "read_fasta_codes": "fasta_codes",
    # genomes and intervals
    "Reference": "reference",
    "Interval": "interval",
    "parse_region": "interval",
    "ContigAliases": "contigs",
    "Bed12": "bed",
    "NarrowPeak": "bed",
    "read_bed": "bed",
    "read_bed12": "bed",
    "read_narrowpeak": "bed",
    "read_intervals": "bed",
    "write_bed": "bed",
    "Annotation": "annotation",
    "Transcript": "annotation",
    "Gene": "annotation",
    "read_gtf": "gff",
    "read_gff3": "gff",
    "read_annotation": "gff",
    "GenBankRecord": "genbank",
    "read_genbank": "genbank",
    "read_genbank_annotation": "genbank_annotation",
    # alignments
    "DEFAULT_EXCLUDE_FLAGS": "aligned_reads",
    "Alignment": "aligned_reads",
    "read_alignments": "aligned_reads",
    "count_reads": "aligned_reads",
    "coverage": "aligned_reads",
    "coverage_many": "aligned_reads",
    "Junction": "splice_junctions",
    "junctions": "splice_junctions",
    "write_junctions_bed": "splice_junctions",
    # variants
    "Variant": "variants",
    "VariantCounts": "variants",
    "VariantReader": "variants",
    "read_variants": "variants",
    # labelled data
    "LabelledSequences": "labels",
    "read_table": "tables",
    "read_fasta_labelled": "tables",
    "read_fasta_classes": "tables",
    "read_folder": "tables",
    "read_labelled": "tables",
    "write_table": "tables",
    # files
    "sniff_format": "sniff",
    "summarize": "summary",
    "open_input": "handles",
    "atomic_output": "handles",
    "atomic_path": "atomic",
    "atomic_directory": "atomic",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
