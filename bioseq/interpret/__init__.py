"""Interpretation: what a model looks at, as attributions, mutagenesis maps, logos and named motifs.

Data contract of attributions
-----------------------------
Every explanation method returns an :class:`Attributions` for ``N`` sequences
given as codes ``(N, L)`` uint8 (:mod:`bioseq.alphabet`, right-padded with
``PAD``; positions 0-based):

``attributions`` : ``(N, 4, L)`` float32
    Contribution of the observed base at each position (channels A, C, G, T),
    zero at the other three bases and at padding.
``hypothetical`` : ``(N, 4, L)`` float32
    Hypothetical contribution of each of the four bases (TF-MoDISco's
    input); ``attributions = hypothetical * one_hot``. Zero at padding.
``scores`` : ``(N,)`` float32
    The model's probability of the target class (per-position models: at the
    target position).
``target``, ``target_index``, ``method``
    The class explained (its name and index in the bundle's classes) and how.

What is explained is the target's logit (:mod:`bioseq.interpret.targets`):
:func:`attribute` (gradient methods, :mod:`bioseq.interpret.gradients`) and
:func:`ism_attributions` (in-silico mutagenesis, :mod:`bioseq.interpret.ism`).
:func:`attention_maps` gives a Transformer's attention weights
``(N, layers, heads, T, T)``. An explanation directory (:func:`explain`) holds
``attributions.npz`` with these arrays plus ``codes``, ``lengths`` and
``names``, and ``explain.json``; :func:`run_motifs` reads it.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "Attributions": "attributions",
    "attribute": "gradients",
    "attention_maps": "attention",
    "resolve_target": "targets",
    "resolve_position": "targets",
    "ism": "ism",
    "ism_attributions": "ism",
    "plot_logo": "logos",
    "discover_motifs": "motifs",
    "Motif": "motifs",
    "match_motifs": "motif_match",
    "jaspar_motifs": "motif_match",
    "read_motif_file": "motif_match",
    "write_motifs": "motif_match",
    "run_motifs": "motif_report",
    "explain": "explain",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
