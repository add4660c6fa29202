"""Output formats for `check`: text, json, sarif, github."""
from __future__ import annotations

import json
from collections import Counter

from .runner import FileResult


def location(r: FileResult, line: int) -> str:
    if r.cells and 0 < line <= len(r.cells):
        cell, cell_line = r.cells[line - 1]
        return f"{r.path}:cell {cell}:line {cell_line}"
    return f"{r.path}:{line}"


def render(results: list[FileResult], fmt: str, color: bool = False, statistics: bool = False) -> str:
    if fmt == "json":
        return _json(results)
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.path}:0:0: E902 {r.error}" if fmt == "text" else "")
        for d in r.diagnostics:
            lines.append(f"{location(r, d.line)}:{d.col + 1}: {d.code} {d.message}")
    if statistics:
        counts = Counter(d.code for r in results for d in r.diagnostics)
        for code, n in sorted(counts.items()):
            lines.append(f"{n:<5} {code}")
    return "\n".join(l for l in lines if l)


def _json(results: list[FileResult]) -> str:
    out = []
    for r in results:
        for d in r.diagnostics:
            item = {"path": r.path, "line": d.line, "column": d.col + 1, "code": d.code, "message": d.message}
            if r.cells:
                cell, cell_line = r.cells[d.line - 1]
                item.update(cell=cell, cell_line=cell_line)
            out.append(item)
    return json.dumps(out, indent=2)
