"""The systemd user unit and `nurture service install | uninstall | status`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from nurture import service

REPO = Path(__file__).resolve().parents[2]
ON_CI = os.environ.get("CI") == "true"


def _verify(unit: Path, config_home: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        if ON_CI:
            pytest.fail("systemd-analyze is missing on CI (Debian package systemd)")
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    runtime = config_home / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "XDG_CONFIG_HOME": str(config_home)}
    return subprocess.run(
        ["systemd-analyze", "--user", "verify", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _our_complaints(result: subprocess.CompletedProcess[str]) -> list[str]:
    # verify exits 0 on unknown keys and bad values, so read what it says about our files
    text = result.stdout + result.stderr
    return [line for line in text.splitlines() if "nurture.service" in line or "hardening" in line]


@pytest.mark.parametrize("hardening", [False, True], ids=["unit", "unit+drop-in"])
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path, hardening: bool) -> None:
    folder = tmp_path / "systemd" / "user"
    folder.mkdir(parents=True)
    unit = folder / service.UNIT
    unit.write_text(service.render_unit(service.exec_start()))
    if hardening:
        (folder / f"{service.UNIT}.d").mkdir()
        dropin = service.render_hardening([Path("/home/me/my calendar"), "%h/.local/state/nurture"])
        (folder / f"{service.UNIT}.d" / service.DROPIN).write_text(dropin)
    result = _verify(unit, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _our_complaints(result) == []


def test_verify_would_catch_a_bad_key(tmp_path: Path) -> None:
    """The check above can fail: a misspelt option is reported."""
    folder = tmp_path / "systemd" / "user"
    folder.mkdir(parents=True)
    unit = folder / service.UNIT
    unit.write_text(service.render_unit(service.exec_start()) + "[Service]\nWatchDogSecs=1\n")
    assert _our_complaints(_verify(unit, tmp_path))


def test_repository_copies_are_the_rendered_unit_and_drop_in() -> None:
    assert (REPO / "systemd" / "nurture.service").read_text() == service.render_unit(
        service.DEFAULT_EXEC_START
    )
    assert (REPO / "systemd" / "hardening.conf").read_text() == service.HARDENING


def test_unit_has_the_required_settings_and_no_namespace_options() -> None:
    unit = service.render_unit("/x/nurture run")
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "StateDirectory=nurture",
        "ConfigurationDirectory=nurture",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "SystemCallFilter=@system-service",
    ):
        assert line in unit.splitlines()
    for option in ("PrivateTmp", "ProtectSystem", "ProtectHome", "PrivateUsers"):
        assert f"\n{option}=" not in unit
        assert f"\n{option}=" in service.HARDENING


def test_exec_start_uses_the_script_next_to_this_interpreter(tmp_path: Path) -> None:
    bin_dir = tmp_path / "my venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.symlink_to(sys.executable)
    script = bin_dir / "nurture"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    line = service.exec_start(Path("/home/me/100%/config.toml"), executable=str(python))
    assert line == f'"{script}" --config /home/me/100%%/config.toml run'
    # without the script the interpreter runs the package (never the resolved /usr/bin python)
    script.unlink()
    argv = service.command(executable=str(python))
    assert argv[0] == str(python) and argv[-1] == "run"


class FakeSystemctl:
    """Answers systemctl/loginctl/unshare like a host would; records the calls."""

    def __init__(
        self, active: Sequence[str] = ("active",), userns: bool = True, start_fails: int = 0
    ) -> None:
        self.calls: list[list[str]] = []
        self.active = list(active)
        self.userns = userns
        self.start_fails = start_fails  # how many start/enable --now calls fail

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        args = list(args)
        self.calls.append(args)
        out, code = "", 0
        if args[0] == "unshare":
            code = 0 if self.userns else 1
        elif "is-active" in args:
            out = self.active.pop(0) if len(self.active) > 1 else self.active[0]
        elif "show" in args and args[0] == "systemctl":
            out = (
                "ActiveState=active\nSubState=running\nUnitFileState=enabled\n"
                "StatusText=last sync 12:00 UTC; 1 account ok\nNRestarts=2\n"
                f"DropInPaths=/x/{service.UNIT}.d/{service.DROPIN}\n"
            )
        elif args[0] == "loginctl":
            out = "no"
        elif ("--now" in args or "restart" in args) and self.start_fails:
            self.start_fails -= 1
            code = 1
        return subprocess.CompletedProcess(args, code, out + "\n", "")

    def ran(self, *words: str) -> bool:
        return any(all(w in call for w in words) for call in self.calls)


@pytest.fixture
def booted(tmp_path: Path) -> Path:
    path = tmp_path / "run-systemd-system"
    path.mkdir()
    return path


needs_systemctl = pytest.mark.skipif(
    shutil.which("systemctl") is None and not ON_CI, reason="systemctl not installed"
)


@needs_systemctl
def test_install_writes_enables_starts_and_explains_linger_and_logs(
    tmp_path: Path, booted: Path
) -> None:
    fake = FakeSystemctl(active=["inactive", "active"])
    out = service.install(
        run=fake, directory=tmp_path / "units", booted=booted, settle=0, hardening=None
    )
    assert out.ok
    assert (tmp_path / "units" / service.UNIT).read_text().startswith("# nurture")
    assert (tmp_path / "units" / f"{service.UNIT}.d" / service.DROPIN).exists()
    assert fake.ran("daemon-reload") and fake.ran("enable", "--now", service.UNIT)
    assert not fake.ran("restart")  # it was not running before
    text = "\n".join(out.lines)
    assert "loginctl enable-linger" in text
    assert "journalctl --user -u nurture" in text


@needs_systemctl
def test_reinstalling_restarts_a_running_service_with_the_new_unit(
    tmp_path: Path, booted: Path
) -> None:
    fake = FakeSystemctl(active=["active"])
    assert service.install(run=fake, directory=tmp_path, booted=booted, settle=0).ok
    enable = next(i for i, c in enumerate(fake.calls) if "enable" in c)
    restart = next(i for i, c in enumerate(fake.calls) if "restart" in c)
    assert enable < restart


@needs_systemctl
def test_install_drops_the_sandbox_when_the_unit_will_not_start_with_it(
    tmp_path: Path, booted: Path
) -> None:
    # like systemd: enable --now fails (the job failed), the unit is not active
    fake = FakeSystemctl(active=["inactive", "failed", "active"], start_fails=1)
    out = service.install(run=fake, directory=tmp_path, booted=booted, settle=0, hardening=True)
    assert out.ok, out.lines
    assert not (tmp_path / f"{service.UNIT}.d" / service.DROPIN).exists()
    assert fake.ran("restart", service.UNIT)


@needs_systemctl
def test_install_without_user_namespaces_writes_no_drop_in(tmp_path: Path, booted: Path) -> None:
    fake = FakeSystemctl(userns=False)
    service.install(run=fake, directory=tmp_path, booted=booted, settle=0)
    assert not (tmp_path / f"{service.UNIT}.d" / service.DROPIN).exists()


def test_install_without_systemd_says_so_and_prints_manual_steps(tmp_path: Path) -> None:
    fake = FakeSystemctl()
    out = service.install(run=fake, directory=tmp_path, booted=tmp_path / "absent", settle=0)
    text = "\n".join(out.lines)
    assert "systemd is not running" in text
    assert "systemctl --user enable --now nurture" in text
    assert (tmp_path / service.UNIT).exists()
    assert not fake.ran("enable")
    assert not out.ok  # nothing was started: the command must not look like it worked


def test_the_install_command_exits_non_zero_when_nothing_was_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from nurture.cli import main

    config = tmp_path / "config.toml"
    config.write_text(
        '[user]\nname = "A"\naddresses = ["a@b.example"]\n'
        '[accounts.mail]\nconnector = "local"\nmaildir = "mail"\n'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(service, "user_manager_running", lambda *_: (False, "no user bus"))
    result = CliRunner().invoke(main, ["--config", str(config), "service", "install"])
    assert result.exit_code == 1, result.output
    assert "systemd is not running for your user here (no user bus)" in result.output
    assert "nothing was started" in result.output


@needs_systemctl
def test_uninstall_disables_and_removes_the_files(tmp_path: Path, booted: Path) -> None:
    fake = FakeSystemctl()
    service.install(run=fake, directory=tmp_path, booted=booted, settle=0, hardening=True)
    out = service.uninstall(run=fake, directory=tmp_path, booted=booted)
    assert fake.ran("disable", "--now", service.UNIT)
    assert not (tmp_path / service.UNIT).exists()
    assert not (tmp_path / f"{service.UNIT}.d").exists()
    assert out.ok


@needs_systemctl
def test_status_shows_state_status_line_and_sandbox(tmp_path: Path, booted: Path) -> None:
    (tmp_path / service.UNIT).write_text("x")
    out = service.status(run=FakeSystemctl(), directory=tmp_path, booted=booted)
    text = "\n".join(out.lines)
    assert "active (running), enabled" in text
    assert "last sync 12:00 UTC" in text
    assert "sandbox:  on" in text and "restarts: 2" in text
    assert out.ok


def test_the_drop_in_keeps_state_and_local_calendars_writable(tmp_path: Path) -> None:
    text = service.render_hardening([Path("/home/me/100% mine"), "%h/.local/state/nurture"])
    lines = [line for line in text.splitlines() if line.startswith("ReadWritePaths=")]
    assert lines == [
        'ReadWritePaths="-/home/me/100%% mine"',
        "ReadWritePaths=-%h/.local/state/nurture",
    ]


@needs_systemctl
def test_install_writes_the_writable_folders_into_the_drop_in(tmp_path: Path, booted: Path) -> None:
    service.install(
        run=FakeSystemctl(),
        directory=tmp_path,
        booted=booted,
        settle=0,
        hardening=True,
        writable=[tmp_path / "state", tmp_path / "cal"],
    )
    text = (tmp_path / f"{service.UNIT}.d" / service.DROPIN).read_text()
    assert f"ReadWritePaths=-{tmp_path / 'state'}" in text.splitlines()
    assert f"ReadWritePaths=-{tmp_path / 'cal'}" in text.splitlines()


@needs_systemctl
def test_install_reports_a_unit_that_does_not_come_up(tmp_path: Path, booted: Path) -> None:
    fake = FakeSystemctl(active=["inactive", "failed"], userns=False, start_fails=1)
    out = service.install(run=fake, directory=tmp_path, booted=booted, settle=0)
    assert not out.ok
    assert "journalctl --user -u nurture -n 50" in "\n".join(out.lines)
