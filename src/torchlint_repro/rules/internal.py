"""TRP9xx: the tool's own errors, reported as diagnostics so the host never sees an exception."""
from __future__ import annotations

from .base import Expect, Rule

TRP900 = Rule(
    code="TRP900",
    name="internal-error",
    summary="torchlint-repro failed to analyse this file",
    verify=Expect.NONE,
    doc="""
## What it does
Reports, as a single diagnostic at line 1, that torchlint-repro hit an internal error while analysing
the file. The message names the file and the exception.

## Why is this bad?
It is not a problem in your code: it is a bug in torchlint-repro. Rather than crash flake8 or your
editor, the tool reports it and carries on with the other files. Please report it with the file (or a
reduced version of it).

## Known problems
None: a TRP900 is always a bug to fix in the tool.
""",
)

RULES = [TRP900]
