"""Configuration: [tool.torchlint-repro] found like ruff finds its own, select/ignore semantics, errors
that name what is wrong, exclude and per-file-ignores, --config, and flake8's side of the same settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from torchlint_repro.config import KNOWN_KEYS, ConfigError, Settings, SettingsResolver, settings_from_mapping
from torchlint_repro.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXE = BIN / "torchlint-repro"
# written out, not recomputed from `default_enabled`: a rule that changes its default fails here
DEFAULT_ON = {
    "TRP101",
    "TRP103",
    "TRP201",
    "TRP202",
    "TRP203",
    "TRP301",
    "TRP302",
    "TRP303",
    "TRP304",
    "TRP305",
    "TRP306",
    "TRP307",
    "TRP308",
    "TRP900",
    "TRP901",
}
# a deliberate optional seed; a model only looked at; inference on a parameter without .eval()
DEFAULT_OFF = {"TRP102", "TRP104", "TRP204"}

# TRP101 at 4:9 (built before the seed), TRP201 at 7:5 (a forward under no_grad, never in eval mode)
HAZARDS = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
torch.manual_seed(0)
with torch.no_grad():
    model(torch.ones(1, 4))
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def findings(*args: str, cwd: Path) -> list[tuple[str, int, str]]:
    proc = run("check", "--no-cache", "--format", "json", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return [(d["path"], d["line"], d["code"]) for d in json.loads(proc.stdout)]


def project(tmp_path: Path, table: str, files: dict[str, str] | None = None) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'p'\n\n[tool.torchlint-repro]\n{table}\n")
    for rel, text in (files or {"train.py": HAZARDS}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_the_hazards_file_as_a_baseline(tmp_path: Path) -> None:
    project(tmp_path, "")
    assert findings(".", cwd=tmp_path) == [("train.py", 4, "TRP101"), ("train.py", 7, "TRP201")]


# ------------------------------------------------------------------------------ selection semantics
@pytest.mark.parametrize(
    "kwargs, on, off",
    [
        ({}, {"TRP101", "TRP201"}, {"TRP102", "TRP204"}),
        ({"select": ("TRP2",)}, {"TRP201", "TRP202", "TRP203", "TRP204"}, {"TRP101", "TRP301"}),
        ({"select": ("TRP2",), "ignore": ("TRP201",)}, {"TRP202"}, {"TRP201", "TRP101"}),
        # the more specific wins, whichever of select and ignore it is in
        ({"select": ("TRP201",), "ignore": ("TRP2",)}, {"TRP201"}, {"TRP202"}),
        ({"select": ("TRP2",), "ignore": ("TRP2",)}, set(), {"TRP201"}),  # a tie goes to ignore
        ({"extend_select": ("TRP102",)}, {"TRP101", "TRP102"}, {"TRP204"}),
        ({"ignore": ("TRP",)}, set(), {"TRP101", "TRP900"}),
        ({"select": ("TRP",)}, {"TRP102", "TRP204", "TRP900"}, set()),
        # the command line is a layer above the file: its ignore beats the file's more specific select
        ({"select": ("TRP201",), "cli_ignore": ("TRP2",)}, set(), {"TRP201"}),
        ({"select": ("TRP201",), "cli_select": ("TRP3",)}, {"TRP301"}, {"TRP201"}),
        ({"ignore": ("TRP1",), "cli_extend_select": ("TRP101",)}, {"TRP101"}, {"TRP103"}),
    ],
)
def test_select_and_ignore_prefixes(kwargs, on, off) -> None:
    enabled = Settings(**kwargs).enabled_codes()
    assert on <= enabled and not (off & enabled)


def test_defaults_are_the_default_enabled_rules() -> None:
    assert Settings().enabled_codes() == DEFAULT_ON
    assert {r.code for r in ALL_RULES} == DEFAULT_ON | DEFAULT_OFF  # a new rule must choose its default here
    assert Settings(select=("TRP",)).enabled_codes() == DEFAULT_ON | DEFAULT_OFF


def test_per_file_ignores() -> None:
    table = {"tests/*": ["TRP2"], "scripts/train_*.py": "TRP101, TRP102", "__init__.py": ["TRP"]}
    s = settings_from_mapping({"per-file-ignores": table}).with_root("/r")
    assert "TRP201" not in s.enabled_codes("/r/tests/unit/test_a.py")
    assert "TRP101" in s.enabled_codes("/r/tests/unit/test_a.py")
    assert "TRP101" not in s.enabled_codes("/r/scripts/train_big.py")
    assert "TRP101" in s.enabled_codes("/r/scripts/eval.py")
    assert s.enabled_codes("/r/pkg/__init__.py") == frozenset()
    assert "TRP201" in s.enabled_codes("/r/src/tests_helpers.py")


def test_per_file_ignores_through_the_cli(tmp_path: Path) -> None:
    project(
        tmp_path, 'per-file-ignores = { "scripts/*" = ["TRP201"] }', {"train.py": HAZARDS, "scripts/run.py": HAZARDS}
    )
    assert findings(".", cwd=tmp_path) == [
        ("scripts/run.py", 4, "TRP101"),
        ("train.py", 4, "TRP101"),
        ("train.py", 7, "TRP201"),
    ]


# ------------------------------------------------------------------------------ errors
def test_unknown_key_exits_2_and_names_it(tmp_path: Path) -> None:
    project(tmp_path, 'selct = ["TRP1"]')
    proc = run("check", "--no-cache", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown key(s) in [tool.torchlint-repro]: selct" in proc.stderr
    assert str(tmp_path / "pyproject.toml") in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "table, message",
    [
        ('select = ["TRP999"]', "unknown rule code or prefix 'TRP999'"),
        ('ignore = ["E501"]', "unknown rule code or prefix 'E501'"),
        ('per-file-ignores = { "x.py" = ["TRP42"] }', "unknown rule code or prefix 'TRP42'"),
        ("select = 3", "'select' must be a list of strings"),
        ("cache = 'yes'", "'cache' must be true or false"),
        ('per-file-ignores = ["x.py"]', "'per-file-ignores' must be a table"),
        ("select = [", "cannot read TOML"),
    ],
)
def test_bad_values_exit_2(tmp_path: Path, table: str, message: str) -> None:
    project(tmp_path, table)
    proc = run("check", "--no-cache", "train.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_unknown_code_on_the_command_line(tmp_path: Path) -> None:
    project(tmp_path, "")
    proc = run("check", "--no-cache", "--extend-select", "TRP1,TRP77", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown rule code or prefix 'TRP77' in '--extend-select'" in proc.stderr


def test_lower_case_codes_are_accepted(tmp_path: Path) -> None:
    project(tmp_path, 'select = ["trp2"]')
    assert findings(".", cwd=tmp_path) == [("train.py", 7, "TRP201")]
    assert findings("--select", "trp1", ".", cwd=tmp_path) == [("train.py", 4, "TRP101")]


def test_every_documented_key_is_known() -> None:
    assert KNOWN_KEYS == {
        "select",
        "ignore",
        "extend-select",
        "per-file-ignores",
        "seed-functions",
        "inference-functions",
        "exclude",
        "source-roots",
        "cache",
        "cache-dir",
        "fix-seed",
    }
    with pytest.raises(ConfigError, match="unknown key"):
        settings_from_mapping({"seed_functions": []})  # snake_case is not the spelling


# ------------------------------------------------------------------------------ finding the configuration
def test_nearest_configuration_per_file(tmp_path: Path) -> None:
    project(tmp_path, 'select = ["TRP1"]', {"train.py": HAZARDS, "sub/train.py": HAZARDS})
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.torchlint-repro]\nselect = ["TRP2"]\n')
    # a pyproject.toml without the table does not count
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pyproject.toml").write_text("[project]\nname = 'o'\n")
    (tmp_path / "other" / "train.py").write_text(HAZARDS)
    assert findings(".", cwd=tmp_path) == [
        ("other/train.py", 4, "TRP101"),
        ("sub/train.py", 7, "TRP201"),
        ("train.py", 4, "TRP101"),
    ]
    # from inside the sub-project, and for one file named directly
    assert findings("train.py", cwd=tmp_path / "sub") == [("train.py", 7, "TRP201")]
    assert findings("sub/train.py", cwd=tmp_path) == [("sub/train.py", 7, "TRP201")]


def test_config_option_applies_one_file_to_everything(tmp_path: Path) -> None:
    project(tmp_path, 'select = ["TRP1"]', {"train.py": HAZARDS, "sub/train.py": HAZARDS})
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.torchlint-repro]\nselect = ["TRP2"]\n')
    (tmp_path / "ci.toml").write_text('[tool.torchlint-repro]\nselect = ["TRP201"]\nexclude = ["sub"]\n')
    assert findings("--config", "ci.toml", ".", cwd=tmp_path) == [("train.py", 7, "TRP201")]
    proc = run("check", "--config", "missing.toml", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "missing.toml: no such configuration file" in proc.stderr


def test_exclude_is_honoured_by_walks(tmp_path: Path) -> None:
    project(
        tmp_path,
        'exclude = ["legacy", "gen/*.py", "src/vendored"]',
        {
            "src/pkg/a.py": HAZARDS,
            "src/pkg/legacy/b.py": HAZARDS,  # a name anywhere below the walk
            "gen/c.py": HAZARDS,  # a path relative to the pyproject.toml's folder
            "gen/keep/d.py": HAZARDS,  # `*` crosses folders (flake8's fnmatch)
            "src/vendored/e.py": HAZARDS,
            "tools/vendored/f.py": HAZARDS,  # anchored: only src/vendored
        },
    )
    assert sorted({p for p, _, _ in findings(".", cwd=tmp_path)}) == ["src/pkg/a.py", "tools/vendored/f.py"]
    # walking from a subfolder applies the same configuration
    assert sorted({p for p, _, _ in findings("src", cwd=tmp_path)}) == ["src/pkg/a.py"]
    # a file named explicitly is linted anyway, unless --force-exclude
    assert findings("gen/c.py", cwd=tmp_path) != []
    assert findings("--force-exclude", "gen/c.py", "src/pkg/legacy/b.py", "src/pkg/a.py", cwd=tmp_path) == [
        ("src/pkg/a.py", 4, "TRP101"),
        ("src/pkg/a.py", 7, "TRP201"),
    ]


def test_resolver_caches_lookups(tmp_path: Path) -> None:
    project(tmp_path, 'select = ["TRP1"]', {"a/b/c/x.py": HAZARDS})
    resolver = SettingsResolver()
    first = resolver.for_path(tmp_path / "a" / "b" / "c" / "x.py")
    assert first.select == ("TRP1",) and first.root == str(tmp_path.resolve())
    assert resolver.for_dir(tmp_path / "a") is first


def test_seed_and_inference_functions(tmp_path: Path) -> None:
    code = """\
