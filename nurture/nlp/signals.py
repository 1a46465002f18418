"""Sentence-level rules: what asks, what promises, what sounds upset, who is greeted.

Each function takes one sentence (text plus spaCy tags where useful) and returns a
score in 0..1. They are deliberately plain: every rule is a named pattern that
`nurture explain` can point at, and `bench/eval.py` measures them on real mail.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from nurture.nlp import classifier
from nurture.nlp.alternation import Alternation

# --------------------------------------------------------------------------- asks


def _fast(pattern: str, initials: str = "a-z") -> Alternation:
    """Compile a big alternation for lower-cased text (callers lower-case first).

    Python's re tries every alternative at every position; the lookahead skips
    positions that do not start a word (with one of `initials`, the first letters of
    the alternatives), dropping IGNORECASE avoids case folding, and the `Alternation`
    finds where a match starts through a trie of the alternatives' beginnings, which
    together make these searches many times faster with the same matches.
    """
    return Alternation(pattern, initials)


# "let me know if you have any questions" and friends: polite closings, not asks.
_BOILERPLATE = _fast(
    r"(?:\b(?:let|lemme) (?:me|us) know if (?:you|there) (?:have|has|are|is|need|want|would)"
    r"(?: any| other| further| more)? ?(?:questions?|comments?|concerns?|problems?|issues?|"
    r"anything(?: else)?|further|more|additional|thoughts)"
    r"|\b(?:if|should) you (?:have|need) (?:any )?(?:questions?|further|additional|anything)"
    r"|\bfeel free to (?:call|contact|reach|email|e-mail|give)"
    r"|\bdon'?t hesitate to\b"
    r"|\b(?:any|other) questions\?"
    r"|\bhope (?:you|this|all|everyone|that)\b"
    r"|\bhave a (?:good|great|nice) (?:day|weekend|week|evening|one)"
    r"|\bthanks? (?:you )?(?:in advance|again)\b"
    r"|\bclick here\b|\bopt[- ]out\b|\bview (?:this|it) in your browser"
    r"|\bhow are you\b|\bhow(?:'s| is| was) (?:it going|everything|your (?:day|weekend|week|trip))"
    r"|\bguess what\b|\bwho knows\b|\bwhy not\?|\bwhat else is new\b)",
)
# "Please find attached the minutes." is a formula; "... attached and sign it" is not.
_ATTACHED_ONLY = re.compile(
    r"^\s*(?:please\s+)?(?:find|see)\s+(?:the\s+)?attached\b(?:(?!\band\b|\bthen\b|\?).){0,200}$"
    r"|^\s*attached\s+(?:please\s+)?find\b(?:(?!\band\b|\bthen\b|\?).){0,200}$",
    re.IGNORECASE,
)
# Sentences that inform rather than ask, though they open with "please" or an imperative:
# a pointer ("Please see the notes below:", "Please find my answers inline"), a notice
# ("Please note that the room changed"), a retraction ("Please ignore my last mail"), a
# forecast ("We can expect a call from them").
_INFORMS = _fast(
    r"(?:^|\b)(?:please |pls |kindly )?(?:"
    r"see (?:below|above|inline|here|attached|enclosed|the (?:following|attached|enclosed|"
    r"below|above|link|links|article|articles|notes?|comments?|email|e-mail|message|report|"
    r"list|thread|details|summary|document|minutes|chart|table|excerpt)|my |our |his |her |"
    r"their |(?:the )?(?:two|three|four|five|\d+) )"
    r"|note(?: that\b|:| -| –| —|,| the following| also| again| there| this| we| our| i )"
    r"|find (?:below|above|inline|here|enclosed|attached|my |our |the (?:following|enclosed|"
    r"attached|below|link|answers?|responses?|comments?|notes?|report|details|summary|"
    r"minutes|documents?|file|files|draft|updated|revised|latest|new))"
    r"|(?:ignore|disregard|discard|delete) (?:this|that|the|my|our|his|her|it|previous|"
    r"earlier|last|above|below)"
    r")"
    r"|\b(?:we|you|they|i) (?:can|could|should|may|might|will|would) (?:also )?expect\b",
    initials="pknsfidwytc",
)
# A writer's own intention ("I'll ask him next time", "We will check with legal") is a
# promise to act, not an ask of the reader, unless it also asks ("I'll need you to ...").
_OWN_INTENT = re.compile(
    r"^\s*(?:(?:and|so|then|ok|okay|sure|fine)[,\s]+)?(?:i|we)(?:'ll| will| shall|'m going to|"
    r" am going to|'re going to| are going to| plan to| intend to)\b",
    re.IGNORECASE,
)
# A change described in a commit message: code-like words ("apply()", "gpio_read",
# "drivers/pwm", "parser.c") beside an opening imperative verb that asks no one.
_CODE_TOKEN = re.compile(
    r"\w\(\)|\b[a-z]+_[a-z_]+\b|\b\w+/\w+/|\b\w+\.(?:c|h|py|rs|go|js|ts|java|rb|sh|txt|md|"
    r"rst|yaml|yml|json|toml|cfg|ini|xml|html|css)\b|\b[a-z]+[A-Z]\w*\b"
)
_REQUEST = _fast(
    r"(?:^|\b)(?:please|pls|plz|kindly)\b"
    r"|\b(?:could|can|would|will|won'?t|wouldn'?t|couldn'?t) (?:you|u|we|someone|somebody|anyone)\b"
    r"|\b(?:do|did|does|are|were|have|has|is) (?:you|u)\b"
    r"|\blet (?:me|us) know\b|\blet'?s\b|\bshall we\b|\bhow about\b|\bwhat about\b"
    r"|\bwould (?:it be|you be) (?:possible|able|willing|ok|okay|interested)\b"
    r"|\bi(?:'d| would) (?:like|love|appreciate) (?:you|it if|to (?:get|have|see|ask|meet|set))"
    r"|\b(?:i|we) (?:need|want|ask|require|request) (?:you|your)\b"
    r"|\bi(?:'d| would) appreciate\b|\bappreciate (?:it|your|if)\b"
    r"|\bneed (?:your|you to)\b|\bwant you to\b|\bask(?:ing)? (?:you|that you)\b"
    r"|\bi(?:'m| am) (?:wondering|hoping) (?:if|whether|you)\b|\bwondering if\b"
    r"|\bwould you mind\b|\bdo you mind\b|\bis it (?:possible|ok|okay)\b"
    r"|\bget back to me\b|\bsend me\b|\bgive me a call\b|\bcall me\b|\bcontact me\b"
    r"|\bare you (?:available|free|around|able|interested)\b|\bwhen (?:can|could|would|will) you\b"
    r"|\bwhat (?:do|did) you think\b|\byour (?:thoughts|comments|feedback|input|approval|help)\b"
    r"|\bfeedback\b|\bconfirm\b|\bplease advise\b|\badvise\b",
    initials="acdfghiklnpswy",
)
_WH_START = re.compile(
    r"^\s*(?:what|when|where|who|whom|which|why|how|do|does|did|are|is|was|were|can|could|would|"
    r"will|should|shall|have|has|any|may|might)\b",
    re.IGNORECASE,
)
# Imperative verbs that, opening a sentence, request something of the reader.
_IMPERATIVE = frozenset(
    """send forward call give let review check confirm advise sign complete fill return
    provide schedule set book reply respond update approve add remove include contact
    email e-mail fax print read look see find get make keep take tell ask join come
    meet bring attend arrange coordinate submit prepare draft circulate pass share
    plan talk discuss note remember verify ensure follow grab ping try mark hold""".split()
)


def ask_score(sentence: str, tags: Sequence[str] = (), words: Sequence[str] = ()) -> float:
    """How strongly a sentence requests or proposes something of the reader, 0..1
    (>= 0.5: it asks). The first of two layers: the sentence classifier.

    This is the labelled corpus's definition (ParakweetLabs: "Please see the attached
    notes" asks the reader to read them), the one `bench/eval.py` measures; the shipped
    classifier decides when it is installed, the rules otherwise. Whether such an ask
    waits on the reader's answer is the second layer, `awaits_reply`.
    """
    return read_ask(sentence, tags, words)[0]


def awaits_reply(
    sentence: str, tags: Sequence[str] = (), words: Sequence[str] = (), *, patch: bool = False
) -> bool:
    """Whether a sentence, if it asks, waits on the reader's answer. The second layer:
    only such asks drive a reply or follow-up nudge.

    Polite formulas ("let me know if you have any questions"), pointers and notices
    ("please see the notes below"), retractions, forecasts, the writer's own intentions
    ("I'll ask him") and changes described in a commit message ask nothing that waits on
    a reply, whatever the classifier says. `patch`: the message carries a patch, so an
    imperative that asks no one ("Add support for the sensor") describes the change.
    """
    return read_ask(sentence, tags, words, patch=patch)[1]


def read_ask(
    sentence: str, tags: Sequence[str] = (), words: Sequence[str] = (), *, patch: bool = False
) -> tuple[float, bool]:
    """Both layers of one sentence at once: its `ask_score` and whether it `awaits_reply`."""
    text = sentence.strip()
    if not text or len(text) > 1000:
        return 0.0, False
    cues = _cues(text, tags, words)
    waits = not _vetoed(cues)
    if patch and waits and cues.imperative and not cues.asks_reader:
        waits = False  # the patch's commit message describes the change
    model = classifier.load("asks")
    if model is None:
        return _rule_score(cues, veto=False), waits
    probability = model.score(ask_features(text, tags, words, cues=cues))
    return _rescale(probability, model.threshold), waits


def _vetoed(cues: _Cues) -> bool:
    """Whether the rules say the sentence waits on no reply, whatever it asks."""
    return (
        cues.boilerplate
        or cues.attached_only
        or cues.informs
        or cues.own_intent
        or cues.describes_change
    )


@dataclass(frozen=True, slots=True)
class _Cues:
    """What the ask rules see in one sentence, computed once."""

    question: bool
    request: bool
    wh_start: bool
    boilerplate: bool
    attached_only: bool
    imperative: bool
    informs: bool = False
    own_intent: bool = False
    describes_change: bool = False
    asks_reader: bool = False


def _cues(text: str, tags: Sequence[str], words: Sequence[str]) -> _Cues:
    imperative = False
    if words:
        first = words[0].lower()
        first_tag = tags[0] if tags else ""
        if first in _IMPERATIVE or (first_tag == "VB" and first not in {"thank", "be", "hope"}):
            imperative = not (
                first == "let" and len(words) > 1 and words[1].lower() not in {"me", "us"}
            )
    low = text.lower()
    question = text.rstrip(" )\"'").endswith("?")
    request = bool(_REQUEST.search(low))
    asks_reader = question or _ASKS_READER.search(low) is not None
    return _Cues(
        question=question,
        request=request,
        wh_start=bool(_WH_START.match(text)),
        boilerplate=bool(_BOILERPLATE.search(low)),
        attached_only=bool(_ATTACHED_ONLY.match(text)),
        imperative=imperative,
        informs=bool(_INFORMS.search(low)) and not question,
        own_intent=bool(_OWN_INTENT.match(text)) and not asks_reader,
        describes_change=imperative and not asks_reader and bool(_CODE_TOKEN.search(text)),
        asks_reader=asks_reader,
    )


# What makes a sentence ask the reader even inside a promise or a change description.
_ASKS_READER = _fast(
    r"\b(?:you|your|u)\b|\bplease\b|\bpls\b|\bkindly\b|\blet (?:me|us) know\b",
    initials="yupkl",
)


def _rule_score(cues: _Cues, *, veto: bool = True) -> float:
    """The hand-written rules' ask score; with `veto`, capped where nothing awaits a reply
    (the classifier's "r:rules_say_ask" feature is made so)."""
    score = 0.0
    if cues.question:
        score = 0.75 if cues.wh_start or cues.request else 0.6
    if cues.request:
        score = max(score, 0.7)
    if cues.imperative:
        score = max(score, 0.65)
    if cues.question and cues.request:
        score = max(score, 0.85)
    if veto and _vetoed(cues):
        score = min(score, 0.2)
    return score


def _rescale(probability: float, threshold: float) -> float:
    """Map a probability so that the model's own threshold lands on 0.5."""
    threshold = min(max(threshold, 1e-6), 1 - 1e-6)
    if probability < threshold:
        return 0.5 * probability / threshold
    return 0.5 + 0.5 * (probability - threshold) / (1 - threshold)


_TOKEN_NUMBER = re.compile(r"^[\d.,:/$%-]+$")
_URLISH = re.compile(r"^(?:https?:|www\.|\$link)|@", re.IGNORECASE)


@functools.lru_cache(maxsize=65_536)
def _norm_token(word: str) -> tuple[str, bool]:
    """A token as the classifier sees it, and whether it has a letter (cached: words repeat)."""
    low = word.lower()
    if _URLISH.search(low):
        return "<url>", True
    if _TOKEN_NUMBER.match(low) and any(c.isdigit() for c in low):
        return "<num>", True  # the placeholder counts as a word
    return low, any(c.isalpha() for c in low)


# Rule flags the classifier sees as features named "r:<flag>".
_FLAG_FEATURES = ("request", "wh_start", "boilerplate", "informs", "own_intent", "describes_change")

# Ways of asking that the words alone spread over many rare n-grams, pooled into one
# named feature each ("r:<name>") so that what one wording teaches carries to the others.
_WAYS: tuple[tuple[str, Alternation], ...] = (
    # "It would be really helpful if ...", "Your input would be appreciated."
    (
        "would_help",
        _fast(
            r"\b(?:would|will|'d|'ll) (?:also |really |certainly |definitely )?be (?:very |"
            r"most |extremely |really |greatly |much |so |truly |a (?:big |great |huge )?)?"
            r"(?:helpful|appreciated|useful|great|nice|good|ideal|wonderful|perfect|grateful|"
            r"help)\b|\bwould (?:really |greatly |certainly |also )?help\b"
            r"|\b(?:i|we)(?:'d| would)? be (?:very |most |extremely |really |so )?grateful\b",
            initials="wi'",
        ),
    ),
    # A proposal of what the writer and the reader do together: "we should meet", "we
    # could move it", "we need to decide"; not an expectation ("we should have the
    # figures Monday", "we could be late", "we can expect rain").
    (
        "we_propose",
        _fast(
            r"\bwe (?:really |probably |also |still |just |definitely |perhaps |maybe )?"
            r"(?:should|could|can|might|ought to|need to|must|have to|may want to|"
            r"might want to)\b(?! (?:have|be|expect)\b)",
            initials="w",
        ),
    ),
    # Advice or an obligation put on the reader: "you should call her", "you may want
    # to"; not what the reader is told to expect ("you should have received it").
    (
        "you_should",
        _fast(
            r"\b(?:you|u)(?: really| probably| also| still| just| definitely| guys| all)? "
            r"(?:should|ought to|need to|must|have to|had better|will need|will want|"
            r"(?:may|might) (?:want|wish|need|consider|like))\b(?! (?:have|be)\b)"
            r"|\b(?:you|u)(?:'ll|'d) (?:need|want|have|better)\b(?! (?:have|be)\b)",
            initials="yu",
        ),
    ),
    # A question put indirectly: "I wanted to see if ...", "I'm wondering whether ...".
    (
        "wonders",
        _fast(
            r"\bwonder(?:ing|ed)? (?:if|whether|what|when|how|who|why|about)\b"
            r"|\b(?:wanted|want|wanting|trying|like|need|needed|hoping|hope) to (?:see|know|"
            r"check|ask|find out|confirm|verify|hear) (?:if|whether|what|when|how|who|why|"
            r"about)\b|\bcurious (?:if|whether|what|when|how|about|to)\b",
            initials="wtlnhc",
        ),
    ),
    # A time proposed or offered is a day or part of one (these two) and that it suits:
    # "Tuesday works", "I'm free Thursday afternoon", "lunch on Friday would be best".
    (
        "time_word",
        _fast(
            r"\b(?:mon|tues?|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?s?\b"
            r"|\b(?:today|tomorrow|tonight|morning|afternoon|evening|lunch|dinner|breakfast|"
            r"coffee|weekend|noon)\b|\b\d{1,2}(?::\d\d)? ?(?:am|pm|a\.m\.|p\.m\.)",
            initials="mtwfsaelbcdn0-9",
        ),
    ),
    (
        "time_suits",
        _fast(
            r"\b(?:works?|would work|suits?|is good|sounds good|is fine|is best|"
            r"would be (?:best|good|better|fine|great|ideal)"
            r"|(?:fine|good|ok|okay|best|better|convenient) (?:with|for) (?:me|us)"
            r"|(?:i'm|i am|we're|we are|i'll be|we'll be|i will be|we will be|is|are) "
            r"(?:free|open|available))\b",
            initials="wsifgobca",
        ),
    ),
)
_POOLED_NAMES = ("would_help", "we_propose", "you_should", "wonders")
# The ways found in one pass (`ways_by_place`): all but the time words, which are common
# (one sentence in five names a day or a meal) and matter only beside "time_suits".
_FOUND_TOGETHER = tuple((name, way) for name, way in _WAYS if name != "time_word")
_ANY_WAY = _fast(
    "|".join(f"(?:{way.pattern})" for _, way in _FOUND_TOGETHER), initials="abcfghilnostuwy'"
)
_TIME_WORD = dict(_WAYS)["time_word"]


def ways_by_place(text: str) -> Iterator[tuple[int, set[str]]]:
    """Each place in a lower-cased text where ways of asking but the time words match,
    and their names: such a way is in some result exactly when `way.search(text)`
    finds it."""
    pos = 0
    while (place := _ANY_WAY.starts.search(text, pos)) is not None:
        at = place.start()
        yield at, {name for name, way in _FOUND_TOGETHER if way.exact.match(text, at)}
        pos = at + 1


def pooled_features(ways: set[str], vocative: bool) -> list[str]:
    """The "r:<name>" features of the ways of asking a sentence shows (`_WAYS`' names)
    and of an opening name before an imperative (`_vocative_imperative`)."""
    feats = [f"r:{name}" for name in _POOLED_NAMES if name in ways]
    if "time_word" in ways and "time_suits" in ways:
        feats.append("r:proposes_time")
    if vocative:
        feats.append("r:vocative_imperative")
    return feats


# Tokens that end an opening name ("Mike, ...", "Hi Ann - ..."), and request words that
# may stand where the imperative verb would after it.
_VOCATIVE_MARKS = frozenset({",", "-", "--", ":", "—", "–"})
_NAME_TAGS = frozenset({"NNP", "NNPS", "UH"})
_PLEASE = frozenset({"please", "pls", "plz", "kindly"})


def _vocative_imperative(tags: Sequence[str], words: Sequence[str]) -> bool:
    """Whether the sentence opens with a name (or a greeting and a name) set off by a
    comma or a dash, then an imperative or "please" ("Mike, send it to John.")."""
    for i, tag in enumerate(tags[:4]):
        if tag in _NAME_TAGS:
            continue
        if i == 0 or i + 1 >= len(tags) or words[i] not in _VOCATIVE_MARKS:
            return False
        return tags[i + 1] == "VB" or words[i + 1].lower() in _PLEASE
    return False


def proposal_features(low: str, tags: Sequence[str] = (), words: Sequence[str] = ()) -> list[str]:
    """The pooled ways of asking a lower-cased sentence shows, as "r:<name>" features."""
    ways = {name for name, way in _WAYS if way.search(low)}
    return pooled_features(ways, _vocative_imperative(tags, words))


def ask_features(
    text: str,
    tags: Sequence[str] = (),
    words: Sequence[str] = (),
    *,
    cues: _Cues | None = None,
) -> list[str]:
    """Named features of one sentence for the ask classifier.

    Words, word pairs and triples, the opening words and part-of-speech tags
    (imperatives, modal questions), the words that open a clause after a comma or a
    conjunction ("..., could you", "and please"), the words tagged as base verbs or
    modals, and the rule flags below, so the classifier can weigh the rules too. Chosen
    by nested cross-validation on the training file (nurture/data/nlp/README.md).
    """
    if cues is None:
        cues = _cues(text.strip(), tags, words)
    normed = [_norm_token(w) for w in (words or text.split()) if w.strip()]
    tokens = [t for t, _ in normed]
    feats: list[str] = []
    alpha = [t for t, has_letter in normed if has_letter]
    feats.extend(f"w:{t}" for t in set(alpha))
    feats.extend({f"b:{a}_{b}" for a, b in itertools.pairwise(tokens)})
    feats.extend(
        {f"t:{a}_{b}_{c}" for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False)}
    )
    opens = {i + 1 for i, t in enumerate(tokens[:-1]) if t in _CLAUSE_OPENERS}
    feats.extend({f"cl:{tokens[i]}" for i in opens})
    feats.extend({f"clt:{tags[i]}" for i in opens if i < len(tags)})
    feats.extend(
        {f"vbw:{w.lower()}" for w, tag in zip(words, tags, strict=False) if tag in _VERB_TAGS}
    )
    if alpha:
        feats.append(f"first:{alpha[0]}")
        if len(alpha) > 1:
            feats.append(f"first2:{alpha[0]}_{alpha[1]}")
    if tags:
        feats.append(f"tag0:{tags[0]}")
        if len(tags) > 1:
            feats.append(f"tag01:{tags[0]}_{tags[1]}")
        if len(tags) > 2:
            feats.append(f"tag012:{tags[0]}_{tags[1]}_{tags[2]}")
        if "MD" in tags[:3] and any(w.lower() in {"you", "u"} for w in words[:4]):
            feats.append("r:modal_you")
    if cues.question:
        feats.append("r:question")
    if "?" in text[:-1]:
        feats.append("r:inner_question")
    if text.rstrip(" )\"'").endswith("!"):
        feats.append("r:exclaim")
    feats.extend(f"r:{flag}" for flag in _FLAG_FEATURES if getattr(cues, flag))
    if _rule_score(cues) >= 0.5:
        feats.append("r:rules_say_ask")
    feats.extend(proposal_features(text.lower(), tags, words))
    n = len(alpha)
    feats.append("len:" + ("1-3" if n <= 3 else "4-8" if n <= 8 else "9-20" if n <= 20 else "21+"))
    return feats


