"""Writing outputs atomically, with the usual permissions, and cleaning up after killed writers.

Three context managers share one implementation:

* :func:`atomic_output` yields an open file handle;
* :func:`atomic_path` yields a temporary :class:`~pathlib.Path` for libraries
  that write by file name (pysam/htslib indexes, pyBigWig, ``torch.save``,
  Lightning ``trainer.save_checkpoint``, safetensors);
* :func:`atomic_directory` yields a temporary directory to fill.

Contract
--------
* The temporary file or directory is a sibling of the output (same file
  system, so the final rename is atomic) named
  ``.{name}.{host}.{pid}.{random}.part``: ``host`` is the short host name,
  ``pid`` the writing process, ``random`` 8 hex digits.
* When the ``with`` block ends without an exception it is renamed over the
  output; an existing directory is swapped out (atomically where Linux
  ``renameat2`` can) and removed only after the new one is in place.
* On any exception, ``KeyboardInterrupt`` and other ``BaseException``
  included, the temporary is removed and an existing output is untouched.
* Every file written has mode ``0o666 & ~umask`` and every directory
  ``0o777 & ~umask`` (files with the owner's execute bit ``0o777 & ~umask``),
  whatever mode the writing library chose; files and folders inside an
  :func:`atomic_directory` included.
* A process killed with SIGKILL leaves its temporary behind. Before a write
  starts, the temporaries of the *same output* that are stale are removed:
  those of this host whose process is no longer alive, and those of another
  host in which nothing was modified for :data:`STALE_SECONDS` (a SLURM rerun
  usually lands on another node, where the process cannot be checked). A
  temporary of such a temporary (a writer handed a name by :func:`atomic_path`
  that itself writes atomically) counts as one of the output's.
  The liveness check needs the writers of one host to share a process
  namespace (containers that share a host name but not their processes
  would see each other's live writers as dead).
* An output whose folder cannot be written raises
  :class:`~bioseq.errors.InputError` naming the output, not the temporary.
  A folder without any write bit counts as read-only even for root
  (:func:`can_write`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bioseq.errors import InputError

__all__ = ["STALE_SECONDS", "atomic_directory", "atomic_output", "atomic_path", "can_write", "current_umask"]

STALE_SECONDS = 3600
"""Age (seconds since the last modification) at which another host's temporary counts as abandoned."""

_PART = re.compile(r"\.(?P<inner>.+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.part")
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_RENAME_EXCHANGE, _AT_FDCWD = 2, -100


def can_write(directory: str | os.PathLike) -> bool:
    """True when bioseq may create files in ``directory``.

    A directory marked read-only (no write bit at all) counts as read-only
    even for root, who could write there anyway: bioseq never drops index or
    cache files into a shared, read-only data folder.
    """
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return False
    return os.access(directory, os.W_OK) and bool(mode & 0o222)


def current_umask() -> int:
    """The process's umask, read without changing it where Linux allows (``/proc/self/status``)."""
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/self/status", "rb") as handle:
        for line in handle:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # older kernels and other systems: set and restore at once
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Write a file so that it appears whole or not at all.

    Parameters
    ----------
    path : str or os.PathLike
        The output file. Its directory is created if needed.
    mode : {"wb", "w"}
        Binary, or UTF-8 text.

    Yields
    ------
    file object
        The open temporary file; closed before it is renamed over ``path``.

    Raises
    ------
    InputError
        When ``path`` is a directory or its folder cannot be written.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    with _staged(path, directory=False) as tmp:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            if exc.errno in _DENIED:
                raise _denied(Path(path), exc) from exc
            raise
        with open(fd, mode, encoding="utf-8" if mode == "w" else None) as handle:
            yield handle


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary file name for a library that writes by name; renamed over ``path`` on success.

    The file is not created here: the library creates it. When the block
    ends without an exception the file is renamed over ``path``; otherwise it
    is removed. When the block did not create the file (say on a non-zero
    DDP rank, where Lightning saves nothing), nothing is renamed and no error
    is raised, so an existing ``path`` stays as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The output file. Its directory is created if needed.

    Yields
    ------
    pathlib.Path
        The temporary name, in the same directory as ``path``.

    Raises
    ------
    InputError
        When ``path`` is a directory or its folder cannot be written.
    """
    with _staged(path, directory=False) as tmp:
        yield tmp


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary directory that replaces the directory ``path`` when the block succeeds.

    An existing directory at ``path`` is swapped out and removed only after
    the new one is in place; on failure the temporary directory is removed
    and ``path`` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The output directory. Its parent is created if needed.

    Yields
    ------
    pathlib.Path
        The empty temporary directory, beside ``path``.

    Raises
    ------
    InputError
        When ``path`` is a file or its folder cannot be written.
    """
    target = Path(path)
    with _staged(target, directory=True) as tmp:
        try:
            tmp.mkdir()
        except OSError as exc:
            if exc.errno in _DENIED:
                raise _denied(target, exc) from exc
            raise
        yield tmp


