"""One secrets layer for every connector.

A connector never reads a password, token or client secret itself: it calls
``context.secret(name)`` and the core resolves that through `Secrets`, in this
order, first hit wins:

1. **a command** — the account option ``NAME_command`` (``pass show mail/work``,
   ``secret-tool lookup ...``, ``op read ...``). It is run without a shell and
   its standard output, less the trailing newline, is the secret. This comes
   first because it works everywhere, including a systemd user service with no
   unlocked login keyring, and because it is what vdirsyncer, himalaya, aerc,
   mbsync and msmtp users already have.
2. **a systemd credential** — ``$CREDENTIALS_DIRECTORY/ACCOUNT.NAME``, as a unit
   provides it with ``LoadCredential=`` or ``SetCredentialEncrypted=``.
3. **the keyring**, only when it is a real one (Secret Service, KWallet, macOS
   Keychain, Windows Credential Locker). keyring falls back silently to a
   plaintext file when ``keyrings.alt`` is installed, and to a backend that
   fails on every call when nothing is available: both are refused here, so a
   secret is never stored in plain text by accident.
4. **a file only the user can read** — ``STATE/secrets/ACCOUNT.NAME``. A file or
   folder that group or others can read is refused with the ``chmod`` that fixes
   it, never silently used.

`Secrets.set` stores a value in the keyring when a real one exists, else in
that file (mode 0600 in a 0700 folder, whatever the umask).

Secret values are never logged at any level; log lines name the account, the
secret's name and the source, nothing more.
"""

from __future__ import annotations

import logging
import os
import shlex
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

from .errors import Problem, UserError
from .files import write_private

try:  # the log filter masks every resolved secret, should one slip into a message
    from .logsetup import register_secret
except ImportError:  # pragma: no cover - logging setup not present in this build

    def register_secret(value: str) -> None:
        """No log filter to register with."""


log = logging.getLogger(__name__)

SERVICE = "nurture"
COMMAND_TIMEOUT = 30.0
SECRETS_FOLDER = "secrets"

# Backends that look like a keyring but are none: they store in plain text
# (keyrings.alt), fail on every call (fail), or silently drop what they are
# given (null). A chainer is judged by the backends it chains.
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null")
_PLAINTEXT_PREFIX = "keyrings.alt"


def _module_of(backend: KeyringBackend) -> str:
    return type(backend).__module__ or ""


def is_real_backend(backend: KeyringBackend) -> bool:
    """True for a keyring that keeps secrets safe (not plaintext, fail, null or empty chainer)."""
    module = _module_of(backend)
    if module == _PLAINTEXT_PREFIX or module.startswith(_PLAINTEXT_PREFIX + "."):
        return False
    if module in _REFUSED_MODULES:
        return False
    return not isinstance(backend, ChainerBackend)


def real_keyring() -> KeyringBackend | None:
    """The keyring backend to use, or None when no real one is available.

    For a chainer, the highest-priority real backend it chains is used
    directly, so a plaintext backend further down the chain never sees a
    secret.
    """
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring config must not stop a sync
        log.debug("keyring unavailable: %s", type(exc).__name__)
        return None
    if isinstance(backend, ChainerBackend):
        for chained in backend.backends:
            if is_real_backend(chained):
                return chained
        return None
    return backend if is_real_backend(backend) else None


def _strip_newline(text: str) -> str:
    """`text` without its trailing line break(s); other whitespace is part of the secret."""
    return text.rstrip("\r\n")


def _check_name(kind: str, name: str) -> None:
    """Refuse names that would leave the secrets folder or hide a file (they become file names)."""
    if not name or name.startswith(".") or any(c in name for c in "/\\\0"):
        raise UserError(
            f"{kind} name {name!r} cannot be used for a secret",
            [Problem(f"{kind} {name!r}", "no '/', '\\', NUL or leading '.'", "rename it")],
        )


