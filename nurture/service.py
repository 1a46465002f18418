"""`nurture service install | uninstall | status`: the systemd user unit.

The unit text lives here (not only in ``systemd/``) because an installed wheel
has no ``systemd/`` folder; the copy in the repository is this text rendered
with the pipx default path, and a test keeps the two the same.

Hardening: the options that work in any user unit (seccomp-based, no user
namespace needed) are in the unit. The namespace-based ones go into an
optional drop-in, ``nurture.service.d/hardening.conf``: hosts that restrict
unprivileged user namespaces (Ubuntu 24.04's AppArmor default, some hardened
kernels) cannot start a unit that has them. `install` adds the drop-in only
when the host allows user namespaces, and takes it out again if the unit then
fails to start.

Library code: returns the lines to show, never prints.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

UNIT = "nurture.service"
DROPIN = "hardening.conf"
# What a pipx install gives; used for the copy of the unit in the repository.
DEFAULT_EXEC_START = "%h/.local/bin/nurture run"

UNIT_TEMPLATE = """\
# nurture: a systemd user service. Written by `nurture service install`.
# Logs:   journalctl --user -u nurture
# Reload: systemctl --user reload nurture   (re-reads config.toml and the rules)
[Unit]
Description=nurture: follow-up tasks from your mail on your calendar

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=1min
TimeoutStartSec=2min
TimeoutStopSec=30s
WatchdogSec=3min
# nurture's folders are private: its state holds message metadata and your decisions.
StateDirectory=nurture
StateDirectoryMode=0700
ConfigurationDirectory=nurture
ConfigurationDirectoryMode=0700
UMask=0077
Nice=10
# Hardening that works in every user unit (seccomp, no user namespaces).
# The namespace-based options are in nurture.service.d/hardening.conf.
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=default.target
"""

HARDENING_TEMPLATE = """\
# Optional sandboxing for nurture.service, installed by `nurture service install`
# where unprivileged user namespaces work. If the service fails to start with
# status 218/CAPABILITIES or 226/NAMESPACE, this host forbids them: delete this
# file and run `systemctl --user daemon-reload && systemctl --user restart nurture`.
[Service]
PrivateTmp=yes
PrivateUsers=yes
ProtectSystem=strict
ProtectHome=read-only
# What nurture writes: its state folder (named here because older systemd, such
# as 252 in Debian 12, puts StateDirectory= of user units under ~/.config) and
# local calendars. Add a line for any other calendar folder you point nurture at.
{writable}
"""

# The state folder nurture uses by default ($XDG_STATE_HOME/nurture).
DEFAULT_WRITABLE = ("%h/.local/state/nurture",)


def render_hardening(writable: Sequence[str | Path] = DEFAULT_WRITABLE) -> str:
    """The drop-in, with one ``ReadWritePaths=`` line per folder nurture writes to.

    A `Path` is a real folder (a ``%`` in it is escaped); a `str` may hold
    specifiers such as ``%h``. A leading ``-`` lets the unit start while a
    folder does not exist yet.
    """
    lines = [
        "ReadWritePaths="
        + quote("-" + (str(p).replace("%", "%%") if isinstance(p, Path) else p), specifiers=False)
        for p in writable
    ]
    return HARDENING_TEMPLATE.format(writable="\n".join(dict.fromkeys(lines)))


Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


def _run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)


def unit_dir(environ: dict[str, str] | None = None) -> Path:
    """Where systemd looks for the user's own units: ``$XDG_CONFIG_HOME/systemd/user``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def quote(arg: str, *, specifiers: bool = True) -> str:
    """`arg` as one word of a systemd setting, ``%`` (and ``$``) escaped.

    With `specifiers` False, ``%h`` and friends stay specifiers (for our own templates).
    """
    escaped = arg.replace("%", "%%") if specifiers else arg
    escaped = escaped.replace("$", "$$")
    if escaped and all(c.isalnum() or c in "/._-+=:,@%" for c in escaped):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The drop-in as the repository ships it (systemd/hardening.conf).
HARDENING = render_hardening()


def command(config_path: Path | None = None, executable: str | None = None) -> list[str]:
    """The command line that runs this very installation of nurture.

    The console script next to the interpreter (a venv or pipx install) is
    preferred; otherwise the interpreter runs the package. Symlinks are not
    resolved: a venv's python is a link, and resolving it would leave the venv.
    """
    python = Path(executable or sys.executable)
    script = python.parent / "nurture"
    if os.access(script, os.X_OK):
        argv = [str(script)]
    elif importlib.util.find_spec("nurture.__main__") is not None:
        argv = [str(python), "-m", "nurture"]
    else:
        argv = [str(python), "-c", "from nurture.cli import main; main()"]
    if config_path is not None:
        argv += ["--config", str(Path(config_path).expanduser().absolute())]
    return [*argv, "run"]


