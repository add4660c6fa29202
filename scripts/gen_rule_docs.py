#!/usr/bin/env python
"""Write docs/rules/CODE.md for every rule in the registry, and docs/rules/README.md (the index).

Each page is the rule's docstring (rendered by ``torchlint_repro.docs.render_rule_page``) with:

- "Example" / "Use instead" from the rule's first bad_*.py / good_*.py twin pair in fixtures/CODE/
  (the same files the static tests lint and the verifier runs; `# expect:` comments become markers);
- "Runtime evidence": what `torchlint-repro verify` checks for the rule, and the fixture pairs it runs;
- "Options" linked to the configuration reference, and "Related rules" (the same family).

    python scripts/gen_rule_docs.py                    # rewrite docs/rules/
    python scripts/gen_rule_docs.py --check            # exit 1 if docs/rules/ is stale (tests/test_docs.py)
    python scripts/gen_rule_docs.py --record-evidence  # first run the example pairs in torch (needs torch)
    python scripts/gen_rule_docs.py --out DIR          # write elsewhere

The observations quoted under "Runtime evidence" come from docs/rules/evidence.json, which
`--record-evidence` writes from `torchlint-repro verify --format json` on each rule's example pair:
generating the pages needs neither torch nor a run, and stays deterministic.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DOCS_RULES = ROOT / "docs" / "rules"
EVIDENCE = DOCS_RULES / "evidence.json"

_EXPECT = re.compile(r"\s*#\s*expect:\s*(?P<items>TRP\d{3}(?:@\d+)?(?:\s*,\s*TRP\d{3}(?:@\d+)?)*)\s*$")
_OPTIONS_LINE = re.compile(r"^#\s*options:")
_OPTION_ITEM = re.compile(r"^- `(?P<key>[a-z][a-z0-9-]*)`\s*(?P<rest>.*)$")

# the order of a page's sections (ruff's, with our Runtime evidence and Related rules)
SECTION_ORDER = (
    "What it does",
    "Why is this bad?",
    "Runtime evidence",
    "Known problems",
    "Example",
    "Use instead",
    "Fix safety",
    "Options",
    "Related rules",
    "References",
)

OPTION_HELP = {
    "seed-functions": "project or library functions that seed torch, as fully-qualified names",
    "inference-functions": "glob patterns of function names whose body is an inference region",
}


def example_pair(code: str, fixtures: Path = FIXTURES) -> tuple[Path, Path] | None:
    """The first bad_<case>.py (in name order) that has a good_<case>.py twin, preferring a pair that
    imports nothing beyond torch (no `# requires:`): its evidence can be recorded wherever torch is."""
    folder = fixtures / code
    if not folder.is_dir():
        return None
    pairs = []
    for bad in sorted(folder.glob("bad_*.py")):
        good = folder / ("good_" + bad.name[len("bad_") :])
        if good.is_file():
            pairs.append((bad, good))
    plain = [pair for pair in pairs if not any("# requires:" in f.read_text(encoding="utf-8") for f in pair)]
    return (plain or pairs or [None])[0]


def fixture_pairs(code: str, fixtures: Path = FIXTURES) -> list[str]:
    """Every twin case of the rule (files and project folders), for the Runtime evidence section."""
    folder = fixtures / code
    if not folder.is_dir():
        return []
    cases = []
    for bad in sorted(folder.glob("bad_*")):
        case = bad.name[len("bad_") :]
        if (folder / ("good_" + case)).exists():
            cases.append(case.removesuffix(".py"))
    return cases


def clean_example(source: str) -> str:
    """A fixture as a docs example: `# expect: TRP201@13` becomes `# <- TRP201`, options lines go."""
    out = []
    for i, line in enumerate(source.splitlines()):
        if i == 0 and _OPTIONS_LINE.match(line):
            continue
        m = _EXPECT.search(line)
        if m:
            codes = ", ".join(item.strip().split("@")[0] for item in m.group("items").split(","))
            line = line[: m.start()] + f"  # <- {codes}"
        out.append(line.rstrip())
    return "\n".join(out).strip("\n") + "\n"


def _split_sections(page: str) -> tuple[str, list[tuple[str, str]]]:
    """The page's head (before the first `## `) and its (title, body) sections, in order."""
    head: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_code = False
    for line in page.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            head.append(line)
    return "\n".join(head).strip(), [(t, "\n".join(b).strip()) for t, b in sections]


