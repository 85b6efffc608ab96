"""Encoders: uint8 codes, one-hot, k-mer tokens and spectra, sequence transforms.

Data contract: sequences travel as ``(N, L)`` uint8 code arrays with
``lengths`` (see :mod:`bioseq.codes`); every other representation is
computed from them. Names are imported lazily (torch only when one-hot is used).
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    **{
        name: "bioseq.codes"
        for name in ("encode", "encode_one", "decode", "decode_one", "pad_codes", "check_codes", "as_codes")
    },
    "gc_content": "gc",
    "n_fraction": "gc",
    "IUPAC_POLICIES": "onehot",
    "one_hot": "onehot",
    "one_hot_torch": "onehot",
    "decode_one_hot": "onehot",
    "KmerTokenizer": "kmer",
    "kmer_index": "kmer",
    "n_windows": "kmer",
    "KmerSpectrum": "spectrum",
    "reverse_complement": "transforms",
    "dinucleotide_shuffle": "transforms",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
