"""Encoders: uint8 codes, one-hot, k-mer tokens and spectra, sequence transforms.

Data contract: sequences travel as ``(N, L)`` uint8 code arrays (see
:mod:`bioseq.encode.codes`); every other representation is computed from them.
"""
