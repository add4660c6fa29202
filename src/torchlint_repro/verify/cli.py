"""``torchlint-repro verify``: run the fixtures in torch and confirm the linter's verdicts.

This module imports without torch; torch is looked up (not imported) when the command runs, and only
the harness subprocesses import it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time
from pathlib import Path

import click

EXIT_OK, EXIT_DISAGREE, EXIT_ERROR = 0, 1, 2
_CODE_ARG = re.compile(r"^TRP\d{0,3}$", re.IGNORECASE)


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def _usage_error(message: str) -> None:
    """The same wording and exit status as `check`'s usage errors."""
    click.echo(f"torchlint-repro: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "-j", "--jobs", type=click.IntRange(min=0), default=0, help="Fixture processes at a time (default 0: all cores)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds a fixture run may take before it is killed and reported.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--observations", is_flag=True, help="With --format json: include every run's raw observations.")
@click.option("-v", "--verbose", is_flag=True, help="Show the evidence of every fixture, not only of failures.")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Show only the fixtures that are not confirmed, and the summary (no progress, no timing).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail (exit 1) when a fixture is skipped because a module it imports is not installed (what CI uses).",
)
@click.option(
    "--fresh-interpreter",
    is_flag=True,
    help="Start a new interpreter for every run instead of forking a torch-preloaded server (slower).",
)
@click.option(
    "--script",
    "scripts",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Observe your own script instead of fixtures (repeat to run several in order); "
    "reports which hazards torch showed.",
)
@click.option(
    "--fixed",
    is_flag=True,
    help="Confirm the fixes: apply every fix (unsafe ones included) to a temporary copy of each bad "
    "fixture of a rule that has one, then run and lint the copy: torch must show no hazard "
    "and the linter must say nothing, as for a good twin.",
)
def verify(
    paths, jobs, timeout, output_format, observations, verbose, quiet, strict, fresh_interpreter, scripts, fixed
):
    """Run fixtures in torch and confirm the linter on each.

    PATHS are fixture roots, rule folders (TRP201/) or single fixtures; default: the fixtures shipped
    with torchlint-repro. A rule code (TRP201, TRP2) among PATHS keeps only the matching rules. Every
    fixture is run in fresh processes in a temporary copy of itself, observed from the outside, and
    linted; it is confirmed when both agree with its bad/good label. A fixture that imports a module
    that is not installed (its `# requires:` comments) is skipped and does not fail the run, unless
    --strict. Exit 1 on any disagreement or failed run, 2 on usage errors.
    """
    if not torch_available():
        _usage_error("torch is not installed; install the verify extra: pip install 'torchlint-repro[verify]'")
    jobs = jobs or os.cpu_count() or 1
    if scripts:
        sys.exit(_verify_scripts([Path(s) for s in scripts], paths, timeout, output_format))

    from .report import render_text, to_json
    from .runner import coverage_gaps, default_fixtures_dir, discover, verify_fixtures

    codes = [p.upper() for p in paths if _CODE_ARG.match(p) and not Path(p).exists()]
    paths = [p for p in paths if p.upper() not in codes]
    for c in codes:
        from ..rules import ALL_RULES

        if not any(r.code.startswith(c) for r in ALL_RULES):
            _usage_error(f"unknown rule code or prefix {c!r} (see `torchlint-repro rules`)")
    for p in paths:
        if not os.path.exists(p):
            _usage_error(f"{p}: no such file or directory")
    if not paths:
        default = default_fixtures_dir()
        if default is None:
            _usage_error("this installation ships no fixtures; give the fixtures' path")
        paths = [str(default)]
    found = discover(paths)
    fixtures = [f for f in found.fixtures if not codes or any(f.code.startswith(c) for c in codes)]
    if not fixtures and not found.errors:
        _usage_error("no fixtures to verify")
    if fixed:
        sys.exit(
            _verify_fixed(
                fixtures,
                found.errors,
                jobs,
                timeout,
                output_format,
                observations,
                verbose,
                quiet,
                strict,
                fresh_interpreter,
            )
        )

    total = len(fixtures)
    progress = _progress_printer() if sys.stderr.isatty() and output_format == "text" and not quiet else None

    start = time.monotonic()
    reports = verify_fixtures(
        fixtures, jobs=jobs, timeout=timeout, progress=progress, fork=False if fresh_interpreter else None
    )
    seconds = time.monotonic() - start
    if progress is not None:
        click.echo("\r" + " " * 79 + "\r", err=True, nl=False)

    gaps = {}
    if found.full_roots:
        selected = None
        if codes:
            from ..rules import ALL_RULES

            selected = [r.code for r in ALL_RULES if any(r.code.startswith(c) for c in codes)]
        gaps = coverage_gaps(found.fixtures, selected)
    if output_format == "json":
        click.echo(to_json(reports, gaps, found.errors, observations=observations, seconds=seconds))
    else:
        click.echo(render_text(reports, gaps, found.errors, verbose=verbose, quiet=quiet))
        if not quiet:
            click.echo(f"({total} fixture{'' if total == 1 else 's'} in {seconds:.1f}s with -j{jobs})", err=True)
    failed = any(r.verdict not in ("confirmed", "skipped") for r in reports) or gaps or found.errors
    if strict and any(r.verdict == "skipped" for r in reports):
        failed = True
    sys.exit(EXIT_DISAGREE if failed else EXIT_OK)


