"""The bulk Maildir generator for benchmarks: the count asked, valid mail, real threads."""

from __future__ import annotations

import email
import email.policy
import hashlib
from email.message import EmailMessage
from pathlib import Path

import pytest

from nurture.demo import generate_bulk

COUNT = 500


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new"))


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_bulk(tmp_path_factory.mktemp("bulk") / "mail", COUNT, seed=7)


@pytest.fixture(scope="module")
def parsed(bulk: Path) -> dict[str, tuple[Path, EmailMessage]]:
    out: dict[str, tuple[Path, EmailMessage]] = {}
    for path in _files(bulk):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        out[str(msg["Message-ID"])] = (path, msg)
    return out


def test_writes_the_count_asked(bulk: Path, parsed: dict) -> None:
    files = _files(bulk)
    assert len(files) == COUNT
    assert len(parsed) == COUNT  # Message-IDs are unique
    sent = [p for p in files if ".Sent" in p.parts]
    assert 0.15 * COUNT < len(sent) < 0.5 * COUNT
    for folder in (bulk, bulk / ".Sent"):
        assert {p.name for p in folder.iterdir() if p.is_dir()} >= {"cur", "new", "tmp"}


def test_messages_parse_and_vary(parsed: dict) -> None:
    sizes, kinds = [], {"html": 0, "attachment": 0, "list": 0, "encoded-name": 0}
    for path, msg in parsed.values():
        assert not msg.defects, path
        for name in ("Date", "From", "To", "Subject", "Message-ID"):
            assert msg[name] is not None
        body = msg.get_body(("plain",))
        assert body is not None and body.get_content().strip()
        kinds["html"] += msg.get_body(("html",)) is not None
        kinds["attachment"] += any(p.get_filename() for p in msg.walk())
        kinds["list"] += msg["List-Id"] is not None
        kinds["encoded-name"] += b"=?utf-8?" in path.read_bytes().split(b"\n\n", 1)[0]
        sizes.append(path.stat().st_size)
    sizes.sort()
    median = sizes[len(sizes) // 2]
    assert 2_000 < median < 20_000
    assert sizes[-1] > 20_000
    assert all(n > 3 for n in kinds.values()), kinds


def test_threads_are_real(parsed: dict) -> None:
    replies = [m for _p, m in parsed.values() if m["In-Reply-To"] is not None]
    assert len(replies) > COUNT // 4
    for msg in replies:
        refs = str(msg["References"]).split()
        assert refs[-1] == str(msg["In-Reply-To"])
        assert all(r in parsed for r in refs)


def test_same_seed_same_bytes(bulk: Path, tmp_path: Path) -> None:
    def digest(root: Path) -> str:
        h = hashlib.sha256()
        for p in _files(root):
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
        return h.hexdigest()

    again = generate_bulk(tmp_path / "again", COUNT, seed=7)
    other = generate_bulk(tmp_path / "other", COUNT, seed=8)
    assert digest(again) == digest(bulk)
    assert digest(other) != digest(bulk)


def test_another_seed_adds_to_the_same_maildir(tmp_path: Path) -> None:
    root = generate_bulk(tmp_path / "mail", 40, seed=1)
    generate_bulk(root, 10, seed=2)
    assert len(_files(root)) == 50
