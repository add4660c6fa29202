"""The docs: one generated page per registered rule (fresh, complete), `explain`, and the guides."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from torchlint_repro.cli import main
from torchlint_repro.config import KNOWN_KEYS
from torchlint_repro.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RULE_PAGES = DOCS / "rules"
GUIDES = ["getting-started.md", "configuration.md", "integrations.md"]


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_rule_docs", ROOT / "scripts" / "gen_rule_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = load_generator()


@pytest.mark.parametrize("code", [r.code for r in ALL_RULES])
def test_every_registered_rule_has_a_page(code: str) -> None:
    assert (RULE_PAGES / f"{code}.md").is_file(), f"{code} has no page: run python scripts/gen_rule_docs.py"


def test_generated_pages_are_fresh(tmp_path: Path) -> None:
    written = GEN.generate(tmp_path)
    assert {p.name for p in written} == {f"{r.code}.md" for r in ALL_RULES} | {"README.md"}
    problems = []
    for page in written:
        committed = RULE_PAGES / page.name
        if not committed.is_file():
            problems.append(f"{page.name}: missing")
        elif committed.read_text(encoding="utf-8") != page.read_text(encoding="utf-8"):
            problems.append(f"{page.name}: stale")
    problems += [f"{p.name}: no such rule" for p in RULE_PAGES.glob("*.md") if not (tmp_path / p.name).exists()]
    assert not problems, "docs/rules is out of date; run: python scripts/gen_rule_docs.py\n" + "\n".join(problems)


def test_generator_check_mode() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_rule_docs.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_page_sections(rule) -> None:
    page = (RULE_PAGES / f"{rule.code}.md").read_text(encoding="utf-8")
    assert page.splitlines()[1] == f"# {rule.name} ({rule.code})"
    sections = re.findall(r"^## (.+)$", page, flags=re.M)
    for title in ("What it does", "Why is this bad?", "Runtime evidence", "Options", "Related rules"):
        assert title in sections, f"{rule.code}: no '{title}' section"
    pair = GEN.example_pair(rule.code)
    if rule.code.startswith("TRP9"):
        assert pair is None
        return
    assert pair is not None, f"{rule.code}: no bad_*.py / good_*.py twin in fixtures/{rule.code}/"
    assert sections.index("Example") < sections.index("Use instead")
    bad, good = pair
    assert GEN.clean_example(bad.read_text(encoding="utf-8")) in page
    assert GEN.clean_example(good.read_text(encoding="utf-8")) in page
    assert f"# <- {rule.code}" in page  # the `# expect:` line, as a marker
    assert "# expect:" not in page
    for other in ALL_RULES:
        if other.family == rule.family and other.code != rule.code:
            assert f"[{other.code}]({other.code}.md)" in page


def test_options_named_in_rule_docs_exist() -> None:
    for rule in ALL_RULES:
        m = re.search(r"^## Options\n(.*?)(?=^## |\Z)", rule.doc, flags=re.M | re.S)
        if m:
            for key in re.findall(r"^- `([^`]+)`", m.group(1), flags=re.M):
                assert key in KNOWN_KEYS, f"{rule.code}: unknown option {key}"


def _doc_paragraphs(doc: str) -> list[str]:
    """The rule's documentation as headings and paragraphs (the page puts a blank line after a heading)."""
    out = []
    for block in re.split(r"\n\s*\n", doc.strip()):
        lines = block.strip().splitlines()
        while lines and lines[0].startswith("## "):
            out.append(lines.pop(0))
        if lines:
            out.append("\n".join(lines))
    return out


@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("TRP201", "Enabled by default"),
        ("TRP102", "Disabled by default (enable with --extend-select)"),
    ],
)
def test_explain_prints_the_page(code: str, state: str) -> None:
    """What the page must say, checked against the rule itself (not against the page file `explain`
    reads): its title, family, default, summary, every paragraph of its documentation, an example and
    the fix. A page that lost a section, or another rule's page, fails."""
    rule = next(r for r in ALL_RULES if r.code == code)
    result = CliRunner().invoke(main, ["explain", code])
    assert result.exit_code == 0
    out = result.output
    lines = out.splitlines()
    assert lines[0] == f"# {rule.name} ({code})"  # (the generated page's note to its editors is not printed)
    assert lines[2] == (
        f"Family: {rule.family} · {state} · Runtime-verified: {rule.verify.value} · Fix: {rule.fix or 'none'}"
    )
    assert lines[4] == f"**{rule.summary}**"
    assert "generated by" not in out
    for paragraph in _doc_paragraphs(rule.doc):
        for option in re.findall(r"^- `([^`]+)`$", paragraph, flags=re.M):  # options become links
            assert f"- [`{option}`](../configuration.md#{option}): " in out
        if not paragraph.startswith("- `"):
            assert paragraph in out, f"{code}: the page lost {paragraph[:60]!r}"
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert f"\n{heading}\n" in out
    assert out.index("## Example") < out.index("## Use instead")
    assert "```python\n" in out[out.index("## Example") :]
    assert CliRunner().invoke(main, ["explain", code.lower()]).output == out


