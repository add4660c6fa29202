"""SHA-256 and HMAC-SHA256 without ``hashlib``.

``hashlib`` (with ``hmac`` and ``secrets``) loads OpenSSL, which costs a process about 5.6 MB of memory:
more than a quarter of what the whole plugin may add to a flake8 run in an editor (issue 12's memory budget
is 1.5x flake8 alone, ~28 MB). The interpreter's own SHA-256 module computes the same digests; HMAC is the
two nested hashes of RFC 2104. Where the interpreter has no such module, ``hashlib`` is used.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any


def _find_sha256() -> Callable[..., Any]:
    for name in ("_sha256", "_sha2"):  # CPython's own module: 3.10-3.11, then 3.12+
        try:
            return importlib.import_module(name).sha256
        except (ImportError, AttributeError):
            continue
    return importlib.import_module("hashlib").sha256  # another interpreter


sha256 = _find_sha256()

_BLOCK = 64  # SHA-256's block size in bytes
_INNER = bytes(0x36 for _ in range(_BLOCK))
_OUTER = bytes(0x5C for _ in range(_BLOCK))


def sha256_hex(data: bytes) -> str:
    return sha256(data).hexdigest()


def hmac_sha256_hex(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 of ``message`` under ``key`` (RFC 2104), as hex: what ``hmac.new(key, message,
    hashlib.sha256).hexdigest()`` returns."""
    if len(key) > _BLOCK:
        key = sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = sha256(bytes(k ^ p for k, p in zip(key, _INNER, strict=True)))
    inner.update(message)
    outer = sha256(bytes(k ^ p for k, p in zip(key, _OUTER, strict=True)))
    outer.update(inner.digest())
    return outer.hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Compare two hex digests in time that does not depend on where they differ."""
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a.encode("ascii", "replace"), b.encode("ascii", "replace"), strict=True):
        diff |= x ^ y
    return diff == 0


def random_hex(n_bytes: int) -> str:
    return os.urandom(n_bytes).hex()
