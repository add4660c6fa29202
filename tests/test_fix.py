"""`torchlint-repro fix`: exact rewrites for the safe fixes, files untouched otherwise."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from torchlint_repro.cli import main
from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_file

BEFORE = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    sd = model.state_dict()
    model = model.load_state_dict(sd)  # keep this comment
    model.eval
    label = "é"; model.train
    other = nn.Linear(2, 2)
    result = other.load_state_dict(other.state_dict())
""")
AFTER = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    sd = model.state_dict()
    model.load_state_dict(sd)  # keep this comment
    model.eval()
    label = "é"; model.train()
    other = nn.Linear(2, 2)
    result = other.load_state_dict(other.state_dict())
""")


def test_fix_rewrites_exactly_the_safe_cases(tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    target.write_text(BEFORE, encoding="utf-8")
    codes = sorted((d.line, d.col, d.code) for d in lint_file(target, Settings(cache=False)))
    assert codes == [(7, 8, "TRP302"), (8, 0, "TRP202"), (9, 13, "TRP202")]
    result = CliRunner().invoke(main, ["fix", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == AFTER
    assert lint_file(target, Settings(cache=False)) == []


def test_fix_diff_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    target.write_text(BEFORE, encoding="utf-8")
    result = CliRunner().invoke(main, ["fix", "--diff", str(target)])
    assert result.exit_code == 1  # the findings are still there
    assert "\n-model.eval\n" in result.output and "\n+model.eval()\n" in result.output
    assert target.read_text(encoding="utf-8") == BEFORE


def test_unfixable_findings_are_left_and_reported(tmp_path: Path) -> None:
    target = tmp_path / "predict.py"
    src = "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel = torch.nn.Linear(2, 2).load_state_dict({})\n"
    target.write_text(src, encoding="utf-8")
    result = CliRunner().invoke(main, ["fix", str(target)])
    assert result.exit_code == 1
    assert target.read_text(encoding="utf-8") == src


def test_syntax_error_file_is_never_touched(tmp_path: Path) -> None:
    target = tmp_path / "broken.py"
    src = "import torch\nmodel.eval\ndef (:\n"
    target.write_text(src, encoding="utf-8")
    result = CliRunner().invoke(main, ["fix", str(target)])
    assert result.exit_code == 2
    assert target.read_text(encoding="utf-8") == src


# ------------------------------------------------------------------------------ notebooks
NB_TEXT = """{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {"tags": ["intro"]},
   "source": ["# A run\\n", "caf\\u00e9 \\u2014 see below"]
  },
  {
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {"collapsed": false, "scrolled": true},
   "outputs": [],
   "source": [
    "%matplotlib inline\\n",
    "import torch\\n",
    "torch.manual_seed(0)\\n",
    "model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))\\n",
    "sd = model.state_dict()"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 2,
   "metadata": {},
   "outputs": [
    {
     "data": {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "text/plain": ["<Figure>"]},
     "metadata": {"needs_background": "light"},
     "output_type": "display_data"
    }
   ],
   "source": [
    "model = model.load_state_dict(sd)\\n",
    "%time model.eval\\n",
    "if True:\\n",
    "    model.eval\\n",
    "print(model)"
   ]
  }
 ],
 "metadata": {
  "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
  "language_info": {"name": "python", "version": "3.11.7"}
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
"""  # noqa: E501 - the image output is one long line, as Jupyter writes it


def test_fix_inside_notebook_cells_keeps_everything_else_byte_for_byte(tmp_path: Path) -> None:
    nb = tmp_path / "run.ipynb"
    nb.write_bytes(NB_TEXT.encode("utf-8"))
    result = CliRunner().invoke(main, ["fix", str(nb)])
    # the TRP302 of cell 2 and the TRP202 inside the `if` are fixed; the `%time model.eval` of a magic line is not
    # (its text in the cell is not the Python the analysis read): it remains, so the exit status is 1
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"torchlint-repro: notice: {nb}: cell 2, line 2: TRP202 not fixed: the line is IPython "
        f"syntax, not Python\nfixed 2 findings\n"
    )
    expected = NB_TEXT.replace('"model = model.load_state_dict(sd)\\n"', '"model.load_state_dict(sd)\\n"').replace(
        '"    model.eval\\n"', '"    model.eval()\\n"'
    )
    assert nb.read_bytes() == expected.encode("utf-8")
    check = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", str(nb)])
    assert [(d["cell"], d["cell_line"], d["code"]) for d in json.loads(check.stdout)] == [(2, 2, "TRP202")]


def test_empty_code_cells_do_not_shift_the_fixes(tmp_path: Path) -> None:
    """An empty code cell is not run, not numbered and not part of the program (as in `check`): the fixes
    still land in the cells they belong to."""
    empty = (
        '  {\n   "cell_type": "code",\n   "execution_count": null,\n   "metadata": {},\n   "outputs": [],\n'
        '   "source": []\n  },\n'
    )
    text = NB_TEXT.replace(' "cells": [\n', ' "cells": [\n' + empty, 1)
    nb = tmp_path / "run.ipynb"
    nb.write_bytes(text.encode("utf-8"))
    result = CliRunner().invoke(main, ["fix", str(nb)])
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"torchlint-repro: notice: {nb}: cell 2, line 2: TRP202 not fixed: the line is IPython "
        f"syntax, not Python\nfixed 2 findings\n"
    )
    expected = text.replace('"model = model.load_state_dict(sd)\\n"', '"model.load_state_dict(sd)\\n"').replace(
        '"    model.eval\\n"', '"    model.eval()\\n"'
    )
    assert nb.read_bytes() == expected.encode("utf-8")


def test_fix_diff_of_a_notebook_changes_nothing(tmp_path: Path) -> None:
    nb = tmp_path / "run.ipynb"
    nb.write_bytes(NB_TEXT.encode("utf-8"))
    result = CliRunner().invoke(main, ["fix", "--diff", str(nb)])
    assert result.exit_code == 1
    assert '-    "    model.eval\\n",\n+    "    model.eval()\\n",\n' in result.stdout
    assert result.stderr.endswith("would fix 2 findings\n")
    assert nb.read_bytes() == NB_TEXT.encode("utf-8")


def test_a_statement_running_into_the_next_cell_is_not_rewritten(tmp_path: Path) -> None:
    """A statement that runs from one cell into the next does not run in Jupyter (each cell compiles alone):
    those cells are skipped as `check` skips them, and nothing is rewritten."""
    nb = tmp_path / "split.ipynb"
    cells = [
        ["import torch\n", "torch.manual_seed(0)\n", "model = torch.nn.Sequential(torch.nn.Linear(2, 2),\n"],
        ["    torch.nn.Dropout(0.5))\n", "model = model.load_state_dict(\n"],
        ["    model.state_dict())\n"],
    ]
    nb.write_text(
        json.dumps(
            {
                "cells": [
                    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
                    for c in cells
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            },
            indent=1,
        )
    )
    before = nb.read_bytes()
    result = CliRunner().invoke(main, ["fix", str(nb)])
    assert (result.exit_code, result.stderr) == (0, "fixed 0 findings\n")
    assert nb.read_bytes() == before


# ------------------------------------------------------------------------------ speed
def test_fix_costs_little_more_than_check_on_a_big_file(tmp_path: Path) -> None:
    """libcst reads only the statements to rewrite: fix on a 40,000-line file with one fixable finding
    costs about what check does (the whole-file metadata wrapper made it 8x). Measured in CPU seconds of
    the child process, so that a busy machine does not decide."""
    import resource
    import subprocess
    import sys

    body = [
        "import torch",
        "from torch import nn",
        "",
        "torch.manual_seed(0)",
        "model = nn.Linear(4, 2)",
        "model.eval",
        "",
    ]
    for i in range(6_000):
        body += [f"def scale_{i}(x):", f"    y = x * {i}", "    return y + 1", ""]
    lines = body + ["TABLE = ["] + [f"    ({i}, 'row{i}')," for i in range(40_000 - len(body) - 2)] + ["]"]
    target = tmp_path / "big.py"
    target.write_text("\n".join(lines) + "\n")
    exe = Path(sys.executable).with_name("torchlint-repro")

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def timed(*args: str) -> tuple[float, subprocess.CompletedProcess]:
        t0 = cpu()
        proc = subprocess.run([str(exe), *args, "big.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        return cpu() - t0, proc

    check_s, check = timed("check", "--no-cache")
    assert check.returncode == 1 and check.stdout == "big.py:6:1: TRP202 " + check.stdout.split(" TRP202 ")[1]
    fix_s, fixed = timed("fix")
    assert (fixed.returncode, fixed.stderr) == (0, "fixed 1 finding\n")
    assert target.read_text().splitlines()[5] == "model.eval()"
    assert fix_s <= 2 * check_s, f"check {check_s:.1f}s, fix {fix_s:.1f}s (CPU)"