# Tokens after which a clause opens ("..., could you", "and please send").
_CLAUSE_OPENERS = frozenset({",", "and", "but", "so", "if", "then", "--", "-", ":", ";"})
_VERB_TAGS = frozenset({"VB", "MD"})


# --------------------------------------------------------------------------- promises

_PROMISE = _fast(
    r"\b(?:i|we)(?:'ll| will| shall|'m going to| am going to| are going to|'re going to|"
    r" plan to| intend to| promise to| can| could)\s+(?:also |then |probably |definitely |"
    r"certainly |try to |still |just |gladly |happily |quickly |now )?"
    r"(?P<verb>send|get|follow|call|check|look|find|forward|review|respond|reply|email|e-mail|"
    r"write|update|confirm|let|have|put|set|schedule|arrange|prepare|draft|circulate|pass|share|"
    r"ping|touch|talk|speak|ask|come|bring|finish|complete|deliver|do|take|handle|make|give|"
    r"provide|fax|mail|investigate|contact|reach|run|book|submit|sign|post|upload|fix|try)\b"
    r"|\blet me (?:check|look|see|find|ask|confirm|get back|follow|think|review|dig|verify|"
    r"talk|speak|run)\b"
    r"|\b(?:i|we)(?:'ll| will) (?:get|be) back to you\b"
    r"|\bwill (?:get|be) back to you\b|\bwill follow up\b"
    r"|\bwill keep you (?:posted|updated|informed)\b",
)
_NOT_PROMISE = _fast(
    r"\b(?:if (?:you|we|i) (?:want|need|like|can|could)\b.*\?|i(?:'ll| will) be (?:out|away|on "
    r"vacation|traveling|travelling|unavailable|in meetings?|off)|could you|can you|would you|"
    r"will you|i (?:can|could)(?:n'?t| not)|i(?:'ll| will) (?:not|never)|won'?t)",
)


