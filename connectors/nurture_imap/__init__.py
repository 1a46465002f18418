"""nurture's IMAP connector: mail from any IMAP server, read incrementally and read-only."""

from __future__ import annotations

from .connector import ImapConnector

__all__ = ["ImapConnector"]
