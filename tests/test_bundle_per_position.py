"""Per-position bundles: save, verify, load, ensemble and predict ``(N, L - 2 * flank, C)``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bioseq.bundle import as_bundle, combine_bundles, load_bundle, save_bundle, save_ensemble
from bioseq.errors import InputError
from bioseq.models.registry import model_kind

CLASSES = ["neither", "acceptor", "donor"]
OPTIONS = {"context": 20, "channels": 8}


def _model(seed: int):
    torch.manual_seed(seed)
    return model_kind("per_base_cnn").build(OPTIONS, n_outputs=3).eval()


def _save(path, seed: int = 0):
    return save_bundle(
        path,
        model=_model(seed),
        model_name="per_base_cnn",
        model_options=OPTIONS,
        task="per_position",
        classes=CLASSES,
        length=None,
    )


@pytest.fixture
def codes():
    return np.random.default_rng(0).integers(0, 4, size=(5, 64), dtype=np.uint8)


def test_round_trip_predicts_the_model(tmp_path, codes):
    model = _model(0)
    bundle = load_bundle(_save(tmp_path / "b"))
    assert bundle.per_position and bundle.flank == 10 and bundle.length is None
    assert json.loads((tmp_path / "b" / "config.json").read_text())["input"]["flank"] == 10
    proba = bundle.predict_proba(codes, batch_size=2)
    assert proba.shape == (5, 44, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(-1), 1.0, atol=1e-5)
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(codes)), -1).numpy()
    np.testing.assert_allclose(proba, expected, atol=1e-5)


def test_window_bundles_have_no_flank(tmp_path):
    model = model_kind("cnn").build({}, n_outputs=1)
    path = save_bundle(
        tmp_path / "w", model=model, model_name="cnn", model_options={}, task="binary", classes=["a", "b"], length=50
    )
    bundle = load_bundle(path)
    assert not bundle.per_position and bundle.flank == 0
    assert "flank" not in json.loads((path / "config.json").read_text())["input"]
    with pytest.raises(InputError, match="one value per sequence.*annotate|score-variants|per-position model"):
        as_bundle(bundle, per_position=True)


def test_the_task_must_match_the_kind(tmp_path):
    with pytest.raises(InputError, match="predicts a class per position, but the task is 'multiclass'"):
        save_bundle(
            tmp_path / "x",
            model=_model(0),
            model_name="per_base_cnn",
            model_options=OPTIONS,
            task="multiclass",
            classes=CLASSES,
            length=None,
        )
    model = model_kind("cnn").build({}, n_outputs=3)
    with pytest.raises(InputError, match="one value per sequence, but the task is 'per_position'"):
        save_bundle(
            tmp_path / "y",
            model=model,
            model_name="cnn",
            model_options={},
            task="per_position",
            classes=CLASSES,
            length=9,
        )


def test_an_edited_flank_is_refused(tmp_path):
    path = _save(tmp_path / "b")
    config = json.loads((path / "config.json").read_text())
    config["input"]["flank"] = 3
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="input.flank 3 disagree"):
        load_bundle(path)
    config["input"]["flank"] = -1
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="flank must be an integer"):
        load_bundle(path)


def test_narrow_codes_and_rc_average_are_refused(tmp_path, codes):
    bundle = load_bundle(_save(tmp_path / "b"))
    with pytest.raises(InputError, match="20 positions wide.*10 bases of context on each side"):
        bundle.predict_proba(codes[:, :20])
    with pytest.raises(InputError, match="rc_average does not apply"):
        bundle.predict_proba(codes, rc_average=True)
    with pytest.raises(InputError, match="predicts a class for every position"):
        as_bundle(bundle, per_position=False)


def test_an_ensemble_averages_its_members(tmp_path, codes):
    paths = [_save(tmp_path / str(i), seed=i) for i in range(2)]
    ensemble = load_bundle(save_ensemble(tmp_path / "e", paths))
    assert ensemble.per_position and ensemble.flank == 10
    members = [load_bundle(p).predict_proba(codes) for p in paths]
    np.testing.assert_allclose(ensemble.predict_proba(codes), (members[0] + members[1]) / 2, atol=1e-6)


def test_members_of_other_flanks_do_not_ensemble(tmp_path):
    first = _save(tmp_path / "a")
    torch.manual_seed(0)
    wide = model_kind("per_base_cnn").build({**OPTIONS, "context": 40}, n_outputs=3)
    other = save_bundle(
        tmp_path / "b",
        model=wide,
        model_name="per_base_cnn",
        model_options={**OPTIONS, "context": 40},
        task="per_position",
        classes=CLASSES,
        length=None,
    )
    with pytest.raises(InputError, match="flank 20"):
        combine_bundles([first, other])


def test_only_a_model_of_valid_convolutions_is_local(tmp_path):
    cnn = load_bundle(_save(tmp_path / "cnn"))
    lstm = _lstm(tmp_path / "lstm")
    assert cnn.local and not load_bundle(lstm).local
    assert not combine_bundles([cnn, load_bundle(lstm)]).local and combine_bundles([cnn, cnn]).local


def _edited(codes, rows, at, bases, side):
    """The windows of the substitutions, built by hand: the oracle of predict_substitutions."""
    windows = np.stack([codes[r, a - side : a + side + 1] for r, a in zip(rows, at)])
    windows[:, side] = bases
    return windows


def _lstm(path):
    torch.manual_seed(0)
    options = {"context": 20, "hidden_size": 8, "stem_channels": 8, "n_layers": 1}
    return save_bundle(
        path,
        model=model_kind("per_base_lstm").build(options, n_outputs=3),
        model_name="per_base_lstm",
        model_options=options,
        task="per_position",
        classes=CLASSES,
        length=None,
    )


@pytest.mark.parametrize("side", [10, 13, 30])  # one output position, some, the whole receptive field and more
def test_substitutions_predict_what_their_edited_windows_predict(tmp_path, codes, side):
    rng = np.random.default_rng(side)
    rows = rng.integers(0, codes.shape[0], 12)
    at = rng.integers(side, codes.shape[1] - side, 12)
    bases = rng.integers(0, 5, 12).astype(np.uint8)  # N included
    for bundle in (
        load_bundle(_save(tmp_path / "cnn")),
        load_bundle(_lstm(tmp_path / "lstm")),  # no fast path: the windows in full
        as_bundle(save_ensemble(tmp_path / "ens", [_save(tmp_path / "m0", 0), _save(tmp_path / "m1", 1)])),
    ):
        reference, substituted = bundle.predict_substitutions(codes, rows, at, bases, side=side, batch_size=2)
        assert reference.dtype == substituted.dtype == np.float32
        np.testing.assert_allclose(reference, bundle.predict_proba(codes), atol=1e-6)
        expected = bundle.predict_proba(_edited(codes, rows, at, bases, side))
        assert substituted.shape == expected.shape == (12, 2 * side + 1 - 20, 3)
        np.testing.assert_allclose(substituted, expected, atol=1e-6)
        again = bundle.predict_substitutions(codes, rows[::-1], at[::-1], bases[::-1], side=side, batch_size=64)[1]
        np.testing.assert_allclose(again, substituted[::-1], atol=1e-6)  # order and batch size do not matter


def test_a_substitution_changes_only_the_positions_within_reach(tmp_path):
    bundle = load_bundle(_save(tmp_path / "cnn"))
    codes = np.random.default_rng(1).integers(0, 4, size=(1, 120), dtype=np.uint8)
    reach, side, at = 10, 40, 60  # receptive field of context 20 with kernel 11: one block of dilation 1
    reference, substituted = bundle.predict_substitutions(codes, [0], [at], [(codes[0, at] + 1) % 4], side=side)
    window = reference[0, at - side : at + side + 1 - 20]  # output j of the window is input at - side + 10 + j
    changed = np.flatnonzero(np.abs(substituted[0] - window).max(axis=-1) > 0)
    assert changed.size and changed.min() >= side - 10 - reach and changed.max() <= side - 10 + reach


def test_bad_substitutions_are_refused(tmp_path, codes):
    bundle = load_bundle(_save(tmp_path / "cnn"))
    for rows, at, bases, side, message in [
        ([0], [5], [1], 10, "at least 10 bases inside"),
        ([0], [60], [1], 10, "at least 10 bases inside"),
        ([9], [30], [1], 10, "must name an input"),
        ([0, 1], [30], [1], 10, "one entry per substitution"),
        ([0], [30], [1], 9, "reads 10 on each side"),
        ([0], [30], [99], 10, "valid codes"),
    ]:
        with pytest.raises(InputError, match=message):
            bundle.predict_substitutions(codes, np.array(rows), np.array(at), np.array(bases, np.uint8), side=side)


def test_running_out_of_memory_on_substitutions_says_what_to_lower(tmp_path, codes, monkeypatch):
    bundle = load_bundle(_save(tmp_path / "cnn"))

    def substitution_logits(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(bundle.model, "substitution_logits", substitution_logits)
    with pytest.raises(InputError, match="ran out of memory on cpu for a batch of 2 sequences of 64 positions"):
        bundle.predict_substitutions(codes, [0], [30], np.array([1], np.uint8), side=10, batch_size=2)


def _with_pairing(path, record) -> None:
    config = json.loads((path / "config.json").read_text())
    config["site_pairing"] = record
    (path / "config.json").write_text(json.dumps(config))


def test_a_site_pairing_in_the_config_loads_and_a_bad_one_is_refused(tmp_path, codes):
    from bioseq.models.site_pairing import SitePairing, n_features

    n = n_features()
    weights = {name: {"mean": [0.0] * n, "scale": [1.0] * n, "coef": [1.0] + [0.0] * (n - 1), "intercept": 0.0}
               for name in ("acceptor", "donor")}  # fmt: skip
    record = SitePairing(classes=tuple(CLASSES), weights=weights).to_dict()
    _save(tmp_path / "b")
    assert load_bundle(tmp_path / "b").site_pairing is None
    _with_pairing(tmp_path / "b", record)
    pairing = load_bundle(tmp_path / "b").site_pairing
    proba = load_bundle(tmp_path / "b").predict_proba(codes)[0]
    assert np.allclose(pairing.refine(proba), proba, atol=1e-5)  # weight 1 on its own log-odds: itself
    for bad, message in (
        ({**record, "classes": ["neither", "donor", "acceptor"]}, "fitted for classes"),
        ({**record, "version": 9}, "another bioseq version"),
        ({**record, "weights": {}}, "needs weights for acceptor, donor"),
    ):
        _with_pairing(tmp_path / "b", bad)
        with pytest.raises(InputError, match=message) as caught:
            load_bundle(tmp_path / "b")
        assert "config.json" in str(caught.value) and str(tmp_path / "b") in str(caught.value)
