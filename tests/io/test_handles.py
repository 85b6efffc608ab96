"""Opening inputs (paths, handles, gzip/BGZF) and writing outputs atomically."""

from __future__ import annotations

import gzip
import io
import os

import pysam
import pytest

from bioseq.errors import InputError, MissingFileError
from bioseq.io.handles import (
    atomic_output,
    can_write,
    check_text,
    compression_of,
    input_name,
    open_input,
    text_lines,
)

TEXT = b">a\nACGT\n" * 100


def test_plain_gzip_bgzf_and_handles_read_the_same(tmp_path):
    plain = tmp_path / "x.fa"
    plain.write_bytes(TEXT)
    gz = tmp_path / "x.fa.gz"
    gz.write_bytes(gzip.compress(TEXT))
    bgz = tmp_path / "x.fa.bgz"
    pysam.tabix_compress(str(plain), str(bgz))
    for source in (plain, gz, bgz, io.BytesIO(TEXT), io.StringIO(TEXT.decode())):
        with open_input(source) as stream:
            assert stream.read() == TEXT
    assert compression_of(bgz.read_bytes()[:32]) == "bgzf"
    assert compression_of(gz.read_bytes()[:32]) == "gzip"


def test_handle_is_not_closed(tmp_path):
    handle = io.BytesIO(TEXT)
    with open_input(handle) as stream:
        stream.readline()
    assert not handle.closed


def test_missing_directory_and_unsupported_compression(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        with open_input(tmp_path / "nope.fa"):
            pass
    with pytest.raises(InputError, match="directory"):
        with open_input(tmp_path):
            pass
    xz = tmp_path / "x.fa.xz"
    xz.write_bytes(b"\xfd7zXZ\x00" + b"\x00" * 20)
    with pytest.raises(InputError, match="xz-compressed.*bgzip"):
        with open_input(xz):
            pass


def test_truncated_and_corrupt_gzip_name_the_file(tmp_path):
    data = gzip.compress(os.urandom(20_000))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.gz: the gzip stream ends early \(the file is truncated\)"):
        with open_input(cut) as stream:
            stream.read()
    bad = tmp_path / "bad.gz"
    bad.write_bytes(data[:20] + b"\x00" * 200 + data[220:])
    with pytest.raises(InputError, match=r"bad\.gz: the gzip stream is corrupt"):
        with open_input(bad) as stream:
            stream.read()


def test_check_text_recognises_binary():
    check_text(b">a\nACGT\n", path="x", what="FASTA")
    with pytest.raises(InputError, match="BAM file, not FASTA"):
        check_text(b"BAM\x01rest", path="x", what="FASTA")
    with pytest.raises(InputError, match="binary file"):
        check_text(b"ab\x00cd", path="x", what="FASTA")


def test_input_name():
    assert input_name("a/b.fa") == "a/b.fa"
    assert input_name(io.BytesIO()) == "<stream>"


def test_text_lines_numbers_and_strips(tmp_path):
    lines = list(text_lines([b"a\tb\r\n", b"c  \n"], "f"))
    assert lines == [(1, "a\tb"), (2, "c")]
    with pytest.raises(InputError, match="f, line 2: the line is not UTF-8"):
        list(text_lines([b"ok\n", b"\xff\xfe\n"], "f"))


def test_atomic_output_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(target, "w") as handle:
            handle.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left
    with atomic_output(target, "w") as handle:
        handle.write("new")
    assert target.read_text() == "new"


def test_can_write_respects_read_only_mode_even_for_root(tmp_path):
    assert can_write(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert not can_write(locked)
    finally:
        locked.chmod(0o755)
    assert not can_write(tmp_path / "missing")


def test_atomic_output_has_normal_permissions(tmp_path):
    target = tmp_path / "perm.txt"
    with atomic_output(target, "w") as handle:
        handle.write("x")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
