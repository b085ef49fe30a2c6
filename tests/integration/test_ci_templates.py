"""The CI templates and the pre-commit configuration the README gives are what users copy:
they parse, run the commands Shieldwall has with options it accepts, and the GitHub workflow
passes Shieldwall's own posture checks."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from tests.conftest import Cli

README = Path(__file__).parents[2] / "README.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.DOTALL)


def block_with(key: str) -> str:
    [block] = [b for b in yaml_blocks() if key in b]
    return block


def shieldwall_commands(text: str) -> list[list[str]]:
    """Each `shieldwall ...` command line of a script, shell-split (continuations joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        found = re.search(r"\bshieldwall\s+[a-z-]+[^\n]*", line)
        if found and not found.group(0).startswith("shieldwall @"):
            commands.append(shlex.split(found.group(0).split("#")[0]))
    return commands


def test_the_github_workflow_passes_our_posture_checks(sqlite_cli: Cli, tmp_path: Path) -> None:
    workflow = block_with("runs-on:")
    yaml.safe_load(workflow)
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "security.yml").write_text(workflow)
    result = sqlite_cli("posture", repo, "--format", "json")
    checks = {row["check"]: row for row in json.loads(result.out)}
    for name in ("dangerous-workflow", "pinned-actions", "token-permissions"):
        assert checks[name]["result"] == "pass", checks[name]
    for name in ("secrets-scanning", "dependency-scanning"):
        assert checks[name]["result"] == "pass", checks[name]


def test_the_templates_use_commands_and_options_that_exist(sqlite_cli: Cli) -> None:
    gitlab = block_with("before_script:")
    assert yaml.safe_load(gitlab)["shieldwall"]["artifacts"]["reports"]["junit"] == "gate.xml"
    commands = shieldwall_commands(block_with("runs-on:")) + shieldwall_commands(gitlab)
    used = {(argv[1], option) for argv in commands for option in argv if option.startswith("--")}
    assert {argv[1] for argv in commands} == {"intel", "scan", "gate"}
    for command, option in used:
        words = ["intel", "sync"] if command == "intel" else [command]
        shown = sqlite_cli(*words, "--help")
        assert shown.code == 0
        assert option in shown.out, f"`shieldwall {command}` has no {option}"


def test_the_pre_commit_configuration_names_the_shipped_hook() -> None:
    config = yaml.safe_load(block_with("hooks:"))
    [hook] = config["repos"][0]["hooks"]
    hooks = yaml.safe_load((README.parent / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] in {h["id"] for h in hooks}
