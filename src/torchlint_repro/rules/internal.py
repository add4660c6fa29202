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

TRP901 = Rule(
    code="TRP901",
    name="invalid-configuration",
    summary="the `[tool.torchlint-repro]` section that governs this file is broken",
    verify=Expect.NONE,
    doc="""
## What it does
Reports, through flake8, that the `[tool.torchlint-repro]` section governing the file cannot be used:
the pyproject.toml is not valid TOML, or the section has an unknown key, an unknown rule code or a
value of the wrong type. It is a single diagnostic at line 1 and the file is not linted: without its
configuration the findings would not be those `torchlint-repro check` reports.

## Why is this bad?
flake8 has no other channel an editor shows, and a silently ignored section means an editor that
disagrees with `check` and CI, which exit 2 on the same section with the same message.

## Known problems
None: fix the section (the message names the file and the problem), or run
`torchlint-repro check` to see the same error.
""",
)

RULES = [TRP900, TRP901]
