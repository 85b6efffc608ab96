"""Model bundles: a trained model as one directory of JSON and safetensors.

Layout
------
``model.safetensors``
    The arrays of the model's kind (:mod:`bioseq.models.kinds`): a network's
    torch ``state_dict`` (tensors contiguous, on the CPU), or the numpy arrays
    of a kind fitted in one call (the k-mer baseline's ``coef`` and
    ``intercept``). Loading never unpickles anything.
``config.json``
    ``{"format": "bioseq-bundle", "format_version": 1, "model": {"name",
    "options"}, "task", "classes", "input": {"encoding": "codes", "length",
    "alphabet": "bioseq-codes-v1"}, "training": {...}, "data": {"sha256",
    "n_train", "n_valid"}, "versions": {"bioseq", "torch", "python"},
    "created"}``. ``input.length`` is the fixed width ``L`` the model was
    trained on, or ``null`` for a model that reads any width. A per-position
    splice model trained on a per-base dataset also has ``site_pairing``: the
    weights of its second stage (:mod:`bioseq.models.site_pairing`, plain
    numbers; :attr:`Bundle.site_pairing`); so does an ensemble of such models
    made by ``bioseq train --ensemble N`` or ``bioseq ensemble --test DS``,
    fitted on the ensemble's own predictions.
``metrics.json`` (optional)
    Whatever training or evaluation recorded.
``members/0, 1, ...`` (ensembles only)
    An ensemble bundle (``model.name == "ensemble"``, ``model.options ==
    {"members": n, "member_model": name}``, the name being the members'
    model names joined by ``+`` when they differ) has no weights of its own:
    it holds ``n`` member bundles and predicts the mean of their
    probabilities (:func:`save_ensemble`). A member that reads any width (the
    k-mer baseline) may join members of a fixed width.

Data contract of :meth:`Bundle.predict_proba`
---------------------------------------------
codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    Codes of :mod:`bioseq.alphabet` (A, C, G, T, N = 0..4, IUPAC 5..14),
    rows right-padded with ``PAD`` (15). Sequences carry no coordinates here;
    genomic windows are 0-based half-open where :mod:`bioseq.predict` and
    :mod:`bioseq.scan` cut them.
returns : numpy.ndarray, dtype float32
    ``(N,)`` probability of the positive class (``classes[1]``) for a binary
    task, ``(N, C)`` softmax for multiclass, ``(N, C)`` sigmoids for
    multilabel.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "Bundle": "predictor",
    "save_bundle": "storage",
    "save_ensemble": "storage",
    "combine_bundles": "storage",
    "load_bundle": "storage",
    "data_hash": "format",
    "FORMAT": "format",
    "FORMAT_VERSION": "format",
    "ALPHABET": "format",
    "as_bundle": "resolve",
    "window_width": "resolve",
}

ENSEMBLE = "ensemble"
"""``model.name`` of an ensemble bundle (see :func:`save_ensemble`); defined here, free of torch."""

__all__ = sorted([*_EXPORTS, "ENSEMBLE"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
