"""`torchlint-repro fix`: exact rewrites for the safe fixes, files untouched otherwise."""
from __future__ import annotations

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
