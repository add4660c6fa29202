"""Reading and writing files so that nothing the file system holds can hang, exhaust or fool the tool.

- :func:`read_regular` reads only regular files, up to :data:`MAX_FILE_BYTES`: a FIFO named ``*.py`` would
  block an ``open`` forever, a link to ``/dev/zero`` would never end, a device may act when opened. A file is
  checked with ``stat`` before it is opened (non-blocking) and with ``fstat`` after, so a file swapped for a
  FIFO in between is refused too.
- :func:`atomic_write` writes a temporary file beside the target and renames it over the target, so a
  reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

MAX_FILE_BYTES = 10 * 1000 * 1000  # a source file, a configuration or a cache entry
_CHUNK = 1 << 20


class UnreadableFile(OSError):
    """A path that is not a regular file, or one too large to read; ``strerror`` says which, for a message."""


class FileTooLarge(UnreadableFile):
    def __init__(self, path, size: int, limit: int, what: str = "a source file") -> None:
        super().__init__(f"{size / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB {what} may have")
        self.strerror = self.args[0]
        self.filename = str(path)
        self.size = size


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "a special file"


def _not_regular(path, mode: int) -> UnreadableFile:
    exc = UnreadableFile(f"not a regular file ({file_kind(mode)})")
    exc.strerror = exc.args[0]
    exc.filename = str(path)
    return exc


def read_regular(path: str | os.PathLike, limit: int | None = MAX_FILE_BYTES, what: str = "a source file") -> bytes:
    """The bytes of the regular file at ``path`` (symbolic links followed); :class:`UnreadableFile` for
    anything else or anything over ``limit`` bytes, an ordinary OSError when it cannot be opened."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st.st_mode)
    fd = os.open(
        path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between the stat and the open
            raise _not_regular(path, st.st_mode)
        if limit is not None and st.st_size > limit:
            raise FileTooLarge(path, st.st_size, limit, what)
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if limit is not None and total > limit:  # grew while read
                raise FileTooLarge(path, total, limit, what)
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_regular_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a regular file (links followed) without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def atomic_write(path: str | os.PathLike, data: bytes, keep_mode: bool = False, mode: int | None = None) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    ``keep_mode`` keeps the permissions of the file replaced; ``mode`` sets them (e.g. 0o600 for a secret).
    """
    target = Path(path)
    if keep_mode and mode is None and target.exists():
        mode = target.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class WriteRefused(Exception):
    """A file ``fix`` will not replace, and why (one line for the user)."""


def _may_write(path: str, st: os.stat_result) -> bool:
    """Whether the mode lets us write: os.access for a user; for root, who may write anything, whether
    the mode has a write bit at all (a 0444 file or a 0555 folder is meant to stay as it is)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return bool(st.st_mode & 0o222)
    return os.access(path, os.W_OK)


def replace_checked(path: str | os.PathLike, original: bytes, before: os.stat_result, data: bytes) -> None:
    """Replace the regular file at ``path`` (symbolic links already resolved) by ``data``, atomically,
    only if it still holds ``original`` and is the file ``before`` described; keep its mode and owner.

    Raises :class:`WriteRefused` (nothing changed, no temporary file left) when the file is read-only, in a
    read-only folder, has other hard links (a rename would split them), belongs to someone we cannot give
    the new file back to, was changed (an editor saved it) or deleted while it was being fixed.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    if before.st_nlink > 1:
        raise WriteRefused(f"has {before.st_nlink} hard links and replacing it would break them; not fixed")
    if not _may_write(path, before):
        raise WriteRefused(f"read-only (mode {stat.S_IMODE(before.st_mode):04o}); not fixed")
    folder_st = os.stat(folder)
    if not _may_write(folder, folder_st):
        raise WriteRefused(f"its folder is read-only (mode {stat.S_IMODE(folder_st.st_mode):04o}); not fixed")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".fix.tmp")
    except OSError as exc:
        raise WriteRefused(f"cannot write beside it: {exc.strerror or exc}; not fixed") from exc
    try:
        try:
            with os.fdopen(fd, "wb", closefd=False) as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if hasattr(os, "fchown"):
                uid = before.st_uid if before.st_uid != os.geteuid() else -1
                gid = before.st_gid if before.st_gid != os.getegid() else -1
                if uid != -1 or gid != -1:
                    try:
                        os.fchown(fd, uid, gid)
                    except PermissionError as exc:
                        who = f"user {before.st_uid}" if uid != -1 else f"group {before.st_gid}"
                        raise WriteRefused(
                            f"owned by {who}, and a fixed copy cannot be given back to it; not fixed"
                        ) from exc
            os.chmod(tmp, stat.S_IMODE(before.st_mode))  # after fchown, which may clear set-id bits
        finally:
            os.close(fd)
        # the last look before the rename: the same file, with the same bytes
        try:
            now = read_regular(path, None)
            now_st = os.stat(path)
        except FileNotFoundError as exc:
            raise WriteRefused("deleted while fixing; not re-created") from exc
        if now != original or (now_st.st_dev, now_st.st_ino) != (before.st_dev, before.st_ino):
            raise WriteRefused("changed while fixing; not fixed (run fix again)")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
