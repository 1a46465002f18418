"""The cast of the demo: Alex Morgan's consultancy, its clients, colleagues and the machines.

Every address uses an RFC 2606 domain (``*.example``). The data here is plain
facts about people; what happens between them over six months is in `story`.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"


@dataclass(frozen=True, slots=True)
class Person:
    """One correspondent (or one of the user's identities).

    `style` is how their mail client quotes: "gmail" (``On … wrote:`` and ``>``),
    "apple" (``On 3 Mar 2026, at 10:02, … wrote:``) or "outlook"
    (``-----Original Message-----`` and a From/Sent block).
    `html` means their client sends multipart/alternative with an HTML part.
    """

    address: str
    name: str
    tz: str = LONDON
    org: str = ""
    title: str = ""
    phone: str = ""
    tier: str = "default"
    role: str = "client"
    style: str = "gmail"
    html: bool = False

    @property
    def first(self) -> str:
        return self.name.split()[0] if self.name else self.address.split("@")[0]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def signature(self) -> str:
        """The block their client appends (empty for machines)."""
        lines = [self.name]
        if self.title:
            lines.append(f"{self.title}, {self.org}" if self.org else self.title)
        elif self.org:
            lines.append(self.org)
        if self.phone:
            lines.append(self.phone)
        return "\n".join(lines)


# The user, with a work address and a personal alias.
ALEX = Person(
    "alex@brightpath.example",
    "Alex Morgan",
    LONDON,
    "Brightpath Consulting",
    "Managing Consultant",
    "+44 20 7946 0958",
    tier="self",
    role="user",
)
ALEX_ALIAS = Person("alex.morgan@mail.example", "Alex Morgan", LONDON, tier="self", role="user")

# Key clients.
DANA = Person(
    "dana.lee@northwind.example",
    "Dana Lee",
    NEW_YORK,
    "Northwind Logistics",
    "Head of Digital",
    "+1 212 555 0147",
    tier="key",
    html=True,
)
KIM = Person(
    "kim.osei@northwind.example",
    "Kim Osei",
    NEW_YORK,
    "Northwind Logistics",
    "Project Manager",
    "+1 212 555 0162",
    tier="key",
    html=True,
)
MARCUS = Person(
    "ops-director@northwind.example",
    "Marcus Hale",
    NEW_YORK,
    "Northwind Logistics",
    "Director of Operations",
    "+1 212 555 0100",
    tier="key",
    html=True,
)
PRIYA = Person(
    "priya.shah@haldenbank.example",
    "Priya Shah",
    LONDON,
    "Halden Bank",
    "Product Lead, Payments",
    "+44 20 7946 0321",
    tier="key",
    style="outlook",
)
OLIVER = Person(
    "oliver.grant@haldenbank.example",
    "Oliver Grant",
    LONDON,
    "Halden Bank",
    "Procurement Manager",
    "+44 20 7946 0388",
    tier="key",
    style="outlook",
)

# Regular clients.
JUERGEN = Person(
    "j.weiss@kessler.example",
    "Jürgen Weiß",
    BERLIN,
    "Kessler Maschinenbau GmbH",
    "Leiter IT",
    "+49 30 5555 0142",
    tier="client",
    style="outlook",
)
SAM_O = Person(
    "sam.ortiz@lumenstudios.example",
    "Sam Ortiz",
    LONDON,
    "Lumen Studios",
    "Producer",
    "+44 20 7946 0514",
    tier="client",
    html=True,
)
MAYA = Person(
    "maya.chen@orchardfoods.example",
    "Maya Chen",
    NEW_YORK,
    "Orchard Foods",
    "VP Operations",
    "+1 646 555 0183",
    tier="client",
)
GARETH = Person(
    "gareth.owen@fernhill.example",
    "Gareth Owen",
    LONDON,
    "Fernhill District Council",
    "Digital Services Manager",
    "+44 1632 960 412",
    tier="client",
    style="outlook",
)
LENA = Person(
    "lena.vogel@atlasfreight.example",
    "Lena Vogel",
    BERLIN,
    "Atlas Freight",
    "Head of Customer Experience",
    "+49 30 5555 0177",
    tier="client",
)

# Prospects (new relationships in the last weeks).
NINA = Person(
    "nina.park@bluewater.example",
    "Nina Park",
    NEW_YORK,
    "Bluewater Analytics",
    "COO",
    "+1 917 555 0131",
    tier="prospect",
    role="prospect",
)
RAVI = Person(
    "ravi@quarrylabs.example",
    "Ravi Menon",
    LONDON,
    "Quarry Labs",
    "Founder",
    tier="prospect",
    role="prospect",
)

# Colleagues at Brightpath.
SAM_P = Person(
    "sam.patel@brightpath.example",
    "Sam Patel",
    LONDON,
    "Brightpath Consulting",
    "Senior Consultant",
    tier="colleague",
    role="colleague",
)
JORDAN = Person(
    "jordan.reyes@brightpath.example",
    "Jordan Reyes",
    LONDON,
    "Brightpath Consulting",
    "Operations & Finance",
    tier="colleague",
    role="colleague",
)
CHLOE = Person(
    "chloe.martin@brightpath.example",
    "Chloe Martin",
    LONDON,
    "Brightpath Consulting",
    "Service Designer",
    tier="colleague",
    role="colleague",
)
BEN = Person(
    "ben.okafor@brightpath.example",
    "Ben Okafor",
    LONDON,
    "Brightpath Consulting",
    "Developer",
    tier="colleague",
    role="colleague",
)

# People Alex keeps in touch with outside the client work.
HELEN = Person(
    "helen@foxglove-partners.example",
    "Helen Brooks",
    LONDON,
    "Foxglove Partners",
    "Partner",
    role="partner",
    style="apple",
)
TOM = Person(
    "tom.becker@oldmill.example",
    "Tom Becker",
    BERLIN,
    "Old Mill Software",
    "CTO",
    role="former-client",
)
ROSA = Person("rosa.alvarez@mail.example", "Rosa Alvarez", NEW_YORK, role="mentor", style="apple")
IAN = Person(
    "ian.clarke@ledgerline.example",
    "Ian Clarke",
    LONDON,
    "Ledgerline Accountants",
    "Accountant",
    role="vendor",
    style="outlook",
)

# Machines: newsletters and notifications.
SAAS_WEEKLY = Person("news@saasweekly.example", "SaaS Weekly", NEW_YORK, role="newsletter")
DIGEST = Person(
    "digest@consultingdigest.example", "The Consultant's Digest", LONDON, role="newsletter"
)
GROWTH = Person("hello@growthhq.example", "Growth HQ", NEW_YORK, role="newsletter", html=True)
TRACKER = Person("noreply@tracker.example", "Tracker", LONDON, role="notification")
CODEHOST = Person("notifications@codehost.example", "CodeHost", NEW_YORK, role="notification")
BILLING = Person("invoices@billing.example", "Billing", LONDON, role="notification")
MAILER_DAEMON = Person("MAILER-DAEMON@mx.brightpath.example", "Mail Delivery System", LONDON)

CONTACTS: tuple[Person, ...] = (
    DANA,
    KIM,
    MARCUS,
    PRIYA,
    OLIVER,
    JUERGEN,
    SAM_O,
    MAYA,
    GARETH,
    LENA,
    NINA,
    RAVI,
    SAM_P,
    JORDAN,
    CHLOE,
    BEN,
    HELEN,
    TOM,
    ROSA,
    IAN,
    SAAS_WEEKLY,
    DIGEST,
    GROWTH,
    TRACKER,
    CODEHOST,
    BILLING,
)

# Contact rules as the demo's rules/contacts.toml states them (first match wins).
CONTACT_RULES: tuple[tuple[str, str, str], ...] = (
    ("*@northwind.example", "key", "ops-director@northwind.example"),
    ("*@haldenbank.example", "key", ""),
    ("*@kessler.example", "client", ""),
    ("*@lumenstudios.example", "client", ""),
    ("*@orchardfoods.example", "client", ""),
    ("*@fernhill.example", "client", ""),
    ("*@atlasfreight.example", "client", ""),
    ("*@bluewater.example", "prospect", ""),
    ("*@quarrylabs.example", "prospect", ""),
    ("*@brightpath.example", "colleague", ""),
)
