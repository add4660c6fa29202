"""The verifier's output: a plain-text table grouped by rule, or one JSON document."""

from __future__ import annotations

import json
import textwrap
from collections import Counter

from ..rules import RULES_BY_CODE
from .runner import FixtureReport

ORIGIN_TAG = "[origin]"  # a scenario of the seed document


def _short(text: str, fixture_file: str | None) -> str:
    """Say ``line 19`` rather than ``bad_origin_dropout.py:19`` inside the fixture's own row."""
    if fixture_file:
        text = text.replace(f"({fixture_file}:", "(line ").replace(f" {fixture_file}:", " line ")
    return text


def static_cell(rep: FixtureReport) -> str:
    st, code = rep.static, rep.fixture.code
    if st.error:
        return "error"
    mine = st.of(code)
    if not mine:
        return f"no {code}"
    f, line, col, _, _ = mine[0]
    where = f"{line}:{col + 1}" if not rep.fixture.is_dir else f"{f}:{line}:{col + 1}"
    more = f" +{len(mine) - 1}" if len(mine) > 1 else ""
    return f"{code} at {where}{more}"


def runtime_cell(rep: FixtureReport) -> str:
    fx = rep.fixture
    return _short(rep.finding.summary, None if fx.is_dir else fx.path.name)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_counts(reports: list[FixtureReport]) -> Counter:
    return Counter(r.verdict for r in reports)


def summary_line(
    reports: list[FixtureReport],
    gaps: dict[str, list[str]] | None = None,
    problems: list[str] | None = None,
    fixed: bool = False,
) -> str:
    """``14 rules, 92 fixtures: 78 confirmed, 14 skipped`` (disagreements and errors before the skips);
    with ``fixed`` (``verify --fixed``): ``9 rules, 36 fixed fixtures: 34 fixes confirmed, ...``."""
    counts = summary_counts(reports)
    rules = len({r.fixture.code for r in reports} | set(gaps or {}))
    parts = [f"{counts.get('confirmed', 0)} {'fixes ' if fixed else ''}confirmed"]
    if counts.get("disagrees"):
        parts.append(f"{counts['disagrees']} disagree" if counts["disagrees"] != 1 else "1 disagrees")
    if counts.get("error"):
        parts.append(f"{counts['error']} error{'s' if counts['error'] != 1 else ''}")
    if counts.get("skipped"):
        parts.append(f"{counts['skipped']} skipped")
    line = f"{_n(rules, 'rule')}, {_n(len(reports), 'fixed fixture' if fixed else 'fixture')}: {', '.join(parts)}"
    if gaps:
        line += f"; {len(gaps)} rule{'s' if len(gaps) != 1 else ''} without a bad and a good fixture"
    if problems:
        line += f"; {len(problems)} path{'s' if len(problems) != 1 else ''} not usable"
    return line


WIDTH = 100  # the text report fits a 100-column terminal or CI log
_INDENT = " " * 13  # under the fixture's name


def wrap_lines(text: str, first: str = _INDENT, rest: str = _INDENT) -> list[str]:
    """``text`` after ``first``, continued under ``rest``, in lines of at most WIDTH columns."""
    return textwrap.wrap(
        text, WIDTH, initial_indent=first, subsequent_indent=rest, break_long_words=True, break_on_hyphens=False
    ) or [first.rstrip()]


