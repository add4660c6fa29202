import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _private_user_cache(tmp_path_factory, monkeypatch):
    """Every test gets a user cache folder of its own (the default cache and its key live there), so no
    test reads or writes ~/.cache and none depends on what an earlier run left there. A test that wants
    TORCHLINT_CACHE_DIR sets it itself."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
    monkeypatch.delenv("TORCHLINT_CACHE_DIR", raising=False)
