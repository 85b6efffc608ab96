"""bioseq: deep learning on biological sequences.

Importing :mod:`bioseq` has no side effects: no files are read, no threads are
started and nothing is downloaded. The sub-packages are

``bioseq.io``
    Streaming readers for FASTA/FASTQ, indexed reference genomes, BED/GTF/GFF3,
    BAM/CRAM and labelled sequence tables.
``bioseq.encode``
    uint8 base codes, one-hot, k-mer tokens and spectra, reverse complement,
    shuffles and GC-matched backgrounds.

Coordinates are 0-based and half-open everywhere in bioseq (as in BED and
Python slices); 1-based region strings such as ``"chr1:11-20"`` are only
accepted where a function says so.
"""

__version__ = "0.1.0"

from bioseq.errors import BioseqError, InputError

__all__ = ["__version__", "BioseqError", "InputError"]
