"""nurture's CalDAV connector: busy time and meetings in, follow-up tasks out."""

from __future__ import annotations

from .connector import CalDavConnector

__all__ = ["CalDavConnector"]
