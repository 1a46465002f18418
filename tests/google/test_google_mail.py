"""Gmail: resumable first sync, history, labels, throttling — on the fake Google."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("googleapiclient")

from googleapiclient.errors import HttpError  # noqa: E402
from nurture_google.calls import Caller  # noqa: E402
from nurture_google.gmail import GmailSource  # noqa: E402

from nurture.errors import CursorExpired, TransientError  # noqa: E402
from nurture.model import FolderRole  # noqa: E402

from .conftest import Sleeps, make_connector  # noqa: E402
from .gfactories import raw_message  # noqa: E402
from .gfake import FakeGoogle  # noqa: E402

SINCE = datetime(2025, 11, 23, tzinfo=UTC)


def source(
    fake: FakeGoogle,
    cache: Path,
    page_size: int = 500,
    batch: int = 50,
    sleeps: Sleeps | None = None,
) -> GmailSource:
    connector = make_connector(fake, cache, sleeps)
    connector.caller.max_batch = connector.caller.batch_size = batch
    return GmailSource(
        connector.service("gmail"), connector.caller, page_size=page_size, checkpoints=cache
    )


def mailbox(fake: FakeGoogle, count: int) -> dict[str, str]:
    """`count` inbound messages; returns Gmail id -> Message-ID."""
    found = {}
    for n in range(count):
        found[fake.deliver(raw_message(message_id=f"m{n}@example.com"))] = f"m{n}@example.com"
    return found


@pytest.fixture
def cache(tmp_path: Path, token_endpoint: Any) -> Path:
    return tmp_path / "cache"


def test_first_sync_pages_and_batches_within_limits(fake: FakeGoogle, cache: Path) -> None:
    expected = mailbox(fake, 23)
    batches = list(source(fake, cache, page_size=5, batch=4).changes(None, SINCE))
    got = [m.id for b in batches for m in b.messages]
    assert sorted(got) == sorted(expected)
    assert fake.calls["gmail.users.messages.list"] == 5  # ceil(23 / 5)
    assert fake.calls["gmail.users.messages.get"] == 23
    assert fake.calls["gmail.users.getProfile"] == 1
    assert max(fake.batch_sizes) <= 4
    assert json.loads(batches[-1].cursor)["history"] == str(fake.history_id)


def test_crash_mid_backfill_resumes_without_gaps_or_repeats(fake: FakeGoogle, cache: Path) -> None:
    expected = mailbox(fake, 17)
    committed: list[str] = []
    cursor = None
    for n, batch in enumerate(source(fake, cache, page_size=5, batch=3).changes(None, SINCE)):
        committed += [m.id for m in batch.messages]
        cursor = batch.cursor
        if n == 3:
            break  # the process dies here; the core committed this batch and its cursor
    assert cursor is not None and "history" not in json.loads(cursor)
    fake.reset_counts()
    resumed = list(source(fake, cache, page_size=5, batch=3).changes(cursor, SINCE))
    rest = [m.id for b in resumed for m in b.messages]
    assert sorted(committed + rest) == sorted(expected)
    assert not set(committed) & set(rest)
    assert fake.calls["gmail.users.getProfile"] == 0
    assert fake.calls["gmail.users.messages.get"] == len(rest)
    assert "history" in json.loads(resumed[-1].cursor)


def test_mail_arriving_during_backfill_comes_from_history(fake: FakeGoogle, cache: Path) -> None:
    mailbox(fake, 6)
    gmail = source(fake, cache, page_size=2, batch=2)
    stream = gmail.changes(None, SINCE)
    first = next(stream)
    late = fake.deliver(
        raw_message(message_id="late@example.com", date=datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    )
    rest = list(stream)
    cursor = rest[-1].cursor
    seen = {m.id for b in [first, *rest] for m in b.messages}
    following = list(gmail.changes(cursor, SINCE))
    assert late in seen | {m.id for b in following for m in b.messages}
    assert fake.calls["gmail.users.history.list"] == 1


def test_no_change_sync_is_one_history_call(fake: FakeGoogle, cache: Path) -> None:
    mailbox(fake, 3)
    gmail = source(fake, cache)
    cursor = list(gmail.changes(None, SINCE))[-1].cursor
    fake.reset_counts()
    (batch,) = gmail.changes(cursor, SINCE)
    assert batch.messages == () and batch.deleted == ()
    assert dict(fake.calls) == {"gmail.users.history.list": 1}
    assert fake.units == 2


def test_stale_history_raises_cursor_expired(fake: FakeGoogle, cache: Path) -> None:
    mailbox(fake, 2)
    gmail = source(fake, cache)
    cursor = list(gmail.changes(None, SINCE))[-1].cursor
    fake.expire_history()
    with pytest.raises(CursorExpired):
        list(gmail.changes(cursor, SINCE))


def test_foreign_cursor_counts_as_expired(fake: FakeGoogle, cache: Path) -> None:
    with pytest.raises(CursorExpired):
        list(source(fake, cache).changes("1:2:3", SINCE))


def test_labels_map_to_folder_roles_and_categories(fake: FakeGoogle, cache: Path) -> None:
    ids = {
        "inbox": fake.deliver(raw_message(), {"INBOX"}),
        "sent": fake.deliver(raw_message(), {"SENT"}),
        "spam": fake.deliver(raw_message(), {"SPAM"}),
        "trash": fake.deliver(raw_message(), {"TRASH", "SENT"}),
        "archive": fake.deliver(raw_message(), {"Label_3"}),
        "promo": fake.deliver(raw_message(), {"INBOX", "CATEGORY_PROMOTIONS"}),
        "draft": fake.deliver(raw_message(), {"DRAFT"}),
        "chat": fake.deliver(raw_message(), {"CHAT"}),
    }
    found = {m.id: m for b in source(fake, cache).changes(None, SINCE) for m in b.messages}
    role = {name: found[i].folder for name, i in ids.items() if i in found}
    assert role == {
        "inbox": FolderRole.INBOX,
        "sent": FolderRole.SENT,
        "spam": FolderRole.JUNK,
        "trash": FolderRole.TRASH,
        "archive": FolderRole.ARCHIVE,
        "promo": FolderRole.INBOX,
    }
    assert found[ids["promo"]].headers["x-gmail-category"] == "promotions"
    assert "x-gmail-category" not in found[ids["inbox"]].headers


def test_metadata_becomes_a_message(fake: FakeGoogle, cache: Path) -> None:
    gid = fake.deliver(
        raw_message(
            sender="=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg@Example.com>",
            to="me@example.org, Sam <sam@example.com>",
            subject="Hello",
            message_id="x1@example.com",
            in_reply_to="x0@example.com",
            headers={"List-Id": "<news.example.com>", "X-Unrelated": "no"},
        ),
        thread_id="t-77",
    )
    (message,) = [m for b in source(fake, cache).changes(None, SINCE) for m in b.messages]
    assert message.id == gid
    assert message.sender.name == "Jörg Müller" and message.sender.email == "joerg@example.com"
    assert [a.email for a in message.to] == ["me@example.org", "sam@example.com"]
    assert (message.message_id, message.in_reply_to) == ("x1@example.com", "x0@example.com")
    assert message.references == ("x0@example.com",)
    assert message.headers["list-id"] == "<news.example.com>"
    assert "x-unrelated" not in message.headers and "from" not in message.headers
    assert message.link == "https://mail.google.com/mail/#all/t-77"


def test_read_state_changes_cost_nothing_but_trash_moves_the_message(
    fake: FakeGoogle, cache: Path
) -> None:
    ids = list(mailbox(fake, 2))
    gmail = source(fake, cache)
    cursor = list(gmail.changes(None, SINCE))[-1].cursor
    fake.relabel(ids[0], remove=frozenset({"UNREAD"}))
    fake.reset_counts()
    batches = list(gmail.changes(cursor, SINCE))
    assert [m for b in batches for m in b.messages] == []
    assert fake.calls["gmail.users.messages.get"] == 0
    fake.relabel(ids[1], add=frozenset({"TRASH"}), remove=frozenset({"INBOX"}))
    batches = list(gmail.changes(batches[-1].cursor, SINCE))
    (moved,) = [m for b in batches for m in b.messages]
    assert moved.id == ids[1] and moved.folder is FolderRole.TRASH


def test_deleted_and_added_in_the_same_window(fake: FakeGoogle, cache: Path) -> None:
    mailbox(fake, 1)
    gmail = source(fake, cache)
    cursor = list(gmail.changes(None, SINCE))[-1].cursor
    brief = fake.deliver(raw_message())
    fake.delete(brief)
    kept = fake.deliver(raw_message())
    batches = list(gmail.changes(cursor, SINCE))
    assert [m.id for b in batches for m in b.messages] == [kept]
    assert {d for b in batches for d in b.deleted} == {brief}
    assert fake.calls["gmail.users.messages.get"] == 2  # the backfill's one and `kept`


def test_throttled_batch_calls_back_off_shrink_and_succeed(
    fake: FakeGoogle, cache: Path, sleeps: Sleeps
) -> None:
    expected = mailbox(fake, 12)
    fake.fail("gmail.users.messages.get", 429, times=3, retry_after=7)
    gmail = source(fake, cache, batch=8, sleeps=sleeps)
    got = [m.id for b in gmail.changes(None, SINCE) for m in b.messages]
    assert sorted(got) == sorted(expected)
    assert sleeps and min(sleeps) >= 7
    assert fake.batch_sizes[0] == 8 and min(fake.batch_sizes) < 8


def test_rate_limit_403_on_history_retries(fake: FakeGoogle, cache: Path, sleeps: Sleeps) -> None:
    mailbox(fake, 1)
    gmail = source(fake, cache, sleeps=sleeps)
    cursor = list(gmail.changes(None, SINCE))[-1].cursor
    fake.fail("gmail.users.history.list", 403, times=2, reason="userRateLimitExceeded")
    (batch,) = gmail.changes(cursor, SINCE)
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0]
    assert "history" in json.loads(batch.cursor)


def test_throttling_that_persists_becomes_transient_error(
    fake: FakeGoogle, cache: Path, sleeps: Sleeps
) -> None:
    mailbox(fake, 1)
    gmail = source(fake, cache, sleeps=sleeps)
    cursor = list(gmail.changes(None, SINCE))[-1].cursor
    fake.fail("gmail.users.history.list", 429, times=100, retry_after=30)
    with pytest.raises(TransientError) as caught:
        list(gmail.changes(cursor, SINCE))
    assert caught.value.retry_after == 30
    assert fake.calls["gmail.users.history.list"] == Caller().tries


def test_other_client_errors_are_not_retried(fake: FakeGoogle, cache: Path, sleeps: Sleeps) -> None:
    mailbox(fake, 1)
    fake.fail("gmail.users.messages.list", 400, times=1, reason="invalidArgument")
    with pytest.raises(HttpError):
        list(source(fake, cache, sleeps=sleeps).changes(None, SINCE))
    assert sleeps == []


def test_bodies_are_text_and_html_parts_without_attachments(fake: FakeGoogle, cache: Path) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "dana@x.example", "me@x.example", "Hi"
    message.set_content(
        "Können wir am Donnerstag reden?", charset="iso-8859-1", cte="quoted-printable"
    )
    message.add_alternative("<p>Können wir <b>am Donnerstag</b> reden?</p>", subtype="html")
    message.add_attachment(
        b"%PDF-1.7 secret figures", maintype="application", subtype="pdf", filename="figures.pdf"
    )
    gid = fake.deliver(message.as_bytes())
    gone = fake.deliver(raw_message())
    fake.delete(gone)
    bodies = dict(source(fake, cache).bodies([gid, gone]))
    assert set(bodies) == {gid}
    body = bodies[gid]
    assert body.text is not None and body.text.strip() == "Können wir am Donnerstag reden?"
    assert body.html is not None and "<b>am Donnerstag</b>" in body.html
    assert "secret figures" not in (body.text + body.html) and body.raw is None
    assert all(q.get("format") == ["full"] for m, q in fake.log if m.endswith("messages.get"))


def test_first_sync_reads_only_the_window(fake: FakeGoogle, cache: Path) -> None:
    recent = fake.deliver(raw_message(date=datetime(2026, 10, 1, tzinfo=UTC)))
    fake.deliver(raw_message(date=datetime(2026, 1, 1, tzinfo=UTC)))
    connector = make_connector(fake, cache, window_months=3)
    gmail = connector.mail()
    assert gmail is not None
    got = [m.id for b in gmail.changes(None, datetime(2020, 1, 1, tzinfo=UTC)) for m in b.messages]
    assert got == [recent]


@pytest.mark.parametrize("crash_after", range(8))
def test_resume_from_every_checkpoint_with_changes_in_between(
    fake: FakeGoogle, cache: Path, crash_after: int
) -> None:
    ids = list(mailbox(fake, 11))
    committed: dict[str, None] = {}
    cursor = None
    for n, batch in enumerate(source(fake, cache, page_size=4, batch=3).changes(None, SINCE)):
        committed.update(dict.fromkeys(m.id for m in batch.messages))
        cursor = batch.cursor
        if n == crash_after:
            break
    fake.delete(ids[-1])  # a message goes while the process is down
    new = fake.deliver(raw_message(date=datetime(2026, 11, 23, 11, tzinfo=UTC)))
    deleted: set[str] = set()
    for _ in range(2):  # finish the backfill, then one incremental sync
        for batch in source(fake, cache, page_size=4, batch=3).changes(cursor, SINCE):
            committed.update(dict.fromkeys(m.id for m in batch.messages))
            deleted |= set(batch.deleted)
            cursor = batch.cursor
    assert set(committed) - deleted >= set(ids[:-1]) | {new}
    assert ids[-1] not in set(committed) - deleted


def test_batches_settle_under_gmails_concurrency_limit(
    fake: FakeGoogle, cache: Path, sleeps: Sleeps
) -> None:
    expected = mailbox(fake, 600)
    fake.concurrency = 20  # calls beyond the 20th of a batch answer 429
    got = [
        m.id for b in source(fake, cache, sleeps=sleeps).changes(None, SINCE) for m in b.messages
    ]
    assert sorted(got) == sorted(expected)
    wasted = fake.calls["gmail.users.messages.get"] - 600
    assert 0 < wasted <= 600 * 0.10  # within 10% of the minimum despite throttling
    assert max(fake.batch_sizes[-5:]) <= 25


def test_deletion_while_down_cannot_hide_a_later_message(fake: FakeGoogle, cache: Path) -> None:
    # Found by the property test: with page tokens that count positions, a
    # deletion before the resume point shifted the next page past a message.
    ids = list(mailbox(fake, 4))
    stream = source(fake, cache, page_size=3, batch=2).changes(None, SINCE)
    first = next(stream)
    fake.delete(sorted(ids)[0])
    rest = list(source(fake, cache, page_size=3, batch=2).changes(first.cursor, SINCE))
    seen = {m.id for b in [first, *rest] for m in b.messages}
    assert set(fake.messages) <= seen


def test_lost_checkpoint_means_listing_again_not_losing_mail(fake: FakeGoogle, cache: Path) -> None:
    expected = mailbox(fake, 7)
    stream = source(fake, cache, page_size=3, batch=2).changes(None, SINCE)
    first = next(stream)
    (checkpoint,) = cache.glob("backfill-*.json")
    checkpoint.unlink()
    rest = list(source(fake, cache, page_size=3, batch=2).changes(first.cursor, SINCE))
    assert {m.id for b in [first, *rest] for m in b.messages} == set(expected)
    assert "history" in json.loads(rest[-1].cursor)
    list(source(fake, cache).changes(rest[-1].cursor, SINCE))
    assert list(cache.glob("backfill-*.json")) == []  # cleaned up once in sync
