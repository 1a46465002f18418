"""Pure parts of the IMAP connector: the cursor and the header parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nurture_imap.connection import Settings, is_loopback
from nurture_imap.cursor import FolderState, compress, decode, encode, expand
from nurture_imap.headers import FETCH_ITEM, addresses, to_message
from nurture_imap.source import message_ident, split_ident

from nurture.errors import CursorExpired
from nurture.model import FolderRole

UTC = UTC


@given(st.sets(st.integers(min_value=1, max_value=5000)))
def test_uid_sets_round_trip(uids: set[int]) -> None:
    assert expand(compress(uids)) == frozenset(uids)


def test_uid_set_is_compact() -> None:
    assert compress([5, 1, 2, 3, 7, 8]) == "1:3,5,7:8"


def test_cursor_round_trips_and_rejects_garbage() -> None:
    state = {"Sent": FolderState("sent", 17, 40, 39, 120, frozenset(range(1, 40)))}
    assert decode(encode(state)) == state
    assert decode(None) == {} and decode("") == {}
    for bad in ("{", '{"v": 99, "folders": {}}', '{"v": 1, "folders": {"x": {}}}', "[]"):
        with pytest.raises(CursorExpired):
            decode(bad)


@given(st.text(min_size=1, max_size=30).filter(lambda s: "\r" not in s and "\n" not in s),
       st.integers(min_value=1, max_value=2**32 - 1), st.integers(min_value=1))  # fmt: skip
def test_message_ids_split_back(folder: str, validity: int, uid: int) -> None:
    assert split_ident(message_ident(folder, validity, uid)) == (folder, validity, uid)


def test_headers_parse_encoded_folded_and_odd_values() -> None:
    raw = (
        b"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg@Example.DE>\r\n"
        b'To: "Lee, Dana" <dana@client.example>, sam@x.example\r\n'
        b"Subject: =?utf-8?b?UTPigJlzIHJlbmV3YWw=?=\r\n  pricing\r\n"
        b"Date: Mon, 2 Nov 2026 09:30:00 -0000\r\n"
        b"References: <a@x>\r\n <b@x>\r\n"
        b"In-Reply-To: <b@x>\r\n"
        b"List-Id: Weekly <weekly.list.example>\r\n"
        b"Auto-Submitted: auto-generated\r\n\r\n"
    )
    message = to_message("INBOX/1/7", raw, FolderRole.INBOX, None)
    assert message.sender.email == "joerg@example.de" and message.sender.name == "Jörg Müller"
    assert [a.email for a in message.to] == ["dana@client.example", "sam@x.example"]
    assert message.to[0].name == "Lee, Dana"
    assert message.subject == "Q3’s renewal pricing"
    assert message.date == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    assert message.references == ("a@x", "b@x") and message.in_reply_to == "b@x"
    assert message.headers["list-id"] == "Weekly <weekly.list.example>"
    assert message.headers["auto-submitted"] == "auto-generated"
    assert "from" not in message.headers


def test_missing_message_id_and_date_fall_back_stably() -> None:
    raw = b"From: a@b.example\r\nSubject: x\r\n\r\n"
    internal = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    one = to_message("INBOX/1/1", raw, FolderRole.INBOX, internal)
    two = to_message("Archive/9/4", raw, FolderRole.ARCHIVE, internal)
    assert one.message_id == two.message_id and one.message_id.endswith("@nurture.invalid")
    assert one.date == internal


def test_address_groups_and_comments_take_the_full_parser() -> None:
    assert [a.email for a in addresses("team: a@b.example, c@d.example;")] == [
        "a@b.example", "c@d.example"
    ]  # fmt: skip
    assert addresses("undisclosed-recipients:;") == ()


def test_every_rule_header_is_fetched() -> None:
    from nurture.model import RULE_HEADERS

    for name in RULE_HEADERS:
        assert name.upper() in FETCH_ITEM
    assert FETCH_ITEM.startswith("BODY.PEEK[")  # never sets \Seen


def test_tls_defaults() -> None:
    assert Settings("a", "imap.fastmail.com", 0, "u").effective_port() == 993
    assert Settings("a", "imap.fastmail.com", 0, "u").implicit_tls()
    assert not Settings("a", "mail.example", 143, "u").implicit_tls()
    assert Settings("a", "mail.example", 0, "u", tls="starttls").effective_port() == 143
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("imap.example.com") and not is_loopback("10.0.0.1")


class _FakeGmail:
    """Just enough of an IMAPClient for folder planning: Gmail's capabilities."""

    def has_capability(self, name: str) -> bool:
        return name.upper() in {"X-GM-EXT-1", "SPECIAL-USE"}


def test_gmail_is_read_from_all_mail_alone_with_roles_from_labels() -> None:
    from nurture_imap.source import ALL_MAIL, ImapMailSource, _role_from_labels

    source = ImapMailSource(Settings("g", "imap.gmail.com", 0, "u"), lambda _n: None, "fix")
    listing = [
        ((b"\\HasNoChildren",), b"/", "INBOX"),
        ((b"\\All", b"\\HasNoChildren"), b"/", "[Gmail]/All Mail"),
        ((b"\\Sent", b"\\HasNoChildren"), b"/", "[Gmail]/Sent Mail"),
        ((b"\\Noselect", b"\\HasChildren"), b"/", "[Gmail]"),
    ]
    assert source._plan(_FakeGmail(), listing) == {"[Gmail]/All Mail": ALL_MAIL}  # type: ignore[arg-type]
    assert _role_from_labels([b"\\Inbox", b"\\Important"]) is FolderRole.INBOX
    assert _role_from_labels([b"\\Sent"]) is FolderRole.SENT
    assert _role_from_labels([b"Clients"]) is FolderRole.ARCHIVE
    assert _role_from_labels([b"\\Draft"]) is None


def test_missing_server_skips_but_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers import skip_or_fail

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        skip_or_fail("Dovecot is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        skip_or_fail("Dovecot is not installed")
