"""Text extraction: from a message's MIME to the newest text its writer typed.

Three steps, each cheap and none able to raise:

1. `body_text` walks the MIME tree and picks the first text/plain part (or turns the
   first text/html part into text), skipping attachments and forwarded message/rfc822
   parts.
2. `newest_lines` keeps the lines the writer typed (`writer_marks`): the unquoted lines
   above, between and below '>' quoted blocks (top posts, inline replies, bottom posts),
   dropping each attribution ("On ... wrote:", "Jo <jo@x.org>:") and the quoted mail it
   introduces. Older mail with no quote marks runs to the end: Outlook
   "-----Original Message-----" and "From:/Sent:/To:/Subject:" blocks, Lotus Notes
   "Name@ORG 01/02/2001 10:00 AM" blocks, forwarded-message banners, GroupWise
   ">>> ... >>>" lines, and an "On ... wrote:" that no '>' line follows. Quoted lines
   with no attribution (a forward by quoting) stay in the text; a patch's diff stays
   too; `not_prose` tells the signals to skip both.
3. It then drops the signature after the writer's last line ("-- " delimiter, contact
   blocks after a sign-off, a service footer under a rule) and legal disclaimers.

Every regex here is anchored and bounded so that a 5 MB line or 100,000 '>' lines
cannot backtrack catastrophically; inputs are also capped in size.
"""

from __future__ import annotations

import email
import email.message
import logging
import re
from collections.abc import Iterator
from email.message import Message as MimeMessage

from nurture.model import Body

log = logging.getLogger(__name__)

# Beyond this many characters the rest of a body is never the newest text worth reading.
MAX_CHARS = 200_000
# Longest line inspected by the marker rules; longer lines are text, not headers.
_MAX_MARKER_LINE = 400

_SKIP_TYPES = frozenset(
    {
        "message/rfc822",
        "message/delivery-status",
        "message/disposition-notification",
        "text/rfc822-headers",
        "message/global-headers",
        "text/calendar",
    }
)


# ----------------------------------------------------------------------------- MIME


