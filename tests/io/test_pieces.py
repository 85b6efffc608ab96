"""Tests of bioseq.io.pieces: a folder of finished pieces, reused only by the same request."""

from __future__ import annotations

import os

import pytest

from bioseq.errors import InputError
from bioseq.io.pieces import PieceFolder, file_stamp


def test_the_same_request_keeps_its_pieces_and_another_empties_the_folder(tmp_path):
    folder = PieceFolder(tmp_path / "out.parts", {"model": "a", "n": 1})
    assert folder.open() == 0 and not folder.done(0)
    folder.path(0).write_text("{}")
    folder.path(1).write_text("{}")
    (tmp_path / "out.parts" / ".piece-000002.json.host.1.abcd.part").write_text("")  # a killed writer's temporary
    assert PieceFolder(tmp_path / "out.parts", {"n": 1, "model": "a"}).open() == 2
    assert folder.done(1) and folder.path(1).name == "piece-000001.json"
    other = PieceFolder(tmp_path / "out.parts", {"model": "b", "n": 1})
    assert other.open() == 0 and not other.done(0)
    other.remove()
    assert not (tmp_path / "out.parts").exists()


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "out.parts").write_text("not a folder")
    with pytest.raises(InputError, match="in the way"):
        PieceFolder(tmp_path / "out.parts", {}).open()


def test_a_broken_request_file_counts_as_another_request(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "request.json").write_text("{broken")
    (tmp_path / "p" / "piece-000000").mkdir()
    assert PieceFolder(tmp_path / "p", {"a": 1}, suffix="").open() == 0


def test_file_stamps_change_with_the_files(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x")
    stamp = file_stamp(path)
    assert stamp["size"] == 1 and file_stamp(None) is None
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "w").write_text("1")
    before = file_stamp(tmp_path / "d")
    (tmp_path / "d" / "w").write_text("22")
    assert file_stamp(tmp_path / "d") != before
    os.utime(path, ns=(0, 0))
    assert file_stamp(path) != stamp
