"""A throwaway, unprivileged Dovecot IMAP server for tests and benchmarks.

Usage::

    with DovecotServer() as server:          # or the `dovecot` pytest fixture
        client = server.client()             # a logged-in imapclient.IMAPClient
        server.append(raw_bytes, "Sent")

The instance listens on a free loopback port with plain IMAP (no TLS: the
connector allows plain text only to loopback), one passwd-file user, Maildir
storage, CONDSTORE and QRESYNC. As root (CI), Dovecot refuses to run its login
process as root, so the internal and login users are the `dovecot`/`dovenull`
users of the Debian package and the mail user is `nobody`; as an ordinary user,
all of them are the current user (see FIELD-NOTES.md).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from . import free_port, skip_or_fail, wait_for_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "alice"
PASSWORD = "correct horse battery staple"

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
instance_name = nurture-test-{port}
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins
imap_capability = +CONDSTORE QRESYNC
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/passwd
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  {chroot}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox "All Mail" {{
    special_use = \\All
    auto = no
  }}
}}
"""


def available() -> bool:
    return os.path.exists(DOVECOT)


class DovecotServer:
    """One Dovecot instance in its own temporary folder; start/stop/restart."""

    def __init__(self, user: str = USER, password: str = PASSWORD) -> None:
        self.user = user
        self.password = password
        self.host = "127.0.0.1"
        self.port = free_port()
        self._tmp = Path(tempfile.mkdtemp(prefix="nurture-dovecot-"))
        self._tmp.chmod(0o755)
        self.home = self._tmp / "home"
        self.config = self._tmp / "dovecot.conf"
        self._write_config()

    # -- set-up -----------------------------------------------------------

    def _write_config(self) -> None:
        if os.geteuid() == 0:
            internal_user = internal_group = "dovecot"
            login_user = "dovenull"
            mail_uid, mail_gid = 65534, 65534  # nobody:nogroup
            chroot = ""
        else:
            me = pwd.getpwuid(os.getuid())
            internal_user = login_user = me.pw_name
            internal_group = me.pw_name
            mail_uid, mail_gid = os.getuid(), os.getgid()
            chroot = "chroot ="
            with contextlib.suppress(KeyError):
                import grp

                internal_group = grp.getgrgid(os.getgid()).gr_name
        self.home.mkdir(mode=0o755)
        os.chown(self.home, mail_uid, mail_gid)
        self._mail_owner = (mail_uid, mail_gid)
        (self._tmp / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{mail_uid}:{mail_gid}::{self.home}\n"
        )
        self.config.write_text(
            _CONFIG.format(
                base=self._tmp,
                port=self.port,
                internal_user=internal_user,
                internal_group=internal_group,
                login_user=login_user,
                chroot=chroot,
            )
        )

    # -- lifecycle --------------------------------------------------------

    def start(self) -> None:
        # The master daemonises; its output goes to a file, not to pipes (a pipe
        # held open by the daemon would block us forever). A restart can race the
        # old instance's last exit (its socket, or a master not yet reaped), so a
        # refused start is retried briefly.
        errors: list[str] = []
        for _attempt in range(40):
            self._forget_dead_master()
            with tempfile.TemporaryFile() as err:
                code = subprocess.run(
                    [DOVECOT, "-c", str(self.config)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                ).returncode
                err.seek(0)
                message = err.read().decode(errors="replace").strip()
            if code == 0:
                break
            errors.append(f"({code}) {message}")
            time.sleep(0.25)
        else:
            raise RuntimeError("dovecot did not start: " + " | ".join(errors[:3] + errors[-1:]))
        try:
            wait_for_port(self.port)
        except TimeoutError as exc:
            raise RuntimeError(f"dovecot did not start: {self.log()}") from exc

    def _forget_dead_master(self) -> None:
        """Remove master.pid when its process is gone or a zombie nobody has reaped yet.

        (In containers whose init reaps slowly, a stopped master lingers as a
        zombie, and Dovecot would take it for a running instance.)
        """
        pidfile = self._tmp / "run" / "master.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            state = "gone"
        if state in ("Z", "X", "gone"):
            with contextlib.suppress(FileNotFoundError):
                pidfile.unlink()

    def _instance_pids(self) -> list[int]:
        """Live processes of this instance: its master (by config path) and its services.

        Both marks are unique to this instance, so nothing else is ever touched.
        """
        title = f"dovecot-nurture-test-{self.port}/".encode()
        config = str(self.config).encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError):
                cmdline = (entry / "cmdline").read_bytes()
                if not (cmdline.startswith(title) or config in cmdline.split(b"\0")):
                    continue
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        """Stop the master and every process of this instance, open IMAP sessions included.

        The master leaves running imap processes behind on SIGTERM; a real
        restart drops clients, so they are ended too (this instance's only).
        """
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            pids = self._instance_pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while self._instance_pids() and time.monotonic() < deadline:
                time.sleep(0.02)
        with contextlib.suppress(FileNotFoundError):
            (self._tmp / "run" / "master.pid").unlink()
        # A login process may still hold the listener for a moment.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                break
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def log(self) -> str:
        path = self._tmp / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # -- acting as the outside world ---------------------------------------

    def client(self):  # type: ignore[no-untyped-def]
        """A logged-in IMAPClient (plain, loopback)."""
        import imapclient

        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        return client

    def options(self, **extra: object) -> dict[str, object]:
        """The account options a nurture IMAP connector needs for this server."""
        return {"host": self.host, "port": self.port, "user": self.user, **extra}

    def append(self, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()) -> None:
        client = self.client()
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, flags=tuple(flags))
        finally:
            client.logout()

    def set_uidvalidity(self, folder: str, value: int) -> None:
        """Give `folder` a new UIDVALIDITY, as a server does after rebuilding its index."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run(
            [doveadm, "-c", str(self.config), "mailbox", "update", "-u", self.user,
             "--uid-validity", str(value), folder],
            check=True, capture_output=True,
        )  # fmt: skip

    def fill_maildir(self, messages: Iterable[bytes], folder: str = "INBOX") -> int:
        """Write messages straight into the Maildir (much faster than APPEND); returns count.

        Dovecot indexes them on the next SELECT. Use before any client has
        opened `folder`, e.g. to seed a benchmark mailbox.
        """
        root = self.maildir
        path = root if folder == "INBOX" else root / f".{folder.replace('/', '.')}"
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        count = 0
        stamp = int(time.time())
        for count, raw in enumerate(messages, 1):
            name = path / "cur" / f"{stamp}.M{count}P{os.getpid()}.nurture:2,S"
            name.write_bytes(raw)
        self.own_maildir()
        return count

    @property
    def maildir(self) -> Path:
        """The user's Maildir++ root (INBOX; folders are dot-prefixed subfolders)."""
        return self.home / "Maildir"

    def own_maildir(self) -> None:
        """Give everything under the Maildir to the mail user (after writing files as root)."""
        uid, gid = self._mail_owner
        for dirpath, dirnames, filenames in os.walk(self.maildir):
            os.chown(dirpath, uid, gid)
            for entry in dirnames + filenames:
                os.lchown(os.path.join(dirpath, entry), uid, gid)