import torch
import torch.nn as nn
from tools import seed_all


def score(model, x):
    return model(x)


seed_all(0)
model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
print(score(model, torch.ones(1, 4)))
"""
    project(tmp_path, "", {"train.py": code})
    # tools is not in the project: its seeding cannot be seen; `score` is not an inference name
    assert findings(".", cwd=tmp_path) == [("train.py", 11, "TRP101")]
    project(tmp_path, 'seed-functions = ["tools.seed_all"]\ninference-functions = ["score"]', {"train.py": code})
    assert findings(".", cwd=tmp_path) == [("train.py", 7, "TRP201")]


def test_source_roots_resolve_imports_a_pythonpath_would(tmp_path: Path) -> None:
    encoder = "import torch.nn as nn\n\n\nclass Encoder(nn.Module):\n    def __init__(self):\n" + (
        "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n"
    )
    train = (
        "import torch\nfrom encoder import Encoder\n\nmodel = Encoder()\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    )
    files = {"src/transformer/encoder.py": encoder, "src/bin/train.py": train}
    project(tmp_path, "", files)
    # run with PYTHONPATH=src/transformer: nothing on the import path finds `encoder`, its class is unknown
    assert findings(".", cwd=tmp_path) == []
    project(tmp_path, 'source-roots = ["src/transformer"]', files)
    assert findings(".", cwd=tmp_path) == [("src/bin/train.py", 4, "TRP101")]
    # relative to the configuration's folder, wherever the run starts
    assert findings("train.py", cwd=tmp_path / "src" / "bin") == [("train.py", 4, "TRP101")]


# ------------------------------------------------------------------------------ flake8
def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flake8"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_flake8_registers_the_trp_options(tmp_path: Path) -> None:
    help_text = flake8("--help", cwd=tmp_path).stdout
    assert "--trp-seed-functions" in help_text and "--trp-inference-functions" in help_text


def test_flake8_select_ignore_and_per_file_ignores_apply_to_trp_codes(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(HAZARDS)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "run.py").write_text(HAZARDS)
    out = flake8("--select", "TRP", "train.py", cwd=tmp_path).stdout.splitlines()
    assert [ln.split(" ")[0] + " " + ln.split(" ")[1] for ln in out] == ["train.py:4:9: TRP101", "train.py:7:5: TRP201"]
    out = flake8("--select", "TRP", "--extend-ignore", "TRP201", "train.py", cwd=tmp_path).stdout
    assert "TRP201" not in out and "TRP101" in out
    out = flake8("--select", "TRP", "--per-file-ignores", "scripts/*:TRP101", ".", cwd=tmp_path).stdout
    assert "scripts/run.py:4:9: TRP101" not in out and "./train.py:4:9: TRP101" in out


def test_flake8_trp_options_from_its_config(tmp_path: Path) -> None:
    code = tmp_path / "x.py"
    code.write_text(
        "import torch\nimport torch.nn as nn\nfrom tools import seed_all\n\nseed_all(0)\nmodel = nn.Linear(2, 2)\n"
    )
    assert "TRP101" in flake8("--select", "TRP", "x.py", cwd=tmp_path).stdout
    (tmp_path / "setup.cfg").write_text("[flake8]\ntrp-seed-functions = tools.seed_all\n")
    assert flake8("--select", "TRP", "x.py", cwd=tmp_path).stdout == ""
