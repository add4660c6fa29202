"""flake8 integration, through real flake8 processes: the plugin reports exactly what `check` reports.

Every run gets its own TORCHLINT_CACHE_DIR (the plugin and the CLI both use the result cache) and runs
flake8 with ``--isolated`` so that no configuration file around the temporary project counts (except in
the test that is about a configuration file).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from torchlint_repro import __version__

BIN = Path(sys.executable).parent
FLAKE8 = BIN / "flake8"
CHECK = BIN / "torchlint-repro"

HAZARDS = '''\
"""Hazards for the flake8 integration tests."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.drop = nn.Dropout(p=0.5)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def embed_batch(model, batch):
    with torch.no_grad():
        return model(batch)


def encode(net, batch):
    with torch.no_grad():
        return net(batch)


COMMANDS = {"embed": embed_batch, "encode": encode}

model = Net()
first = Net()  # noqa
second = Net()  # noqa: TRP101
third = Net()  # noqa: E501
fourth = Net()  # noqa:TRP1
fifth = nn.Sequential(
    nn.Linear(4, 2),
)  # noqa: TRP101
parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=None)
args = parser.parse_args()
if args.seed is not None:
    torch.manual_seed(args.seed)
maybe = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))
loss = F.cross_entropy(model(x), y)
optimizer.zero_grad()
loss.backward()
optimizer.step()
model.eval
with torch.no_grad():
    out = model(x)