def _decode_part(part: MimeMessage) -> str:
    """The decoded text of one leaf part; never raises."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # broken transfer encodings
        payload = None
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    if not isinstance(payload, bytes):
        return str(payload)
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:  # a malformed charset parameter
        charset = "utf-8"
    for candidate in (charset, "utf-8", "cp1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("latin-1", errors="replace")


# Header fields at least one of which any real message carries.
_KNOWN_HEADERS = frozenset(
    "from to cc subject date message-id received return-path mime-version content-type "
    "reply-to sender delivered-to x-mailer in-reply-to references".split()
)


def _decode_bytes(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _leaves(msg: MimeMessage, depth: int = 0) -> Iterator[MimeMessage]:
    """The leaf parts in order, not descending into attached or forwarded messages."""
    if depth > 20:
        return
    try:
        ctype = msg.get_content_type()
    except Exception:
        ctype = "text/plain"
    if ctype in _SKIP_TYPES:
        return
    if msg.is_multipart():
        payload = msg.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, MimeMessage):
                    yield from _leaves(sub, depth + 1)
        return
    yield msg


def _is_attachment(part: MimeMessage) -> bool:
    try:
        disposition = (part.get("content-disposition") or "").lower()
    except Exception:
        return False
    return disposition.startswith("attachment")


def mime_text(raw: bytes) -> tuple[str, bool]:
    """The body text of a raw RFC 822 message and whether it came from HTML."""
    try:
        msg = email.message_from_bytes(raw[: MAX_CHARS * 8])
        has_headers = any(name.lower() in _KNOWN_HEADERS for name in msg)
    except Exception:
        log.debug("unparsable message, reading it as text")
        has_headers = False
    if not has_headers:
        # A bare body handed over as bytes ("bq: ..." is not a header field).
        return _decode_bytes(raw[: MAX_CHARS * 4])[:MAX_CHARS], False
    html: str | None = None
    for part in _leaves(msg):
        if _is_attachment(part):
            continue
        try:
            ctype = part.get_content_type()
        except Exception:
            ctype = "text/plain"
        if ctype == "text/plain":
            text = _decode_part(part)
            if text.strip():
                return text, False
        elif ctype == "text/html" and html is None:
            html = _decode_part(part)
    if html is not None:
        return html, True
    return "", False


def body_text(body: Body, *, strict: bool = False) -> str:
    """The whole text of a body, HTML converted, before any quote stripping.

    Never raises unless `strict` (the evaluation runner counts failures that way).
    """
    try:
        if body.raw is not None:
            text, is_html = mime_text(body.raw)
            return html_to_text(text) if is_html else text[:MAX_CHARS]
        if body.text and body.text.strip():
            return body.text[:MAX_CHARS]
        if body.html:
            return html_to_text(body.html)
    except Exception:  # never let one odd message stop analysis
        if strict:
            raise
        log.debug("body text extraction failed", exc_info=True)
    return ""


# ----------------------------------------------------------------------------- HTML

_BLOCK_TAGS = frozenset(
    "p div br li ul ol tr table h1 h2 h3 h4 h5 h6 blockquote pre hr section article "
    "header footer address dd dt dl center".split()
)
# Elements after which the HTML of common clients holds only older mail (Outlook's
# reply header, Yahoo's quoted part): all that follows them is cut, as in plain text.
_OLDER_MAIL_XPATH = (
    "//div[@id='appendonsend'] | //div[@id='divRplyFwdMsg'] | "
    "//div[contains(@class,'yahoo_quoted')] | "
    "//div[@id='mail-editor-reference-message-container']"
)
# Quote elements with a clear end: the writer can answer below or between them (Gmail,
# Apple Mail, Thunderbird). They become '>' lines for the plain-text rules.
_QUOTE_XPATH = (
    "//blockquote[@type='cite'] | //blockquote[contains(@class,'gmail_quote')] | "
    "//div[contains(@class,'gmail_quote')]//blockquote"
)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body with quoted blocks of known clients removed."""
    html = html[: MAX_CHARS * 4]
    if not html.strip():
        return ""
    try:
        import lxml.html
        from lxml import etree

        doc = lxml.html.document_fromstring(html)
    except Exception:
        return re.sub(r"<[^>]{0,2000}>", " ", html)[:MAX_CHARS]
    try:
        for bad in doc.xpath("//script | //style | //head | //title"):
            bad.drop_tree()
        for node in doc.xpath(_OLDER_MAIL_XPATH):
            parent = node.getparent()
            if parent is None:
                continue
            marker = etree.Element("p")
            marker.text = "\n-----Original Message-----\n"
            parent.replace(node, marker)
        quotes = doc.xpath(_QUOTE_XPATH)
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            if el.tag in _BLOCK_TAGS:
                el.tail = "\n" + (el.tail or "")
                if el.tag == "br":
                    continue
                el.text = "\n" + (el.text or "")
        inside = {id(q) for q in quotes}
        for node in quotes:
            parent = node.getparent()
            if parent is None or any(id(a) in inside for a in node.iterancestors()):
                continue  # a nested quote goes with the outermost one
            lines = [x.strip() for x in node.text_content().replace("\xa0", " ").split("\n")]
            quoted = etree.Element("div")
            quoted.text = "\n" + "\n".join(f"> {x}" for x in lines if x) + "\n"
            quoted.tail = node.tail
            parent.replace(node, quoted)
        text = doc.text_content()
    except Exception:
        log.debug("HTML conversion failed", exc_info=True)
        return ""
    text = text.replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()[:MAX_CHARS]


# ----------------------------------------------------------------------------- zoning

_ORIGINAL = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:original message|original|forwarded message|forwarded by|"
    r"forward(?:ed)? mail|message d'origine|urspr[üu]ngliche nachricht|weitergeleitete nachricht|"
    r"reply message|mensaje original)\b",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^\s*_{3,}\s*reply separator\s*_{3,}", re.IGNORECASE)