def test_explain_without_a_generated_page_prints_the_docstring(monkeypatch) -> None:
    """Outside a checkout and without the wheel's pages, the page is made from the rule alone."""
    import torchlint_repro.docs as docs

    monkeypatch.setattr(docs, "_generated_page", lambda rule: None)
    rule = next(r for r in ALL_RULES if r.code == "TRP101")
    out = CliRunner().invoke(main, ["explain", "TRP101"]).output
    assert (
        out
        == "\n".join(
            [
                "# unseeded-model (TRP101)",
                "",
                f"Family: {rule.family} · Enabled by default · Runtime-verified: {rule.verify.value} · Fix: {rule.fix}",
                "",
                "**model built before torch is seeded**",
                "",
                rule.doc.strip(),
            ]
        )
        + "\n\n"
    )


def test_explain_unknown_code_exits_2() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("torchlint-repro")), "explain", "TRP999"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "unknown rule code 'TRP999'" in proc.stderr


@pytest.mark.parametrize("name", GUIDES)
def test_guides_exist(name: str) -> None:
    assert (DOCS / name).is_file()


def test_configuration_reference_documents_every_key() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `([a-z-]+)`", text, flags=re.M))
    assert headings == set(KNOWN_KEYS)


def test_integrations_cover_editor_pre_commit_and_ci() -> None:
    text = (DOCS / "integrations.md").read_text(encoding="utf-8")
    for needle in (
        "github/codeql-action/upload-sarif",
        "--format sarif",
        "id: torchlint-repro",
        "repo: local",
        'additional_dependencies: ["torchlint-repro @ git+',
        "flake8.args",
        "--format github",
    ):
        assert needle in text


def test_relative_links_in_docs_resolve() -> None:
    broken = []
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, "\n".join(broken)


def test_recorded_runtime_evidence_matches_the_example_pairs() -> None:
    """docs/rules/evidence.json holds what torch showed on each rule's example pair (recorded with
    `python scripts/gen_rule_docs.py --record-evidence`); a new rule or a new example pair needs a new
    recording."""
    evidence = GEN.load_evidence()
    assert evidence.get("torch"), "docs/rules/evidence.json is missing: run gen_rule_docs.py --record-evidence"
    for rule in ALL_RULES:
        pair = GEN.example_pair(rule.code)
        if pair is None:
            continue
        observed = evidence["rules"].get(rule.code, {})
        assert {label: o["fixture"] for label, o in observed.items()} == {"bad": pair[0].name, "good": pair[1].name}, (
            f"{rule.code}: re-record the evidence (python scripts/gen_rule_docs.py --record-evidence)"
        )
        page = (RULE_PAGES / f"{rule.code}.md").read_text(encoding="utf-8")
        assert observed["bad"]["observed"] in page


def test_licence_file_matches_the_declared_licence() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert (project["license"], project["license-files"]) == ("MIT", ["LICENSE"])
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in text


def test_torch_is_pinned_in_ci_only() -> None:
    """Users get a range (a resolver conflict otherwise); CI installs the one version it tests, first, so
    that the README's command (which CI runs verbatim) keeps it and downloads no other build."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert extras["verify"] == ["torch>=2.0,<3"]
    assert not [r for reqs in extras.values() for r in reqs if "==" in r]
    assert set(extras["test"]) == {"torchlint-repro[test-static,verify-all]"}
    assert not [
        r
        for r in extras["test-static"]
        if r.split(">")[0].split("=")[0] in ("torch", "lightning", "transformers", "numpy")
    ]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    pin = ci.index("pip install -q torch==2.13.0")
    assert pin < ci.index('pip install -q -e ".[test]" && python -m pytest -q -n 2')


def test_readme_says_how_to_install_without_a_package_index() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "not on a package index" in readme
    assert "pip install ./torchlint-repro" in readme and "rev: v0.1.0" not in readme
    for extra in ("`[verify]`", "`[verify-all]`", "`[test-static]`", "`[test]`"):
        assert extra in readme, extra
