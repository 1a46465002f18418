"""Payload factories: mail and API resources shaped like Google's reference, built in code."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

_counter = itertools.count(1)


def raw_message(
    *,
    sender: str = "Dana Lee <dana@example.com>",
    to: str = "me@example.org",
    subject: str = "Q3 renewal pricing?",
    body: str = "Could you send me the renewal pricing by Friday?",
    date: datetime | None = None,
    message_id: str | None = None,
    in_reply_to: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    """An RFC 5322 message as bytes."""
    n = next(_counter)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(
        date or datetime(2026, 11, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
    )
    msg["Message-ID"] = f"<{message_id or f'm{n}@example.com'}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def api_error(code: int, message: str, reason: str, status: str = "") -> dict[str, Any]:
    """A Google JSON error body (both the v1 ``errors`` list and the v2 ``status``)."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
            "status": status
            or {
                400: "INVALID_ARGUMENT",
                401: "UNAUTHENTICATED",
                403: "PERMISSION_DENIED",
                404: "NOT_FOUND",
                409: "ALREADY_EXISTS",
                410: "ABORTED",
                412: "FAILED_PRECONDITION",
                429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL",
            }.get(code, "UNKNOWN"),
        }
    }


def event_time(value: datetime | str) -> dict[str, str]:
    """An EventDateTime: ``dateTime`` for a moment, ``date`` for an all-day date string."""
    if isinstance(value, str):
        return {"date": value}
    return {"dateTime": value.astimezone(UTC).isoformat().replace("+00:00", "Z"), "timeZone": "UTC"}


def foreign_event(
    uid: str,
    summary: str,
    start: datetime | str,
    end: datetime | str,
    attendees: tuple[str, ...] = (),
    organizer: str = "me@example.org",
    transparency: str = "opaque",
) -> dict[str, Any]:
    """An event the user (not nurture) made, as events.insert would store it."""
    event: dict[str, Any] = {
        "id": uid,
        "summary": summary,
        "start": event_time(start),
        "end": event_time(end),
        "organizer": {"email": organizer, "self": organizer == "me@example.org"},
        "transparency": transparency,
    }
    if attendees:
        event["attendees"] = [{"email": a, "responseStatus": "accepted"} for a in attendees]
    return event
