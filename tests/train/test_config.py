"""The training config: YAML + flags, one clear sentence per bad value."""

from __future__ import annotations

import pytest

from bioseq.errors import InputError
from bioseq.train.config import config_from_options, load_config


def test_yaml_then_flags_override(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("train: a.csv\nout: runs/x\nepochs: 3\nmodel: cnn\nmodel_options: {dropout: 0.2}\n")
    config = load_config(path, {"epochs": 7, "lr": None, "model_options": {"n_outputs": 1}})
    assert config.epochs == 7 and config.lr is None  # None flags do not override
    assert config.learning_rate == 2e-3  # the CNN's default
    assert config.model == "cnn" and config.model_options == {"dropout": 0.2, "n_outputs": 1}


def test_default_batch_size_depends_on_the_training_set_size_and_a_given_one_wins():
    from bioseq.train.config import SMALL_TRAINING_SET, config_from_options

    config = config_from_options({"train": "a.csv", "out": "runs/x"})
    assert config.batch_size is None
    assert [config.batch_size_for(n) for n in (1, SMALL_TRAINING_SET - 1, SMALL_TRAINING_SET, 10**6)] == [
        32,
        32,
        128,
        128,
    ]
    given = config_from_options({"train": "a.csv", "out": "runs/x", "batch_size": 7})
    assert {given.batch_size_for(n) for n in (1, 10**6)} == {7}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"monitr": "mcc"}, "unknown field 'monitr'. Did you mean 'monitor'?"),
        ({"monitor": "mc"}, "field 'monitor' = 'mc': must be 'mcc', 'auroc'"),
        ({"epochs": 0}, "field 'epochs' = 0"),
        ({"model": "trasformer"}, "unknown model 'trasformer' (did you mean 'transformer'?)"),
        ({"out": None}, "field 'out'"),
    ],
)
def test_bad_values_name_field_value_and_allowed(options, message):
    base = {"train": "a.csv", "out": "runs/x"}
    with pytest.raises(InputError) as info:
        config_from_options({**base, **options})
    assert message in str(info.value)


def test_missing_required_field():
    with pytest.raises(InputError, match="the field 'out' is required. Give it in the config or as out=OUT"):
        config_from_options({"train": "a.csv"})


def test_missing_required_field_names_the_flag_at_the_command_line(capsys):
    from bioseq.cli.main import main

    assert main(["train", "--train", "a.csv"]) == 1
    line = capsys.readouterr().err.strip()
    assert line.endswith("the field 'out' is required. Give it in the config or as --out OUT.")


def test_bad_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train: a.csv\nepochs: [1,\n")
    with pytest.raises(InputError, match=r"bad\.yaml.*not valid YAML"):
        load_config(path)
