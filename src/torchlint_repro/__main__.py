"""``python -m torchlint_repro``: the same command line as ``torchlint-repro``."""

from .cli import main

if __name__ == "__main__":  # pragma: no branch
    main(prog_name="torchlint-repro")
