"""The MAPI named properties nurture tags its tasks with, as EWS spells them.

The Graph connector writes the very same properties (see
``nurture_graph.mapi``; a test asserts both agree), so a mailbox moved from
Exchange Server to Microsoft 365 keeps its tasks and nurture still finds them.
"""

from __future__ import annotations

# nurture's own property set. Never change it: every task ever written carries it.
PROPERTY_SET = "28674c09-a9a2-432d-adae-1da57b188a4a"
KEY_NAME = "NurtureKey"
# The content hash property; its stored name says "Digest". Never change it either:
# every task ever written carries it.
HASH_NAME = "NurtureDigest"
CATEGORY = "nurture"
