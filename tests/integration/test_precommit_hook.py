"""The pre-commit hook (``.pre-commit-hooks.yaml``): ``shieldwall check-secrets`` run on the
staged files as pre-commit runs it. A new secret fails the commit (exit 1) without being
shown; a clean, baselined or allowed one passes (0); a missing file is bad input (2)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from shieldwall.scan import walk
from tests.conftest import REPO, Cli

# Made-up tokens in GitHub's formats with valid checksums (the rules' own examples), put
# together here so that no line of this file holds one: the hook passes on this file.
PAT = "ghp_" + "TpvCZhWkCiATs60BPudxTwiUPiBtl22kQ2m2"
APP = "ghu_" + "O1la2gf1XxbpJY1GJv1aiXZgEMKKBy2nnp21"
COMMAND = "check-secrets"


@pytest.fixture
def hook(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Cli:
    """The CLI in a checkout, as pre-commit runs hooks: from the top folder, with the staged
    paths relative to it. Its store is never created: the hook needs no database."""
    work = tmp_path / "checkout"
    work.mkdir()
    monkeypatch.chdir(work)
    return Cli(capsys, monkeypatch, f"sqlite:///{tmp_path / 'unused.db'}", tmp_path / "home")


def write(relative: str, text: str) -> Path:
    path = Path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_new_secret_fails_the_commit_with_its_place_and_never_its_value(
    hook: Cli, tmp_path: Path
) -> None:
    write("app/settings.py", f'DEBUG = False\nGITHUB_TOKEN = "{PAT}"\n')
    write("README.md", "# a clean file\n")

    result = hook(COMMAND, "app/settings.py", "README.md")

    assert result.code == 1
    [line] = result.out.splitlines()
    assert (
        line == "app/settings.py:2:17: github-pat GitHub personal access token (classic) (ghp_****)"
    )
    assert PAT not in result.out + result.err
    assert PAT[4:12] not in result.out + result.err
    assert "1 secret(s) in 2 file(s) checked" in result.err
    assert not (tmp_path / "unused.db").exists()


def test_a_clean_file_passes(hook: Cli) -> None:
    write("app/settings.py", 'DEBUG = False\nGITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\n')
    result = hook(COMMAND, "app/settings.py")
    assert (result.code, result.out) == (0, "")
    assert "0 secret(s) in 1 file(s) checked" in result.err


def test_no_files_passes(hook: Cli) -> None:
    """pre-commit runs a hook without files only when told to (`always_run`)."""
    assert hook(COMMAND).code == 0


def test_a_secret_in_the_baseline_passes_and_a_new_one_still_fails(hook: Cli) -> None:
    old = write("app/settings.py", f'GITHUB_TOKEN = "{PAT}"\n')
    hook.ok("scan", old, "--tools", "none", "--no-dependencies", "--write-baseline", "b.json")

    moved = write("config/prod.py", f'\n\nTOKEN = "{PAT}"\n')  # another file, another line
    result = hook(COMMAND, "--baseline", "b.json", old, moved)
    assert (result.code, result.out) == (0, "")
    assert "0 secret(s) in 2 file(s) checked, 2 more in the baseline" in result.err

    new = write("app/worker.py", f'APP_TOKEN = "{APP}"\n')
    result = hook(COMMAND, "--baseline", "b.json", old, new)
    assert result.code == 1
    assert (
        result.out
        == "app/worker.py:1:14: github-app-token GitHub App user-to-server or installation token (ghu_****)\n"
    )


@pytest.mark.parametrize(
    "comment", ["# shieldwall:allow", "# gitleaks:allow", "# pragma: allowlist secret"]
)
def test_a_line_marked_allowed_passes(hook: Cli, comment: str) -> None:
    write("tests/data.py", f'TOKEN = "{PAT}"  {comment}\n')
    assert hook(COMMAND, "tests/data.py").code == 0


def test_a_missing_file_is_bad_input_named_in_one_line(hook: Cli) -> None:
    write("app/settings.py", f'GITHUB_TOKEN = "{PAT}"\n')
    result = hook(COMMAND, "app/settings.py", "app/gone.py")
    assert result.code == 2
    assert result.err == "error: app/gone.py: does not exist\n"
    assert result.out == ""  # nothing is checked before every path is known to be there


def test_a_missing_baseline_is_bad_input(hook: Cli) -> None:
    write("app/settings.py", "DEBUG = False\n")
    result = hook(COMMAND, "--baseline", "nowhere.json", "app/settings.py")
    assert result.code == 2
    assert result.err.startswith("error: nowhere.json: cannot read the baseline")
    assert len(result.err.splitlines()) == 1


def test_an_unreadable_file_is_bad_input_not_a_pass(
    hook: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = write("app/settings.py", f'GITHUB_TOKEN = "{PAT}"\n')
    read_bytes = Path.read_bytes

    def denied(path: Path) -> bytes:
        if path == secret:
            raise PermissionError(13, "Permission denied")
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", denied)
    result = hook(COMMAND, "app/settings.py")
    assert result.code == 2
    assert result.err == "error: app/settings.py: cannot be read\n"


def test_binary_large_and_linked_files_are_skipped_as_the_scan_skips_them(
    hook: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("logo.png").write_bytes(b"\x89PNG\0\0" + PAT.encode())
    write("dump.sql", f"-- {PAT}\n" + "x" * 2000)
    write("app/settings.py", f'GITHUB_TOKEN = "{PAT}"\n')
    Path("link.py").symlink_to("app/settings.py")  # git commits the link, not its target
    monkeypatch.setattr(walk, "MAX_FILE_BYTES", 1000)

    result = hook(COMMAND, "logo.png", "dump.sql", "link.py")

    assert (result.code, result.out) == (0, "")
    assert "skipped 1 binary, 1 too large, 1 links or special files" in result.err


def test_a_folder_is_walked_as_the_scan_walks_it(hook: Cli) -> None:
    write("repo/.gitignore", "local.env\n")
    write("repo/local.env", f"TOKEN={PAT}\n")
    write("repo/node_modules/lib/index.js", f'const t = "{PAT}";\n')
    write("repo/app/settings.py", f'GITHUB_TOKEN = "{PAT}"\n')

    result = hook(COMMAND, "repo", "repo/app/settings.py")  # each file is read once

    assert result.code == 1
    assert result.out.splitlines() == [
        "repo/app/settings.py:1:17: github-pat GitHub personal access token (classic) (ghp_****)"
    ]


def test_json_lists_flat_objects_without_the_secret(hook: Cli) -> None:
    write("app/settings.py", f'GITHUB_TOKEN = "{PAT}"\n')
    result = hook(COMMAND, "--format", "json", "app/settings.py")
    assert result.code == 1
    assert PAT not in result.out
    [row] = json.loads(result.out)
    assert {k: v for k, v in row.items() if k != "hash"} == {
        "path": "app/settings.py",
        "line": 1,
        "column": 17,
        "end_line": 1,
        "rule_id": "github-pat",
        "title": "GitHub personal access token (classic)",
        "severity": "critical",
        "confidence": "high",
        "preview": "ghp_****",
    }
    assert len(row["hash"]) == 64


def hook_definition() -> dict[str, object]:
    [definition] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(definition, dict)
    return definition


def test_the_hook_definition_runs_the_installed_command(tmp_path: Path) -> None:
    """pre-commit installs the package (``language: python``) and runs ``entry`` with the
    staged files: the entry's program is the package's console script, and it exits 1 on a
    secret as a real process."""
    definition = hook_definition()
    assert definition["id"] == "shieldwall-secrets"
    assert definition["language"] == "python"
    assert definition["types"] == ["text"]
    assert definition["name"]
    assert definition["description"]
    assert isinstance(definition["entry"], str)
    program, *args = shlex.split(definition["entry"])
    assert args == [COMMAND]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[program] == "shieldwall.cli:main"

    installed = str(Path(sys.executable).parent / program)
    help_run = subprocess.run([installed, *args, "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0, help_run.stderr
    assert "--baseline" in help_run.stdout

    staged = tmp_path / "settings.py"
    staged.write_text(f'GITHUB_TOKEN = "{PAT}"\n')
    run = subprocess.run(
        [installed, *args, staged.name], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("settings.py:1:17: github-pat ")
    assert PAT not in run.stdout + run.stderr


def test_this_file_passes_the_hook(hook: Cli) -> None:
    """The tokens above are assembled at run time: committing this file passes the hook."""
    result = hook(COMMAND, Path(__file__))
    assert (result.code, result.out) == (0, "")
