"""The MAPI named properties nurture tags its tasks with, as Graph spells them.

The Exchange connector writes the very same properties through EWS (see
``nurture_exchange.mapi``; a test asserts both agree), so a mailbox moved from
Exchange Server to Microsoft 365 keeps its tasks and nurture still finds them.
The core never sees these names: to it a task is just a key.
"""

from __future__ import annotations

# nurture's own property set. Never change it: every task ever written carries it.
PROPERTY_SET = "28674c09-a9a2-432d-adae-1da57b188a4a"
KEY_NAME = "NurtureKey"
# The content hash property; its stored name says "Digest". Never change it either:
# every task ever written carries it.
HASH_NAME = "NurtureDigest"
CATEGORY = "nurture"

KEY_PROPERTY = f"String {{{PROPERTY_SET}}} Name {KEY_NAME}"
HASH_PROPERTY = f"String {{{PROPERTY_SET}}} Name {HASH_NAME}"

# Standard MAPI tags read from messages in the same request as the delta page:
# the transport headers (inbound mail), In-Reply-To and References (sent mail,
# which has no transport headers).
TRANSPORT_HEADERS = "String 0x007D"
IN_REPLY_TO = "String 0x1042"
REFERENCES = "String 0x1039"