def render_text(
    reports: list[FixtureReport],
    gaps: dict[str, list[str]] | None = None,
    problems: list[str] | None = None,
    verbose: bool = False,
    quiet: bool = False,
    fixed: bool = False,
) -> str:
    """The confirmation table, grouped by rule, in lines of at most WIDTH columns: per fixture its
    verdict, its name and what the linter said, then what torch showed; for a fixture that is not
    confirmed, why, with the evidence. ``quiet`` keeps only the fixtures that are not confirmed."""
    out: list[str] = []
    codes = sorted({r.fixture.code for r in reports} | set(gaps or {}))
    names = {id(r): r.fixture.name + (f" {ORIGIN_TAG}" if r.fixture.origin else "") for r in reports}
    name_w = min(max([len(n) for n in names.values()] + [7]), 44)
    for code in codes:
        rows = [r for r in reports if r.fixture.code == code and not (quiet and r.verdict == "confirmed")]
        missing = (gaps or {}).get(code, [])
        if quiet and not rows and not missing:
            continue
        rule = RULES_BY_CODE.get(code)
        title = f"{code} {rule.name} (runtime: {rule.verify.value})" if rule else code
        out.extend(wrap_lines(title, "", "    "))
        for r in rows:
            fx_file = None if r.fixture.is_dir else r.fixture.path.name
            head = f"  {r.verdict:<10} {names[id(r)]:<{name_w}}  "
            if r.verdict == "skipped":
                out.extend(wrap_lines(f"(needs {', '.join(r.needs)})", head))
                continue
            out.extend(wrap_lines(f"linter: {static_cell(r)}", head))
            out.extend(wrap_lines(f"torch: {runtime_cell(r)}"))
            if r.verdict != "confirmed":
                for reason in r.reasons:
                    out.extend(wrap_lines(f"-> {_short(reason, fx_file)}"))
            if verbose or r.verdict != "confirmed":
                for ev in r.finding.evidence[:4]:
                    out.extend(wrap_lines(ev, _INDENT + "   ", _INDENT + "     "))
            if r.verdict == "error" or (verbose and r.verdict != "confirmed"):
                tail = next((run.output_tail for run in r.runs if run.output_tail), "")
                if tail:
                    out.append(f"{_INDENT}   program output (last lines):")
                    for ln in tail.strip().splitlines()[-6:]:
                        out.extend(wrap_lines(ln, _INDENT + "     ", _INDENT + "       "))
        for lab in missing:
            out.extend(wrap_lines(f"no {lab}_*.py or {lab}_*/ fixture for {code}", f"  {'missing':<10} "))
        out.append("")
    for p in problems or []:
        out.extend(wrap_lines(f"error: {p}", "", "    "))
    if problems:
        out.append("")
    out.append(summary_line(reports, gaps, problems, fixed))
    return "\n".join(out)


def to_json(
    reports: list[FixtureReport],
    gaps: dict[str, list[str]] | None = None,
    problems: list[str] | None = None,
    observations: bool = False,
    seconds: float | None = None,
) -> str:
    counts = summary_counts(reports)
    rules = []
    for code in sorted({r.fixture.code for r in reports} | set(gaps or {})):
        rule = RULES_BY_CODE.get(code)
        fixtures = []
        for r in (r for r in reports if r.fixture.code == code):
            fx = r.fixture
            entry = {
                "path": str(fx.path),
                "name": fx.name,
                "label": fx.label,
                "case": fx.case,
                "origin": fx.origin,
                "verdict": r.verdict,
                "needs": r.needs,
                "reasons": r.reasons,
                "static": {
                    "ok": r.static_ok,
                    "error": r.static.error,
                    "diagnostics": [
                        {"file": f, "line": line, "col": col + 1, "code": c, "message": msg}
                        for f, line, col, c, msg in r.static.diagnostics
                    ],
                },
                "runtime": {
                    "ok": r.runtime_ok,
                    "misbehaves": r.finding.misbehaves,
                    "summary": r.finding.summary,
                    "evidence": r.finding.evidence,
                    "runs": [
                        {
                            "seconds": round(run.seconds, 3),
                            "error": run.error,
                            **({"observations": run.docs} if observations else {}),
                        }
                        for run in r.runs
                    ],
                },
            }
            fixtures.append(entry)
        rules.append(
            {
                "code": code,
                "name": rule.name if rule else None,
                "expect": rule.verify.name if rule else None,
                "missing": (gaps or {}).get(code, []),
                "fixtures": fixtures,
            }
        )
    doc = {
        "summary": {
            "line": summary_line(reports, gaps, problems),
            "rules": len(rules),
            "fixtures": len(reports),
            "confirmed": counts.get("confirmed", 0),
            "disagrees": counts.get("disagrees", 0),
            "errors": counts.get("error", 0),
            "skipped": counts.get("skipped", 0),
            "missing": gaps or {},
            "problems": problems or [],
            **({"seconds": round(seconds, 2)} if seconds is not None else {}),
        },
        "rules": rules,
    }
    return json.dumps(doc, indent=2, default=str)
