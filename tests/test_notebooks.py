"""Notebooks: code cells joined in order, IPython syntax blanked line for line, findings reported by
code cell and line, invalid notebooks an error (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from torchlint_repro.engine import SourceError
from torchlint_repro.notebooks import SourceMap, notebook_source, strip_magics

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "fixtures" / "notebooks"
BAD = NOTEBOOKS / "bad_unseeded_no_eval.ipynb"
GOOD = NOTEBOOKS / "good_seeded_eval.ipynb"
EXE = Path(sys.executable).with_name("torchlint-repro")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def write_notebook(path: Path, sources: list, kind: str = "code", **meta) -> Path:
    cells = [
        {"cell_type": kind, "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        if kind == "code"
        else {"cell_type": kind, "metadata": {}, "source": s}
        for s in sources
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    return path


# ------------------------------------------------------------------------------ the fixtures


def test_bad_notebook_findings_by_cell_and_line() -> None:
    proc = run("check", "--no-cache", "--format", "json", str(BAD.relative_to(ROOT)))
    assert proc.returncode == 1, proc.stderr
    found = [(d["cell"], d["cell_line"], d["column"], d["code"], d["line"]) for d in json.loads(proc.stdout)]
    # cell 4 (the fourth code cell; two markdown cells come before it): `model = Net()` before any seed;
    # cell 6: the forward under no_grad of a model that was never put in eval mode
    assert found == [(4, 1, 9, "TRP101", 17), (6, 3, 13, "TRP201", 30)]


def test_bad_notebook_text_output() -> None:
    proc = run("check", "--no-cache", str(BAD.relative_to(ROOT)))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert [ln.split(" ", 2)[:2] for ln in lines] == [
        ["fixtures/notebooks/bad_unseeded_no_eval.ipynb:cell", "4:line"],
        ["fixtures/notebooks/bad_unseeded_no_eval.ipynb:cell", "6:line"],
    ]
    assert lines[0].startswith("fixtures/notebooks/bad_unseeded_no_eval.ipynb:cell 4:line 1:9: TRP101 `Net` is built")
    assert lines[1].startswith("fixtures/notebooks/bad_unseeded_no_eval.ipynb:cell 6:line 3:13: TRP201 `model`")


def test_good_notebook_is_clean() -> None:
    proc = run("check", "--no-cache", str(GOOD.relative_to(ROOT)))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_notebooks_in_a_folder_walk() -> None:
    proc = run("check", "--no-cache", "--format", "json", "fixtures/notebooks")
    # (the good one has nothing to report; look_display_cells.ipynb has its TRP101)
    assert {Path(d["path"]).name for d in json.loads(proc.stdout)} == {BAD.name, "look_display_cells.ipynb"}


# ------------------------------------------------------------------------------ the joined program
def test_notebook_source_of_the_fixture() -> None:
    source, cells = notebook_source(BAD)
    lines = source.splitlines()
    assert len(lines) == len(cells) == 31
    # code cell 1: three magics become `pass`, the imports stay on their lines
    assert lines[:4] == ["pass", "pass", "pass", "import torch"]
    assert cells[:4] == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert (lines[6], cells[6]) == ("pass", (2, 1))  # `!pip install ...`
    assert (lines[16], cells[16]) == ("model = Net()", (4, 1))
    assert (lines[19], cells[19]) == ("pass", (4, 4))  # `model?`
    assert (lines[20], cells[20]) == ("", (5, 1))  # `%%time`: its body is Python and stays
    assert (lines[21], cells[21]) == ("for step in range(20):", (5, 2))
    assert (lines[29], cells[29]) == ("    preds = model(x_test).argmax(dim=1)", (6, 3))


def test_source_as_string_or_list_gives_the_same_program(tmp_path: Path) -> None:
    text = "import torch\nx = 1\n\ny = 2"
    a = write_notebook(tmp_path / "a.ipynb", [text, "z = 3\n"])
    b = write_notebook(tmp_path / "b.ipynb", [["import torch\n", "x = 1\n", "\n", "y = 2"], ["z = 3\n"]])
    assert (
        notebook_source(a)
        == notebook_source(b)
        == ("import torch\nx = 1\n\ny = 2\nz = 3\n", [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1)])
    )


def test_markdown_raw_and_empty_cells(tmp_path: Path) -> None:
    nb = tmp_path / "m.ipynb"
    nb.write_text(
        json.dumps(
            {
                "cells": [
                    {"cell_type": "markdown", "metadata": {}, "source": ["x = 1\n"]},
                    {"cell_type": "code", "metadata": {}, "source": [], "outputs": []},
                    {"cell_type": "raw", "metadata": {}, "source": "raw = 1"},
                    {"cell_type": "code", "metadata": {}, "source": ["  \n", "\t\n"], "outputs": []},
                    {"cell_type": "code", "metadata": {}, "source": ["y = 2"], "outputs": []},
                    {"cell_type": "code", "metadata": {}, "source": "# a comment runs and is numbered", "outputs": []},
                    {"cell_type": "code", "metadata": {}, "source": "z = 3", "outputs": []},
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            },
            indent=1,
        )
    )
    # IPython does not execute an empty or whitespace-only cell and its execution count does not move, so
    # after Run All `y = 2` is In [1], the comment In [2] and `z = 3` In [3]
    assert notebook_source(nb) == ("y = 2\n# a comment runs and is numbered\nz = 3\n", [(1, 1), (2, 1), (3, 1)])
    # the file positions of the program's lines skip the same cells
    smap = SourceMap(nb)
    assert [smap.position(i) for i in (1, 2, 3)] == [
        _where(nb, '"y = 2"'),
        _where(nb, '"# a comment'),
        _where(nb, '"z = 3"'),
    ]


def _line_of(nb: Path, needle: str) -> int:
    return _where(nb, needle)[0]


def _where(nb: Path, needle: str, offset: int = 0) -> tuple[int, int]:
    """(line, column) in the notebook's text of the character ``offset`` places into the JSON string
    that starts with ``needle`` (both 1-based, as SARIF counts)."""
    for i, ln in enumerate(nb.read_text().splitlines(), 1):
        if needle in ln:
            return i, ln.index(needle) + 2 + offset
    raise AssertionError(needle)


def test_cell_numbers_after_an_empty_cell_in_check(tmp_path: Path) -> None:
    """The cell a finding names is the In [N] Jupyter shows after Run All, empty cells not counted."""
    write_notebook(tmp_path / "e.ipynb", [["import torch\n"], [], ["\n"], ["model = torch.nn.Linear(2, 2)\n"]])
    proc = run("check", "--no-cache", "e.ipynb", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "e.ipynb:cell 2:line 1:9: TRP101 `Linear` is built before torch is seeded: its random init differs on every run"
    ]


def test_flat_notebook_locations_point_into_the_file(tmp_path: Path) -> None:
    """--notebook-locations=flat: `path:line:col` in the .ipynb text (the line that shows the code), as
    SARIF and GitHub annotations give it, for problem matchers; the cell stays in the message."""
    nb = write_notebook(tmp_path / "f.ipynb", [["import torch\n"], ["x = 1\n", "model = torch.nn.Linear(2, 2)\n"]])
    line, col = _where(nb, '"model = torch.nn.Linear', offset=8)
    proc = run("check", "--no-cache", "--notebook-locations", "flat", "f.ipynb", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"f.ipynb:{line}:{col}: TRP101 cell 2, line 2: `Linear` is built before torch is seeded: its random init "
        "differs on every run"
    ]
    sarif = json.loads(run("check", "--no-cache", "--format", "sarif", "f.ipynb", cwd=tmp_path).stdout)
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (line, col)


def test_magics_are_replaced_without_shifting_lines() -> None:
    cell = [
        "import os",
        "%load_ext autoreload",
        "!pip install \\",
        "    torch",
        "files = !ls",
        "%time model = build()",
        "for f in files:",
        "    !echo {f}",
        "text = '''",
        "%not a magic inside a string",
        "!neither is this?",
        "'''",
        "total = (1 +",
        "         2)",
        "os?",
        "??os.path",
        "print('why?')  # a comment?",
        "/print hello",
    ]
    assert strip_magics(cell) == [
        "import os",
        "pass",
        "pass",
        "",
        "files = None",
        "model = build()",
        "for f in files:",
        "    pass",
        "text = '''",
        "%not a magic inside a string",
        "!neither is this?",
        "'''",
        "total = (1 +",
        "         2)",
        "pass",
        "pass",
        "print('why?')  # a comment?",
        "pass",
    ]


def test_cell_magics() -> None:
    assert strip_magics(["%%bash", "echo hi", "ls"]) == ["", "", ""]
    assert strip_magics(["%%writefile model.py", "import torch", "model = 1"]) == ["", "", ""]
    assert strip_magics(["%%capture out", "x = 1", "%matplotlib inline"]) == ["", "x = 1", "pass"]
    assert strip_magics(["", "%%timeit", "f()"]) == ["", "", "f()"]


def test_magic_cell_hazard_is_still_found(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "t.ipynb",
        [
            ["%matplotlib inline\n", "import torch\n", "from torch import nn\n"],
            ["%time model = nn.Linear(2, 2)\n", "torch.manual_seed(0)\n"],
        ],
    )
    proc = run("check", "--no-cache", str(nb), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{nb}:cell 2:line 1:9: TRP101 `Linear` is built before torch is seeded")
    assert "torch.manual_seed is called at cell 2, line 2, after this construction" in proc.stdout


# ------------------------------------------------------------------------------ errors, other languages
def test_invalid_json_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [\n  {"cell_type": "code",}\n]}')
    proc = run("check", "--no-cache", "broken.ipynb", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        "torchlint-repro: error: broken.ipynb: invalid notebook: not valid JSON "
        "(line 2, column 24: Expecting property name enclosed in double quotes)\n"
    )
    with pytest.raises(SourceError, match="not valid JSON"):
        notebook_source(tmp_path / "broken.ipynb")


def test_json_that_is_not_a_notebook_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "data.ipynb").write_text('{"name": "not a notebook"}')
    (tmp_path / "bad_source.ipynb").write_text('{"cells": [{"cell_type": "code", "source": 3}]}')
    proc = run("check", "--no-cache", "data.ipynb", "bad_source.ipynb", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "torchlint-repro: error: bad_source.ipynb: invalid notebook: the source of code cell 1 is not a string "
        "or a list of strings",
        "torchlint-repro: error: data.ipynb: invalid notebook: no 'cells' list (is this a Jupyter notebook?)",
    ]


def test_a_cell_that_does_not_parse_is_skipped_with_a_notice(tmp_path: Path) -> None:
    """Jupyter compiles each cell alone: an exercise's broken cell fails alone and the others run, so the
    others are linted in order (issue 14: the whole notebook used to be refused)."""
    write_notebook(
        tmp_path / "s.ipynb",
        [
            ["import torch\n"],
            ["x = 1\n", "def f(:\n"],
            ["model = torch.nn.Linear(2, 2)\n", "model(torch.ones(1, 2)).sum().backward()\n"],
        ],
    )
    proc = run("check", "--no-cache", "s.ipynb", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "s.ipynb:cell 3:line 1:9: TRP101 `Linear` is built before torch is seeded: its random init differs on every run"
    ]
    assert proc.stderr == (
        "torchlint-repro: notice: s.ipynb: skipped cells that do not parse (cell 2, line 2: invalid syntax); "
        "the other cells are linted\n"
    )


def test_non_python_notebooks_are_skipped(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "r.ipynb",
        ["library(torch)\nmodel <- nn_linear(2, 2)\n"],
        kernelspec={"name": "ir", "language": "R", "display_name": "R"},
    )
    assert notebook_source(tmp_path / "r.ipynb") == ("", [])
    proc = run("check", "--no-cache", "r.ipynb", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_nbformat_3_worksheets(tmp_path: Path) -> None:
    (tmp_path / "old.ipynb").write_text(
        json.dumps(
            {
                "nbformat": 3,
                "worksheets": [
                    {
                        "cells": [
                            {"cell_type": "heading", "level": 1, "source": ["Title"]},
                            {
                                "cell_type": "code",
                                "language": "python",
                                "input": ["import torch\n", "x = 1"],
                                "outputs": [],
                            },
                        ]
                    }
                ],
            }
        )
    )
    assert notebook_source(tmp_path / "old.ipynb") == ("import torch\nx = 1\n", [(1, 1), (1, 2)])


def test_source_map_finds_the_file_line_of_each_code_line() -> None:
    smap = SourceMap(BAD)
    raw = BAD.read_text(encoding="utf-8").splitlines()
    source, _ = notebook_source(BAD)
    for i, line in enumerate(source.splitlines(), 1):
        pos = smap.position(i)
        assert pos is not None
        if line and line != "pass":
            assert json.dumps(line)[1:-1] in raw[pos[0] - 1], (i, line)
            # column 0 of the code line is the character after the opening quote
            assert raw[pos[0] - 1][pos[1] - 2] == '"'


NET_WITH = (
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.fc = nn.Linear(4, 2)\n"
    "        self.drop = nn.Dropout(0.5)\n\n"
    "    def forward(self, x):\n"
    "        return self.drop(self.fc(x))\n"
)
NET_WITHOUT = NET_WITH.replace("        self.drop = nn.Dropout(0.5)\n", "").replace("self.drop(", "(")
USE = "model = Net()\nwith torch.no_grad():\n    y = model(torch.ones(1, 4))\nprint(y)\n"


@pytest.mark.parametrize(
    "first, later, expected",
    [
        # the Net in force at cell 3 has dropout; the later cell's redefinition without it changes nothing
        (NET_WITH, NET_WITHOUT, ["n.ipynb:cell 3:line 3:9: TRP201"]),
        # the Net in force at cell 3 has none; a later cell adding dropout does not reach back
        (NET_WITHOUT, NET_WITH, []),
    ],
)
def test_a_name_means_the_definition_in_force_at_that_cell(tmp_path: Path, first, later, expected) -> None:
    """Issue 13: in a notebook, a class redefined in a later cell does not decide what an earlier cell ran."""
    setup = "import torch\nfrom torch import nn\n\ntorch.manual_seed(0)\n"
    write_notebook(tmp_path / "n.ipynb", [setup, first, USE, later])
    proc = run("check", "--no-cache", "n.ipynb", cwd=tmp_path)
    assert [ln.split(" `")[0] for ln in proc.stdout.splitlines()] == expected
