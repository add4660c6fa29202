"""The on-disk cache: per-module facts and per-file results, keyed by content hash.

Where it lives: in the user's cache folder (``$XDG_CACHE_HOME/torchlint-repro``, else
``~/.cache/torchlint-repro``; ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows), one
subfolder per project root; ``$TORCHLINT_CACHE_DIR`` or the configuration's ``cache-dir`` put it
elsewhere (one subfolder per project root there too), e.g. to share it between CI runs on purpose.

Why a repository cannot poison it: every entry carries an HMAC-SHA256 over its kind, its key and its
content, made with a random key of this user (``key`` in the user's cache folder, mode 0600, never in
a project or in ``$TORCHLINT_CACHE_DIR``). An entry a clone ships, or another user writes into a
shared folder, fails the check and is a miss; so does a flipped byte. An entry that passes is then
checked against the schema of its kind (wrong shapes from a bug or an older build are misses too):
no cache content can raise, hang or change a result. Writes are atomic (a temporary file, then
``os.replace``), so flake8's parallel jobs never see half an entry. See docs/security.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from .._digest import hmac_sha256_hex, random_hex, same_digest, sha256, sha256_hex
from .._io import MAX_FILE_BYTES, atomic_write, read_regular
from ..diagnostics import Diagnostic, Edit, Fix

if TYPE_CHECKING:  # the index (project.py) is built on this module: only its type here
    from .project import Project

ENV_VAR = "TORCHLINT_CACHE_DIR"
RUN_ENV_VAR = "TORCHLINT_RUN_CACHE"  # set by a parallel run without the cache, for its workers
# bump when the shape of cached facts changes (20: class facts' fixed parameters also from copies into them and
# constant inits, in nested blocks; 19: modules that seed when imported; 18: functions that read
# weights files; 17: class facts' fixed
# parameters and non-literal arguments to project classes, programs' walks)
SCHEMA = "24"
APP = "torchlint-repro"
_MAGIC = b"torchlint-repro-cache-entry v1 hmac-sha256="
_KEY_BYTES = 32
CLAIM_WAIT = 30.0  # seconds a worker waits for an entry another worker claimed, at most


_TOOL_ID: list[str] = []


def tool_id() -> str:
    """The version and a digest of the tool's own code: every build has its own entries, so a
    development install (one version number over many commits) never reads another build's results."""
    if not _TOOL_ID:
        h = sha256()
        package = Path(__file__).resolve().parent.parent
        for path in sorted(package.rglob("*.py")):
            try:
                h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                h.update(b"unreadable\0")
        _TOOL_ID.append(f"{__version__}+{h.hexdigest()[:16]}")
    return _TOOL_ID[0]


def file_digest(data: bytes) -> str:
    return sha256_hex(data)


# ------------------------------------------------------------------------------ where, and the key
def user_cache_home() -> Path:
    """This user's cache folder for the tool (the XDG rule; the platform's folder elsewhere)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else Path.home() / "AppData" / "Local") / APP / "Cache"
    return Path.home() / ".cache" / APP


def project_folder_name(root: str | os.PathLike) -> str:
    """One cache folder can serve several projects: each root gets a subfolder of its own."""
    return sha256_hex(str(root).encode("utf-8", "surrogatepass"))[:16]


_KEYS: dict[str, bytes | None] = {}  # key file -> key, once per process


def user_key() -> bytes | None:
    """This user's secret for signing cache entries, created on first use (mode 0600); None when it
    cannot be had (no writable home, a key file someone else owns): the cache is then off, only slower."""
    try:
        path = user_cache_home() / "key"
    except (OSError, RuntimeError, KeyError):  # no home folder
        return None
    where = str(path)
    if where not in _KEYS:
        _KEYS[where] = _load_or_create_key(path)
    return _KEYS[where]


def _load_or_create_key(path: Path) -> bytes | None:
    for _ in range(3):
        key = _read_key(path)
        if key is not None:
            return key
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if os.path.lexists(path):
                key = _read_key(path)
                if key is not None:
                    # made by another process since the read above (the workers of a first run all find no
                    # key): theirs, else each would sign with its own and take the other's entries for misses
                    return key
                os.unlink(path)  # ours but unusable (malformed, or readable by others): a new one
            tmp = path.with_name(f".key.{os.getpid()}.{random_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                os.write(fd, random_hex(_KEY_BYTES).encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)  # appears whole or not at all, and never replaces another process's key
            except FileExistsError:
                pass  # another process made it first: read theirs
            except OSError:  # a file system without hard links
                if not os.path.lexists(path):
                    os.replace(tmp, path)
            finally:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
        except OSError:
            return None
    return None


@contextlib.contextmanager
def run_scratch() -> Iterator[None]:
    """A private, temporary cache for the workers of one parallel run (see DiskCache.for_run): a
    folder of mode 0700 with a fresh key, removed with everything in it when the run ends."""
    where = tempfile.mkdtemp(prefix="torchlint-repro-run-")
    old = os.environ.get(RUN_ENV_VAR)
    try:
        fd = os.open(os.path.join(where, "key"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, random_hex(_KEY_BYTES).encode("ascii"))
        finally:
            os.close(fd)
        os.environ[RUN_ENV_VAR] = where
        yield
    finally:
        if old is None:
            os.environ.pop(RUN_ENV_VAR, None)
        else:
            os.environ[RUN_ENV_VAR] = old
        shutil.rmtree(where, ignore_errors=True)


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 1024:
            return None
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            return None  # someone else's: never trusted
        data = os.read(fd, 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    if hasattr(os, "getuid") and st.st_mode & 0o077:
        return None  # readable by others: replaced by a new key
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except ValueError:
        return None
    return key if len(key) == _KEY_BYTES else None


# ------------------------------------------------------------------------------ schemas
# A tiny schema language: a type (str, int, bool, float: exact types), ("list", S), ("dict", S) with
# string keys, ("tuple", [S...]) a list of that length, ("obj", {key: S}) a dict with at least these keys,
# ("opt", S) None or S, ("enum", values), SCALAR any JSON scalar. Depth is the schema's, never the data's.
SCALAR = "scalar"
ENCODED = "encoded"  # a value written by encode_value: checked by decode_value when read


def conforms(value, schema) -> bool:
    if schema is SCALAR:
        return value is None or type(value) in (str, int, float, bool)
    if schema is ENCODED:
        return True
    if isinstance(schema, type):
        if schema is float:
            return type(value) in (int, float)
        return type(value) is schema
    tag = schema[0]
    if tag == "list":
        if type(value) is not list:
            return False
        item = schema[1]
        if item is str or item is int or item is bool:  # (the long lists: one test per item, no call)
            return all(type(v) is item for v in value)
        return all(conforms(v, item) for v in value)
    if tag == "dict":
        return type(value) is dict and all(type(k) is str and conforms(v, schema[1]) for k, v in value.items())
    if tag == "tuple":
        return (
            type(value) is list
            and len(value) == len(schema[1])
            and all(conforms(v, s) for v, s in zip(value, schema[1], strict=True))
        )
    if tag == "obj":
        return type(value) is dict and all(k in value and conforms(value[k], s) for k, s in schema[1].items())
    if tag == "opt":
        return value is None or conforms(value, schema[1])
    if tag == "oneof":
        return any(conforms(value, s) for s in schema[1])
    if tag == "enum":
        return any(value == v and type(value) is type(v) for v in schema[1])
    raise ValueError(f"unknown schema {schema!r}")


_GUARD = ("tuple", [str, str, ("oneof", [SCALAR, ("list", SCALAR)])])  # [parameter, operator, value]
_CLASS = (
    "obj",
    {
        "bases": ("list", str),
        "ctors": ("list", ("tuple", [str, ("dict", SCALAR), ("list", _GUARD)])),
        "loads": ("list", ("list", _GUARD)),
        "restored": ("list", ("tuple", [int, ("list", _GUARD)])),
        "init_parts": ("list", ("tuple", [int, ("list", int)])),
        "init_calls": ("list", ("tuple", [str, ("list", _GUARD), ("dict", ("tuple", [str, SCALAR]))])),
        "fixed_all": bool,
        "unknown": int,
        "uses_training": bool,
        "line": int,
        "init_params": ("list", str),
        "init_defaults": ("dict", SCALAR),
        "attrs": ("dict", ("opt", str)),
        "layer_params": ("dict", ("dict", str)),
    },
)
_FIX = ("tuple", [str, ("list", ("tuple", [int, int, int, int, str])), ("list", str)])
_DIAG = ("tuple", [int, int, str, str, ("opt", _FIX)])
_ARGS = ("list", ("list", SCALAR))
_SAVED_SD = ("obj", {"cls": ("opt", str), "args": _ARGS, "prefixed": ("opt", bool)})
_SITE = (
    "obj",
    {"path": str, "line": int, "file": str, "kind": ("enum", ["state_dict", "module", "dict", "checkpoint"])},
)
_SITE_PARTS = {  # the fields a site of each kind has beyond _SITE
    "state_dict": {"cls": ("opt", str), "args": _ARGS, "prefixed": ("opt", bool)},
    "module": {"cls": ("opt", str)},
    "dict": {"keys": ("list", SCALAR)},
    "checkpoint": {"keys": ("list", SCALAR), "entries": ("dict", ("opt", _SAVED_SD))},
}
SCHEMAS = {
    "facts": (
        "obj",
        {
            "module": str,
            "is_package": bool,
            "imports": ("dict", str),
            "classes": ("dict", _CLASS),
            "functions": ("list", str),
            "constants": ("dict", str),
            "argparse": ("dict", str),
            "mentions_torch": bool,
            "refs": ("dict", ("list", str)),
            "named": ("dict", ("list", str)),
            "registries": ("dict", ("dict", str)),
            "stars": ("list", str),
            "submodules": ("list", str),
            "syspath": ("list", str),
            "loaders": ("list", str),
            "loader_guards": (
                "dict",
                ("obj", {"params": ("list", str), "defaults": ("dict", SCALAR), "guards": ("list", ("list", _GUARD))}),
            ),
            "readers": ("list", str),
            "seeds_on_import": bool,
        },
    ),
    "results": ("obj", {"diags": ("list", _DIAG), "deps": ("dict", str), "widened": ("list", str)}),
    "saves": ("obj", {"sites": ("list", _SITE), "deps": ("dict", str)}),
    # which calls of a file's programs reach project code worth walking (Walker._reaches_walkable), as a
    # previous lint of the file learned them, with the files they read (program.analyze)
    "reach": ("obj", {"answers": ("dict", bool), "deps": ("dict", str)}),
    # a program's walk (program.file_events): its events, the functions it entered, its widenings
    "walks": ("obj", {"walk": ENCODED, "deps": ("dict", str), "notes": ("list", ("tuple", [str, str]))}),
    # the files whose programs may call into units of a file (Project.caller_files), what the search read
    "callers": (
        "obj",
        {"files": ("list", str), "deps": ("dict", str), "notes": ("list", ("tuple", [str, str]))},
    ),
    # a linted file's last analysis, for the next edit of it (edits.py): its top-level statements, the
    # functions a walk read, digests of its facts and summary, its events and notes, what else it read,
    # and each line of the functions a walk read (what it is and a digest of it: edits.line_codes)
    "edits": (
        "obj",
        {
            "units": ("list", ("tuple", [str, str, int, int, int, str, str])),
            "read": ("list", str),
            "keys": ("dict", str),
            "scanned": ("list", str),
            "events": ENCODED,
            "notes": ("list", str),
            "deps": ("dict", str),
            "files": ("opt", str),
            "lines": ("dict", ("list", str)),
            # what its quiet statements are judged by (see edits.Quiet, edits.quiet_room)
            "tracked": ("list", str),
            "unjudged": ("list", str),
            "scanned_in": ("dict", ("list", str)),
            "room": ("dict", int),
            "names": ("tuple", [("dict", str), ("list", str), bool]),
        },
    ),
    # another module's summary (context.module_ctx): imports, constants, which units matter, what it read
    "summaries": (
        "obj",
        {
            "summary": ENCODED,
            "deps": ("dict", str),
            # lines blanked before parsing the module for walks from elsewhere: [first, last, text]
            "skeleton": ("opt", ("list", ("tuple", [int, int, str]))),
        },
    ),
    # which files spell each name defined in the project (Project.mentions), with the files' signatures
    "mentions": (
        "obj",
        {
            "written": int,
            "paths": ("list", str),
            "sigs": ("list", ("tuple", [int, int, int, int])),
            "index": ("dict", ("list", int)),
        },
    ),
    # the identifiers of every project file (Project.mentions): [size, mtime, ctime, inode], defined, spelled
    "words": (
        "obj",
        {
            "written": int,
            "vocab": ("list", str),
            "files": ("dict", ("tuple", [("list", int), ("list", int), ("list", int)])),
        },
    ),
}


# ------------------------------------------------------------------------------ tagged values
# Analysis results hold tuples, sets and dicts with tuple keys, which JSON cannot tell from lists and
# string-keyed objects. encode_value writes every container as a one-key object naming its type
# ({"t": [...]} a tuple, {"d": [[k, v], ...]} a dict, ...); decode_value rebuilds exactly that and raises
# ValueError on anything else, so a value of another shape is a cache miss, never a wrong result.
_ENCODERS = ((tuple, "t"), (list, "l"), (frozenset, "f"), (set, "s"))


def encode_value(value):
    if value is None or type(value) in (str, int, float, bool):
        return value
    if type(value) is dict:
        return {"d": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    for cls, tag in _ENCODERS:
        if type(value) is cls:
            items = sorted(value, key=repr) if tag in ("f", "s") else value  # deterministic text
            return {tag: [encode_value(v) for v in items]}
    raise TypeError(f"cannot cache a {type(value).__name__}")


def decode_value(data, depth: int = 0):
    if data is None or type(data) in (str, int, float, bool):
        return data
    if depth > 200 or type(data) is not dict or len(data) != 1:
        raise ValueError("not an encoded value")
    ((tag, items),) = data.items()
    if type(items) is not list:
        raise ValueError("not an encoded value")
    if tag == "d":
        out = {}
        for pair in items:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("not an encoded pair")
            key = decode_value(pair[0], depth + 1)
            try:
                out[key] = decode_value(pair[1], depth + 1)
            except TypeError as e:  # an unhashable key
                raise ValueError("unhashable key") from e
        return out
    values = [decode_value(v, depth + 1) for v in items]
    try:
        if tag == "t":
            return tuple(values)
        if tag == "l":
            return values
        if tag == "f":
            return frozenset(values)
        if tag == "s":
            return set(values)
    except TypeError as e:
        raise ValueError("unhashable member") from e
    raise ValueError(f"unknown tag {tag!r}")


def valid_value(kind: str, value) -> bool:
    """Whether a cached value has the shape its readers rely on (they index it without checking)."""
    schema = SCHEMAS.get(kind)
    if schema is None or not conforms(value, schema):
        return False
    if kind == "saves":
        return all(conforms(site, ("obj", _SITE_PARTS[site["kind"]])) for site in value["sites"])
    return True


# ------------------------------------------------------------------------------ the cache
class DiskCache:
    def __init__(self, directory: Path, key: bytes | None = None) -> None:
        self.directory = Path(directory)
        self._key = key
        self._ready = False

    @classmethod
    def for_root(cls, root: Path, settings) -> DiskCache:
        """The cache of the project at ``root``: ``$TORCHLINT_CACHE_DIR``, else the configuration's
        ``cache-dir`` (relative to its pyproject.toml's folder; the configuration reader keeps it inside
        the project), else the user's cache folder; a subfolder per project root in each."""
        env = os.environ.get(ENV_VAR)
        if env:
            base = Path(os.path.abspath(env))
        elif settings.cache_dir:
            base = Path(settings.cache_dir)
            if not base.is_absolute():
                base = Path(settings.root or root) / base
        else:
            base = user_cache_home()
        return cls(base / project_folder_name(root))

    @classmethod
    def for_run(cls, root: Path) -> DiskCache | None:
        """The scratch cache of a parallel run made without the cache (``check -j2 --no-cache``): its
        workers still share the project's work through it, and nothing outlives the run. The folder
        (``$TORCHLINT_RUN_CACHE``, made by :func:`run_scratch`, mode 0700) holds its own key."""
        where = os.environ.get(RUN_ENV_VAR)
        if not where or not os.path.isabs(where):
            return None
        key = _read_key(Path(where) / "key")
        return cls(Path(where) / project_folder_name(root), key) if key else None

    @property
    def key(self) -> bytes | None:
        if self._key is None:
            self._key = user_key()
        return self._key

    def _prepare(self) -> bool:
        if self._ready:
            return True
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            ignore = self.directory.parent / ".gitignore"  # a cache folder inside a work tree ignores itself
            if not ignore.exists():
                atomic_write(ignore, b"# Automatically created by torchlint-repro.\n*\n", mode=0o644)
            self._ready = True
        except OSError:
            return False
        return True

    def _path(self, kind: str, key: str) -> Path:
        digest = sha256_hex(f"{tool_id()}\0{SCHEMA}\0{kind}\0{key}".encode("utf-8", "surrogatepass"))
        return self.directory / kind / digest[:2] / f"{digest}.json"

    @staticmethod
    def _mac(secret: bytes, payload: bytes) -> str:
        # the payload holds the entry's kind and key: an entry cannot be moved to another key either
        return hmac_sha256_hex(secret, payload)

    # -------------------------------------------------------------- raw entries
    def read_entry(self, path: Path, kind: str | None = None) -> tuple[str, object] | None:
        """(key, value) of the entry file at ``path`` if this user's key signed it; None for anything else
        (missing, foreign, tampered, unparseable). The value is not checked against its schema here."""
        secret = self.key
        if secret is None:
            return None
        try:
            data = read_regular(path, MAX_FILE_BYTES)
        except OSError:
            return None
        head, sep, payload = data.partition(b"\n")
        if not sep or not head.startswith(_MAGIC):
            return None
        mac = head[len(_MAGIC) :].decode("ascii", "replace")
        if not same_digest(mac, self._mac(secret, payload)):
            return None  # not written by this user's tool (or changed since): never parsed
        try:
            entry = json.loads(payload)
        except (ValueError, RecursionError, MemoryError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or "value" not in entry:
            return None
        if (
            (kind is not None and entry.get("kind") != kind)
            or entry.get("version") != tool_id()
            or entry.get("schema") != SCHEMA
        ):
            return None
        return entry["key"], entry["value"]

    def write_entry(self, kind: str, key: str, value_json: str) -> None:
        """Sign and write an entry whose value is given as JSON text."""
        secret = self.key
        if secret is None or not self._prepare():
            return
        header = json.dumps({"version": tool_id(), "schema": SCHEMA, "kind": kind, "key": key})
        payload = (header[:-1] + ', "value": ' + value_json + "}").encode("utf-8", "surrogatepass")
        mac = self._mac(secret, payload)
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(path, _MAGIC + mac.encode() + b"\n" + payload)
        except OSError:
            pass  # a cache that cannot be written is only a slower run

    # -------------------------------------------------------------- values
    def get_json(self, kind: str, key: str):
        """The value stored under (kind, key), if this user wrote it and it has its kind's shape; else None."""
        path = self._path(kind, key)
        if not os.path.lexists(path):
            return None
        entry = self.read_entry(path, kind)
        if entry is None or entry[0] != key:
            return None
        value = entry[1]
        return value if valid_value(kind, value) else None

    def put_json(self, kind: str, key: str, value) -> None:
        if self.key is None:
            return
        try:
            text = json.dumps(value)
        except (TypeError, ValueError, RecursionError):
            return
        self.write_entry(kind, key, text)

    # -------------------------------------------------------------- claims
    # Parallel workers (``check -j``, flake8's ``-j``) share the project's work through the cache: a worker
    # about to compute an entry another worker needs too (a module's facts, a program's walk, a file's
    # checkpoint saves) first claims it with a file created exclusively beside the entry; a worker that
    # finds the claim taken does other work, or waits for the entry, instead of computing it again. A
    # claim only saves work, it is never trusted for a result: one whose process is gone, or which is
    # not this user's, is ignored, and every wait is bounded (then the waiter computes it itself).
    def _claim_path(self, kind: str, key: str) -> Path:
        return self._path(kind, key).with_suffix(".claim")

    def claim(self, kind: str, key: str) -> bool:
        """True when this process should compute (kind, key): it holds the claim now (release it with
        :meth:`release`), or claims do not work here. False: another live process is computing it."""
        if os.name == "nt" or self.key is None or not self._prepare():
            return True  # (on Windows a liveness probe would be os.kill, which terminates: no claims)
        path = self._claim_path(kind, key)
        for _ in range(2):
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except FileExistsError:
                if _claim_alive(path):
                    return False
                try:
                    os.unlink(path)  # a dead worker's claim
                except OSError:
                    pass
                continue
            except OSError:
                return True  # claims cannot be made here: compute
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)
            return True
        return True

    def release(self, kind: str, key: str) -> None:
        try:
            os.unlink(self._claim_path(kind, key))
        except OSError:
            pass

    def claimed(self, kind: str, key: str) -> bool:
        return _claim_alive(self._claim_path(kind, key))

    def wait_for(self, kind: str, key: str, timeout: float = CLAIM_WAIT):
        """The entry another process is computing, once written; None when its claim goes away without
        one, or after ``timeout`` seconds (the caller then computes it)."""
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            value = self.get_json(kind, key)
            if value is not None:
                return value
            if not self.claimed(kind, key) or time.monotonic() >= deadline:
                return self.get_json(kind, key)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)