_BEGIN_FORWARD = re.compile(r"^\s*(?:begin forwarded message|forwarded message)\s*:", re.I)
_WROTE_END = re.compile(
    r"(?:wrote|writes|schrieb|geschrieben|a [ée]crit|escribi[óo]|scrisse|skrev|schreef)\s*:\s*$",
    re.I,
)
_ON_START = re.compile(r"^\s*(?:on|am|le|el|il|op|den)\s+\S", re.IGNORECASE)
_HEADER_FIELD = re.compile(
    r"^\s*\*?(from|sent|date|to|cc|subject|reply-to|sent by|bcc|von|an|gesendet|betreff|de|"
    r"envoy[ée]|objet|para|asunto|enviado)\s*:\*?(?:\s|$)",
    re.IGNORECASE,
)
_LOTUS_DATE = re.compile(
    r"^\s*(?:.{0,80}?\s)?\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AP]M)?\b", re.I
)
_LOTUS_ON = re.compile(
    r"\bon\s+\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AP]M)?\s*$", re.I
)
_LOTUS_ON_WRAPPED = re.compile(r"\bon\s+\d{1,2}/\d{1,2}/\d{2,4}\s*$", re.I)
_LOTUS_TIME = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AP]M)?\s*$", re.I)
_LOTUS_NAME = re.compile(r"^\s*[\w.'\- ]{2,60}@[\w\-]{2,30}(?:/[\w\-]{1,30})*\s*$")
# Attachment placeholders: " - budget.xls", " <<budget.xls>>", "<Embedded Picture (Metafile)>".
_ATTACHMENT = re.compile(
    r"^\s*(?:-\s+[^\s<>].{0,200}\.[A-Za-z0-9]{2,5}|<<[^<>]{1,200}>>(?:\s*<<[^<>]{1,200}>>)*|"
    r"<Embedded [^<>]{1,80}>)\s*$",
    re.IGNORECASE,
)
_GROUPWISE = re.compile(r"^\s*>>>\s.{0,200}>>>\s*$")
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_SIG_DASH = re.compile(r"^(?:--|__|-- |—|-{2,3}\s*)$")
_MOBILE = re.compile(
    r"^\s*(?:sent from my|sent from (?:outlook|mail|yahoo|samsung)|get outlook for|"
    r"sent via|sent using|envoy[ée] de mon)\b",
    re.IGNORECASE,
)
# Legal-disclaimer vocabulary; a paragraph is a disclaimer when it uses three kinds.
# Matched on lower-cased text; the lookahead skips positions that start no word.
_DISCLAIMER = re.compile(
    r"(?=\b[a-z])(?:(?P<confidential>confidential(?:ity)?|private communication)"
    r"|(?P<privileged>privileged|proprietary)"
    r"|(?P<recipient>intended (?:solely |only )?for|intended recipient|named addressee)"
    r"|(?P<error>in error|by mistake|delivery error)"
    r"|(?P<notify>notify (?:the sender|us)|inform the sender"
    r"|reply(?:ing)? to th(?:e|is) (?:sender|message))"
    r"|(?P<delete>delete|destroy)"
    r"|(?P<prohibited>prohibited|unauthori[sz]ed|strictly forbidden|not (?:copy|disclose|use))"
    r"|(?P<disclose>disclos(?:e|ure)|dissemination|distribution|copying)"
    r"|(?P<disclaimer>disclaimer|liab(?:le|ility)))\b"
)


# For each group of `_DISCLAIMER`, strings one of which every match of it contains: a
# paragraph with those of fewer than three groups has fewer than three kinds, and the
# pattern (tried at every character) need not run (on 1,000 mails 18 ms of CPU, 3 so).
_DISCLAIMER_CORES = {
    "confidential": ("confidential", "private communication"),
    "privileged": ("privileged", "proprietary"),
    "recipient": ("intended", "named addressee"),
    "error": ("in error", "by mistake", "delivery error"),
    "notify": ("notify", "inform the sender", "reply"),
    "delete": ("delete", "destroy"),
    "prohibited": ("prohibited", "unauthori", "strictly forbidden", "not "),
    "disclose": ("disclos", "dissemination", "distribution", "copying"),
    "disclaimer": ("disclaimer", "liab"),
}


def _may_be_disclaimer(paragraph: str) -> bool:
    """Whether `_disclaimer_kinds` can find three kinds in a paragraph."""
    low = paragraph[:5000].lower()
    found = 0
    for cores in _DISCLAIMER_CORES.values():
        for core in cores:
            if core in low:
                found += 1
                if found >= 3:
                    return True
                break
    return False


def _disclaimer_kinds(paragraph: str) -> int:
    kinds: set[str] = set()
    for match in _DISCLAIMER.finditer(paragraph[:5000].lower()):
        kinds.add(match.lastgroup or "")
    return len(kinds)


_SIGN_OFF = re.compile(
    r"^\s*(?:thanks?(?: you| again| so much| a lot)?|many thanks|thx|cheers|best|best regards|"
    r"regards|kind regards|warm regards|best wishes|sincerely|yours(?: truly| sincerely)?|"
    r"respectfully|cordially|take care|talk soon|love|ciao|greetings|rgds|br|mit freundlichen "
    r"gr[üu](?:ß|ss)en|gr[üu](?:ß|ss)e|cordialement)\s*[,.!\-]*\s*$",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"(?:\b(?:tel|phone|fax|mobile|cell|office|direct|e-?mail|www|http)\b|"
    r"\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}|@\w|\b\d{5}(?:-\d{4})?\b|\b(?:suite|street|st\.|ave|"
    r"avenue|road|blvd|floor|inc\.?|corp\.?|llc|ltd|gmbh)\b)",
    re.IGNORECASE,
)