print(COMMANDS["embed"](maybe, x), out)
'''

# (line, printed column, code) of every default-enabled finding in HAZARDS. The bare `noqa`,
# `noqa: TRP101` and `noqa:TRP1` lines are silenced; `noqa: E501` names another code, so line 35
# is reported; a noqa on the closing line of a bracketed statement does not cover its first line (37)
# in flake8 either (flake8 joins only the lines of one multi-line *token*).
HAZARDS_DEFAULT = [
    (22, 16, "TRP201"),
    (32, 9, "TRP101"),
    (35, 9, "TRP101"),
    (37, 9, "TRP101"),
    (52, 1, "TRP202"),
    (54, 11, "TRP201"),
]
# the off-by-default rules: the seed under `if args.seed is not None` (TRP102) and `encode`, a
# parameter run under no_grad that no caller puts in eval mode (TRP204)
HAZARDS_OFF = [(27, 16, "TRP204"), (45, 9, "TRP102")]

UTILS = """\
import torch


def set_seed(seed):
    torch.manual_seed(seed)
"""
TRAIN = """\
import torch
from torch import nn

from utils import set_seed


def main():
    set_seed(0)
    model = nn.Linear(4, 2)
    print(model(torch.ones(1, 4)))


if __name__ == "__main__":
    main()
"""
TRAIN_UNSEEDED_MSG = "TRP101 `Linear` is built before torch is seeded: its random init differs on every run"

LINE_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<msg>.*)$")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0"\n\n[tool.torchlint-repro]\n')
    (root / "src" / "hazards.py").write_text(HAZARDS)
    (root / "src" / "utils.py").write_text(UTILS)
    (root / "src" / "train.py").write_text(TRAIN)
    return root


def _env(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHLINT_", "FLAKE8"))}
    env["TORCHLINT_CACHE_DIR"] = str(cache)
    env["NO_COLOR"] = "1"
    return env


def flake8(*args: str, cwd: Path, cache: Path, stdin: str | None = None, isolated: bool = True):
    cmd = [str(FLAKE8), *(["--isolated"] if isolated else []), *args]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, input=stdin, env=_env(cache), timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def check(*args: str, cwd: Path, cache: Path):
    proc = subprocess.run(
        [str(CHECK), "check", *args], cwd=cwd, capture_output=True, text=True, env=_env(cache), timeout=180
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def findings(stdout: str, prefix: str = "TRP") -> list[tuple[str, int, int, str, str]]:
    """(path, line, col, code, message) of every line of flake8's / check's default text format."""
    out = []
    for ln in stdout.splitlines():
        m = LINE_RE.match(ln)
        assert m, f"unexpected output line: {ln!r}"
        if m["code"].startswith(prefix):
            out.append((os.path.normpath(m["path"]), int(m["line"]), int(m["col"]), m["code"], m["msg"]))
    return sorted(out)


def keys(found) -> list[tuple[int, int, str]]:
    return [(line, col, code) for _, line, col, code, _ in found]


# ------------------------------------------------------------------------------ registration
def test_flake8_version_lists_the_plugin(tmp_path):
    proc = flake8("--version", cwd=tmp_path, cache=tmp_path / "c")
    assert proc.returncode == 0
    assert re.search(r"torchlint-repro:\s+" + re.escape(__version__), proc.stdout), proc.stdout


# ------------------------------------------------------------------------------ same findings as check
def test_file_folder_and_check_agree(project, tmp_path):
    cache = tmp_path / "cache"
    on_file = findings(flake8("src/hazards.py", cwd=project, cache=cache).stdout)
    assert keys(on_file) == HAZARDS_DEFAULT
    on_folder = findings(flake8(".", cwd=project, cache=cache).stdout)
    assert on_folder == on_file  # train.py and utils.py are clean: the folder adds nothing
    cli = check("src/hazards.py", cwd=project, cache=tmp_path / "cache-cli")
    assert cli.returncode == 1
    assert findings(cli.stdout) == on_file  # path, line, printed column, code and message
    cli_folder = check(".", cwd=project, cache=tmp_path / "cache-cli")
    assert findings(cli_folder.stdout) == on_file


def test_cold_and_warm_flake8_runs_agree(project, tmp_path):
    cache = tmp_path / "cache"
    cold = flake8("src", cwd=project, cache=cache)
    warm = flake8("src", cwd=project, cache=cache)
    no_cache = flake8("--trp-no-cache", "src", cwd=project, cache=tmp_path / "unused")
    assert findings(cold.stdout) == findings(warm.stdout) == findings(no_cache.stdout)
    assert keys(findings(cold.stdout)) == HAZARDS_DEFAULT
    assert not (tmp_path / "unused").exists()


def test_parallel_flake8_agrees(project, tmp_path):
    serial = flake8("-j1", "src", cwd=project, cache=tmp_path / "c1")
    parallel = flake8("-j2", "src", cwd=project, cache=tmp_path / "c2")
    assert findings(serial.stdout) == findings(parallel.stdout)
    assert keys(findings(parallel.stdout)) == HAZARDS_DEFAULT


def test_stdin_with_display_name_finds_the_project(project, tmp_path):
    # utils.set_seed seeds torch: clean, but only when the display name leads to the project
    named = flake8("--stdin-display-name", "src/train.py", "-", cwd=project, cache=tmp_path / "c", stdin=TRAIN)
    assert named.returncode == 0, named.stdout
    assert named.stdout == ""
    # the same source from stdin without a name: no project context, the helper is unknown
    # (and `set_seed`, which it cannot read, is named with the option to list it)
    anonymous = flake8("-", cwd=project, cache=tmp_path / "c", stdin=TRAIN)
    unknown_seeder = "; `utils.set_seed` (line 8) is not known to seed torch: if it does, list it in `seed-functions`"
    assert findings(anonymous.stdout) == [
        ("stdin", 9, 13, "TRP101", TRAIN_UNSEEDED_MSG.split(" ", 1)[1] + unknown_seeder)
    ]
    # a display name in a folder where no utils.py exists: no helper found either
    elsewhere = flake8("--stdin-display-name", "src/train.py", "-", cwd=tmp_path, cache=tmp_path / "c", stdin=TRAIN)
    assert keys(findings(elsewhere.stdout)) == [(9, 13, "TRP101")]
    # and on disk, flake8 and check agree that train.py is clean
    assert flake8("src/train.py", cwd=project, cache=tmp_path / "c").stdout == ""
    assert check("src/train.py", cwd=project, cache=tmp_path / "c").returncode == 0


def test_stdin_hazards_equal_file(project, tmp_path):
    on_file = findings(flake8("src/hazards.py", cwd=project, cache=tmp_path / "c").stdout)
    on_stdin = findings(
        flake8("--stdin-display-name", "src/hazards.py", "-", cwd=project, cache=tmp_path / "c2", stdin=HAZARDS).stdout
    )
    assert on_stdin == on_file


def test_stdin_edit_not_yet_saved_is_linted_not_the_file_on_disk(project, tmp_path):
    """An editor sends the buffer: a cached result for the saved file must not be served for it."""
    cache = tmp_path / "c"
    assert flake8("src/train.py", cwd=project, cache=cache).stdout == ""  # warms the cache for the saved file
    edited = TRAIN.replace("    set_seed(0)\n", "    pass\n")
    proc = flake8("--stdin-display-name", "src/train.py", "-", cwd=project, cache=cache, stdin=edited)
    assert keys(findings(proc.stdout)) == [(9, 13, "TRP101")]


# ------------------------------------------------------------------------------ off-by-default rules
SMOKE = """\
import torch
from torch import nn

if __name__ == "__main__":
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    print(net(torch.ones(1, 4)).shape)
    print(sum(p.numel() for p in net.parameters()))
"""


def test_a_model_only_looked_at_is_trp104_off_by_default_in_flake8(tmp_path):
    """Issue 14: a smoke test that prints a shape and a parameter count is silent by default in flake8 and
    `check` alike, and TRP104 when selected, at the construction."""
    cache = tmp_path / "c"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "s"\nversion = "0"\n')
    (tmp_path / "smoke.py").write_text(SMOKE)
    default = flake8("smoke.py", cwd=tmp_path, cache=cache)
    assert (default.returncode, default.stdout) == (0, "")
    assert check("smoke.py", cwd=tmp_path, cache=cache).stdout == ""
    selected = flake8("--extend-select", "TRP104", "smoke.py", cwd=tmp_path, cache=cache)
    assert keys(findings(selected.stdout)) == [(5, 11, "TRP104")]
    assert findings(check("--extend-select", "TRP104", "smoke.py", cwd=tmp_path, cache=cache).stdout) == findings(
        selected.stdout
    )


def test_off_by_default_rules_need_extend_select(project, tmp_path):
    cache = tmp_path / "c"
    default = flake8("src/hazards.py", cwd=project, cache=cache)
    assert not {"TRP102", "TRP204"} & {code for *_, code, _ in findings(default.stdout)}
    extended = flake8("--extend-select", "TRP102,TRP204", "src/hazards.py", cwd=project, cache=cache)
    assert keys(findings(extended.stdout)) == sorted(HAZARDS_DEFAULT + HAZARDS_OFF)
    cli = check("--extend-select", "TRP102,TRP204", "src/hazards.py", cwd=project, cache=cache)
    assert findings(cli.stdout) == findings(extended.stdout)
    cli_default = check("src/hazards.py", cwd=project, cache=cache)
    assert findings(cli_default.stdout) == findings(default.stdout)


def test_explicit_select_of_the_prefix_enables_everything_in_both(project, tmp_path):
    """flake8: an explicit `--select TRP` beats the plugin's extended default ignore; check does the same."""
    cache = tmp_path / "c"
    f8 = flake8("--select", "TRP", "src/hazards.py", cwd=project, cache=cache)
    assert keys(findings(f8.stdout)) == sorted(HAZARDS_DEFAULT + HAZARDS_OFF)
    cli = check("--select", "TRP", "src/hazards.py", cwd=project, cache=cache)
    assert findings(cli.stdout) == findings(f8.stdout)


# ------------------------------------------------------------------------------ noqa
NOQA = '''\
import torch
from torch import nn

