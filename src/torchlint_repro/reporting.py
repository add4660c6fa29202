"""Output formats for `check`: text, json, sarif, github; and the --statistics summary.

Positions in notebooks (see notebooks.py for the cell numbering):

- text: ``nb.ipynb:cell 3:line 2:5: TRP201 ...`` (cell, line in the cell, column); with
  ``--notebook-locations=flat`` ``nb.ipynb:41:5: TRP201 cell 3, line 2: ...``, the line and column in the
  notebook file itself as SARIF gives them, for standard ``path:line:col`` problem matchers;
- json: ``line``/``column`` in the program the code cells make when joined in order, plus ``cell`` and
  ``cell_line`` (the cell's number and the line in it, as Jupyter shows them);
- sarif and github: the notebook file itself is the artifact and the region is where the code line
  sits in the file's JSON text (in a notebook saved by Jupyter every source line is a JSON string on
  its own line), so GitHub's code view, code-scanning alert and pull-request annotation land on the
  line that shows the code; the message starts with ``cell 3, line 2:`` and the SARIF result keeps
  ``cell``/``cellLine`` in its properties.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import __version__
from .pipeline import FileResult

if TYPE_CHECKING:
    from .notebooks import SourceMap

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/torchlint-repro/torchlint-repro"

_BOLD, _RED, _CYAN, _DIM, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[2m", "\033[0m"


def location(r: FileResult, line: int) -> str:
    if r.cells and 0 < line <= len(r.cells):
        cell, cell_line = r.cells[line - 1]
        return f"{r.path}:cell {cell}:line {cell_line}"
    return f"{r.path}:{line}"


def render(
    results: list[FileResult], fmt: str, color: bool = False, statistics: bool = False, flat_notebooks: bool = False
) -> str:
    """The report of ``results`` in ``fmt`` (without the statistics for machine formats: see
    :func:`render_statistics`)."""
    if fmt == "json":
        return render_json(results)
    if fmt == "sarif":
        return render_sarif(results)
    if fmt == "github":
        return render_github(results)
    text = render_text(results, color, flat_notebooks=flat_notebooks)
    if statistics:
        stats = render_statistics(results, color)
        text = f"{text}\n{stats}" if text else stats
    return text


# ------------------------------------------------------------------------------ text
def render_text(results: list[FileResult], color: bool = False, flat_notebooks: bool = False) -> str:
    lines = []
    pos = _Positions() if flat_notebooks else None
    for r in results:
        for d in r.diagnostics:
            message = d.message
            if pos is not None and r.cells:
                line, col = pos(r, d.line, d.col)
                where = f"{r.path}:{line}:{col}:"
                message = _cell_prefix(r, d.line) + message
            else:
                where = f"{location(r, d.line)}:{d.col + 1}:"
            code = d.code
            if color:
                where = f"{_BOLD}{where}{_RESET}"
                code = f"{_BOLD}{_RED}{code}{_RESET}"
            lines.append(f"{where} {code} {message}")
    return "\n".join(lines)


def render_statistics(results: list[FileResult], color: bool = False) -> str:
    """A count of findings per code (like ``ruff --statistics``), then the totals."""
    from .rules import RULES_BY_CODE

    counts = Counter(d.code for r in results for d in r.diagnostics)
    lines = []
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = RULES_BY_CODE.get(code)
        name = rule.name if rule else ""
        shown = f"{_BOLD}{_RED}{code}{_RESET}" if color else code
        lines.append(f"{n:>5}  {shown}  {name}")
    total = sum(counts.values())
    files = sum(1 for r in results if r.diagnostics)
    lines.append(
        f"Found {total} finding{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''} "
        f"({len(results)} checked)."
    )
    widened = sum(len(r.widened) for r in results)
    if widened:
        where = sum(1 for r in results if r.widened)
        lines.append(
            f"The analysis widened to *maybe* at {widened} bound{'s' if widened != 1 else ''} in {where} "
            f"file{'s' if where != 1 else ''} (no finding dropped; --verbose lists them)."
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ json
_SYNTAX_ERROR = re.compile(r"(?:.*: )?(?:syntax error|too deeply nested|cannot parse)(?: at line (\d+))?")


def render_json(results: list[FileResult]) -> str:
    """A list of findings; a file that could not be linted is an item with ``"error": true`` whose
    message says why, under flake8's own codes for it (``E999`` a syntax error, ``E902`` a file that
    cannot be read or decoded), so that a consumer reading codes never meets a null one."""
    from .rules import RULES_BY_CODE

    out = []
    for r in results:
        if r.error:
            syntax = _SYNTAX_ERROR.match(r.error)
            out.append(
                {
                    "path": r.path,
                    "line": int(syntax.group(1)) if syntax and syntax.group(1) else 1,
                    "column": 1,
                    "code": "E999" if syntax else "E902",
                    "name": "syntax-error" if syntax else "io-error",
                    "message": r.error,
                    "url": None,
                    "fix": None,
                    "error": True,
                }
            )
        for d in r.diagnostics:
            rule = RULES_BY_CODE.get(d.code)
            item = {
                "path": r.path,
                "line": d.line,
                "column": d.col + 1,
                "code": d.code,
                "name": rule.name if rule else None,
                "message": d.message,
                "url": rule.help_uri if rule else None,
                "fix": d.fix.title if d.fix else None,
            }
            if r.cells and 0 < d.line <= len(r.cells):
                cell, cell_line = r.cells[d.line - 1]
                item.update(cell=cell, cell_line=cell_line)
            out.append(item)
    return json.dumps(out, indent=2)


# ------------------------------------------------------------------------------ file positions
class _Positions:
    """(line, column) in the file itself, 1-based: the notebook's JSON text for notebooks."""

    def __init__(self) -> None:
        self._maps: dict[str, SourceMap | None] = {}

    def __call__(self, r: FileResult, line: int, col: int) -> tuple[int, int]:
        if not r.cells:
            return line, col + 1
        if r.path not in self._maps:
            from .notebooks import SourceMap

            try:
                self._maps[r.path] = SourceMap(r.path)
            except Exception:  # noqa: BLE001 - changed or unreadable since it was linted
                self._maps[r.path] = None
        smap = self._maps[r.path]
        pos = smap.position(line, col) if smap is not None else None
        return pos if pos is not None else (1, 1)