@contextlib.contextmanager
def running_dovecot() -> Iterator[DovecotServer]:
    """A started Dovecot, stopped and removed on exit."""
    server = DovecotServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A fresh Dovecot per test; skips (fails on CI) when Dovecot is not installed."""
    if not available():
        skip_or_fail(f"Dovecot is not installed ({DOVECOT}); apt-get install dovecot-imapd")
    with running_dovecot() as server:
        yield server


ROLE_FOLDERS = {
    "inbox": "INBOX",
    "sent": "Sent",
    "archive": "Archive",
    "junk": "Junk",
    "trash": "Trash",
    "other": "Other",
}


class DovecotHarness:
    """The contract suite's MailHarness on a real Dovecot: builds connectors, delivers, removes."""

    def __init__(self, server: DovecotServer, cache_dir: Path, **options: object) -> None:
        self.server = server
        self.cache_dir = cache_dir
        self.extra_options = options

    def connector(self, password: str | None = None):  # type: ignore[no-untyped-def]
        from nurture_imap import ImapConnector

        from nurture.connector import Context

        secret = self.server.password if password is None else password
        context = Context(
            account="test",
            options=self.server.options(**self.extra_options),
            cache_dir=self.cache_dir,
            secret=lambda name: secret if name == "password" else None,
        )
        return ImapConnector(context)

    def deliver(self, raw: bytes, role: object = "inbox") -> None:
        self.server.append(raw, ROLE_FOLDERS[str(role)])

    def remove(self, message_id: str) -> None:
        client = self.server.client()
        try:
            for _flags, _sep, name in client.list_folders():
                client.select_folder(name)
                uids = client.search(["HEADER", "Message-ID", f"<{message_id}>"])
                if uids:
                    client.delete_messages(uids)
                    client.expunge()
        finally:
            client.logout()