def _quote_depth(line: str) -> int:
    """How many '>' quote levels a line carries (spaces between them allowed)."""
    depth = 0
    for ch in line[:200]:
        if ch == ">":
            depth += 1
        elif ch not in " \t":
            break
    return depth


# A quoted line at least this long was likely wrapped by the replying client, which left
# the wrapped tail unmarked ("> ... returns three times the\nnumber of rows.\n>").
_WRAP_WIDTH = 60


def quote_marks(lines: list[str]) -> list[bool]:
    """Which lines are quoted: '>' prefixes, runs of ':' / '|' prefixed lines, wrapped tails.

    A lone ">From " line is not quoted: mbox files escape a line that starts "From " so.

    Wrapped tails are unmarked lines glued (no blank line between) under a quoted line
    that stops mid-sentence, when a quoted line is glued under them too, or while they
    start in lower case under a long quoted line: the replying client wrapped the quote
    and left the tails unmarked ("> ... returns three times the\nnumber of rows.\n>").
    Reading them as quoted is the conservative choice: an answer glued between quoted
    lines is rare and mostly follows a finished sentence ("> ... right?\nYes.\n> ..."),
    and someone else's words read as the writer's make wrong asks.
    """
    quoted = [_quote_depth(line) > 0 for line in lines]
    for i, line in enumerate(lines):
        # ">From " alone is mbox escaping of a line that began "From ", not a quote.
        if line.startswith(">From ") and not (
            (i > 0 and quoted[i - 1]) or (i + 1 < len(lines) and quoted[i + 1])
        ):
            quoted[i] = False
    # ": " and "| " quoting (some list clients) only counts in runs of three lines.
    run: list[int] = []
    for i, line in enumerate([*lines, ""]):
        if line[:1] in {":", "|"} and not line.startswith(("://", "::")):
            run.append(i)
            continue
        if len(run) >= 3:
            for j in run:
                quoted[j] = True
        run = []
    i = 1
    while i < len(lines):
        above = lines[i - 1].rstrip()
        if (
            quoted[i]
            or not lines[i].strip()
            or not quoted[i - 1]
            or above.endswith((".", "?", "!"))
        ):
            i += 1
            continue
        end = i  # the unmarked lines glued under the quoted one
        while end < len(lines) and not quoted[end] and lines[end].strip():
            end += 1
        if end < len(lines) and quoted[end]:
            for j in range(i, end):  # glued between quoted lines on both sides
                quoted[j] = True
        else:
            while i < end and len(above) >= _WRAP_WIDTH and lines[i].lstrip()[:1].islower():
                quoted[i] = True
                above = lines[i].rstrip()
                i += 1
        i = end
    return quoted


_ADDRESS_OR_STAMP = re.compile(
    r"<?[\w.+\-]+@[\w\-]+\.[\w.\-]+>?|\d{1,4}[-./]\d{1,2}[-./]\d{1,4}|\d{1,2}:\d{2}"
)


# A mark of left-out quoted text: "[...]", "...", "[snip]", "<snip>", "... >8", "--8<--".
_ELISION = re.compile(
    r"^\s*(?:[\[<(]\s*(?:\.{2,}|…|snip\w*|cut\w*)\s*[\]>)]|\.{3,}|…)?\s*(?:-*\s*(?:>8|8<)\s*-*)?\s*$",
    re.IGNORECASE,
)


def _quote_follows(lines: list[str], quoted: list[bool], i: int) -> bool:
    """Whether the first line from i on that is neither blank nor an elision is quoted."""
    while i < len(lines) and (not lines[i].strip() or _ELISION.match(lines[i][:40])):
        i += 1
    return i < len(lines) and quoted[i]


def _is_attribution(lines: list[str], quoted: list[bool], i: int) -> bool:
    """Whether line i introduces a quote block ("Jo <jo@x.org>:", "2017-03-02 ... Jo:").

    A short unquoted line that ends with a colon or says who wrote, names an address or
    a time stamp, and is followed (after blank lines) by quoted lines.
    """
    line = lines[i].strip()
    if quoted[i] or not line or len(line) > 200:
        return False
    if not _quote_follows(lines, quoted, i + 1):
        return False
    says = line.endswith(":") or bool(re.search(r"\b(?:wrote|writes|said|schrieb)\b", line, re.I))
    return says and bool(_ADDRESS_OR_STAMP.search(line) or re.search(r"\bwrote\b", line, re.I))