@contextlib.contextmanager
def _staged(path: str | os.PathLike, *, directory: bool) -> Iterator[Path]:
    """The shared implementation: check, clean up, yield a temporary name, then commit or remove."""
    target = Path(path)
    if directory and target.exists() and not target.is_dir():
        raise InputError("the output is a file, not a folder", path=target, fix="Give a folder path")
    if not directory and target.is_dir():
        raise InputError("the output is a folder, not a file", path=target, fix="Give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output's folder {target.parent} ({exc.strerror})",
            path=target,
            fix="Choose an output path in a folder you may write to",
        ) from exc
    if not can_write(target.parent):
        raise _denied(target, None)
    _remove_stale(target)
    tmp = target.parent / f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.part"
    try:
        yield tmp
        if not os.path.lexists(tmp):  # the block wrote nothing (atomic_path on a DDP rank > 0)
            return
        _set_modes(tmp, current_umask())
        _commit(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def _commit(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target``; an existing directory is swapped out, then removed."""
    try:
        if not tmp.is_dir() or not target.is_dir():
            os.replace(tmp, target)
        elif _exchange(tmp, target):
            _remove(tmp)  # now the old directory
        else:
            old = target.parent / f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.part"
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)
                raise
            _remove(old)
    except OSError as exc:
        if exc.errno in _DENIED:
            raise InputError(
                f"cannot replace the existing output ({exc.strerror})",
                path=target,
                fix="Remove it, or choose another output path",
            ) from exc
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux ``renameat2``; False where that is not available."""
    rename = _renameat2()
    if rename is None:
        return False
    import ctypes

    if rename(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # e.g. a file system that cannot exchange: rename twice instead
    raise OSError(code, os.strerror(code), os.fspath(b))


@functools.cache
def _renameat2():
    import ctypes

    try:
        rename = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    rename.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rename.restype = ctypes.c_int
    return rename


def _set_modes(tmp: Path, umask: int) -> None:
    """Give ``tmp`` (and, for a directory, everything in it) the usual permissions."""
    file_mode, dir_mode = 0o666 & ~umask, 0o777 & ~umask
    if not tmp.is_dir():
        os.chmod(tmp, dir_mode if os.stat(tmp).st_mode & 0o100 else file_mode)
        return
    for root, dirs, files in os.walk(tmp):
        for name in dirs + files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            mode = os.stat(path).st_mode
            os.chmod(path, dir_mode if os.path.isdir(path) or mode & 0o100 else file_mode)
    os.chmod(tmp, dir_mode)


def _remove_stale(target: str | os.PathLike) -> list[Path]:
    """Remove the abandoned temporaries of ``target`` (see the module docstring).

    Returns
    -------
    list of pathlib.Path
        What was removed.
    """
    target = Path(target)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        owner = _owner(entry.name, target.name) if entry.name.endswith(".part") else None
        if owner is None:
            continue
        host, pid = owner
        stale = not _alive(pid) if host == _host() else now - _newest_mtime(entry.path) > STALE_SECONDS
        if stale:
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def _owner(name: str, target_name: str) -> tuple[str, int] | None:
    """``(host, pid)`` of the writer of a temporary of ``target_name`` (or of a temporary of one)."""
    match, owner = _PART.fullmatch(name), None
    while match:
        owner = owner or (match["host"], int(match["pid"]))
        if match["inner"] == target_name:
            return owner
        match = _PART.fullmatch(match["inner"])
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _newest_mtime(path: str) -> float:
    """The latest modification time of ``path`` and, for a directory, of anything in it."""
    try:
        newest = os.lstat(path).st_mtime
    except OSError:
        return time.time()  # vanished or unreadable: not stale
    if os.path.isdir(path) and not os.path.islink(path):
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


@functools.cache
def _host() -> str:
    """The short host name, with only letters, digits and ``-`` (so temporary names parse)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".")[0]) or "localhost"


def _denied(target: Path, exc: OSError | None) -> InputError:
    """The error for an output whose folder cannot be written; it names the output."""
    why = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return InputError(
        f"cannot write the output because its folder {target.parent} is read-only{why}",
        path=target,
        fix="Choose an output path in a folder you may write to, or ask the folder's owner for write access",
    )
