"""The digests the cache signs and keys with are the standard ones, computed without hashlib (whose OpenSSL
costs an editor's flake8 process 5.6 MB: issue 12's memory budget)."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import textwrap

import pytest

from torchlint_repro._digest import hmac_sha256_hex, random_hex, same_digest, sha256_hex


@pytest.mark.parametrize(
    "key, message",
    [
        (b"", b""),
        (b"k", b"message"),
        (bytes(range(64)), b"exactly one block of key"),
        (bytes(range(65)), b"a key longer than a block is hashed first"),
        (bytes(range(7, 39)), bytes(i * 37 % 256 for i in range(1000))),
        (b"\xff" * 200, b"x" * 100_000),
    ],
    ids=["empty", "short", "one-block-key", "long-key", "binary", "large"],
)
def test_hmac_is_rfc_2104(key, message):
    assert hmac_sha256_hex(key, message) == hmac.new(key, message, hashlib.sha256).hexdigest()
    assert sha256_hex(message) == hashlib.sha256(message).hexdigest()


def test_digests_compare_whole():
    a = sha256_hex(b"a")
    assert same_digest(a, a)
    assert not same_digest(a, sha256_hex(b"b"))
    assert not same_digest(a, a[:-1] + ("0" if a[-1] != "0" else "1"))  # the last character differs
    assert not same_digest(a, a[:-1])
    assert len(random_hex(4)) == 8 and random_hex(16) != random_hex(16)


def test_linting_with_the_cache_never_loads_hashlib(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    (tmp_path / "train.py").write_text("import torch\nfrom torch import nn\n\nmodel = nn.Linear(2, 2)\n")
    script = textwrap.dedent(
        """
        import sys
        from torchlint_repro.config import Settings
        from torchlint_repro.engine import lint_file
        found = [(d.line, d.col, d.code) for d in lint_file(sys.argv[1], Settings())]
        assert found == [(4, 8, "TRP101")], found
        loaded = sorted(m for m in ("hashlib", "hmac", "secrets", "_hashlib") if m in sys.modules)
        print(",".join(loaded))
        """
    )
    env = {**os.environ, "TORCHLINT_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "train.py")], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
    assert any((tmp_path / "cache").rglob("*.json"))  # the cache was written (and signed) meanwhile