def _cell_prefix(r: FileResult, line: int) -> str:
    if r.cells and 0 < line <= len(r.cells):
        cell, cell_line = r.cells[line - 1]
        return f"cell {cell}, line {cell_line}: "
    return ""


# ------------------------------------------------------------------------------ github
def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(results: list[FileResult]) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per finding and per failed file."""
    pos = _Positions()
    lines = []
    for r in results:
        path = _escape_property(Path(r.path).as_posix())
        if r.error:
            lines.append(f"::error file={path},title=torchlint-repro::{_escape_data(r.error)}")
        for d in r.diagnostics:
            line, col = pos(r, d.line, d.col)
            message = _escape_data(_cell_prefix(r, d.line) + d.message)
            lines.append(f"::error file={path},line={line},col={col},title={d.code}::{message}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ sarif
def _artifact(path: str) -> dict:
    """A relative URI under %SRCROOT% (the current folder: the repository's root in CI) when the file
    lies below it, else an absolute file URI."""
    absolute = Path(os.path.abspath(path))
    try:
        rel = absolute.relative_to(Path.cwd())
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(rel.as_posix()), "uriBaseId": "%SRCROOT%"}


def sarif_rules() -> list[dict]:
    from .docs import render_rule_page
    from .rules import ALL_RULES

    out = []
    for rule in ALL_RULES:
        out.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": _first_paragraph(rule.doc)},
                "help": {"text": f"{rule.summary}. See {rule.help_uri}", "markdown": _page(render_rule_page(rule))},
                "helpUri": rule.help_uri,
                "defaultConfiguration": {
                    "enabled": rule.default_enabled,
                    "level": "error" if rule.code == "TRP900" else "warning",
                },
                "properties": {
                    "tags": ["reproducibility", "pytorch", rule.family],
                    "precision": "high",
                    "problem.severity": "error" if rule.code == "TRP900" else "warning",
                },
            }
        )
    return out


def _page(markdown: str) -> str:
    """A rule page without its "generated" banner (an HTML comment GitHub would show as text)."""
    return "\n".join(ln for ln in markdown.splitlines() if not ln.startswith("<!--")).strip() + "\n"


def _first_paragraph(doc: str) -> str:
    body: list[str] = []
    for line in doc.strip().splitlines():
        if line.startswith("## What it does"):
            continue
        if not line.strip():
            if body:
                break
            continue
        if line.startswith("## "):
            break
        body.append(line.strip())
    return " ".join(body)


def render_sarif(results: list[FileResult]) -> str:
    """SARIF 2.1.0 for GitHub code scanning (github/codeql-action/upload-sarif)."""
    rules = sarif_rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    pos = _Positions()
    sarif_results = []
    notifications = []
    for r in results:
        artifact = _artifact(r.path)
        if r.error:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{r.path}: {r.error}"},
                    "locations": [{"physicalLocation": {"artifactLocation": artifact}}],
                }
            )
        for d in r.diagnostics:
            line, col = pos(r, d.line, d.col)
            result: dict[str, Any] = {
                "ruleId": d.code,
                "level": "error" if d.code == "TRP900" else "warning",
                "message": {"text": _cell_prefix(r, d.line) + d.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": artifact,
                            "region": {"startLine": line, "startColumn": col},
                        }
                    }
                ],
            }
            if d.code in index:
                result["ruleIndex"] = index[d.code]
            if r.cells and 0 < d.line <= len(r.cells):
                cell, cell_line = r.cells[d.line - 1]
                result["properties"] = {"cell": cell, "cellLine": cell_line, "cellColumn": d.col + 1}
            sarif_results.append(result)
    run = {
        "tool": {
            "driver": {
                "name": "torchlint-repro",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [{"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": sarif_results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)