a = nn.Linear(4, 2)
b = nn.Linear(4, 2)  # noqa
c = nn.Linear(4, 2)  # noqa: TRP101
d = nn.Linear(4, 2)  # noqa:TRP101,E501
e = nn.Linear(4, 2)  # noqa: TRP2
f = nn.Linear(4, 2)  # NOQA:trp101
g = nn.Linear(4, 2)  # noqa : TRP999
h = nn.Linear(4, 2)  # noqa:TRP1
i = nn.Linear(4, len("""
x"""))  # noqa: TRP101
torch.manual_seed(0)
'''


def test_noqa_is_honoured_identically(tmp_path):
    (tmp_path / "noqa_cases.py").write_text(NOQA)
    f8 = flake8("--select", "TRP101", "noqa_cases.py", cwd=tmp_path, cache=tmp_path / "c")
    cli = check("--select", "TRP101", "noqa_cases.py", cwd=tmp_path, cache=tmp_path / "c2")
    # `noqa : TRP999` (space before the colon) is a bare noqa in flake8's grammar; `noqa: TRP2` names
    # another family; codes in a noqa comment are case-sensitive in flake8 (`trp101` silences nothing);
    # the multi-line string makes lines 12-13 one noqa line in flake8
    assert keys(findings(f8.stdout)) == [(4, 5, "TRP101"), (8, 5, "TRP101"), (9, 5, "TRP101")]
    assert findings(cli.stdout) == findings(f8.stdout)


FILE_NOQA_BODY = "import torch\nfrom torch import nn\n\na = nn.Linear(4, 2){tail}\ntorch.manual_seed(0)\n"


@pytest.mark.parametrize(
    ("head", "tail", "expected"),
    [
        ("# flake8: noqa\n", "", []),  # the whole file
        ("# flake8: noqa: TRP101\n", "", []),  # flake8 ignores the file whatever codes follow
        ("    # FLAKE8= NOQA\n", "", []),
        ("#flake8: noqa\n", "", [(5, 5, "TRP101")]),  # flake8 wants "# flake8": not a file noqa
        ("", "  # flake8: noqa", [(4, 5, "TRP101")]),  # on a line with code: only a warning in flake8
    ],
    ids=["plain", "with-codes", "upper-indented", "no-space", "inline"],
)
def test_flake8_noqa_file_comment(tmp_path, head, tail, expected):
    (tmp_path / "whole.py").write_text(head + FILE_NOQA_BODY.format(tail=tail))
    f8 = flake8("--select", "TRP101", "whole.py", cwd=tmp_path, cache=tmp_path / "c")
    assert keys(findings(f8.stdout)) == expected
    cli = check("--select", "TRP101", "whole.py", cwd=tmp_path, cache=tmp_path / "c")
    assert findings(cli.stdout) == findings(f8.stdout)


def test_noqa_naming_another_trp_code_does_not_silence(tmp_path):
    """`# noqa: TRP201` on a TRP101 line silences nothing, in flake8 and in check alike."""
    (tmp_path / "other.py").write_text(
        "import torch\nfrom torch import nn\n\na = nn.Linear(4, 2)  # noqa: TRP201\ntorch.manual_seed(0)\n"
    )
    f8 = flake8("other.py", cwd=tmp_path, cache=tmp_path / "c")
    assert keys(findings(f8.stdout)) == [(4, 5, "TRP101")]
    cli = check("other.py", cwd=tmp_path, cache=tmp_path / "c")
    assert findings(cli.stdout) == findings(f8.stdout)


# ------------------------------------------------------------------------------ options
SEEDING = """\
from somelib import seed_all


def fix_seed(seed):
    seed_all(seed)
"""
SEEDED_TRAIN = """\
import torch
from torch import nn

from mypkg.seeding import fix_seed

fix_seed(0)
model = nn.Linear(4, 2)
print(model(torch.ones(1, 4)))
"""


@pytest.fixture()
def seed_project(tmp_path: Path) -> Path:
    root = tmp_path / "sp"
    (root / "mypkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "sp"\nversion = "0"\n')
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "seeding.py").write_text(SEEDING)
    (root / "train.py").write_text(SEEDED_TRAIN)
    return root


def test_trp_seed_functions_option(seed_project, tmp_path):
    cache = tmp_path / "c"
    plain = flake8("train.py", cwd=seed_project, cache=cache)
    assert keys(findings(plain.stdout)) == [(7, 9, "TRP101")]  # fix_seed calls something we cannot read
    listed = flake8("--trp-seed-functions", "mypkg.seeding.fix_seed", "train.py", cwd=seed_project, cache=cache)
    assert listed.returncode == 0 and listed.stdout == ""
    # the same through the configuration of each tool
    (seed_project / "setup.cfg").write_text("[flake8]\ntrp-seed-functions = mypkg.seeding.fix_seed\n")
    from_cfg = flake8("train.py", cwd=seed_project, cache=cache, isolated=False)
    assert from_cfg.returncode == 0 and from_cfg.stdout == ""
    with open(seed_project / "pyproject.toml", "a") as fh:
        fh.write('\n[tool.torchlint-repro]\nseed-functions = ["mypkg.seeding.fix_seed"]\n')
    cli = check("train.py", cwd=seed_project, cache=cache)
    assert cli.returncode == 0 and cli.stdout == ""


def test_listed_library_seed_counts_inside_a_project_helper(seed_project, tmp_path):
    """Listing the unresolvable *library* function makes every helper that calls it a seed (the rule's
    documentation: "Unresolvable seeding helpers from libraries we cannot read ... list them")."""
    cache = tmp_path / "c"
    direct = seed_project / "direct.py"
    direct.write_text(
        SEEDED_TRAIN.replace("from mypkg.seeding import fix_seed", "from somelib import seed_all").replace(
            "fix_seed(0)", "seed_all(0)"
        )
    )
    # unlisted, the library function seeds nothing we can see: both files are reported
    assert keys(findings(flake8("direct.py", cwd=seed_project, cache=cache).stdout)) == [(7, 9, "TRP101")]
    assert keys(findings(flake8("train.py", cwd=seed_project, cache=cache).stdout)) == [(7, 9, "TRP101")]
    listed = flake8("--trp-seed-functions", "somelib.seed_all", "direct.py", cwd=seed_project, cache=cache)
    assert listed.returncode == 0 and listed.stdout == ""
    via_helper = flake8("--trp-seed-functions", "somelib.seed_all", "train.py", cwd=seed_project, cache=cache)
    assert via_helper.returncode == 0 and via_helper.stdout == ""


def test_listed_library_function_without_seed_in_its_name(seed_project, tmp_path):
    """The listed name is what counts, not a name that looks like seeding: `rng.fix_all` seeds when listed."""
    cache = tmp_path / "c"
    (seed_project / "mypkg" / "seeding.py").write_text(
        SEEDING.replace("from somelib import seed_all", "from rng import fix_all").replace(
            "seed_all(seed)", "fix_all(seed)"
        )
    )
    unlisted = flake8("train.py", cwd=seed_project, cache=cache)
    assert keys(findings(unlisted.stdout)) == [(7, 9, "TRP101")]
    listed = flake8("--trp-seed-functions", "rng.fix_all", "train.py", cwd=seed_project, cache=cache)
    assert listed.stdout == ""
    with open(seed_project / "pyproject.toml", "a") as fh:
        fh.write('\n[tool.torchlint-repro]\nseed-functions = ["rng.fix_all"]\n')
    cli = check("train.py", cwd=seed_project, cache=cache)
    assert cli.returncode == 0 and cli.stdout == ""


def test_a_seed_functions_entry_matching_nothing_is_a_warning(seed_project, tmp_path):
    """An entry no call of the project can match (a typo) seeds nothing: both tools say so once on standard
    error, whatever -j, and the findings and the exit status are those of the run without it. Entries
    that match (a project function, a bare name a file spells, a library function a file calls) are quiet."""
    cache = tmp_path / "c"
    root = seed_project.resolve()
    entries = "mypkg.seeding.fix_seed,fix_seed,somelib.seed_all,mypkg.seeding.fix_sed,fix_sed,somelib.seed_al"
    expected = [
        f"torchlint-repro: warning: seed-functions entry `mypkg.seeding.fix_sed` matches nothing in {root}: "
        "the project's `mypkg.seeding` defines no `fix_sed`, so it seeds nothing here",
        f"torchlint-repro: warning: seed-functions entry `fix_sed` matches nothing in {root}: "
        "no file of the project spells `fix_sed`, so it seeds nothing here",
        f"torchlint-repro: warning: seed-functions entry `somelib.seed_al` matches nothing in {root}: "
        "no file of the project spells `seed_al`, so it seeds nothing here",
    ]
    for jobs in ("1", "2"):
        run = flake8("-j", jobs, "--trp-seed-functions", entries, "train.py", "mypkg", cwd=seed_project, cache=cache)
        assert (run.returncode, run.stdout) == (0, "")
        assert run.stderr.splitlines() == expected
    with open(seed_project / "pyproject.toml", "a") as fh:
        listed = ", ".join(f'"{e}"' for e in entries.split(","))
        fh.write(f"\n[tool.torchlint-repro]\nseed-functions = [{listed}]\n")
    cli = check("train.py", cwd=seed_project, cache=cache)
    assert (cli.returncode, cli.stdout) == (0, "")
    assert cli.stderr.splitlines() == expected
    assert check("-q", "train.py", cwd=seed_project, cache=cache).stderr == ""  # -q: findings and errors only
    # matching entries only: not a word
    (seed_project / "pyproject.toml").write_text(
        '[tool.torchlint-repro]\nseed-functions = ["mypkg.seeding.fix_seed", "fix_seed", "somelib.seed_all"]\n'
    )
    quiet = check("train.py", cwd=seed_project, cache=cache)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


# ------------------------------------------------------------------------------ [tool.torchlint-repro] in flake8
SECTION = """\
[tool.torchlint-repro]
extend-select = ["TRP102"]
ignore = ["TRP202"]
per-file-ignores = { "src/hazards.py" = ["TRP201"] }
exclude = ["legacy"]
"""


def test_the_pyproject_section_applies_through_flake8(project, tmp_path):
    """select/ignore, per-file-ignores and exclude of [tool.torchlint-repro] filter the plugin's findings,
    so flake8 (every editor) reports what `check` reports."""
    (project / "pyproject.toml").write_text(SECTION)
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(HAZARDS)
    f8 = flake8(".", cwd=project, cache=tmp_path / "c")
    # TRP201 (per-file-ignores) and TRP202 (ignore) are gone, TRP102 (extend-select) is there, and
    # nothing from the excluded legacy/
    assert [(p, line, col, code) for p, line, col, code, _ in findings(f8.stdout)] == [
        ("src/hazards.py", 32, 9, "TRP101"),
        ("src/hazards.py", 35, 9, "TRP101"),
        ("src/hazards.py", 37, 9, "TRP101"),
        ("src/hazards.py", 45, 9, "TRP102"),
    ]
    cli = check(".", cwd=project, cache=tmp_path / "c2")
    assert cli.returncode == 1
    assert findings(cli.stdout) == findings(f8.stdout)
    # the file named explicitly: flake8 applies `exclude` as check --force-exclude (the pre-commit hook) does
    assert flake8("legacy/old.py", cwd=project, cache=tmp_path / "c").stdout == ""
    assert check("--force-exclude", "legacy/old.py", cwd=project, cache=tmp_path / "c").stdout == ""


def test_flake8_options_are_a_layer_over_the_section(project, tmp_path):
    """flake8's own --select/--extend-select/--ignore act on top of the section, as check's options do."""
    (project / "pyproject.toml").write_text(SECTION)
    cache = tmp_path / "c"
    pairs = [
        (["--extend-select", "TRP204"], ["--extend-select", "TRP204"]),
        (["--select", "TRP2"], ["--select", "TRP2"]),
        (["--extend-ignore", "TRP1"], ["--ignore", "TRP1"]),
    ]
    expected = [
        [(32, 9, "TRP101"), (35, 9, "TRP101"), (37, 9, "TRP101"), (27, 16, "TRP204"), (45, 9, "TRP102")],
        # --select replaces the section's selection (TRP202 is back); per-file-ignores still apply
        [(27, 16, "TRP204"), (52, 1, "TRP202")],
        [],
    ]
    for (f8_args, cli_args), want in zip(pairs, expected, strict=True):
        f8 = flake8(*f8_args, "src/hazards.py", cwd=project, cache=cache)
        assert sorted(keys(findings(f8.stdout))) == sorted(want), f8_args
        cli = check(*cli_args, "src/hazards.py", cwd=project, cache=cache)
        assert findings(cli.stdout) == findings(f8.stdout), cli_args


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('[tool.torchlint-repro]\nignore = ["TRP1"\n', "cannot read TOML: Unclosed array (at end of document)"),
        (
            '[tool.torchlint-repro]\nignroe = ["TRP1"]\n',
            "unknown key(s) in [tool.torchlint-repro]: ignroe; known keys: ",
        ),
        ('[tool.torchlint-repro]\nignore = ["TRP1O1"]\n', "unknown rule code or prefix 'TRP1O1' in "),
    ],
    ids=["invalid-toml", "unknown-key", "unknown-code"],
)
def test_a_broken_section_is_one_visible_diagnostic_in_flake8(project, tmp_path, section, problem):
    """A broken section is never silently ignored: check exits 2 with the message; flake8 shows the same
    message once per file, as TRP901 on line 1, and nothing else of ours for that file."""
    (project / "pyproject.toml").write_text(section)
    f8 = flake8("src", cwd=project, cache=tmp_path / "c")
    lines = [ln for ln in f8.stdout.splitlines() if " TRP" in ln]
    config = str(project / "pyproject.toml")
    assert [ln.split(" TRP901 ", 1)[0] for ln in lines] == [
        "src/hazards.py:1:1:",
        "src/train.py:1:1:",
        "src/utils.py:1:1:",
    ]
    messages = {ln.split(" TRP901 ", 1)[1] for ln in lines}
    cli = check("src", cwd=project, cache=tmp_path / "c")
    assert cli.returncode == 2 and cli.stdout == ""
    assert cli.stderr.startswith("torchlint-repro: error: ") and cli.stderr.count("\n") == 1
    error = cli.stderr.strip().removeprefix("torchlint-repro: error: ")
    assert messages == {f"invalid torchlint-repro configuration: {error}"}
    assert problem in error and config in error


def test_flake8_disable_noqa_reaches_the_plugin(tmp_path):
    (tmp_path / "noqa_cases.py").write_text(NOQA)
    f8 = flake8("--disable-noqa", "--select", "TRP101", "noqa_cases.py", cwd=tmp_path, cache=tmp_path / "c")
    assert [line for line, _, _ in keys(findings(f8.stdout))] == [4, 5, 6, 7, 8, 9, 10, 11, 12]


# ------------------------------------------------------------------------------ folders that are no Python names
# A clone ("my-repo", "pytorch-cifar") or a chapter folder ("01-basics") is no package: what lies in it is
# imported from that folder. Checked from its parent, the files keep the findings they have when checked
# from inside: a class of the file itself, a sibling's class with a base in its own module, a package of a
# `src` layout below the folder.
NAMELESS_TRAIN = """\
import torch, torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 2); self.drop = nn.Dropout(0.5)
    def forward(self, x): return self.drop(self.fc(x))
def evaluate(model, x):
    with torch.no_grad(): return model(x)
model = Net()
print(evaluate(model, torch.randn(3, 4)))
"""
NAMELESS_MODEL = """\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x))


class Net(Block):
    pass
"""
NAMELESS_MAIN = """\
import torch
from model import Net

model = Net()
with torch.no_grad():
    print(model(torch.randn(2, 4)))
"""
NAMELESS_EVAL = """\
import torch
from pkg.model import Net

torch.manual_seed(0)
net = Net()
with torch.no_grad():
    print(net(torch.randn(2, 4)))
"""
# (path from the outer folder, line, printed column, code)
NAMELESS_FINDINGS = [
    ("01-basics/feedforward/main.py", 4, 9, "TRP101"),
    ("01-basics/feedforward/main.py", 6, 11, "TRP201"),
    ("my-repo/scripts/evaluate.py", 7, 11, "TRP201"),
    ("my-repo/scripts/train.py", 7, 34, "TRP201"),
    ("my-repo/scripts/train.py", 8, 9, "TRP101"),
]


def _nameless_tree(outer: Path) -> None:
    for rel, text in {
        "my-repo/scripts/train.py": NAMELESS_TRAIN,
        "my-repo/scripts/evaluate.py": NAMELESS_EVAL,
        "my-repo/src/pkg/__init__.py": "",
        "my-repo/src/pkg/model.py": NAMELESS_MODEL,
        "01-basics/feedforward/model.py": NAMELESS_MODEL,
        "01-basics/feedforward/main.py": NAMELESS_MAIN,
    }.items():
        (outer / rel).parent.mkdir(parents=True, exist_ok=True)
        (outer / rel).write_text(text)


def _from_outer(stdout: str, cwd: Path, outer: Path) -> list[tuple[str, int, int, str]]:
    return [
        ((cwd / path).resolve().relative_to(outer).as_posix(), line, col, code)
        for path, line, col, code, _ in findings(stdout)
    ]


@pytest.mark.parametrize(
    ("cwd", "args", "expected"),
    [
        (".", ["."], NAMELESS_FINDINGS),
        (".", ["my-repo", "01-basics"], NAMELESS_FINDINGS),
        ("my-repo", ["."], NAMELESS_FINDINGS[2:]),
        ("01-basics", ["."], NAMELESS_FINDINGS[:2]),
        ("01-basics/feedforward", ["main.py"], NAMELESS_FINDINGS[:2]),
        ("my-repo/scripts", ["train.py"], NAMELESS_FINDINGS[3:]),
        (".", ["my-repo/scripts/train.py"], NAMELESS_FINDINGS[3:]),
        (".", ["01-basics/feedforward/main.py"], NAMELESS_FINDINGS[:2]),
    ],
)
def test_folders_that_are_no_python_names_do_not_change_the_findings(tmp_path, cwd, args, expected):
    """Without a root marker the project is the common folder of the paths given: from the outer folder,
    `my-repo/scripts/train.py` is module `scripts.train` of base `my-repo`, and is found there."""
    outer = tmp_path / "x"
    _nameless_tree(outer)
    proc = check(*args, cwd=outer / cwd, cache=tmp_path / "c")
    assert _from_outer(proc.stdout, outer / cwd, outer) == expected


@pytest.mark.parametrize("cwd", [".", "my-repo", "my-repo/scripts", "01-basics/feedforward"])
def test_folders_that_are_no_python_names_under_a_marked_root_in_flake8_and_check(tmp_path, cwd):
    """A pyproject.toml above the nameless folders: flake8 (one file at a time) and check agree, from
    every folder."""
    outer = tmp_path / "x"
    _nameless_tree(outer)
    (outer / "pyproject.toml").write_text("")
    here = outer / cwd
    expected = [f for f in NAMELESS_FINDINGS if (outer / f[0]).is_relative_to(here)]
    f8 = flake8(".", cwd=here, cache=tmp_path / "c8")
    assert _from_outer(f8.stdout, here, outer) == expected
    cli = check(".", cwd=here, cache=tmp_path / "cc")
    assert _from_outer(cli.stdout, here, outer) == expected
    for path, *_ in expected:  # one file alone
        one = flake8(os.path.relpath(outer / path, here), cwd=here, cache=tmp_path / "c8")
        assert _from_outer(one.stdout, here, outer) == [f for f in expected if f[0] == path]
