"""The verifier's output: a plain-text table grouped by rule, or one JSON document."""
from __future__ import annotations

import json
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


def summary_line(reports: list[FixtureReport], gaps: dict[str, list[str]] | None = None,
                 problems: list[str] | None = None) -> str:
    counts = summary_counts(reports)
    rules = len({r.fixture.code for r in reports} | set(gaps or {}))
    parts = [f"{counts.get('confirmed', 0)} confirmed"]
    if counts.get("disagrees"):
        parts.append(f"{counts['disagrees']} disagree" if counts["disagrees"] != 1 else "1 disagrees")
    if counts.get("error"):
        parts.append(f"{counts['error']} error{'s' if counts['error'] != 1 else ''}")
    line = f"{_n(rules, 'rule')}, {_n(len(reports), 'fixture')}: {', '.join(parts)}"
    if gaps:
        line += f"; {len(gaps)} rule{'s' if len(gaps) != 1 else ''} without a bad and a good fixture"
    if problems:
        line += f"; {len(problems)} path{'s' if len(problems) != 1 else ''} not usable"
    return line


def render_text(reports: list[FixtureReport], gaps: dict[str, list[str]] | None = None,
                problems: list[str] | None = None, verbose: bool = False) -> str:
    out: list[str] = []
    codes = sorted({r.fixture.code for r in reports} | set(gaps or {}))
    name_w = max([len(r.fixture.name) + (len(ORIGIN_TAG) + 1 if r.fixture.origin else 0) for r in reports] + [7])
    name_w = min(name_w, 44)
    static_w = max([len(static_cell(r)) for r in reports] + [6])
    for code in codes:
        rule = RULES_BY_CODE.get(code)
        title = f"{code} {rule.name} (runtime: {rule.verify.value})" if rule else code
        out.append(title)
        rows = [r for r in reports if r.fixture.code == code]
        if rows:
            out.append(f"  {'verdict':<10} {'fixture':<{name_w}}  {'static':<{static_w}}  runtime")
        for r in rows:
            name = r.fixture.name + (f" {ORIGIN_TAG}" if r.fixture.origin else "")
            out.append(f"  {r.verdict:<10} {name:<{name_w}}  {static_cell(r):<{static_w}}  {runtime_cell(r)}")
            if r.verdict != "confirmed":
                for reason in r.reasons:
                    out.append(f"  {'':<10} -> {_short(reason, None if r.fixture.is_dir else r.fixture.path.name)}")
            if verbose or r.verdict != "confirmed":
                for ev in r.finding.evidence[:4]:
                    out.append(f"  {'':<10}    {ev}")
            if r.verdict == "error" or (verbose and r.verdict != "confirmed"):
                tail = next((run.output_tail for run in r.runs if run.output_tail), "")
                if tail:
                    lines = tail.strip().splitlines()[-6:]
                    out.append(f"  {'':<10}    program output (last lines):")
                    out.extend(f"  {'':<10}      {ln}" for ln in lines)
        for missing in (gaps or {}).get(code, []):
            out.append(f"  {'missing':<10} no {missing}_*.py or {missing}_*/ fixture for {code}")
        out.append("")
    for p in problems or []:
        out.append(f"error: {p}")
    if problems:
        out.append("")
    out.append(summary_line(reports, gaps, problems))
    return "\n".join(out)


def to_json(reports: list[FixtureReport], gaps: dict[str, list[str]] | None = None,
            problems: list[str] | None = None, observations: bool = False, seconds: float | None = None) -> str:
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
                        {"seconds": round(run.seconds, 3), "error": run.error,
                         **({"observations": run.docs} if observations else {})}
                        for run in r.runs
                    ],
                },
            }
            fixtures.append(entry)
        rules.append({
            "code": code,
            "name": rule.name if rule else None,
            "expect": rule.verify.name if rule else None,
            "missing": (gaps or {}).get(code, []),
            "fixtures": fixtures,
        })
    doc = {
        "summary": {
            "line": summary_line(reports, gaps, problems),
            "rules": len(rules),
            "fixtures": len(reports),
            "confirmed": counts.get("confirmed", 0),
            "disagrees": counts.get("disagrees", 0),
            "errors": counts.get("error", 0),
            "missing": gaps or {},
            "problems": problems or [],
            **({"seconds": round(seconds, 2)} if seconds is not None else {}),
        },
        "rules": rules,
    }
    return json.dumps(doc, indent=2, default=str)