def _is_wrote_header(lines: list[str], i: int) -> int:
    """If an "On ... wrote:" attribution starts at line i, how many lines it spans; else 0."""
    line = lines[i]
    if len(line) > _MAX_MARKER_LINE:
        return 0
    stripped = line.lstrip("> \t")
    # Every attribution ends with a colon: test that before searching for "wrote".
    if stripped.rstrip().endswith(":") and _WROTE_END.search(stripped) and len(stripped) < 250:
        return 1
    if _ON_START.match(stripped):
        joined = stripped
        for span in range(1, 4):
            if i + span >= len(lines):
                break
            nxt = lines[i + span]
            if len(nxt) > _MAX_MARKER_LINE or not nxt.strip():
                break
            joined += " " + nxt.lstrip("> \t")
            if nxt.rstrip().endswith(":") and _WROTE_END.search(joined) and len(joined) < 400:
                return span + 1
    return 0


def _header_block_at(lines: list[str], i: int) -> bool:
    """Whether an Outlook/Lotus style header block (From:/To:/Subject:...) starts at line i."""
    first = _HEADER_FIELD.match(lines[i])
    if not first:
        return False
    names = {first.group(1).lower()}
    for j in range(i + 1, min(len(lines), i + 8)):
        match = _HEADER_FIELD.match(lines[j]) if len(lines[j]) < _MAX_MARKER_LINE else None
        if match:
            names.add(match.group(1).lower())
    if first.group(1).lower() in {"from", "von", "de"}:
        return len(names) >= 2
    return len(names) >= 3


def _lotus_header_at(lines: list[str], i: int) -> int:
    """If a Lotus Notes header starts at line i, the index where the block begins; else -1."""
    line = lines[i]
    if len(line) > _MAX_MARKER_LINE:
        return -1
    if _LOTUS_ON.search(line) and len(line.strip()) < 200:
        return i
    if (
        _LOTUS_ON_WRAPPED.search(line)
        and i + 1 < len(lines)
        and _LOTUS_TIME.match(lines[i + 1])
        and len(line.strip()) < 200
    ):
        return i  # '"Name" <a@b> on 02/15/2001' wrapped before its time
    if _LOTUS_DATE.match(line) and len(line.strip()) < 200:
        # A date line followed closely by To:/cc: fields; the sender's name sits just above.
        ahead = [lines[j] for j in range(i + 1, min(len(lines), i + 6))]
        if any(_HEADER_FIELD.match(x) for x in ahead if len(x) < _MAX_MARKER_LINE) or (
            i > 0 and _LOTUS_NAME.match(lines[i - 1])
        ):
            start = i
            for back in (i - 1, i - 2):
                if back < 0:
                    break
                prev = lines[back].strip()
                if not prev or len(prev) > 80 or prev.endswith((".", "?", "!", ":")):
                    break
                start = back
                if _LOTUS_NAME.match(lines[back]) or prev.startswith('"'):
                    break
            return start
    if _LOTUS_NAME.match(line) and i + 1 < len(lines) and _LOTUS_DATE.match(lines[i + 1]):
        return i
    return -1


# Every marker rule needs one of these in the line it starts at; one search rules out
# most lines of prose before the dozen specific rules run.
_MAYBE_MARKER = re.compile(
    r"[:\-_/@=*>]|\b(?:wrote|writes|said|schrieb)\b|^[>\s]*(?:on|am|le|el|il|op|den)\s",
    re.IGNORECASE,
)
# `_MAYBE_MARKER` in three parts, tried one after the other: a line with none of its
# characters is rare, and the words tried only where a "w" or an "s" starts a word (one
# pattern tried at every character of 11,000 lines took 23 ms of CPU, these 10).
_MARKER_CHARS = re.compile(r"[:\-_/@=*>]")
_MARKER_WORDS = re.compile(r"\b(?=[ws])(?:wrote|writes|said|schrieb)\b", re.IGNORECASE)
_MARKER_OPENING = re.compile(r"[>\s]*(?:on|am|le|el|il|op|den)\s", re.IGNORECASE)


def _maybe_marker(line: str) -> bool:
    """Whether `_MAYBE_MARKER` matches a line (a marker rule might)."""
    return (
        _MARKER_CHARS.search(line) is not None
        or _MARKER_WORDS.search(line) is not None
        or _MARKER_OPENING.match(line) is not None
    )