def promise_score(sentence: str) -> float:
    """How strongly a sentence is the writer's own promise to act, 0..1."""
    text = sentence.strip()
    if not text or len(text) > 1000:
        return 0.0
    low = text.lower()
    match = _PROMISE.search(low)
    if match is None or _NOT_PROMISE.search(low):
        return 0.0
    if text.rstrip().endswith("?"):
        return 0.0
    verb = (match.group("verb") or "").lower()
    modal = match.group(0).lower()
    if " can " in f" {modal} " or " could " in f" {modal} " or verb == "try":
        return 0.5  # an offer, not yet a promise
    if verb in _VAGUE_VERBS:
        return 0.6  # "we will have lunch": a plan more than an undertaking
    return 0.9


# Verbs that name a plan as often as an undertaking to the reader.
_VAGUE_VERBS = frozenset({"have", "do", "take", "make", "come", "put", "run", "talk", "speak"})


# --------------------------------------------------------------------------- greeting

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|morning|hiya|yo|greetings)\b"
    r"[\s,]*(?P<rest>.{0,80})",
    re.IGNORECASE,
)


def greets(first_lines: Sequence[str], names: Sequence[str]) -> bool:
    """Whether the opening lines greet or address the reader by one of `names`."""
    wanted: set[str] = set()
    for name in names:
        name = name.strip().lower()
        if name:
            wanted.add(name)
            wanted.add(name.split()[0])
    if not wanted:
        return False
    for line in first_lines[:2]:
        low = line.strip().lower()
        if not low:
            continue
        match = _GREETING.match(low)
        head = match.group("rest") if match else low
        for name in wanted:
            if not head.startswith(name):
                continue
            after = head[len(name) :]
            if after[:1].isalpha():
                continue  # "Alexander" is not "Alex"
            # A greeting word before the name, or the name alone as the opening ("Alex -").
            if match or len(after.strip()) <= 2 or after.strip()[:1] in _ADDRESS_MARKS:
                return True
    return False


_ADDRESS_MARKS = frozenset({",", ":", "-", "!", "—"})