class Secrets:
    """Resolves and stores the secrets of one account.

    `options` are the account's options from config.toml; `state_dir` is
    nurture's state folder (the fallback file store lives under it).
    """

    def __init__(
        self,
        account: str,
        options: Mapping[str, Any],
        state_dir: Path,
        *,
        service: str = SERVICE,
    ) -> None:
        _check_name("account", account)
        self.account = account
        self.options = options
        self.state_dir = Path(state_dir)
        self.service = service

    # -- where things live -------------------------------------------------

    @property
    def folder(self) -> Path:
        """The folder of secret files (0700)."""
        return self.state_dir / SECRETS_FOLDER

    def file_for(self, name: str) -> Path:
        """The file that holds secret `name` of this account when no keyring is used."""
        return self.folder / f"{self.account}.{name}"

    def _username(self, name: str) -> str:
        return f"{self.account}/{name}"

    # -- resolution --------------------------------------------------------

    def get(self, name: str) -> str | None:
        """Secret `name` of this account, or None when no source has it.

        Raises `UserError` when a source exists but cannot be used: a failing
        command, or a secret file that others can read.
        """
        _check_name("secret", name)
        for source, lookup in (
            ("command", self._from_command),
            ("systemd credential", self._from_credentials),
            ("keyring", self._from_keyring),
            ("file", self._from_file),
        ):
            value = lookup(name)
            if value is not None:
                register_secret(value)
                log.debug("account %s: secret %s from %s", self.account, name, source)
                return value
        log.debug("account %s: no secret %s in any source", self.account, name)
        return None

    def _from_command(self, name: str) -> str | None:
        option = f"{name}_command"
        command = self.options.get(option)
        if command is None:
            return None
        where = f"[accounts.{self.account}] {option}"
        if isinstance(command, str):
            try:
                argv = shlex.split(command)
            except ValueError as exc:
                raise UserError(
                    f"account {self.account}: cannot read {option}",
                    [Problem(where, f"not a valid command line ({exc})", "check the quoting")],
                ) from None
        elif isinstance(command, list | tuple) and all(isinstance(a, str) for a in command):
            argv = list(command)
        else:
            raise UserError(
                f"account {self.account}: {option} must be a command",
                [Problem(where, "expected a string or a list of strings")],
            )
        if not argv:
            raise UserError(
                f"account {self.account}: {option} is empty",
                [Problem(where, "no command given", 'e.g. "pass show mail/work"')],
            )
        argv[0] = os.path.expanduser(argv[0])
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise UserError(
                f"account {self.account}: the command of {option} was not found",
                [Problem(where, f"no program {argv[0]!r}", "install it or fix the path")],
            ) from None
        except PermissionError:
            raise UserError(
                f"account {self.account}: the command of {option} cannot be run",
                [Problem(where, f"{argv[0]!r} is not executable", f"chmod u+x {argv[0]}")],
            ) from None
        except subprocess.TimeoutExpired:
            raise UserError(
                f"account {self.account}: the command of {option} did not finish",
                [
                    Problem(
                        where,
                        f"no answer within {COMMAND_TIMEOUT:.0f} s",
                        "does it wait for a passphrase? unlock its agent first",
                    )
                ],
            ) from None
        if done.returncode != 0:
            first = (done.stderr or "").strip().splitlines()
            detail = f": {first[0]}" if first else ""
            raise UserError(
                f"account {self.account}: the command of {option} failed",
                [
                    Problem(
                        where,
                        f"exit status {done.returncode}{detail}",
                        "run it by hand to see why",
                    )
                ],
            )
        value = _strip_newline(done.stdout)
        if not value:
            raise UserError(
                f"account {self.account}: the command of {option} printed nothing",
                [Problem(where, "empty output", "it must print the secret on stdout")],
            )
        return value

    def _from_credentials(self, name: str) -> str | None:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            return None
        path = Path(directory) / f"{self.account}.{name}"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UserError(
                f"account {self.account}: cannot read systemd credential {path.name}",
                [Problem(str(path), exc.strerror or type(exc).__name__)],
            ) from None
        return self._decode(data, path)

    def _from_keyring(self, name: str) -> str | None:
        backend = real_keyring()
        if backend is None:
            return None
        try:
            return backend.get_password(self.service, self._username(name))
        except keyring.errors.KeyringError as exc:
            # A locked or unreachable keyring is not fatal: the file may still
            # have it, and the final "no secret" error says what to do.
            log.warning(
                "account %s: keyring %s could not be read (%s)",
                self.account,
                type(backend).__name__,
                type(exc).__name__,
            )
            return None

    def _from_file(self, name: str) -> str | None:
        path = self.file_for(name)
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        self._check_private(self.folder, folder=True)
        self._check_private(path, folder=False, info=info)
        return self._decode(path.read_bytes(), path)

    def _decode(self, data: bytes, path: Path) -> str:
        try:
            return _strip_newline(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise UserError(
                f"account {self.account}: secret in {path} is not UTF-8 text",
                [Problem(str(path), "not UTF-8", "store the secret again as text")],
            ) from None

    def _check_private(
        self, path: Path, *, folder: bool, info: os.stat_result | None = None
    ) -> None:
        """Refuse `path` when anyone but its owner (the user) has access to it."""
        if os.name != "posix":  # pragma: no cover - Windows has ACLs, not mode bits
            return
        info = info or path.stat()
        what = "folder" if folder else "file"
        if info.st_uid != os.getuid():
            raise UserError(
                f"account {self.account}: secret {what} {path} belongs to another user",
                [Problem(str(path), "not owned by you", f"chown {os.getuid()} {path}")],
            )
        if stat.S_IMODE(info.st_mode) & 0o077:
            mode = "700" if folder else "600"
            raise UserError(
                f"account {self.account}: secret {what} {path} is readable by others",
                [
                    Problem(
                        str(path),
                        f"mode {stat.S_IMODE(info.st_mode):04o} lets group or others in",
                        f"chmod {mode} {shlex.quote(str(path))}",
                    )
                ],
            )

    # -- storing -----------------------------------------------------------

    def set(self, name: str, value: str) -> str:
        """Store secret `name`; return where: ``"keyring"`` or the file's path."""
        _check_name("secret", name)
        backend = real_keyring()
        if backend is not None:
            try:
                backend.set_password(self.service, self._username(name), value)
            except keyring.errors.KeyringError as exc:
                raise UserError(
                    f"account {self.account}: the keyring refused to store {name}",
                    [
                        Problem(
                            type(backend).__name__,
                            type(exc).__name__,
                            f"unlock your keyring, or set {name}_command in config.toml",
                        )
                    ],
                ) from None
            log.debug("account %s: stored %s in the keyring", self.account, name)
            return "keyring"
        path = self._write_file(name, value)
        log.debug("account %s: stored %s in %s", self.account, name, path)
        return str(path)

    def _write_file(self, name: str, value: str) -> Path:
        """Write the secret file atomically: 0600 in a 0700 folder, whatever the umask."""
        folder = self.folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        path = self.file_for(name)
        return write_private(path, value)