def load_evidence(path: Path = EVIDENCE) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record_evidence(path: Path = EVIDENCE, fixtures: Path = FIXTURES) -> dict:
    """Run every rule's example pair with `torchlint-repro verify` and keep torch's observations."""
    from importlib.metadata import version

    from torchlint_repro.rules import ALL_RULES

    pairs = {r.code: example_pair(r.code, fixtures) for r in ALL_RULES}
    paths = [str(p) for pair in pairs.values() if pair for p in pair]
    proc = subprocess.run(
        [sys.executable, "-m", "torchlint_repro.cli", "verify", "--format", "json", *paths],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    if not proc.stdout.strip():
        raise SystemExit(f"torchlint-repro verify failed:\n{proc.stderr}")
    report = json.loads(proc.stdout)
    out: dict = {"torch": version("torch"), "rules": {}}
    for rule in report["rules"]:
        for fx in rule["fixtures"]:
            runtime = fx.get("runtime") or {}
            if runtime.get("ok") and runtime.get("summary"):
                out["rules"].setdefault(rule["code"], {})[fx["label"]] = {
                    "fixture": fx["name"],
                    "observed": runtime["summary"],
                }
    path.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out


def _runtime_evidence(rule, fixtures: Path, evidence: dict | None = None) -> str:
    from torchlint_repro.verify.criteria import criterion_for

    crit = criterion_for(rule.verify)
    if crit is None:
        return "Not runtime-verifiable: there is no program whose behaviour shows it."
    cases = fixture_pairs(rule.code, fixtures)
    lines = [
        textwrap.fill(
            f"`torchlint-repro verify {rule.code}` runs every fixture of the rule in fresh torch processes, observed "
            f"from the outside, and lints it: each bad fixture must show {crit.bad} and be flagged; its good twin "
            f"must show {crit.good} and lint clean.",
            width=100,
            break_on_hyphens=False,
            break_long_words=False,
        )
    ]
    observed = ((evidence or {}).get("rules") or {}).get(rule.code) or {}
    if observed:
        lines += ["", f"What torch showed on the example below (torch {evidence.get('torch', '?')}):", ""]
        for label in ("bad", "good"):
            if label in observed:
                lines.append(f"- `{observed[label]['fixture']}`: {observed[label]['observed']}")
    if cases:
        lines += [
            "",
            f"Fixture pairs (`bad_<case>` / `good_<case>` in [fixtures/{rule.code}/](../../fixtures/{rule.code}/)):",
            "",
        ]
        lines += [f"- `{c}`" for c in cases]
    lines += ["", "How the verifier observes torch: [The runtime verifier](../verifier.md)."]
    return "\n".join(lines)


def _options(body: str | None) -> str:
    if not body:
        return "This rule has no options. Select or ignore it like any rule: see [Configuration](../configuration.md)."
    out = []
    for line in body.splitlines():
        m = _OPTION_ITEM.match(line.strip())
        if m:
            key = m.group("key")
            rest = m.group("rest") or (f": {OPTION_HELP[key]}" if key in OPTION_HELP else "")
            line = f"- [`{key}`](../configuration.md#{key}){rest}"
        out.append(line)
    return "\n".join(out)


def _related(rule, rules) -> str:
    same = [r for r in rules if r.family == rule.family and r.code != rule.code]
    if not same:
        return "None: this is the only rule of its family."
    return "\n".join(f"- [{r.code}]({r.code}.md) `{r.name}`: {r.summary}" for r in same)


def build_page(rule, rules, fixtures: Path = FIXTURES, evidence: dict | None = None) -> str:
    from torchlint_repro.docs import render_rule_page

    pair = example_pair(rule.code, fixtures)
    # always pass examples: without them render_rule_page prints the page already in docs/rules/
    examples = ("", "")
    if pair is not None:
        bad, good = pair
        examples = (clean_example(bad.read_text(encoding="utf-8")), clean_example(good.read_text(encoding="utf-8")))
    head, sections = _split_sections(render_rule_page(rule, examples))
    found = dict(sections)
    if pair is None:
        found.pop("Example", None)
        found.pop("Use instead", None)
        sections = [(t, b) for t, b in sections if t not in ("Example", "Use instead")]
    if pair is not None:
        found["Example"] = (
            f"From [fixtures/{rule.code}/{pair[0].name}](../../fixtures/{rule.code}/{pair[0].name}):"
            f"\n\n{found['Example']}"
        )
        found["Use instead"] = (
            f"From [fixtures/{rule.code}/{pair[1].name}](../../fixtures/{rule.code}/"
            f"{pair[1].name}):\n\n{found['Use instead']}"
        )
    found["Runtime evidence"] = _runtime_evidence(rule, fixtures, evidence)
    found["Options"] = _options(found.get("Options"))
    found["Related rules"] = _related(rule, rules)
    order = [t for t in SECTION_ORDER if t in found] + [t for t, _ in sections if t not in SECTION_ORDER]
    parts = [head]
    for title in order:
        parts += ["", f"## {title}", "", found[title]]
    return "\n".join(parts).rstrip() + "\n"


def build_index(rules) -> str:
    lines = [
        "<!-- generated by scripts/gen_rule_docs.py: do not edit -->",
        "# Rules",
        "",
        "One page per rule; `torchlint-repro explain CODE` prints the same page. Rules marked *off* are "
        "enabled with `extend-select` (see [Configuration](../configuration.md)). The fix column gives the "
        "tier of `torchlint-repro fix`: *safe* fixes apply by default, *unsafe* ones with `--unsafe-fixes`, "
        "*safe/unsafe* as the code around the finding decides (each page's Fix safety section says how).",
        "",
        "| code | name | family | default | fix | what it reports |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rules:
        state = "on" if r.default_enabled else "off"
        lines.append(f"| [{r.code}]({r.code}.md) | `{r.name}` | {r.family} | {state} | {r.fix or '-'} | {r.summary} |")
    return "\n".join(lines) + "\n"


def generate(out_dir: Path, fixtures: Path = FIXTURES, evidence: dict | None = None) -> list[Path]:
    """Write every page (and the index) into ``out_dir``; returns the paths written."""
    from torchlint_repro.rules import ALL_RULES

    if evidence is None:
        evidence = load_evidence()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in ALL_RULES:
        path = out_dir / f"{rule.code}.md"
        path.write_text(build_page(rule, ALL_RULES, fixtures, evidence), encoding="utf-8")
        written.append(path)
    index = out_dir / "README.md"
    index.write_text(build_index(ALL_RULES), encoding="utf-8")
    written.append(index)
    return written


def stale(out_dir: Path = DOCS_RULES, fixtures: Path = FIXTURES) -> list[str]:
    """Pages that are missing, different from what would be generated, or left over."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_text(encoding="utf-8") for p in generate(Path(tmp), fixtures)}
    problems = []
    for name, text in sorted(fresh.items()):
        page = out_dir / name
        if not page.is_file():
            problems.append(f"{name}: missing")
        elif page.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: stale")
    for page in sorted(out_dir.glob("*.md")):  # evidence.json is an input, not a page
        if page.name not in fresh:
            problems.append(f"{page.name}: no such rule (left over)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS_RULES, help="folder to write (default: docs/rules)")
    parser.add_argument("--check", action="store_true", help="only report stale or missing pages (exit 1)")
    parser.add_argument(
        "--record-evidence",
        action="store_true",
        help="run the example pairs in torch first and update docs/rules/evidence.json",
    )
    args = parser.parse_args(argv)
    if args.record_evidence:
        recorded = record_evidence()
        print(f"{EVIDENCE.relative_to(ROOT)}: {len(recorded['rules'])} rules observed", file=sys.stderr)
    if args.check:
        problems = stale(args.out)
        for p in problems:
            print(f"docs/rules/{p}", file=sys.stderr)
        if problems:
            print("run: python scripts/gen_rule_docs.py", file=sys.stderr)
        return 1 if problems else 0
    for path in generate(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