_CLAIM_BEING_WRITTEN_NS = 2_000_000_000  # an empty claim younger than this is being written


def _claim_alive(path: Path) -> bool:
    """Is this claim held by a live process of this user?"""
    if os.name == "nt":
        return False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            return False
        data = os.read(fd, 32)
    except OSError:
        return False
    finally:
        os.close(fd)
    if not data.strip():
        # created, its pid not written yet (claim() opens, then writes): held, unless left so for seconds
        return time.time_ns() - st.st_mtime_ns < _CLAIM_BEING_WRITTEN_NS
    try:
        pid = int(data.decode("ascii"))
    except ValueError:
        return False
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # alive (another user's would have failed the owner check)
    return True


class ResultCache:
    """Per-file diagnostics, valid while the file, the settings, the tool and every dependency are."""

    def __init__(self, project) -> None:
        self.project = project

    @classmethod
    def for_project(cls, project: Project | None) -> ResultCache | None:
        """The result cache of a file's project (``project_for(path, settings)``); None without a project
        or when the cache is off."""
        if project is None or not project.settings.cache or project.cache is None:
            return None
        return cls(project)

    def _key(self, path: str, source: str) -> str:
        digest = file_digest(source.encode("utf-8", "surrogatepass"))
        return f"{os.path.abspath(path)}\0{digest}\0{self.project.settings.fingerprint()}"

    def get(self, path: str, source: str):
        entry = self.project.cache.get_json("results", self._key(path, source))
        if entry is None:
            return None
        try:
            if not self.project.deps_valid(entry["deps"]):
                return None
            return [_diagnostic_from_json(d) for d in entry["diags"]], list(entry["widened"])
        except (KeyError, TypeError, IndexError, ValueError):
            return None

    def put(self, path: str, source: str, diags, deps: dict | None = None, widened: Sequence[str] = ()) -> None:
        deps = dict(deps if deps is not None else getattr(self.project, "last_deps", {}))
        deps.pop(os.path.abspath(path), None)
        value = {"diags": [_diagnostic_to_json(d) for d in diags], "deps": deps, "widened": list(widened)}
        self.project.cache.put_json("results", self._key(path, source), value)


def _diagnostic_to_json(d) -> list:
    fix = (
        None
        if d.fix is None
        else [d.fix.title, [[e.line, e.col, e.end_line, e.end_col, e.text] for e in d.fix.edits], list(d.fix.args)]
    )
    return [d.line, d.col, d.code, d.message, fix]


def _diagnostic_from_json(row):
    """The inverse of :func:`_diagnostic_to_json`; raises ValueError on anything of another shape."""
    if not conforms(row, _DIAG):
        raise ValueError("diagnostic row")
    line, col, code, message, fix = row
    out_fix = None
    if fix is not None:
        out_fix = Fix(fix[0], tuple(Edit(*e) for e in fix[1]), tuple(fix[2]))
    return Diagnostic(line, col, code, message, "", out_fix)
