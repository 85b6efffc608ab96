"""Atomic outputs: temporary names, failure and interruption, stale temporaries, read-only folders."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from bioseq.errors import InputError
from bioseq.io import atomic
from bioseq.io.atomic import STALE_SECONDS, atomic_directory, atomic_output, atomic_path

HOST = atomic._host()
PART = re.compile(r"\.out\.txt\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.part")


def part_name(target: str, host: str, pid: int, token: str = "0123abcd") -> str:
    """A temporary name as the helpers make it: ``.{name}.{host}.{pid}.{random}.part``."""
    return f".{target}.{host}.{pid}.{token}.part"


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def live_pid():
    child = subprocess.Popen(["sleep", "60"])
    yield child.pid
    child.kill()
    child.wait()


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def enter(helper, target) -> None:
    """Open and close ``helper(target)`` without writing anything."""
    with helper(target):
        pass


def test_temporary_name_is_in_the_same_folder(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and not tmp.exists()
        match = PART.fullmatch(tmp.name)
        assert match and match["host"] == HOST and int(match["pid"]) == os.getpid()
        tmp.write_text("x")
    assert names(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
@pytest.mark.parametrize("helper", ["output", "path"])
def test_failed_or_interrupted_write_keeps_the_old_file(tmp_path, error, helper):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(type(error)):
        if helper == "output":
            with atomic_output(target, "w") as handle:
                handle.write("half")
                handle.flush()
                raise error
        else:
            with atomic_path(target) as tmp:
                tmp.write_text("half")
                raise error
    assert target.read_text() == "old"
    assert names(tmp_path) == ["out.txt"]


def test_base_exception_subclass_removes_the_temporary(tmp_path):
    class Interrupted(BaseException):  # like the SIGTERM exception of bioseq.interrupt
        pass

    with pytest.raises(Interrupted), atomic_directory(tmp_path / "d") as tmp:
        (tmp / "f").write_text("x")
        raise Interrupted
    assert names(tmp_path) == []


def test_atomic_path_that_writes_nothing_renames_nothing(tmp_path):
    target = tmp_path / "last.ckpt"
    target.write_text("old")
    with atomic_path(target):  # e.g. DDP rank 1, where Lightning saves nothing
        pass
    assert names(tmp_path) == ["last.ckpt"] and target.read_text() == "old"


def test_atomic_directory_replaces_an_existing_one(tmp_path):
    target = tmp_path / "bundle"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_directory(target) as tmp:
        assert tmp.is_dir() and list(tmp.iterdir()) == []
        assert names(target) == ["old.txt"]  # untouched while the new one is filled
        (tmp / "new.txt").write_text("new")
    assert names(target) == ["new.txt"] and names(tmp_path) == ["bundle"]
    with pytest.raises(ValueError), atomic_directory(target) as tmp:
        (tmp / "other.txt").write_text("x")
        raise ValueError
    assert names(target) == ["new.txt"] and names(tmp_path) == ["bundle"]


def test_atomic_directory_without_rename_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)  # a system without renameat2
    target = tmp_path / "bundle"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_directory(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert names(target) == ["new.txt"] and names(tmp_path) == ["bundle"]


def test_wrong_kind_of_output_names_it(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(InputError, match=f"^{re.escape(str(folder))}: the output is a folder, not a file"):
        enter(atomic_output, folder)
    with pytest.raises(InputError, match=f"^{re.escape(str(folder))}: the output is a folder, not a file"):
        enter(atomic_path, folder)
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(InputError, match=f"^{re.escape(str(file))}: the output is a file, not a folder"):
        enter(atomic_directory, file)
    assert names(tmp_path) == ["file", "folder"]


def test_folder_that_cannot_be_created_names_the_output(tmp_path):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "out.txt"
    with pytest.raises(
        InputError,
        match=f"^{re.escape(str(target))}: cannot create the output's folder {re.escape(str(tmp_path / 'file'))} ",
    ):
        enter(atomic_output, target)


# -- stale temporaries ------------------------------------------------------------------


def test_stale_parts_of_the_same_target_are_removed(tmp_path, live_pid):
    old = time.time() - STALE_SECONDS - 60
    young = time.time() - STALE_SECONDS + 600
    parts = {
        "dead": part_name("out.txt", HOST, dead_pid()),
        "live": part_name("out.txt", HOST, live_pid),
        "other_young": part_name("out.txt", "othernode", 4242),
        "other_old": part_name("out.txt", "othernode", 4243),
        "dead_dir": part_name("out.txt", HOST, dead_pid(), "ffff0000"),
        "nested_dead": part_name(part_name("out.txt", HOST, dead_pid(), "aaaa0000"), HOST, dead_pid()),
        "other_target": part_name("out.txt.fai", HOST, dead_pid()),
        "other_old_target": part_name("out", "othernode", 4244),
    }
    for key, name in parts.items():
        path = tmp_path / name
        if key == "dead_dir":
            path.mkdir()
            (path / "inner").write_text("x")
        else:
            path.write_text("x")
    os.utime(tmp_path / parts["other_young"], (young, young))
    os.utime(tmp_path / parts["other_old"], (old, old))
    os.utime(tmp_path / parts["other_old_target"], (old, old))
    with atomic_output(tmp_path / "out.txt", "w") as handle:
        handle.write("new")
    kept = ["live", "other_young", "other_target", "other_old_target"]
    assert names(tmp_path) == sorted(["out.txt"] + [parts[k] for k in kept])
    assert (tmp_path / "out.txt").read_text() == "new"


def test_another_hosts_directory_counts_its_newest_file(tmp_path):
    old = time.time() - STALE_SECONDS - 60
    part = tmp_path / part_name("d", "othernode", 77)
    (part / "sub").mkdir(parents=True)
    (part / "sub" / "busy").write_text("still being written")
    os.utime(part / "sub", (old, old))
    os.utime(part, (old, old))
    with atomic_directory(tmp_path / "d"):
        pass
    assert part.is_dir()  # its newest file is recent: not abandoned
    os.utime(part / "sub" / "busy", (old, old))
    with atomic_directory(tmp_path / "d"):
        pass
    assert names(tmp_path) == ["d"]


WRITER = """
import sys, time
from bioseq.io.atomic import atomic_output, atomic_path
target = sys.argv[1]
if sys.argv[2] == "output":
    with atomic_output(target) as handle:
        handle.write(b"partial")
        handle.flush()
        print("writing", flush=True)
        time.sleep(120)
