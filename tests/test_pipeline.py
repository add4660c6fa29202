"""One pipeline: every face (check, stdin, the flake8 plugin, fix, the library's lint_file) reads,
decodes, parses, lints, caches, applies noqa and selects through pipeline.lint_document, so they agree."""

from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from torchlint_repro.analysis.project import reset_projects
from torchlint_repro.config import Settings, settings_from_file
from torchlint_repro.engine import lint_file
from torchlint_repro.flake8_plugin import Plugin
from torchlint_repro.pipeline import lint_document
from torchlint_repro.runner import lint_one

SRC = Path(__file__).resolve().parent.parent / "src" / "torchlint_repro"

LATIN1 = """\
# -*- coding: latin-1 -*-
import torch
from torch import nn

nom = "caf\xe9"
a = nn.Sequential(nn.Linear(4, 2), nn.Dropout(0.5))
b = nn.Linear(4, 2)  # noqa: TRP101
with torch.no_grad():
    print(a(torch.ones(1, 4)))
torch.manual_seed(0)
"""
UNSEEDED = "unseeded-model"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.torchlint-repro]\nper-file-ignores = { "tests/*" = ["TRP2"] }\n')
    (root / "train.py").write_bytes(LATIN1.encode("latin-1"))
    (root / "tests" / "test_x.py").write_bytes(LATIN1.encode("latin-1"))
    return root


def _keys(diags) -> list[tuple[int, int, str]]:
    return [(d.line, d.col, d.code) for d in diags]


def _plugin(path: Path, settings_free: bool = True) -> list[tuple[int, int, str]]:
    source = path.read_bytes().decode("latin-1")
    tree = ast.parse(source)
    Plugin._overrides, Plugin._resolver, Plugin._noqa = None, None, True
    return [
        (line, col, text.split(" ", 1)[0])
        for line, col, text, _ in Plugin(tree, str(path), source.splitlines(keepends=True)).run()
    ]


def test_every_face_gives_the_same_findings(project: Path) -> None:
    settings = replace(settings_from_file(project / "pyproject.toml"), cache=False)
    expected = [(6, 4, "TRP101"), (9, 10, "TRP201")]
    for path, want in ((project / "train.py", expected), (project / "tests" / "test_x.py", expected[:1])):
        doc = lint_document(str(path), settings)
        assert doc.error is None and _keys(doc.diagnostics) == want
        assert _keys(lint_one(str(path), settings).diagnostics) == want
        # stdin (`check -`): the same bytes, decoded by their coding line
        assert _keys(lint_document(str(path), settings, source=path.read_bytes()).diagnostics) == want
        assert _plugin(path) == want
    # the library's lint_file: every code after noqa, no selection (per-file-ignores are selection)
    assert _keys(lint_file(project / "tests" / "test_x.py", settings)) == expected


def test_noqa_and_selection_are_switches_of_the_one_function(project: Path) -> None:
    settings = Settings(cache=False)
    path = str(project / "train.py")
    assert _keys(lint_document(path, settings, noqa=False).diagnostics) == [
        (6, 4, "TRP101"),
        (7, 4, "TRP101"),
        (9, 10, "TRP201"),
    ]
    assert _keys(lint_document(path, replace(settings, ignore=("TRP2",))).diagnostics) == [(6, 4, "TRP101")]
    assert _keys(lint_document(path, replace(settings, ignore=("TRP2",)), select=False).diagnostics) == [
        (6, 4, "TRP101"),
        (9, 10, "TRP201"),
    ]


def test_unreadable_and_unparsable_documents_are_errors_not_exceptions(tmp_path: Path) -> None:
    settings = Settings(cache=False)
    missing = lint_document(str(tmp_path / "nope.py"), settings)
    assert missing.diagnostics == [] and missing.error == "cannot read: No such file or directory"
    bad = lint_document("x.py", settings, source="import torch\ndef f(:\n")
    assert bad.error == "syntax error at line 2: invalid syntax"
    # what a reader of an old research script needs to fix it: the reserved word, the Python 2 spelling
    old_cuda = lint_document("x.py", settings, source="import torch\nx = torch.zeros(1).cuda(async=True)\n")
    assert old_cuda.error == (
        "syntax error at line 2: invalid syntax "
        "(`async` is a reserved word since Python 3.7: write `non_blocking=True`)"
    )
    old_except = lint_document("x.py", settings, source="import torch\ntry:\n    pass\nexcept IOError, e:\n    pass\n")
    assert old_except.error == (
        "syntax error at line 4: multiple exception types must be parenthesized "
        "(Python 2 `except E, e:`: write `except E as e:`)"
    )
    undecodable = lint_document("x.py", settings, source=b"# -*- coding: nope -*-\nimport torch\n")
    assert undecodable.error.startswith("cannot decode: unknown encoding")
    notebook = lint_document("n.ipynb", settings, source=b'{"cells": [')
    assert notebook.error == "invalid notebook: not valid JSON (line 1, column 12: Expecting value)"


@pytest.mark.parametrize("face", ["check", "plugin"])
def test_an_internal_error_is_never_cached(project: Path, tmp_path: Path, monkeypatch, face: str) -> None:
    """A crash of the analysis (TRP900) is reported, and the next run tries again instead of serving it
    from the result cache; the CLI used to cache it while the plugin did not."""
    import torchlint_repro.analysis.program as program

    path = project / "train.py"
    settings = Settings(cache=True, cache_dir=str(tmp_path / "cache"))
    real = program.analyze

    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    def run() -> list[tuple[int, int, str]]:
        reset_projects()
        if face == "check":
            return _keys(lint_one(str(path), settings).diagnostics)
        Plugin._overrides = {"cache_dir": str(tmp_path / "cache")}
        Plugin._resolver, Plugin._noqa = None, True
        source = path.read_bytes().decode("latin-1")
        return [
            (line, col, text.split(" ", 1)[0])
            for line, col, text, _ in Plugin(ast.parse(source), str(path), source.splitlines(keepends=True)).run()
        ]

    monkeypatch.setattr(program, "analyze", boom)
    assert run() == [(1, 0, "TRP900")]
    monkeypatch.setattr(program, "analyze", real)
    assert run() == [(6, 4, "TRP101"), (9, 10, "TRP201")]
    Plugin._overrides, Plugin._resolver = None, None


def test_the_faces_do_not_read_decode_parse_or_filter_on_their_own() -> None:
    """Reading, decoding, parsing, linting and noqa filtering are called from the pipeline only (and the
    engine that defines them): a face that calls them itself would be a fifth pipeline."""
    stages = {"read_source", "decode_source", "parse", "lint_source", "noqa_filter", "notebook_source"}
    faces = [
        "cli.py",
        "flake8_plugin.py",
        "runner.py",
        "fix_cli.py",
        "reporting.py",
        "verify/runner.py",
        "verify/cli.py",
    ]
    offenders = []
    for name in faces:
        tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                called = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
                if called in stages:
                    offenders.append(f"{name}:{node.lineno} calls {called}")
    assert offenders == []


def test_plugin_is_importable_without_the_cli(tmp_path: Path) -> None:
    """flake8 imports the plugin module only: it must not pull click or the verifier in."""
    import subprocess

    code = (
        "import sys, torchlint_repro.flake8_plugin; "
        "print(sorted(m for m in ('click', 'libcst', 'torchlint_repro.cli') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr
