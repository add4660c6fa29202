"""The fix of every fixable rule: exact before/after files, tiers, idempotence, noqa, --diff, notebooks,
the compile check, and `verify --fixed` (torch confirms each fix removes its hazard)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from torchlint_repro.cli import main
from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

CASES = [
    pytest.param(
        "TRP201",
        "safe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    def main():
        model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        x = torch.randn(2, 4)
        with torch.no_grad():
            print(model(x))


    main()
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    def main():
        model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        x = torch.randn(2, 4)
        model.eval()
        with torch.no_grad():
            print(model(x))


    main()
"""),
        id="trp201_safe",
    ),  # the model is built in the function that runs the region: eval() before it, safe
    pytest.param(
        "TRP201",
        "unsafe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(2, 4)
    for epoch in range(3):
        loss = model(x).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            print(model(x))
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(2, 4)
    for epoch in range(3):
        loss = model(x).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            print(model(x))
        model.train()
"""),
        id="trp201_loop",
    ),  # a validation block inside the training loop: eval() before it and train() after it
    pytest.param(
        "TRP201",
        "unsafe",
        textwrap.dedent('''\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    @torch.no_grad()
    def predict(model, x):
        """Class scores."""
        return model(x).softmax(-1)


    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    print(predict(model, torch.randn(2, 4)))
'''),
        textwrap.dedent('''\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    @torch.no_grad()
    def predict(model, x):
        """Class scores."""
        model_was_training = model.training
        model.eval()
        output = model(x).softmax(-1)
        model.train(model_was_training)
        return output


    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    print(predict(model, torch.randn(2, 4)))
'''),
        # an inference function: eval() first (after the docstring), the caller's mode given back
        id="trp201_function",
    ),
    pytest.param(
        "TRP201",
        "unsafe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    def evaluate(model, x):
        with torch.no_grad():
            out = model(x)
        return out


    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(2, 4)
    for epoch in range(3):
        loss = model(x).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print(evaluate(model, x))
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    def evaluate(model, x):
        model_was_training = model.training
        model.eval()
        with torch.no_grad():
            out = model(x)
        model.train(model_was_training)
        return out


    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(2, 4)
    for epoch in range(3):
        loss = model(x).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print(evaluate(model, x))
"""),
        id="trp201_caller",
    ),  # the caller's model: eval() for the region, its mode given back after (no new TRP203)
    pytest.param(
        "TRP203",
        "unsafe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(3):
        # one step
        loss = model(torch.randn(2, 4)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(3):
        model.train()
        # one step
        loss = model(torch.randn(2, 4)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""),
        id="trp203",
    ),  # train() at the start of the training step, above the comment on the loop's first statement;
    # unsafe: training mode changes the loss and the trained weights
    pytest.param(
        "TRP302",
        "safe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    sd = model.state_dict()
    model = model.load_state_dict(sd, strict=False)
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import warnings

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    sd = model.state_dict()
    missing_keys, unexpected_keys = model.load_state_dict(sd, strict=False)
    if missing_keys or unexpected_keys:
        warnings.warn(f"model.load_state_dict: missing keys {missing_keys}, unexpected keys {unexpected_keys}")
"""),
        id="trp302_nonstrict",
    ),  # a strict=False load keeps its result and checks it (no fresh TRP305)
    pytest.param(
        "TRP304",
        "safe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1}, "ckpt.pt")
    restored = nn.Linear(4, 4)
    restored.load_state_dict(torch.load("ckpt.pt"))
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1}, "ckpt.pt")
    restored = nn.Linear(4, 4)
    restored.load_state_dict(torch.load("ckpt.pt")["model"])
"""),
        id="trp304",
    ),  # the save site names one model state_dict entry: safe
    pytest.param(
        "TRP304",
        "unsafe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    ckpt = torch.load("ckpt.pt")
    model.load_state_dict(ckpt)
    print(ckpt["epoch"])
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    ckpt = torch.load("ckpt.pt")
    model.load_state_dict(ckpt["model"])
    print(ckpt["epoch"])
"""),
        id="trp304_unsafe",
    ),  # no save site known: 'model' is a guess, unsafe
    pytest.param(
        "TRP305",
        "unsafe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    sd = torch.load("weights.pt")
    model.load_state_dict(sd, strict=False)  # old layout
    result = model.load_state_dict(sd, strict=False)
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import warnings

    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    sd = torch.load("weights.pt")
    missing_keys, unexpected_keys = model.load_state_dict(sd, strict=False)  # old layout
    if missing_keys or unexpected_keys:
        warnings.warn(f"model.load_state_dict: missing keys {missing_keys}, unexpected keys {unexpected_keys}")
    result = model.load_state_dict(sd, strict=False)
    if result.missing_keys or result.unexpected_keys:
        warnings.warn(f"model.load_state_dict: missing keys {result.missing_keys}, unexpected keys {result.unexpected_keys}")
"""),  # noqa: E501 - the fix writes that line whole
        id="trp305",
    ),  # a discarded result is kept and checked; a result never read is checked where it is
    pytest.param(
        "TRP306",
        "unsafe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    net = nn.Linear(4, 4)
    torch.save(nn.DataParallel(net).state_dict(), "dp.pt")
    plain = nn.Linear(4, 4)
    plain.load_state_dict(torch.load("dp.pt"))
    sd = torch.load("dp.pt")
    plain.load_state_dict(sd)
    wrapped = nn.DataParallel(nn.Linear(4, 4))
    torch.save(net.state_dict(), "plain.pt")
    wrapped.load_state_dict(torch.load("plain.pt"))
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    net = nn.Linear(4, 4)
    torch.save(nn.DataParallel(net).state_dict(), "dp.pt")
    plain = nn.Linear(4, 4)
    state_dict = torch.load("dp.pt")
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(state_dict, "module.")
    plain.load_state_dict(state_dict)
    sd = torch.load("dp.pt")
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, "module.")
    plain.load_state_dict(sd)
    wrapped = nn.DataParallel(nn.Linear(4, 4))
    torch.save(net.state_dict(), "plain.pt")
    wrapped.module.load_state_dict(torch.load("plain.pt"))
"""),
        id="trp306",
    ),  # strip the prefix of a name or of a loaded expression; a wrapper loads into .module
    pytest.param(
        "TRP101",
        "unsafe",
        textwrap.dedent('''\
    """Train."""
    from torch import nn

    model = nn.Linear(4, 4)
    other = nn.Linear(4, 4)
'''),
        textwrap.dedent('''\
    """Train."""
    from torch import nn
    import torch
    torch.manual_seed(0)

    model = nn.Linear(4, 4)
    other = nn.Linear(4, 4)
'''),
        id="trp101",
    ),  # after the imports, with `import torch` added; one seed for two constructions
    pytest.param(
        "TRP101",
        "unsafe",
        textwrap.dedent('''\
    import torch
    from torch import nn


    def main():
        """Entry point."""
        model = nn.Linear(4, 4)
        print(model(torch.ones(1, 4)))


    if __name__ == "__main__":
        main()
'''),
        textwrap.dedent('''\
    import torch
    from torch import nn


    def main():
        """Entry point."""
        torch.manual_seed(0)
        model = nn.Linear(4, 4)
        print(model(torch.ones(1, 4)))


    if __name__ == "__main__":
        main()
'''),
        id="trp101_main",
    ),  # at the top of main(), after its docstring
    pytest.param(
        "TRP103",
        "unsafe",
        textwrap.dedent("""\
    import torch as th
    from torch import nn

    th.cuda.manual_seed_all(0)
    model = nn.Linear(4, 4)
"""),
        textwrap.dedent("""\
    import torch as th
    from torch import nn
    th.manual_seed(0)

    th.cuda.manual_seed_all(0)
    model = nn.Linear(4, 4)
"""),
        id="trp103",
    ),  # the file's own name for torch
    pytest.param(
        "TRP201",
        "unsafe",
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    class Runner:
        def __init__(self):
            self.net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

        def sample(self, x):
            with torch.no_grad():
                return self.net(x)


    Runner().sample(torch.randn(2, 4))
"""),
        textwrap.dedent("""\
    import torch
    import torch.nn as nn

    torch.manual_seed(0)


    class Runner:
        def __init__(self):
            self.net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

        def sample(self, x):
            self_net_was_training = self.net.training
            self.net.eval()
            with torch.no_grad():
                output = self.net(x)
                self.net.train(self_net_was_training)
                return output


    Runner().sample(torch.randn(2, 4))
"""),
        id="trp201_region_returns",
    ),  # the region ends in a return: the mode given back between computing the value and returning it
]


def _project(tmp_path: Path, source: str, name: str = "train.py", config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.torchlint-repro]\n{config}", encoding="utf-8")
    target = tmp_path / name
    target.write_text(source, encoding="utf-8")
    return target


def _fix(*args: str):
    return CliRunner().invoke(main, ["fix", *args])


@pytest.mark.parametrize(("code", "tier", "before", "after"), CASES)
def test_fix_rewrites_exactly(tmp_path: Path, code: str, tier: str, before: str, after: str) -> None:
    target = _project(tmp_path, before)
    assert code in {d.code for d in lint_file(target, Settings(cache=False))}
    result = _fix("--unsafe-fixes", str(target))
    assert target.read_text(encoding="utf-8") == after, result.output
    assert result.exit_code == 0, result.output  # nothing left: the fix silenced the linter
    assert compile(after, str(target), "exec")
    # idempotent: a second run finds nothing to fix and changes no byte
    again = _fix("--unsafe-fixes", str(target))
    assert again.exit_code == 0 and again.stderr == "fixed 0 findings\n"
    assert target.read_text(encoding="utf-8") == after


@pytest.mark.parametrize(("code", "tier", "before", "after"), CASES)
def test_unsafe_fixes_wait_for_the_flag(tmp_path: Path, code: str, tier: str, before: str, after: str) -> None:
    target = _project(tmp_path, before)
    result = _fix(str(target))
    if tier == "safe":
        assert target.read_text(encoding="utf-8") == after
    else:
        assert target.read_text(encoding="utf-8") == before
        assert "available with --unsafe-fixes" in result.stderr
        assert result.exit_code == 1


@pytest.mark.parametrize(("code", "tier", "before", "after"), CASES)
def test_noqa_is_honoured(tmp_path: Path, code: str, tier: str, before: str, after: str) -> None:
    """`# noqa` on every line of the file: no finding, so no fix, and the file keeps every byte."""
    source = "".join(
        line.rstrip("\n") + f"  # noqa: {code}\n" if line.strip() and '"""' not in line else line
        for line in before.splitlines(True)
    )
    target = _project(tmp_path, source)
    assert not [d for d in lint_file(target, Settings(cache=False)) if d.code == code]
    _fix("--unsafe-fixes", "--select", code, str(target))
    assert target.read_text(encoding="utf-8") == source


@pytest.mark.parametrize(("code", "tier", "before", "after"), CASES)
def test_ignore_and_select_choose_what_is_fixed(tmp_path: Path, code: str, tier: str, before: str, after: str) -> None:
    target = _project(tmp_path, before)
    # TRP305 reports the same strict=False load as TRP302 and its fix is the same edit
    _fix("--unsafe-fixes", "--ignore", "TRP302,TRP305" if code == "TRP302" else code, str(target))
    assert code in {d.code for d in lint_file(target, Settings(cache=False))}
    _fix("--unsafe-fixes", "--select", code, str(target))
    assert code not in {d.code for d in lint_file(target, Settings(cache=False))}


def test_check_diff_prints_changes_nothing_and_exits_1(tmp_path: Path) -> None:
    before, after = CASES[0].values[2], CASES[0].values[3]
    target = _project(tmp_path, before)
    result = CliRunner().invoke(main, ["check", "--diff", str(target)])
    assert result.exit_code == 1
    assert "+    model.eval()\n" in result.stdout and result.stdout.startswith(f"--- {target}\n+++ {target}\n")
    assert target.read_text(encoding="utf-8") == before
    target.write_text(after, encoding="utf-8")
    clean = CliRunner().invoke(main, ["check", "--diff", str(target)])
    assert clean.exit_code == 0 and clean.stdout == ""


def test_check_diff_shows_unsafe_fixes_only_with_the_flag(tmp_path: Path) -> None:
    before = CASES[1].values[2]
    target = _project(tmp_path, before)
    quiet = CliRunner().invoke(main, ["check", "--diff", str(target)])
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert "1 more fix available with --unsafe-fixes" in quiet.stderr
    loud = CliRunner().invoke(main, ["check", "--diff", "--unsafe-fixes", str(target)])
    assert loud.exit_code == 1 and "+    model.train()\n" in loud.stdout
    assert target.read_text(encoding="utf-8") == before


def test_check_fix_fixes_then_reports_what_is_left(tmp_path: Path) -> None:
    before, after = CASES[0].values[2], CASES[0].values[3]
    target = _project(tmp_path, before + "model = None\nmodel = torch.nn.Linear(2, 2).load_state_dict({})\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", "--fix", str(target)])
    assert result.exit_code == 1  # the TRP302 on a fresh model has no fix
    assert "TRP302" in result.stdout and "TRP201" not in result.stdout
    assert target.read_text(encoding="utf-8").startswith(after)


def test_files_without_findings_are_not_touched(tmp_path: Path) -> None:
    clean = CASES[0].values[3]
    target = _project(tmp_path, clean)
    before = target.stat()
    result = _fix("--unsafe-fixes", str(target))
    assert result.exit_code == 0 and result.stderr == "fixed 0 findings\n"
    assert target.read_bytes() == clean.encode() and target.stat().st_mtime_ns == before.st_mtime_ns


def test_the_seed_comes_from_the_fix_seed_option(tmp_path: Path) -> None:
    target = _project(tmp_path, "import torch\nmodel = torch.nn.Linear(2, 2)\n", config="fix-seed = 1234\n")
    _fix("--unsafe-fixes", str(target))
    assert (
        target.read_text(encoding="utf-8") == "import torch\ntorch.manual_seed(1234)\nmodel = torch.nn.Linear(2, 2)\n"
    )


def test_crlf_files_get_crlf_lines(tmp_path: Path) -> None:
    before, after = CASES[0].values[2], CASES[0].values[3]
    target = tmp_path / "train.py"
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    target.write_bytes(before.replace("\n", "\r\n").encode())
    _fix(str(target))
    assert target.read_bytes() == after.replace("\n", "\r\n").encode()


def test_a_fix_that_would_not_compile_is_refused(tmp_path: Path, monkeypatch) -> None:
    """Every plan is compiled with the fixes before it; one that breaks the file is dropped, the others stay."""
    from torchlint_repro import fixers
    from torchlint_repro.fixes import fix_source

    source = "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.eval\n"
    target = _project(tmp_path, source)
    diags = lint_file(target, Settings(cache=False))
    assert sorted(d.code for d in diags) == ["TRP101", "TRP202"]
    # `return` outside a function parses but does not compile: ast.parse alone would let it through
    monkeypatch.setitem(
        fixers.PLANNERS, "TRP101", lambda src, d: fixers.Plan(fixers.UNSAFE, (fixers.Insertion(0, 0, "return 1\n"),))
    )
    new, plan = fix_source(source, diags, unsafe=True)
    assert new == "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.eval()\n"
    assert [d.code for d in plan.fixed] == ["TRP202"]


def test_a_fix_in_a_notebook_cell_keeps_outputs_and_metadata(tmp_path: Path) -> None:
    cells = [
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {"tags": ["setup"]},
            "outputs": [],
            "source": [
                "import torch\n",
                "torch.manual_seed(0)\n",
                "model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))\n",
                "x = torch.randn(3, 2)",
            ],
        },
        {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {"scrolled": True},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": ["tensor([1.])\n"]}],
            "source": ["with torch.no_grad():\n", "    print(model(x))"],
        },
    ]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "run.ipynb"
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    result = _fix(str(path))
    assert result.exit_code == 0, result.output
    fixed = json.loads(path.read_text(encoding="utf-8"))
    cells[1]["source"] = ["model.eval()\n", "with torch.no_grad():\n", "    print(model(x))"]
    assert fixed == nb
    assert path.read_text(encoding="utf-8") == json.dumps(nb, indent=1) + "\n"


def test_verify_fixed_confirms_every_fixable_rule() -> None:
    """torch runs every bad fixture of every rule with a fix after `fix --unsafe-fixes`: each one
    behaves as its good twin and lints clean."""
    pytest.importorskip("torch")
    from torchlint_repro.rules import ALL_RULES

    result = CliRunner().invoke(main, ["verify", "--fixed", "--format", "json", str(FIXTURES)])
    report = json.loads(result.stdout)
    failing = [
        (r["code"], f["name"], f["verdict"], f["reasons"], [run["error"] for run in f["runtime"]["runs"]])
        for r in report["rules"]
        for f in r["fixtures"]
        if f["verdict"] not in ("confirmed", "skipped")
    ]
    assert result.exit_code == 0, (failing, report["summary"])
    confirmed = {
        r["code"]
        for r in report["rules"]
        if r["fixtures"] and all(f["verdict"] in ("confirmed", "skipped") for f in r["fixtures"])
    }
    assert confirmed == {r.code for r in ALL_RULES if r.fix}


def test_inserted_lines_take_the_files_line_endings(tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    target.write_bytes(b"from torch import nn\r\nmodel = nn.Linear(2, 2)\r\n")
    _fix("--unsafe-fixes", str(target))
    assert (
        target.read_bytes()
        == b"from torch import nn\r\nimport torch\r\ntorch.manual_seed(0)\r\nmodel = nn.Linear(2, 2)\r\n"
    )


def test_an_added_import_comes_before_its_first_use(tmp_path: Path) -> None:
    """`import warnings` after the imports that precede the load, not after a later one it would follow."""
    before = (
        "import torch\nimport torch.nn as nn\ntorch.manual_seed(0)\nmodel = nn.Linear(4, 4)\n"
        'model.load_state_dict(torch.load("w.pt"), strict=False)\nimport os\nprint(os.sep)\n'
    )
    target = _project(tmp_path, before)
    _fix("--unsafe-fixes", str(target))
    assert target.read_text(encoding="utf-8") == (
        "import torch\nimport torch.nn as nn\nimport warnings\ntorch.manual_seed(0)\nmodel = nn.Linear(4, 4)\n"
        'missing_keys, unexpected_keys = model.load_state_dict(torch.load("w.pt"), strict=False)\n'
        "if missing_keys or unexpected_keys:\n"
        '    warnings.warn(f"model.load_state_dict: missing keys {missing_keys}, unexpected keys {unexpected_keys}")\n'
        "import os\nprint(os.sep)\n"
    )


def test_the_seed_in_main_imports_torch_at_the_top(tmp_path: Path) -> None:
    before = (
        "from torch import nn\n\n\ndef main():\n    model = nn.Linear(2, 2)\n\n\n"
        'if __name__ == "__main__":\n    main()\n'
    )
    target = _project(tmp_path, before)
    _fix("--unsafe-fixes", str(target))
    assert target.read_text(encoding="utf-8") == before.replace(
        "nn\n\n\ndef main():\n", "nn\nimport torch\n\n\ndef main():\n    torch.manual_seed(0)\n"
    )


def test_two_caller_models_in_one_function_get_one_restore_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    """Each restore is a fix of its own: the second model's would share the first's rewritten return, so it
    waits, and on the next run `output` is taken: no fix rather than a half one. A value over several
    lines keeps its text."""
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        torch.manual_seed(0)
        encoder = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        decoder = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))


        @torch.no_grad()
        def evaluate(x):
            return decoder(
                encoder(x))


        def step(x):
            optimizer = torch.optim.SGD([*encoder.parameters(), *decoder.parameters()], lr=0.1)
            loss = decoder(encoder(x)).sum()
            loss.backward()
            optimizer.step()


        step(torch.randn(2, 4))
        print(evaluate(torch.randn(2, 4)))
        step(torch.randn(2, 4))
    """)
    target = _project(tmp_path, before)
    assert sorted(d.code for d in lint_file(target, Settings(cache=False))) == ["TRP201", "TRP201"]
    _fix("--unsafe-fixes", str(target))
    after = before.replace(
        """    return decoder(
        encoder(x))
""",
        """    decoder_was_training = decoder.training
    decoder.eval()
    output = decoder(
        encoder(x))
    decoder.train(decoder_was_training)
    return output
""",
    )
    assert target.read_text(encoding="utf-8") == after
    again = _fix("--unsafe-fixes", str(target))
    assert again.stderr == "fixed 0 findings\n" and target.read_text(encoding="utf-8") == after
    assert [d.code for d in lint_file(target, Settings(cache=False))] == ["TRP201"]  # encoder: left, reported


def test_two_models_restored_in_one_region_keep_their_own_modes(tmp_path: Path) -> None:
    """Two models a method runs under no_grad, each given its mode back: one flag each. With one shared
    `was_training` the first model was put back in the second's mode (trial 10)."""
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn


        class Agent:
            def __init__(self):
                torch.manual_seed(0)
                self.a = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                self.b = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

            def peek(self, x):
                with torch.no_grad():
                    print(self.a(x), self.b(x))


        agent = Agent()
        agent.b.train()
        agent.peek(torch.randn(2, 4))
    """)
    target = _project(tmp_path, before)
    result = _fix("--unsafe-fixes", str(target))
    assert target.read_text(encoding="utf-8") == before.replace(
        """        with torch.no_grad():
            print(self.a(x), self.b(x))
""",
        """        self_a_was_training = self.a.training
        self.a.eval()
        self_b_was_training = self.b.training
        self.b.eval()
        with torch.no_grad():
            print(self.a(x), self.b(x))
        self.a.train(self_a_was_training)
        self.b.train(self_b_was_training)
""",
    )
    assert result.stderr == "fixed 2 findings\n" and result.exit_code == 0, result.output


def test_a_flag_names_the_whole_expression_so_a_global_of_the_same_name_keeps_its_own(tmp_path: Path) -> None:
    """`self.a` and a global `a` restored in one region: `self_a_was_training` and `a_was_training` (the
    review of 33b929e found the two sharing `a_was_training`)."""
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        torch.manual_seed(0)
        a = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))


        class Agent:
            def __init__(self):
                self.a = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

            def peek(self, x):
                with torch.no_grad():
                    print(self.a(x), a(x))


        agent = Agent()
        agent.peek(torch.randn(2, 4))
    """)
    target = _project(tmp_path, before)
    result = _fix("--unsafe-fixes", str(target))
    fixed = target.read_text(encoding="utf-8")
    assert "        self_a_was_training = self.a.training\n        self.a.eval()\n" in fixed, result.output
    assert "        a_was_training = a.training\n        a.eval()\n" in fixed
    assert "        self.a.train(self_a_was_training)\n" in fixed and "        a.train(a_was_training)\n" in fixed


def test_a_finding_whose_line_another_fix_rewrote_is_not_counted_fixed(tmp_path: Path) -> None:
    """Two models in one `return`: the first's fix rewrites the line (`output = ...`), the second's waits. The
    second's finding moved with its line; the count says one was fixed, and it is still reported."""
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn


        class Agent:
            def __init__(self):
                torch.manual_seed(0)
                self.a = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                self.b = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

            def peek(self, x):
                with torch.no_grad():
                    return self.a(x) + self.b(x)


        agent = Agent()
        agent.b.train()
        print(agent.peek(torch.randn(2, 4)))
    """)
    target = _project(tmp_path, before)
    result = _fix("--unsafe-fixes", str(target))
    assert result.stderr == "fixed 1 finding\n" and result.exit_code == 1, result.output
    left = lint_file(target, Settings(cache=False))
    assert [(d.code, d.line, d.col) for d in left] == [("TRP201", 15, 33)]


def test_a_fix_counts_when_an_unfixed_finding_reads_like_it_elsewhere(tmp_path: Path) -> None:
    """Two functions with the line `out = model(x)`: one fixable, one not (it returns from inside the region).
    The unfixed finding is matched first, so the fixed one counts and the file is written (the review of 33b929e
    found "fixed 0 findings" and the file left as it was)."""
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn


        def evaluate(model, x):
            with torch.no_grad():
                out = model(x)
            return out


        def evaluate_checked(model, x):
            with torch.no_grad():
                out = model(x)
                if out.isnan().any():
                    return None
            return out


        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        net.train()
        print(evaluate_checked(net, torch.ones(1, 4)))
        print(evaluate(net, torch.ones(1, 4)))
    """)
    target = _project(tmp_path, before)
    result = _fix("--unsafe-fixes", str(target))
    assert result.stderr == "fixed 1 finding\n", result.output
    assert target.read_text(encoding="utf-8") == before.replace(
        """def evaluate(model, x):
    with torch.no_grad():
        out = model(x)
    return out
""",
        """def evaluate(model, x):
    model_was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train(model_was_training)
    return out
""",
    )


def test_no_seed_fix_for_a_construction_reached_from_another_file(tmp_path: Path) -> None:
    """A seed inserted into the module that builds the model would run when it is imported: no fix there."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "nets.py").write_text("import torch.nn as nn\n\n\ndef build():\n    return nn.Linear(2, 2)\n")
    (tmp_path / "main.py").write_text(
        "import torch\nfrom nets import build\n\nbuild()(torch.ones(1, 2)).sum().backward()\n"
    )
    (diag,) = [d for d in lint_file(tmp_path / "nets.py", Settings(cache=False)) if d.code == "TRP101"]
    assert "reached from main.py:4" in diag.message and diag.fix is None


def test_eval_goes_after_the_binding_of_the_model_in_an_inference_function(tmp_path: Path) -> None:
    """`evaluate()` is the region, but its model is bound in it: `net.eval()` at the top of the function
    would run before `net` exists (UnboundLocalError). It goes right after the binding."""
    before = textwrap.dedent("""\
        import torch, torch.nn as nn
        def evaluate():
            net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
            y = net(torch.randn(2, 4))
            print(y)
    """)
    target = _project(tmp_path, before)
    assert [(d.code, d.line, d.col) for d in lint_file(target, Settings(cache=False))] == [("TRP201", 4, 8)]
    result = _fix("--unsafe-fixes", str(target))
    assert target.read_text(encoding="utf-8") == before.replace("(0.5))\n", "(0.5))\n    net.eval()\n"), result.output
    assert (result.exit_code, result.stderr) == (0, "fixed 1 finding\n")
    assert lint_file(target, Settings(cache=False)) == []


def test_eval_goes_after_a_binding_inside_the_region(tmp_path: Path) -> None:
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        torch.manual_seed(0)


        def main():
            x = torch.randn(2, 4)
            with torch.no_grad():
                if x.sum() > 0:
                    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                else:
                    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
                print(model(x))


        main()
    """)
    target = _project(tmp_path, before)
    assert [(d.code, d.line, d.col) for d in lint_file(target, Settings(cache=False))] == [("TRP201", 14, 14)]
    result = _fix(str(target))
    assert target.read_text(encoding="utf-8") == before.replace(
        "        print(model(x))\n", "        model.eval()\n        print(model(x))\n"
    ), result.output
    assert (result.exit_code, result.stderr) == (0, "fixed 1 finding\n")


def test_a_fix_that_leaves_its_finding_is_not_counted_nor_written(tmp_path: Path, monkeypatch) -> None:
    """The count is what linting the fixed text shows gone, and the exit status follows `fix --help`: 1
    while findings remain. A fix that removes nothing (here a planner that puts the mode before the
    model's binding, as the TRP201 fix once did) leaves the file as it was."""
    from torchlint_repro import fixers

    def too_early(src, d):  # `net.eval()` first in the function, before `net` is bound
        fn = src.chain(d)[1]
        return fixers.Plan(fixers.SAFE, (src.before(fn.body[0], f"{d.fix.args[0]}.eval()"),))

    monkeypatch.setitem(fixers.PLANNERS, "TRP201", too_early)
    before = textwrap.dedent("""\
        import torch, torch.nn as nn
        def evaluate():
            net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
            y = net(torch.randn(2, 4))
            print(y)
    """)
    target = _project(tmp_path, before)
    result = _fix(str(target))
    assert (result.exit_code, result.stderr) == (1, "fixed 0 findings\n")
    assert target.read_text(encoding="utf-8") == before


def test_neighbouring_regions_share_one_eval_and_one_restore(tmp_path: Path) -> None:
    """Regions of one model next to each other get one `eval()` before them and one restore after them:
    no `was_training` block repeated back to back, no `train()` undone by the next line's `eval()`."""
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        torch.manual_seed(0)
        generator = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        discriminator = nn.Sequential(nn.Linear(4, 1), nn.Dropout(0.5))


        def show(g, z):
            with torch.no_grad():
                a = g(z)
            with torch.no_grad():
                b = g(z)
            print(a, b)


        opt = torch.optim.SGD([*generator.parameters(), *discriminator.parameters()], lr=0.1)
        for epoch in range(3):
            loss = discriminator(generator(torch.randn(2, 4))).sum()
            loss.backward()
            opt.step()
            with torch.no_grad():
                fake_score = discriminator(generator(torch.randn(2, 4)))
            with torch.no_grad():
                real_score = discriminator(torch.randn(2, 4))
            print(fake_score, real_score)
            show(generator, torch.randn(2, 4))
    """)
    target = _project(tmp_path, before)
    assert [(d.code, d.line, d.col) for d in lint_file(target, Settings(cache=False))] == [
        ("TRP201", 11, 12),
        ("TRP201", 13, 12),
        ("TRP201", 23, 21),
        ("TRP201", 23, 35),
        ("TRP201", 25, 21),
    ]
    result = _fix("--unsafe-fixes", str(target))
    after = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        torch.manual_seed(0)
        generator = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        discriminator = nn.Sequential(nn.Linear(4, 1), nn.Dropout(0.5))


        def show(g, z):
            g_was_training = g.training
            g.eval()
            with torch.no_grad():
                a = g(z)
            with torch.no_grad():
                b = g(z)
            g.train(g_was_training)
            print(a, b)


        opt = torch.optim.SGD([*generator.parameters(), *discriminator.parameters()], lr=0.1)
        for epoch in range(3):
            loss = discriminator(generator(torch.randn(2, 4))).sum()
            loss.backward()
            opt.step()
            discriminator.eval()
            generator.eval()
            with torch.no_grad():
                fake_score = discriminator(generator(torch.randn(2, 4)))
            generator.train()
            with torch.no_grad():
                real_score = discriminator(torch.randn(2, 4))
            discriminator.train()
            print(fake_score, real_score)
            show(generator, torch.randn(2, 4))
    """)
    assert target.read_text(encoding="utf-8") == after, result.output
    assert (result.exit_code, result.stderr) == (0, "fixed 5 findings\n")
    assert lint_file(target, Settings(cache=False)) == []


def test_no_restore_just_before_the_code_sets_the_mode_itself(tmp_path: Path) -> None:
    """`model.train()` after the region would be undone by the `model.eval()` that follows it: not
    written (the training step's own fix, TRP203's, puts `train()` where the training starts)."""
    before = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(3):
            model(torch.randn(2, 4)).sum().backward()
            opt.step()
            with torch.no_grad():
                print(model(torch.randn(2, 4)))
            model.eval()
            print(model(torch.randn(2, 4)).sum().item())
    """)
    target = _project(tmp_path, before)
    assert [(d.code, d.line, d.col) for d in lint_file(target, Settings(cache=False))] == [
        ("TRP203", 8, 4),
        ("TRP201", 11, 14),
    ]
    result = _fix("--unsafe-fixes", str(target))
    assert target.read_text(encoding="utf-8") == before.replace(
        "    model(torch.randn(2, 4)).sum()", "    model.train()\n    model(torch.randn(2, 4)).sum()"
    ).replace("    with torch.no_grad():\n", "    model.eval()\n    with torch.no_grad():\n"), result.output
    assert (result.exit_code, result.stderr) == (0, "fixed 2 findings\n")
