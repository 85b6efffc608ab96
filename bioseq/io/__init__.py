"""Readers and writers: FASTA/FASTQ, reference genomes, intervals, alignments, tables.

All coordinates are 0-based and half-open. Every reader accepts a path or an
open handle and raises :class:`bioseq.errors.InputError` naming the file, the
line or record, the problem and the fix.
"""