def _verify_fixed(
    fixtures, errors, jobs, timeout, output_format, observations, verbose, quiet, strict, fresh_interpreter
) -> int:
    """``verify --fixed``: every bad fixture of a fixable rule, fixed in a temporary copy, must behave like
    its good twin. A fixture whose findings offer no fix (TRP302 on a result used later) is listed, not
    failed; one whose fix could not be applied fails."""
    import tempfile

    from .report import render_text, to_json
    from .runner import fixed_copies, verify_fixtures

    with tempfile.TemporaryDirectory(prefix="trp-fixed-") as tmp:
        copies = fixed_copies(fixtures, Path(tmp))
        start = time.monotonic()
        reports = verify_fixtures(
            copies.fixtures, jobs=jobs, timeout=timeout, fork=False if fresh_interpreter else None
        )
        seconds = time.monotonic() - start
    problems = list(errors) + [f"{fx.code} {fx.name}: {why}" for fx, why in copies.unfixed]
    if output_format == "json":
        click.echo(to_json(reports, {}, problems, observations=observations, seconds=seconds))
    else:
        text = render_text(reports, {}, problems, verbose=verbose, quiet=quiet, fixed=True)
        if copies.unfixable:
            text += "; no fix offered for " + ", ".join(f"{fx.code} {fx.name}" for fx in copies.unfixable)
        click.echo(text)
    failed = any(r.verdict not in ("confirmed", "skipped") for r in reports) or problems
    if strict and any(r.verdict == "skipped" for r in reports):
        failed = True
    return EXIT_DISAGREE if failed else EXIT_OK


def _progress_printer():
    done = [0]

    def progress(fx) -> None:
        done[0] += 1
        click.echo(
            f"\r  running fixtures ... {done[0]} runs done ({fx.code} {fx.name})".ljust(79)[:79], err=True, nl=False
        )

    return progress


def _verify_scripts(scripts: list[Path], extra: tuple[str, ...], timeout: float, output_format: str) -> int:
    """Run the user's scripts (in order, in the current directory) twice and apply every criterion."""
    import json
    import tempfile

    from .criteria import all_findings
    from .runner import run_scripts

    cwd = Path.cwd().resolve()
    resolved = [s.resolve() for s in scripts]
    root = cwd if all(cwd in s.parents for s in resolved) else resolved[0].parent
    rel = [os.path.relpath(s, root) for s in resolved]
    runs = []
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="trp-verify-") as obs:
            runs.append(run_scripts(root, rel, Path(obs), timeout, script_args=list(extra)))
    errors = [r.error for r in runs if r.error]
    findings = [] if errors else list(all_findings([r.docs for r in runs]))
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "scripts": rel,
                    "errors": errors,
                    "findings": [
                        {"expect": e.name, "misbehaves": f.misbehaves, "summary": f.summary, "evidence": f.evidence}
                        for e, f in findings
                    ],
                },
                indent=2,
            )
        )
    else:
        from .report import wrap_lines

        out = wrap_lines(f"{' '.join(rel)}: 2 fresh runs in {root}", "", "    ")
        for err in errors:
            out += wrap_lines(err, "  error   ", " " * 10)
        for expect, f in findings:
            state = {True: "HAZARD", False: "ok", None: "-"}[f.misbehaves]
            out += wrap_lines(expect.value, f"  {state:<7} ", " " * 10)
            out += wrap_lines(f.summary, " " * 10, " " * 10)
        click.echo("\n".join(out))
    if errors:
        return EXIT_ERROR
    return EXIT_DISAGREE if any(f.misbehaves for _, f in findings) else EXIT_OK