else:
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        print("writing", flush=True)
        time.sleep(120)
"""


@pytest.mark.parametrize("helper", ["output", "path"])
def test_part_left_by_sigkill_is_removed_by_the_next_write(tmp_path, helper):
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target), helper], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    (part,) = [name for name in names(tmp_path) if name != "out.txt"]
    match = PART.fullmatch(part)
    assert match and match["host"] == HOST and int(match["pid"]) == child.pid
    assert (tmp_path / part).read_bytes() == b"partial" and target.read_bytes() == b"old"
    with atomic_output(target) as handle:
        handle.write(b"whole file")
    assert names(tmp_path) == ["out.txt"]
    assert target.read_bytes() == b"whole file"


# -- read-only folders ----------------------------------------------------------------


@pytest.mark.parametrize("helper", [atomic_output, atomic_path, atomic_directory])
def test_read_only_folder_error_names_the_output(tmp_path, helper):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)  # no write bit: can_write says no, even to root, who could still write here
    target = folder / "out.txt"
    try:
        with pytest.raises(InputError) as info:
            enter(helper, target)
    finally:
        folder.chmod(0o755)
    message = str(info.value)
    assert message == (
        f"{target}: cannot write the output because its folder {folder} is read-only. "
        "Choose an output path in a folder you may write to, or ask the folder's owner "
        "for write access."
    )
    assert ".part" not in message and names(folder) == []


def test_permission_denied_on_create_names_the_output(tmp_path, monkeypatch):
    real_open = os.open

    def refuse(path, *args, **kwargs):  # what a non-root user meets in someone else's folder
        if str(path).endswith(".part"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    target = tmp_path / "out.txt"
    with pytest.raises(
        InputError,
        match=re.escape(
            f"{target}: cannot write the output because its folder {tmp_path} is read-only (Permission denied)."
        ),
    ) as info:
        enter(atomic_output, target)
    assert ".part" not in str(info.value)


UMASK = """
import builtins, os
from bioseq.io.atomic import current_umask
from_proc = current_umask()
real_open = builtins.open
builtins.open = lambda *args, **kwargs: (_ for _ in ()).throw(OSError("no /proc"))
fallback = current_umask()  # set and restore
builtins.open = real_open
print(oct(from_proc), oct(fallback), oct(os.umask(0)))
"""


def test_current_umask_reads_without_changing_it():
    done = subprocess.run(
        [sys.executable, "-c", UMASK], preexec_fn=lambda: os.umask(0o027), capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["0o27", "0o27", "0o27"]
