"""Sentence-level rules: what asks, what promises, what sounds upset, who is greeted.

Each function takes one sentence (text plus spaCy tags where useful) and returns a
score in 0..1. They are deliberately plain: every rule is a named pattern that
`nurture explain` can point at, and `bench/eval.py` measures them on real mail.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from nurture.nlp import classifier

# --------------------------------------------------------------------------- asks


def _fast(pattern: str, initials: str = "a-z") -> re.Pattern[str]:
    """Compile a big alternation for lower-cased text (callers lower-case first).

    Python's re tries every alternative at every position; the lookahead skips
    positions that do not start a word (with one of `initials`, the first letters of
    the alternatives), and dropping IGNORECASE avoids case folding, which together make
    these searches several times faster.
    """
    return re.compile(rf"(?=\b[{initials}])(?:" + pattern + ")")


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
    """How strongly a sentence asks something of the reader, 0..1 (>= 0.5: it asks).

    The shipped classifier decides when it is installed; the rules otherwise. Polite
    boilerplate ("let me know if you have any questions") never counts.
    """
    text = sentence.strip()
    if not text or len(text) > 1000:
        return 0.0
    cues = _cues(text, tags, words)
    model = classifier.load("asks")
    if model is None:
        return _rule_score(cues)
    probability = model.score(ask_features(text, tags, words, cues=cues))
    score = _rescale(probability, model.threshold)
    if cues.boilerplate or cues.attached_only:
        score = min(score, 0.2)
    return score


@dataclass(frozen=True, slots=True)
class _Cues:
    """What the ask rules see in one sentence, computed once."""

    question: bool
    request: bool
    wh_start: bool
    boilerplate: bool
    attached_only: bool
    imperative: bool


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
    return _Cues(
        question=text.rstrip(" )\"'").endswith("?"),
        request=bool(_REQUEST.search(low)),
        wh_start=bool(_WH_START.match(text)),
        boilerplate=bool(_BOILERPLATE.search(low)),
        attached_only=bool(_ATTACHED_ONLY.match(text)),
        imperative=imperative,
    )


def _rule_score(cues: _Cues) -> float:
    score = 0.0
    if cues.question:
        score = 0.75 if cues.wh_start or cues.request else 0.6
    if cues.request:
        score = max(score, 0.7)
    if cues.imperative:
        score = max(score, 0.65)
    if cues.question and cues.request:
        score = max(score, 0.85)
    if cues.boilerplate or cues.attached_only:
        score = min(score, 0.2)
    return score


def is_boilerplate(text: str) -> bool:
    """Polite formulas that never ask: "let me know if you have any questions", ..."""
    return bool(_BOILERPLATE.search(text.lower()) or _ATTACHED_ONLY.match(text))


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


def ask_features(
    text: str,
    tags: Sequence[str] = (),
    words: Sequence[str] = (),
    *,
    cues: _Cues | None = None,
) -> list[str]:
    """Named features of one sentence for the ask classifier.

    Words and word pairs, the opening words and part-of-speech tags (imperatives, modal
    questions), and the rule flags below, so the classifier can weigh the rules too.
    """
    if cues is None:
        cues = _cues(text.strip(), tags, words)
    normed = [_norm_token(w) for w in (words or text.split()) if w.strip()]
    tokens = [t for t, _ in normed]
    feats: list[str] = []
    alpha = [t for t, has_letter in normed if has_letter]
    feats.extend(f"w:{t}" for t in set(alpha))
    feats.extend({f"b:{a}_{b}" for a, b in itertools.pairwise(tokens)})
    if alpha:
        feats.append(f"first:{alpha[0]}")
        if len(alpha) > 1:
            feats.append(f"first2:{alpha[0]}_{alpha[1]}")
    if tags:
        feats.append(f"tag0:{tags[0]}")
        if len(tags) > 1:
            feats.append(f"tag01:{tags[0]}_{tags[1]}")
        if "MD" in tags[:3] and any(w.lower() in {"you", "u"} for w in words[:4]):
            feats.append("r:modal_you")
    if cues.question:
        feats.append("r:question")
    if "?" in text[:-1]:
        feats.append("r:inner_question")
    if text.rstrip(" )\"'").endswith("!"):
        feats.append("r:exclaim")
    if cues.request:
        feats.append("r:request")
    if cues.wh_start:
        feats.append("r:wh_start")
    if cues.boilerplate:
        feats.append("r:boilerplate")
    if _rule_score(cues) >= 0.5:
        feats.append("r:rules_say_ask")
    n = len(alpha)
    feats.append("len:" + ("1-3" if n <= 3 else "4-8" if n <= 8 else "9-20" if n <= 20 else "21+"))
    return feats


def rule_ask_score(sentence: str, tags: Sequence[str] = (), words: Sequence[str] = ()) -> float:
    """The hand-written ask rules alone, 0..1."""
    text = sentence.strip()
    if not text or len(text) > 1000:
        return 0.0
    return _rule_score(_cues(text, tags, words))


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


# --------------------------------------------------------------------------- tone

_UPSET = {
    # word or phrase -> weight; stems match word starts.
    r"disappoint": 0.6,
    r"frustrat": 0.7,
    r"unacceptable": 0.8,
    r"upset": 0.6,
    r"angry|anger|furious|livid|outraged?": 0.8,
    r"annoy": 0.6,
    r"ridiculous|absurd|outrageous|insane": 0.6,
    r"complain": 0.5,
    r"not happy|unhappy": 0.6,
    r"waste of (?:time|money)": 0.6,
    r"terrible|awful|horrible|pathetic|disgust": 0.6,
    r"inexcusable|unprofessional|incompetent": 0.8,
    r"still (?:haven'?t|have not|hasn'?t|has not|not|waiting|no)": 0.5,
    r"yet again|once again|for the (?:third|fourth|last) time|again\?": 0.4,
    r"why (?:hasn'?t|haven'?t|didn'?t|wasn'?t|weren'?t|isn'?t|aren'?t|is(?:n'?t)? it|did)": 0.4,
    r"(?:i|we) (?:am|are|'m|'re) (?:very |quite |really |extremely )?(?:concerned|worried)": 0.6,
    r"concern(?:ed|ing|s)?": 0.3,
    r"worr(?:y|ied|ies|ying)": 0.35,
    r"problem|issue": 0.15,
    r"mistake|error|wrong": 0.2,
    r"fault|blame": 0.45,
    r"sorry to (?:say|hear)|unfortunately": 0.25,
    r"(?:sad|shame|ashamed|hated?|hates|dislike[ds]?|sick of|fed up|tired of)\b": 0.5,
    r"urgent|immediately|asap": 0.2,
}
_UPSET_WEIGHTS = {f"u{i}": weight for i, weight in enumerate(_UPSET.values())}
# All patterns in one pass; each match names the pattern (group) that matched.
_UPSET_ALL = _fast(r"\b(?:" + "|".join(f"(?P<u{i}>{p})" for i, p in enumerate(_UPSET)) + ")")
_CAPS_RUN = re.compile(r"[A-Z]{4}")
_PERSONAL = _fast(r"\b(?:i|i'm|i've|i'd|i'll|me|my|we|we're|we've|us|our|you|you're|your)\b")
NARRATIVE_WORDS = 20
NARRATIVE_DISCOUNT = 0.6
_INTERROBANG = re.compile(r"\?\s*!|!\s*\?")


def upset_score(sentence: str) -> float:
    """How upset, frustrated or complaining a sentence sounds, 0..1 (keyword rules)."""
    text = sentence[:2000]
    total = 0.0
    low = text.lower()
    matched = {m.lastgroup for m in _UPSET_ALL.finditer(low)}
    total += sum(_UPSET_WEIGHTS[name] for name in matched if name)
    if "!" in text and ("!!" in text or _INTERROBANG.search(text)):
        total += 0.2
    if _CAPS_RUN.search(text):
        letters = sum(map(str.isalpha, text))
        if letters > 12 and sum(map(str.isupper, text)) / letters > 0.7:
            total += 0.3
    if total and not _PERSONAL.search(low) and len(_WORD.findall(low)) >= NARRATIVE_WORDS:
        # A long sentence with no I, we or you in it tells of others ("lawmakers were
        # angry", an article pasted in): it is not the writer speaking to the reader.
        total *= NARRATIVE_DISCOUNT
    return min(1.0, total)


# Words of concern and argument. Worried or concerned business mail rarely uses strong
# words: it argues. It weighs risks and problems, says what "we need to" do, what
# "should" happen, what the writer "can't" accept, "however" the other side sees it.
# The message-level tone counts these words per square root of the text's length, so
# a long mail is not upset merely for being long and one line can still count.
# The lexicon and the length normalisation are hand-written; the decision density and
# the covering-note settings below were chosen on the Berkeley Enron categories
# (scripts/tune_upset.py prints the figures and a 5-fold cross-validation). Emotional
# words are left to the sentence rules above, which name the writer's own feelings.
_CONCERN = _fast(
    r"\b(?:need to|needs to|should(?:n't)?|must|have to|believe|i think|we think|not sure|"
    r"don't think|however|but|unless|although|afraid|can't|cannot|won't|concern\w*|worr\w*|"
    r"risk\w*|problem\w*|issue\w*|critical|serious\w*|important|strongly|really|clearly|"
    r"obviously|fact|unfortunately|difficult\w*|trouble\w*|fail\w*|wrong|mistake\w*|"
    r"threat\w*|hurt\w*|damag\w*|los[se]\w*|lost|bad|worse|worst)\b",
)
_WORD = re.compile(r"[a-z']+")
# Concern words per sqrt(words + 10) at which a message counts as concerned (score 0.5).
CONCERN_DENSITY_AT_HALF = 0.47
# A covering note ("What do you make of this?") over a forwarded or quoted message
# takes its tone from what it passes on, at a discount: those are others' words.
COVER_NOTE_WORDS = 50
PASSED_ON_WEIGHT = 0.75
# Concern alone never reaches a recover nudge (detect.UPSET_MIN is 0.7): an argued,
# worried mail is worth knowing about, a call to an upset contact needs their words.
CONCERN_CEILING = 0.65


def _words_of(text: str) -> str:
    return text.lower().replace("\u2019", "'")


def concern_count(text: str) -> int:
    """How many words of concern or argument a text uses."""
    return len(_CONCERN.findall(_words_of(text)))


def concern_density(text: str) -> float:
    """Concern words per square root of the text's length in words (plus 10)."""
    low = _words_of(text)
    return len(_CONCERN.findall(low)) / (len(_WORD.findall(low)) + 10) ** 0.5


def message_concern(
    newest: str,
    whole: str,
    subject: str = "",
    *,
    note_words: int = COVER_NOTE_WORDS,
    weight: float = PASSED_ON_WEIGHT,
) -> float:
    """The concern density of a message: of its subject and newest text or, for a
    covering note of fewer than `note_words` words, of the whole body (the note and what
    it forwards or quotes) times `weight`, whichever is higher."""
    density = concern_density(f"{subject}.\n\n{newest}" if subject else newest)
    if len(_WORD.findall(_words_of(newest))) < note_words:
        density = max(density, weight * concern_density(whole))
    return density


def message_upset(sentence_scores: Sequence[float], density: float) -> float:
    """A message's upset score from its sentences' scores and its concern density."""
    strongest = max(sentence_scores, default=0.0)
    concern = min(CONCERN_CEILING, 0.5 * density / CONCERN_DENSITY_AT_HALF)
    return min(1.0, max(strongest, concern))


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