def _unquoted(lines: list[str], quoted: list[bool]) -> list[str]:
    """Each line without its quote prefix, for the header and attribution rules."""
    return [
        x.lstrip("> \t:|" if q else "> \t") if len(x) < _MAX_MARKER_LINE else x
        for x, q in zip(lines, quoted, strict=True)
    ]


def _older_mail_at(lines: list[str], i: int) -> int:
    """If older mail with no quote marks starts at line i, where it begins; else -1.

    Such a block (Outlook's "-----Original Message-----" or "From: … Sent: …" header,
    a Lotus Notes header, a forwarded-message banner) gives no sign of where it ends,
    so it runs to the end of the message. An "On … wrote:" that no '>' line follows is
    one too (`writer_marks` tells it apart from an attribution).
    """
    line = lines[i]
    if _ORIGINAL.match(line) or _BEGIN_FORWARD.match(line) or _SEPARATOR.match(line):
        return i
    if _UNDERSCORES.match(line) and any(
        _HEADER_FIELD.match(x) for x in lines[i + 1 : i + 4] if len(x) < _MAX_MARKER_LINE
    ):
        return i
    if _header_block_at(lines, i):
        return i
    return _lotus_header_at(lines, i)


def _opens_quoted_mail(lines: list[str], unquoted: list[str], i: int) -> bool:
    """Whether quoted line i starts a quoted message: its attribution or header block."""
    line = unquoted[i]
    if len(line) > _MAX_MARKER_LINE or not _maybe_marker(line):
        return False
    return bool(
        _ORIGINAL.match(line)
        or _BEGIN_FORWARD.match(line)
        or _is_wrote_header(lines, i)
        or _header_block_at(unquoted, i)
    )


def writer_marks(lines: list[str], *, below_quotes: bool = True) -> list[bool]:
    """Which lines the writer typed in this message.

    With `below_quotes=False` only the writer's first block counts: everything from
    the first attribution on is left out, as the labelled Quagga zones mark it (they
    put text typed below or between quotes in the quoted message's zone).

    The writer's lines are the unquoted ones above, between and below '>' quoted blocks:
    top posts, inline replies and bottom posts alike, up to any older mail that carries
    no quote marks (`_older_mail_at`), which runs to the end. Quoted lines count as the
    writer's only while no attribution ("On … Dana wrote:", "Dana <dana@x.org>:", a
    quoted "On … wrote:" or header block) has introduced quoted mail: a forward by
    quoting, or a reply quoting bits with no attribution, where the quote is part of
    what this message says (the labelled Quagga zones count such lines as body). The
    signals never read quoted lines (`not_prose`).
    """
    quoted = quote_marks(lines)
    unquoted = _unquoted(lines, quoted)
    own = [False] * len(lines)
    introduced = False  # an attribution has introduced quoted mail
    i = 0
    while i < len(lines):
        line = lines[i]
        if line[:5] == "From " and _GIT_FROM.match(line):  # a pasted patch's own header
            end = _git_header_end(lines, i)
            own[i:end] = [True] * (end - i)
            i = end
            continue
        if quoted[i]:
            if _GROUPWISE.match(line) and len(line) < _MAX_MARKER_LINE:
                break  # ">>> Jo Park 03/03/2026 09:14AM >>>" looks quoted, heads older mail
            introduced = introduced or _opens_quoted_mail(lines, unquoted, i)
            if introduced and not below_quotes:
                break
            own[i] = not introduced
            i += 1
            continue
        if len(line) > _MAX_MARKER_LINE or not _maybe_marker(line):
            own[i] = True  # plain prose: no marker rule can match it
            i += 1
            continue
        span = _is_wrote_header(lines, i)
        if span:
            if not _quote_follows(lines, quoted, i + span) or not below_quotes:
                break  # an "On … wrote:" over an unmarked copy of the older mail
            introduced = True
            i += span
            continue
        start = _older_mail_at(lines, i)
        if start >= 0:
            own[start:i] = [False] * (i - start)
            break
        if _is_attribution(lines, quoted, i):
            if not below_quotes:
                break
            introduced = True
        else:
            own[i] = True
        i += 1
    return own


# ----------------------------------------------------------------------------- patches

