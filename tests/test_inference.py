"""Tests of bioseq.inference: the options of a model run are checked once, when made."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bioseq.errors import InputError
from bioseq.inference import InferenceOptions, as_options


def test_defaults_and_normalised_values():
    assert as_options(None) == InferenceOptions(batch_size=256, device=None, rc_average=False, threshold=0.5)
    options = InferenceOptions(batch_size=np.int64(8), device="cuda:1", threshold=np.float32(0.75))
    assert type(options.batch_size) is int and type(options.threshold) is float and options.device == "cuda:1"
    assert as_options(options) is options
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.batch_size = 1
    with pytest.raises(TypeError):
        InferenceOptions(64)  # keyword-only


@pytest.mark.parametrize(
    "given, message",
    [
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"batch_size": 32.0}, "batch_size must be a positive integer"),
        ({"rc_average": 1}, "rc_average must be True or False, got 1"),
        ({"threshold": 1.0}, "threshold must be a number strictly between 0 and 1, got 1.0"),
        ({"device": ""}, "device is an empty string"),
        ({"device": 0}, "device must be a string such as 'cuda' or a torch.device, got int"),
    ],
)
def test_bad_options_are_refused(given, message):
    with pytest.raises(InputError, match=message):
        InferenceOptions(**given)


def test_only_options_objects_pass():
    with pytest.raises(InputError, match="options must be an InferenceOptions, got dict"):
        as_options({"batch_size": 8})