def render_unit(exec_start: str) -> str:
    return UNIT_TEMPLATE.format(exec_start=exec_start)


def exec_start(config_path: Path | None = None, executable: str | None = None) -> str:
    return " ".join(quote(a) for a in command(config_path, executable))


SYSTEMD_BOOTED = Path("/run/systemd/system")


def user_manager_running(run: Runner = _run, booted: Path = SYSTEMD_BOOTED) -> tuple[bool, str]:
    """Whether a systemd user manager answers here, and if not, why (for the message)."""
    if shutil.which("systemctl") is None:
        return False, "systemctl is not installed"
    if not booted.is_dir():
        return False, "this system was not booted with systemd"
    result = run(["systemctl", "--user", "show-environment"])
    if result.returncode != 0:
        why = (result.stderr or result.stdout).strip().splitlines()
        return False, why[0] if why else "systemctl --user does not answer"
    return True, ""


def user_namespaces_work(run: Runner = _run) -> bool:
    """Whether this host lets an unprivileged user create a user namespace."""
    if shutil.which("unshare") is None:
        return False
    try:
        return run(["unshare", "--user", "--map-root-user", "true"]).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@dataclass(slots=True)
class Outcome:
    """What a service command did, as lines for the user; `ok` is the exit status."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def say(self, *lines: str) -> None:
        self.lines.extend(lines)


def _linger_lines(run: Runner) -> list[str]:
    user = getpass.getuser()
    linger = ""
    if shutil.which("loginctl"):
        result = run(["loginctl", "show-user", user, "--property=Linger", "--value"])
        linger = result.stdout.strip() if result.returncode == 0 else ""
    if linger == "yes":
        return ["Lingering is on: nurture also runs when you are not logged in."]
    return [
        "A user service runs while you are logged in. To keep nurture running after you",
        "log out, and to start it at boot, turn on lingering (once, needs sudo):",
        f"  sudo loginctl enable-linger {user}",
        "Without a login session there is no unlocked keyring: give accounts a",
        "password_command (or a systemd credential) instead of a keyring secret.",
    ]


_LOG_LINES = [
    "Read its log with:",
    "  journalctl --user -u nurture        (add -f to follow, -b for this boot)",
]


def install(
    config_path: Path | None = None,
    *,
    hardening: bool | None = None,
    writable: Sequence[str | Path] = DEFAULT_WRITABLE,
    start: bool = True,
    run: Runner = _run,
    directory: Path | None = None,
    executable: str | None = None,
    settle: float = 3.0,
    booted: Path = SYSTEMD_BOOTED,
) -> Outcome:
    """Write the unit (and the hardening drop-in), then enable and start it.

    `hardening` None means: add the drop-in where user namespaces work.
    `settle` is how long to wait before checking the unit came up.
    """
    out = Outcome()
    folder = directory or unit_dir()
    folder.mkdir(parents=True, exist_ok=True)
    unit_path = folder / UNIT
    unit_path.write_text(render_unit(exec_start(config_path, executable)))
    out.say(f"Wrote {unit_path}", f"  ExecStart={exec_start(config_path, executable)}")
    running, why = user_manager_running(run, booted)
    if hardening is None:
        hardening = running and user_namespaces_work(run)
    dropin = folder / f"{UNIT}.d" / DROPIN
    if hardening:
        dropin.parent.mkdir(exist_ok=True)
        dropin.write_text(render_hardening(writable))
        out.say(f"Wrote {dropin} (sandboxing with user namespaces)")
    elif dropin.exists():
        dropin.unlink()
        out.say(f"Removed {dropin} (this host does not allow user namespaces)")

    if not running:
        out.ok = False  # the unit is written, but nothing runs: say so in the exit status
        out.say(
            "",
            f"systemd is not running for your user here ({why}), so nothing was started.",
            "On a machine with systemd, start it with:",
            "  systemctl --user daemon-reload",
            "  systemctl --user enable --now nurture",
            "Without systemd, start nurture from your session's autostart or a terminal:",
            f"  {' '.join(command(config_path, executable))}",
        )
        return out

    was_running = _active(run)
    if not _step(out, run, ["systemctl", "--user", "daemon-reload"]):
        return out
    # With Type=notify this waits for READY=1. A failed start is judged below, where
    # a sandbox the host refuses is taken out and the user is told where to look.
    enable = ["systemctl", "--user", "enable", *(["--now"] if start else []), UNIT]
    if not _step(out, run, enable, fatal=not start):
        return out
    if start and was_running:  # enable --now leaves a running old ExecStart alone
        _step(out, run, ["systemctl", "--user", "restart", UNIT], fatal=False)
    if start:
        if settle:
            time.sleep(settle)
        if not _active(run) and hardening and dropin.exists():
            dropin.unlink()
            out.say(
                "nurture did not start with the sandboxing drop-in; removed it and retrying",
                "(this host restricts user namespaces).",
            )
            for step in (
                ["systemctl", "--user", "daemon-reload"],
                ["systemctl", "--user", "restart", UNIT],
            ):
                if not _step(out, run, step):
                    return out
            if settle:
                time.sleep(settle)
        if _active(run):
            out.say("nurture is running and starts with your session.")
        else:
            out.ok = False
            out.say(
                "nurture did not stay up. See why with:",
                "  systemctl --user status nurture",
                "  journalctl --user -u nurture -n 50",
            )
    out.say("", *_linger_lines(run), "", *_LOG_LINES)
    return out


def _step(out: Outcome, run: Runner, args: list[str], *, fatal: bool = True) -> bool:
    """Run one command and report it; a failure marks the outcome failed when `fatal`."""
    result = run(args)
    if result.returncode == 0:
        out.say(f"Ran {' '.join(args)}")
        return True
    detail = (result.stderr or result.stdout).strip()
    out.say(f"{' '.join(args)} failed: {detail}")
    if fatal:
        out.ok = False
        return False
    return True


def _active(run: Runner) -> bool:
    result = run(["systemctl", "--user", "is-active", UNIT])
    return result.stdout.strip() in ("active", "reloading")


def uninstall(
    *, run: Runner = _run, directory: Path | None = None, booted: Path = SYSTEMD_BOOTED
) -> Outcome:
    """Stop and disable the unit and remove its files; state and config stay."""
    out = Outcome()
    folder = directory or unit_dir()
    running, why = user_manager_running(run, booted)
    if running:
        result = run(["systemctl", "--user", "disable", "--now", UNIT])
        if result.returncode == 0:
            out.say(f"Ran systemctl --user disable --now {UNIT}")
        else:
            out.say(f"({UNIT} was not enabled)")
    unit_path, dropin_dir = folder / UNIT, folder / f"{UNIT}.d"
    for path in (dropin_dir / DROPIN, unit_path):
        if path.exists():
            path.unlink()
            out.say(f"Removed {path}")
    if dropin_dir.is_dir() and not any(dropin_dir.iterdir()):
        dropin_dir.rmdir()
    if running:
        _step(out, run, ["systemctl", "--user", "daemon-reload"])
    else:
        out.say(f"systemd is not running for your user here ({why}).")
    out.say("Your configuration, rules and state are kept; tasks stay on your calendar.")
    return out


def status(
    *, run: Runner = _run, directory: Path | None = None, booted: Path = SYSTEMD_BOOTED
) -> Outcome:
    """Whether the unit is installed, enabled and running, with its status line."""
    out = Outcome()
    unit_path = (directory or unit_dir()) / UNIT
    out.say(f"unit:     {unit_path}" + ("" if unit_path.exists() else " (not installed)"))
    running, why = user_manager_running(run, booted)
    if not running:
        out.ok = False  # the unit is written, but nothing runs: say so in the exit status
        out.say(f"systemd:  not running for your user here ({why})")
        out.ok = unit_path.exists()
        return out
    props = "ActiveState,SubState,UnitFileState,StatusText,NRestarts,DropInPaths"
    result = run(["systemctl", "--user", "show", UNIT, f"--property={props}"])
    values = dict(line.partition("=")[::2] for line in result.stdout.splitlines() if "=" in line)
    active = values.get("ActiveState", "unknown")
    out.say(
        f"state:    {active} ({values.get('SubState', '?')}), "
        f"{values.get('UnitFileState', '') or 'not enabled'}",
    )
    if values.get("StatusText"):
        out.say(f"status:   {values['StatusText']}")
    if values.get("NRestarts", "0") not in ("", "0"):
        out.say(f"restarts: {values['NRestarts']}")
    out.say(f"sandbox:  {'on' if DROPIN in values.get('DropInPaths', '') else 'off'}")
    out.say(*_linger_lines(run), *_LOG_LINES)
    out.ok = active == "active"
    return out