# Lines that open a diff, and the header lines of each file in it (git, diff -u, svn).
_DIFF_START = re.compile(r"^(?:diff (?:--git|-[a-zA-Z]+) \S|Index: \S|@@ -\d)")
_DIFF_HEADER = re.compile(
    r"^(?:diff (?:--git|-[a-zA-Z]+) \S|index [0-9a-f]{7,}\.\.|(?:new|deleted) file mode \d|"
    r"old mode \d|new mode \d|(?:dis)?similarity index \d|rename (?:from|to) |copy (?:from|to) |"
    r"Binary files |Index: \S|={20,}\s*$|--- \S|\+\+\+ \S)"
)
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
# A diffstat line (" man2/open.2 | 4 ++--") or its summary, as `git format-patch` writes.
_DIFFSTAT = re.compile(
    r"^ \S[^|]{0,300}\|\s+(?:\d+ ?[+\-]*|Bin [^|]{0,80})\s*$|^ \d+ files? changed\b|"
    r"^ (?:create|delete) mode \d{6} |^ (?:rename|copy) \S[^|]{0,300}\(\d+%\)\s*$|^ mode change \d"
)


# The first line of a patch as `git format-patch` writes it; its header block follows.
_GIT_FROM = re.compile(r"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001\s*$")


def _git_header_end(lines: list[str], i: int) -> int:
    """The index of the blank line that ends the header of a patch starting at line i."""
    j = i + 1
    while j < len(lines) and lines[j].strip():
        j += 1
    return j


