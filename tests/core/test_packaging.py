"""The wheel carries what a checkout has: every package, the default rule files of the
top-level rules/ folder and the example rule sets; `nurture init` from that wheel copies
them. Built from a clean copy of the tracked files, so no build/ leftover can help."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nurture.rules import check_rules

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("account-manager", "founder-investors", "support-lead")


def _checkout(into: Path) -> Path:
    """The files git tracks (or would: new, not ignored), copied into `into`."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    checkout = _checkout(root / "checkout")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root / "dist"), "."],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = (root / "dist").glob("nurture-*.whl")
    return found


def test_the_wheel_holds_every_package_and_the_rule_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {
        str(init.parent.relative_to(base)).replace(os.sep, "/")
        for base in (ROOT, ROOT / "connectors")
        for init in base.glob("nurture*/**/__init__.py")
    }
    assert packages and all(f"{p}/__init__.py" in names for p in packages), packages - {
        n.rsplit("/", 1)[0] for n in names
    }
    for rule_file in (ROOT / "rules").glob("*.toml"):
        assert f"nurture/data/rules/{rule_file.name}" in names
    for role in EXAMPLES:
        assert any(n.startswith(f"nurture/data/rules/examples/{role}/") for n in names), role


def test_the_installed_wheel_finds_its_rules_and_init_copies_them(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), wheel],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    home = tmp_path / "home"
    env = dict(
        os.environ,
        PYTHONPATH=str(site),  # before the editable checkout on sys.path
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
    )
    where = subprocess.run(
        [sys.executable, "-c", "import nurture.rules as r; print(r.default_rules_dir())"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()) == site / "nurture" / "data" / "rules", where.stderr
    config = home / "cfg" / "config.toml"
    init = subprocess.run(
        [
            sys.executable,
            "-c",
            "from nurture.cli import main; main()",
            "--config",
            str(config),
            "init",
            "--connector",
            "local",
            "--option",
            f"maildir={home / 'Mail'}",
            "--address",
            "alex@brightpath.example",
            "--name",
            "Alex Morgan",
            "--yes",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    rules = config.parent / "rules"
    shipped = site / "nurture" / "data" / "rules"
    assert {p.name for p in rules.glob("*.toml")} == {p.name for p in shipped.glob("*.toml")}
    for role in EXAMPLES:
        copied = sorted(p.name for p in (rules / "examples" / role).glob("*.toml"))
        assert copied == sorted(p.name for p in (shipped / "examples" / role).glob("*.toml"))
        assert copied


@pytest.mark.parametrize("role", EXAMPLES)
def test_each_example_rule_set_is_valid(role: str) -> None:
    book, problems = check_rules(ROOT / "rules" / "examples" / role)
    assert problems == []
    assert len(book.files) >= 1 and book.contacts