def _diff_opens_at(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _DIFF_START.match(line):
        return not line.startswith("@@") or bool(_HUNK.match(line))
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    return line.startswith("--- ") and nxt.startswith("+++ ") and len(line) < _MAX_MARKER_LINE


def _hunk_end(lines: list[str], i: int) -> int:
    """The index after the hunk whose "@@ -a,b +c,d @@" header is line i.

    The header counts the hunk's lines, so a hunk ends exactly where it should even
    when its last line looks like a signature delimiter ("-- " removes a line "- ").
    Lines that break the diff grammar (a mail client's wrapping) end it early.
    """
    match = _HUNK.match(lines[i])
    if match is None:
        return i + 1
    old = int(match.group(1) or "1")
    new = int(match.group(2) or "1")
    j = i + 1
    while j < len(lines) and (old > 0 or new > 0):
        first = lines[j][:1]
        if first in {" ", ""}:  # context; a blank line is context whose space was trimmed
            old, new = old - 1, new - 1
        elif first == "-":
            old -= 1
        elif first == "+":
            new -= 1
        elif first != "\\":  # "\ No newline at end of file"
            break
        j += 1
    while j < len(lines) and lines[j].startswith("\\ "):
        j += 1
    return j


# The first characters of the lines that `_GIT_FROM`, `_DIFFSTAT` and `_diff_opens_at` match.
_PATCH_FIRST = frozenset("F dI@-")


def patch_marks(lines: list[str]) -> list[bool]:
    """Which lines belong to a patch, not prose: diff hunks and headers, the diffstat,
    and the "---" line that parts a commit message from them.

    The commit message above "---" and any notes between it and the diffstat stay prose.
    """
    marks = [False] * len(lines)
    i = 0
    while i < len(lines):
        if lines[i][:1] not in _PATCH_FIRST:  # most lines: no patch rule can match
            i += 1
            continue
        if _GIT_FROM.match(lines[i]):
            end = _git_header_end(lines, i)
            marks[i:end] = [True] * (end - i)
            i = end
            continue
        if _DIFFSTAT.match(lines[i]):
            marks[i] = True
        if not _diff_opens_at(lines, i):
            i += 1
            continue
        while i < len(lines):  # one diff: file headers and hunks, file after file
            if _HUNK.match(lines[i]):
                end = _hunk_end(lines, i)
            elif _DIFF_HEADER.match(lines[i]):
                end = i + 1
            else:
                break
            marks[i:end] = [True] * (end - i)
            i = end
    patch_after = False
    for i in range(len(lines) - 1, -1, -1):
        if patch_after and lines[i].rstrip() == "---":
            marks[i] = True
        patch_after = patch_after or marks[i]
    return marks


def not_prose(lines: list[str]) -> list[bool]:
    """Which lines the signals do not read: quoted lines and patch lines."""
    return [q or p for q, p in zip(quote_marks(lines), patch_marks(lines), strict=True)]


# ----------------------------------------------------------------------------- signatures


def _cut_delimiter(lines: list[str]) -> list[str]:
    """Cut at the "-- " signature delimiter or a mobile footer."""
    for i, line in enumerate(lines):
        if _SIG_DASH.match(line.rstrip()) or _MOBILE.match(line):
            return lines[:i]
    return lines


def _cut_disclaimer(lines: list[str]) -> list[str]:
    """Cut at a legal-disclaimer paragraph and drop what follows it."""
    paragraphs_start = [
        i for i, x in enumerate(lines) if x.strip() and (i == 0 or not lines[i - 1].strip())
    ]
    for start in paragraphs_start:
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        paragraph = " ".join(lines[start:end])
        if (
            start > 0
            and len(paragraph) > 120
            and _may_be_disclaimer(paragraph)
            and _disclaimer_kinds(paragraph) >= 3
        ):
            return lines[:start]
    return lines


def _cut_contact_after_sign_off(lines: list[str]) -> list[str]:
    """Cut the name and contact block after a sign-off: "Thanks,\nSara\nEnron Corp.\n713-..."."""
    nonblank = [i for i, x in enumerate(lines) if x.strip()]
    for k, i in enumerate(nonblank):
        if not _SIGN_OFF.match(lines[i]):
            continue
        tail = nonblank[k + 1 :]
        if not tail or len(tail) > 12:
            continue
        name_line = tail[0]
        rest = tail[1:]
        if rest and sum(1 for j in rest if _CONTACT.search(lines[j])) >= max(1, len(rest) // 3):
            return lines[:name_line]
        break
    return lines


def _cut_trailing_contact(lines: list[str]) -> list[str]:
    """Cut a trailing block of a short name line and contact lines (no sign-off)."""
    nonblank = [i for i, x in enumerate(lines) if x.strip()]
    if len(nonblank) >= 3:
        for k in range(max(1, len(nonblank) - 8), len(nonblank) - 1):
            i = nonblank[k]
            words = lines[i].split()
            rest = nonblank[k + 1 :]
            if (
                1 <= len(words) <= 4
                and any(w[:1].isalpha() for w in words)
                and not lines[i].rstrip().endswith((".", "?", "!", ":", ","))
                and all(w[:1].isupper() for w in words if w[:1].isalpha())
                and len(rest) >= 2
                and all(len(lines[j].strip()) <= 80 for j in rest)
                and sum(1 for j in rest if _CONTACT.search(lines[j])) >= (len(rest) + 1) // 2
            ):
                return lines[:i]
    return lines


def _cut_rule_footer(lines: list[str]) -> list[str]:
    """Cut a footer that a mail service or list adds under a rule of underscores.

    "____\nDo You Yahoo!?\n…", "____\nfoo mailing list\n…/listinfo/foo": at most four
    lines after the rule, up to the end of the message.
    """
    nonblank = [i for i, x in enumerate(lines) if x.strip()]
    for k in range(max(0, len(nonblank) - 6), len(nonblank)):
        i = nonblank[k]
        if _UNDERSCORES.match(lines[i]):
            tail = [j for j in nonblank[k + 1 :] if not re.fullmatch(r"\s*_+\s*", lines[j])]
            if len(tail) <= 4:
                return lines[:i]
            return lines
    return lines


_SIGNATURE_RULES = [
    _cut_rule_footer,
    _cut_delimiter,
    _cut_disclaimer,
    _cut_contact_after_sign_off,
    _cut_trailing_contact,
]


def _strip_signature(lines: list[str]) -> list[str]:
    """Drop a signature, mobile footer or legal disclaimer from the end of the newest text.

    The rules read only prose: a quoted sign-off or disclaimer, or a patch's "---" line
    or a hunk that removes a line "- ", cuts nothing.
    """
    view = ["" if skip else line for line, skip in zip(lines, not_prose(lines), strict=True)]
    for rule in _SIGNATURE_RULES:
        view = rule(view)
    return lines[: len(view)]


def newest_lines(text: str, *, below_quotes: bool = True) -> list[str]:
    """The lines of `text` that the writer typed in this message, in order.

    `below_quotes=False` keeps only the first block (see `writer_marks`).

    Quoted mail, attributions and attachment placeholders are left out (a left-out
    block becomes one blank line, so the paragraphs around it stay apart), then the
    signature after the last of the writer's lines.
    """
    text = text[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kept: list[str] = []
    for line, mine in zip(lines, writer_marks(lines, below_quotes=below_quotes), strict=True):
        if not mine:
            line = ""
        elif _ATTACHMENT.match(line):
            continue
        if line.strip() or (kept and kept[-1].strip()):
            kept.append(line)
    kept = _strip_signature(kept)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def newest_text(body: Body, *, below_quotes: bool = True) -> str:
    """The newest text of a message: MIME walked, HTML as text, quotes and signatures removed."""
    try:
        return "\n".join(newest_lines(body_text(body), below_quotes=below_quotes))
    except Exception:  # never let one odd message stop analysis
        log.debug("newest text extraction failed", exc_info=True)
        return ""
