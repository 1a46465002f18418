"""Upset and complaining tone: named features of a text, and the message's score.

A message is upset when its writer is angry, annoyed, disappointed or disgusted, or
complains that something they were promised has not happened. Customers complain in
words of unmet expectations more than in words of emotion ("I still haven't received
my order", "this is the third time I've written", "I was charged twice"), so the
features are of three kinds:

- the words, their first letters and word pairs of the text, with the words inside a
  negation's scope marked ("not happy" is not "happy"), as a bag-of-words model has
  them;
- groups of a hand-written general lexicon (`LEXICON`): emotions, insults, harsh
  judgements, and the phrases of unmet expectations, repeated contact, waiting,
  money and service, reproach and demands; each group is one named feature, so what
  is rare in the training text still counts by its group;
- who it is about: harsh words in a sentence that addresses the reader ("you", "your")
  or the writer's own thing ("my order"), which is a complaint to someone, against
  harsh words about others or about oneself ("I'm so dumb").

The weights are learned (`scripts/train_upset.py`, a logistic regression shipped as
`nurture/data/nlp/upset.json`). A message is read as whole windows of `WINDOW`
sentences, the length of the training texts, and its score is the strongest window's.
Complaint cues (`complaint_cues`: an unmet expectation with time or repetition, money,
a verdict, in the writer's own voice) put a window on the lines by their meaning, as
no corpus here labels complaints; in a message about code or a text under review
(`technical`: "this patch", `select(2)`, `foo_bar`) they count one kind at most, as
"that still doesn't work" there critiques the code and is owed no call. Worried,
argued mail that uses no harsh words is found by its density of concern words
(`message_concern`), which never reaches the recover line on its own.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nurture.nlp import classifier
from nurture.nlp.signals import _fast, _norm_token


def _words_of(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


_NUMBER = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|few)"
_DURATION = r"(?:minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?)"
_HAVE_NOT = (
    r"(?:haven't|have not|hasn't|has not|hadn't|had not|didn't|did not|don't|do not|doesn't|"
    r"does not|isn't|is not|aren't|are not|wasn't|was not|won't|will not|can't|cannot|"
    r"couldn't|not|never|no)"
)
_DONE = (
    r"(?:receiv\w*|arriv\w*|deliver\w*|ship\w*|sent|come|came|show\w* up|turn\w* up|"
    r"fix\w*|resolv\w*|repair\w*|refund\w*|credit\w*|processed|answer\w*|repl\w*|respond\w*|"
    r"heard|hear back|call\w* (?:me )?back|got back|get back|contact\w*|work\w*|help\w*|"
    r"solv\w*|sort\w* out|honou?r\w*|return\w*|reimburs\w*|paid|activat\w*|connect\w*|"
    r"load\w*|open\w*|updat\w*)"
)

# Each group is one named feature ("lex:<group>") and is written by hand: general
# words and phrases of the kind, never picked from the labelled examples. Patterns
# match lower-cased text at word starts; `\w*` takes the endings.
LEXICON: dict[str, str] = {
    "anger": (
        r"angr\w*|anger\w*|furious\w*|fury|livid|outrag\w*|rage\b|raging|enrag\w*|pissed|"
        r"irate|infuriat\w*|hate[ds]?\b|hating|hatred|loath\w*|despise\w*|resent\w*|"
        r"mad at|so mad|fed up|had enough|had it with|sick (?:and tired )?of|"
        r"how dare|fuming|seething"
    ),
    "annoyance": (
        r"annoy\w*|irritat\w*|frustrat\w*|aggravat\w*|exasperat\w*|ugh+\b|argh+\b|gr+r\b|"
        r"tired of|drives? me (?:crazy|nuts|mad)|gets? on my nerves|bother(?:s|ed|ing)? me|"
        r"so done with|enough is enough|over it\b|smh\b|sigh\b|come on\b|give me a break|"
        r"getting old|last straw"
    ),
    "disappointment": (
        r"disappoint\w*|let (?:me |us )?down|letdown|expected (?:better|more)|"
        r"not what (?:i|we) (?:expected|paid|ordered|asked)|underwhelm\w*|what a shame|"
        r"such a shame|too bad|regret\w*|waste of\b|wasted (?:my|our|\w+ hours|\w+ days)|"
        r"should have been|should've been|was supposed to|were supposed to|"
        r"is supposed to|are supposed to|promised (?:me|us|to)|you promised|"
        r"false advertis\w*|misleading|misled"
    ),
    "disgust": (
        r"disgust\w*|gross\b|vile\b|repuls\w*|revolting|sickening|appall\w*|shameful|"
        r"shame on|despicable|deplorable|abhorrent|nauseating|creepy"
    ),
    "insult": (
        r"stupid\w*|idiot\w*|dumb\w*|moron\w*|retard\w*|pathetic|clown\w*|loser\w*|"
        r"fool(?:s|ish)?\b|ignorant|incompeten\w*|clueless|useless|worthless|trash\w*|"
        r"garbage|rubbish|crap\w*|scam\w*|fraud\w*|liars?\b|lying\b|thie(?:f|ves)|"
        r"ripp(?:ed|ing) (?:me |us )?off|rip-?off|a joke\b|joke of|laughable|"
        r"embarrass\w*|a disgrace|disgrace\w*|amateur\w*|shit ?show|circus"
    ),
    "profanity": (
        r"fuck\w*|f\*+k\w*|shit\w*|sh\*t\w*|damn\w*|bullshit|bs\b|wtf\b|ffs\b|stfu\b|"
        r"goddamn\w*|ass\b|asshole\w*|arse\w*|bitch\w*|bastard\w*|piss\w*|bloody\b|"
        r"the hell\b|hell no|what the heck|screw (?:you|this|that|them)|sucks?\b|sucked"
    ),
    "harsh": (
        r"terribl\w*|awful\w*|horribl\w*|horrendous|atrocious|worst|dreadful|abysmal|"
        r"appalling|lousy|shoddy|ridiculous\w*|absurd\w*|unacceptabl\w*|outrageous\w*|"
        r"insane\w*|unbelievabl\w*|inexcusabl\w*|unprofessional\w*|rude\w*|shocking\w*|"
        r"nightmare|a mess\b|mess(?:ed)? up|screw(?:ed)? up|poor (?:service|quality|"
        r"communication|job|experience|support)|bad (?:service|experience|quality|"
        r"customer|support|job)|ruin\w*|horrid|unreal\b|unfair\w*|bizarre|nonsense|"
        r"(?:very|so|really|extremely|incredibly) poor\b|disgraceful|shambles|shambolic"
    ),
    "unmet": (
        rf"{_HAVE_NOT} (?:yet |even |ever |actually |been |got |gotten |once )*{_DONE}|"
        rf"never (?:even |actually |once )?{_DONE}|"
        r"(?:no|zero|without any|without a|nothing but|not (?:one|a single)) (?:response|reply|"
        r"replies|answer|answers|update|updates|word|help|call ?back|callback|refund|"
        r"explanation|apology|acknowledg\w*|follow[- ]?up|communication|contact|resolution|"
        r"solution|information|info|sign of|one (?:has|is|will|ever|bothered|cares|answers|"
        r"replies|picks|called|came|turned))|"
        r"no (?:water|power|electricity|gas|heating|hot water|internet|broadband|wi-?fi|"
        r"signal|service|connection|phone line|dial tone|tv)\b|"
        r"no one|nobody|noone|stopped working|stop working|gave up on me|died on me|"
        r"fall(?:ing|en|s)? apart|fell apart|came apart|"
        r"keeps? (?:crashing|failing|breaking|dropping|freezing|happening|getting worse|"
        r"charging|cancell?ing|asking|sending|hanging up|logging me out|declining|"
        r"rejecting|losing|leaking|cutting out|disconnecting|telling me)|"
        r"(?:won't|will not|doesn't|does not|didn't|did not|don't|do not|can't|cannot|"
        r"couldn't|unable to|not able to) (?:even )?(?:work|load|open|connect|start|"
        r"turn on|charge|log ?in|sign ?in|access|use|get through|find|track|download|"
        r"install|pay|fit|let me|reach (?:you|anyone|someone|somebody|a human|a person|"
        r"customer|your))|"
        r"(?:is|was|has been|have been|went|are|were|been|gone|keeps going) (?:completely |"
        r"totally |still )?(?:down|dead|offline)\b|"
        r"broke\b|broken|crash(?:es|ed|ing)?\b(?! on)|glitch\w*|bugg?y|outage\w*|"
        r"leak(?:s|ed|ing)\b|"
        r"not loading|not working|isn't working|aren't working|out of stock again|"
        r"delayed\b|overdue|missing|lost (?:my|our|the)|wrong (?:item|order|size|colou?r|"
        r"address|product|amount|charge|number|one|bill)|damaged|defective|faulty|"
        r"(?:is|was|been|got|were|are|has been|have been) (?:\w+ )?cancell?ed|"
        r"cancell?ed (?:my|our|the)|didn't show|no[- ]show|late again|"
        r"(?:hours|days|weeks|months) late|ignor(?:ed|ing) (?:me|us|my|our)|"
        r"left (?:me|us) (?:waiting|hanging|stranded|without)|"
        r"(?:it's|it is|its) not here|isn't here|nothing (?:here|has (?:arrived|come|"
        r"turned up|shown up|changed|been done)|arrived|came|was done|is being done)|"
        r"(?:i|we) (?:was|were) (?:promised|told|assured|guaranteed)|you promised|"
        r"promised (?:me|us)|(?:problem|problems|issue|issues|trouble|error|errors|fault) "
        r"(?:with|on) (?:my|our|your|the) (?:order|package|parcel|delivery|account|card|bill|"
        r"invoice|payment|booking|ticket|flight|subscription|phone|app|website|site|"
        r"internet|broadband|wi-?fi|connection|service|device|laptop|car|item|product|"
        r"machine|boiler|heating|claim|refund)|"
        r"waiting (?:for|on) (?:my|our|a|an|the|your|you)\b"
    ),
    "repeat": (
        r"(?:this is|it's|it is|that's|for) the (?:second|third|fourth|fifth|sixth|\d+(?:st|nd|"
        r"rd|th)|umpteenth|nth|last) time|(?:second|third|fourth|fifth|\d+(?:nd|rd|th)) "
        r"(?:time|email|e-mail|call|message|request|attempt|complaint|letter|month|week)|"
        r"again and again|over and over|every (?:single )?time|yet again|once again|"
        r"time after time|(?:several|multiple|many|countless|numerous|repeated(?:ly)?|"
        r"\d+|two|three|four|five|six) (?:times|emails|e-mails|calls|messages|attempts|"
        r"requests|complaints|tickets|reminders|different people|different agents)|"
        r"twice\b|already (?:asked|called|written|emailed|e-mailed|contacted|complained|"
        r"explained|told you|sent|rung|phoned)|(?:i|we)(?:'ve| have) (?:asked|called|"
        r"written to|emailed|e-mailed|contacted|complained to|told|rung|phoned) you|"
        r"(?:i|we) (?:asked|told|called|emailed|rang|phoned) you\b|rang\b|"
        r"as i (?:said|mentioned|wrote|explained) (?:before|earlier|already|last)|"
        r"(?:following|follow) up (?:again|on my|for the)|(?:again|once more)\?|"
        r"how many (?:more )?times|keep (?:asking|calling|writing|getting|telling|chasing)|"
        r"chasing|in a row"
    ),
    "waiting": (
        rf"(?:wait\w*|on hold|hold for|queue\w*) (?:for )?(?:over |more than |almost |nearly |"
        rf"about |at least )?{_NUMBER}\+? {_DURATION}|"
        rf"(?:for|over|after|in|more than|been|took|taken|takes|taking|take) (?:over |almost |"
        rf"nearly |about |more than |at least |a whole |an entire |the whole )?"
        rf"(?:\d+|a|an|one|two|three|four|five|six|several|many) (?:more )?{_DURATION}|"
        rf"(?:it's|it has|it is|it's now|now) (?:been|over) (?:over |almost |nearly |more than )?"
        rf"{_NUMBER}|"
        r"since (?:last|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|"
        r"january|february|march|april|may|june|july|august|september|october|november|"
        r"december|the \d|\d{1,2}(?:st|nd|rd|th|am|pm)?\b(?![.:]\d))|been waiting|still\b|"
        r"again\b|anymore\b|any more\b|"
        r"on hold|hung up|all (?:morning|day|afternoon|evening|week|weekend)|"
        r"(?:kept|keep|left) (?:me |us )?(?:waiting|on hold)|(?:a|one|two|three|four|five|"
        r"\d+) (?:days?|weeks?|months?) (?:ago|on)|"
        r"(?:hours|days|weeks|months) (?:now|later|ago and)|how long"
    ),
    "money": (
        r"(?:my|our|a|full|the|no|any) refund|refund (?:me|us|my|our)|refunded\b|"
        r"(?:want|need|demand|expect|get|getting|still no|where is|waiting for|owed) (?:a |"
        r"my |our |the |full |any )?(?:refund|reimbursement|compensation)|money back|"
        r"charg(?:ed|ing) (?:me|us|my card|our card) (?:twice|again|double|for nothing|extra)|"
        r"charged (?:twice|double|me twice|us twice)|(?:overcharg|double[- ]charg|billed twice)\w*|"
        r"(?:i|we) paid (?:for|extra|in full|twice|upfront|up front)|"
        r"(?:taken|taking|took|take) (?:money|payments?|my money|our money|my \w+ fee|"
        r"a (?:\w+ )?fee)|hidden fees?|cancellation fee|late fee"
    ),
    "service": (
        r"customer (?:service|support|care|experience)|support (?:team|staff|agent)|"
        r"(?:speak|talk|speaking|talking) (?:to|with) (?:a|your|the) (?:manager|supervisor|"
        r"human|person|real person|someone in charge)|manager\b|supervisor\b|"
        r"complain\w*|escalat\w*|ticket\b|case number|reference number|"
        r"your (?:company|service|product|app|website|site|staff|team|agents?|people|"
        r"employees|driver|courier|store|policy|system)|"
        r"(?:my|our) (?:order|package|parcel|delivery|shipment|account|card|refund|"
        r"flight|booking|reservation|bag|luggage|internet|connection|bill|invoice|"
        r"subscription|payment|claim|item|purchase|device|phone|laptop|car|appointment|"
        r"application|request)"
    ),
    "reproach": (
        r"why (?:is|isn't|are|aren't|does|doesn't|did|didn't|do|don't|can't|cannot|won't|"
        r"hasn't|haven't|has|have|would|wasn't|weren't|should|on earth|the hell|the heck|"
        r"the fuck|would you|in the world)|how (?:hard|difficult) (?:is|can) it|"
        r"what (?:the (?:hell|fuck|heck)|is wrong with|kind of|is going on)|seriously|"
        r"are you (?:kidding|serious|joking|for real)|you (?:people|guys|lot|idiots) |"
        r"you (?:never|always|keep|can't even|couldn't even|don't even)|"
        r"(?:nobody|no one) (?:cares|gives)|do (?:you|they) even|"
        r"is this (?:a joke|how you|really)|what happened to|wh(?:at|y) (?:am|was) i"
    ),
    "demand": (
        r"(?:fix|sort|solve|resolve) (?:this|it|that|the problem|the issue|my)|"
        r"i (?:want|need|demand|expect|deserve) (?:a |an |my |the |to (?:know|speak|talk|be))?"
        r"(?:refund|answer|explanation|response|apology|manager|reply|solution|compensation|"
        r"know why|speak|talk|cancel)|i demand|i expect(?:ed)? (?:better|more|much better|you to)|"
        r"(?:right|straight) away|immediately|asap\b|right now|as soon as possible|"
        r"unless (?:you (?:fix|sort|refund|resolve|reply|respond|get back|call)|"
        r"(?:this|it) is (?:fixed|sorted|resolved|refunded))|"
        r"or (?:else|i will|i'll)|(?:will|going to) (?:take my business|switch|leave|"
        r"report|sue|take legal)|never (?:again|buy|use|fly|order|shop|recommend)|"
        r"do (?:your|their) job|take (?:your|my|our) business|last chance|final warning|"
        r"(?:sort|put) (?:it|this|that|things) (?:out|right)|deal with (?:this|it)|"
        r"cancel (?:my|our) (?:order|account|subscription|service|membership|contract)"
    ),
    "unhappy": (
        r"unhappy|dissatisf\w*|unsatisf\w*|displeas\w*|not (?:very |at all |so |too |that )?"
        r"(?:happy|satisfied|pleased|impressed|ok|okay|acceptable|good enough|fair|right|"
        r"helpful|worth|amused|fine)|not a happy|less than (?:happy|impressed|satisfied)"
    ),
    "worry": (
        r"worr\w*|concern\w*|anxious\w*|anxiety|afraid|scared|nervous\w*|fear\w*|risk\w*|"
        r"alarm\w*|troubl\w*|uneasy|panic\w*|stress\w*"
    ),
    "sad": (
        r"sad\b|sadly|sadden\w*|unfortunate\w*|sorry to (?:hear|say|see)|heartbr\w*|"
        r"depress\w*|miserabl\w*|upset\w*|hurt\w*|devastat\w*|gutted|crying|cried|"
        r"tragic\w*|pain(?:ful)?\b"
    ),
    "positive": (
        r"thank\w*|thx\b|ty\b|appreciat\w*|great\w*|awesome|amazing\w*|love[ds]?\b|loving|"
        r"lovely|excellent|perfect\w*|wonderful\w*|fantastic|happy|glad|pleased|"
        r"enjoy\w*|nice\w*|cool\b|good job|well done|congrat\w*|helpful|brilliant|"
        r"best\b|beautiful\w*|cute|fun\b|funny|kudos|cheers|welcome|impressive|"
        r"delight\w*|grateful|blessed|yay\b|wow\b|excited|hope\w*|proud|smooth\w*|quick\w*"
    ),
    "humour": r"lol\w*|lmao\w*|haha\w*|hehe\w*|rofl\w*|jk\b|kidding\b|xd\b",
}
_GROUPS = tuple(LEXICON)
_LEXICON_ALL = _fast(
    r"(?:" + "|".join(f"(?P<g{i}>{pattern})" for i, pattern in enumerate(LEXICON.values())) + ")",
    initials=r"a-z0-9",
)
_HARSH_GROUPS = frozenset(
    {"anger", "annoyance", "disappointment", "disgust", "insult", "profanity", "harsh"}
)
_COMPLAINT_GROUPS = frozenset({"unmet", "repeat", "waiting", "money", "demand", "unhappy"})

# Negation: a cue and the words after it up to a clause boundary (at most
# `NEGATION_SPAN` words) are marked, so "not happy" and "haven't received" are their
# own features.
_NEGATORS = frozenset(
    """not n't no never nobody nothing none nowhere neither nor cannot without hardly
    barely noone""".split()
)
_CLAUSE_END = frozenset(". , : ; ! ? -- - ( ) but however although though".split())
NEGATION_SPAN = 5
# Words longer than this also count by their first letters ("p:frus"), so "frustrating",
# "frustrated" and "frustratingly" share what any of them taught, and so do spellings
# the training text has not seen ("annoyinggg"): on goemotions-dev the model's AUC rose
# from 0.843 to 0.854 with 4 letters (3: 0.853, 5: 0.852, 6: 0.850).
PREFIX = 4
TIE_SPECIFIC = True
_SECOND = frozenset({"you", "your", "yours", "you're", "you've", "u", "ur", "y'all", "yall"})
_FIRST = frozenset({"i", "i'm", "me", "my", "myself", "im"})
_VOICES = _SECOND | _FIRST | {"i've", "i'd", "i'll"}
_CAPS_RUN = re.compile(r"[A-Z]{3}")


@functools.lru_cache(maxsize=8192)
def _group_counts_of(text: str) -> tuple[tuple[str, int], ...]:
    """How often each lexicon group matches in a text (cached: each sentence is read
    with its neighbours, so it is asked for more than once)."""
    counts: dict[str, int] = {}
    for match in _LEXICON_ALL.finditer(_words_of(text)):
        name = match.lastgroup
        if name:
            group = _GROUPS[int(name[1:])]
            counts[group] = counts.get(group, 0) + 1
    return tuple(sorted(counts.items()))


def lexicon_groups(text: str) -> frozenset[str]:
    """The lexicon groups a text uses."""
    return frozenset(group for group, _ in _group_counts_of(text))


def _marked_tokens(words: Sequence[str]) -> list[tuple[str, bool]]:
    """Normalised tokens, those inside a negation's scope prefixed with "not_", each with
    whether it has a letter (a marked one always does)."""
    out: list[tuple[str, bool]] = []
    left = 0
    for word in words:
        token, letter = _norm_token(word)
        if token in _CLAUSE_END or not _ALNUM.search(token):
            left = 0
            out.append((token, letter))
            continue
        if token in _NEGATORS:
            left = NEGATION_SPAN
            out.append((token, letter))
            continue
        if left:
            left -= 1
            out.append(("not_" + token, True))
        else:
            out.append((token, letter))
    return out


_ALNUM = re.compile(r"[^\W_]")  # a letter or digit: any(c.isalnum() for c in ...)


@functools.lru_cache(maxsize=65_536)
def _has_letter(word: str) -> bool:
    return any(c.isalpha() for c in word)


_SMILE = re.compile(
    r"[:;]-?[)dp]\B|\(:|[\U0001F600-\U0001F607\U0001F60A\U0001F60D\U0001F602\U0001F923]"
)
_FROWN = re.compile(r":-?[(/]\B|[\U0001F620-\U0001F624\U0001F612\U0001F644\U0001F92C\U0001F615]")


def _style(text: str) -> list[str]:
    feats = []
    if _SMILE.search(text):
        feats.append("s:smile")
    if _FROWN.search(text):
        feats.append("s:frown")
    if "!!" in text or "?!" in text or "!?" in text:
        feats.append("s:exclaims")
    elif "!" in text:
        feats.append("s:exclaim")
    if "??" in text:
        feats.append("s:questions")
    if _CAPS_RUN.search(text):
        letters = [c for c in text if c.isalpha()]
        if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
            feats.append("s:shouting")
        else:
            feats.append("s:caps_word")
    return feats


def sentence_features(text: str, words: Sequence[str]) -> tuple[str, ...]:
    """The features of one sentence: its lexicon groups, and who they are about."""
    lowered = {w.lower().replace("\u2019", "'") for w in words}
    return group_features(lexicon_groups(text), bool(lowered & _SECOND), bool(lowered & _FIRST))


@functools.lru_cache(maxsize=4096)
def group_features(groups: frozenset[str], second: bool, first: bool) -> tuple[str, ...]:
    """`sentence_features` of a sentence with these lexicon groups, that addresses the
    reader (`second`: "you", "your") or speaks as the writer (`first`: "I", "my")."""
    harsh = bool(groups & _HARSH_GROUPS)
    complaint = bool(groups & _COMPLAINT_GROUPS)
    feats = [f"lex:{g}" for g in sorted(groups) if TIE_SPECIFIC or g not in _COMPLAINT_GROUPS]
    if harsh or complaint:
        feats.append("lex:dissatisfied")
        if second:
            feats.append("who:you_harsh" if harsh else "who:you_complaint")
        elif first:
            feats.append("who:me_harsh" if harsh else "who:me_complaint")
        else:
            feats.append("who:other_harsh" if harsh else "who:other_complaint")
    if harsh and "positive" in groups:
        feats.append("mix:harsh_positive")
    return tuple(feats)


@dataclass(frozen=True, slots=True)
class _Part:
    """What one sentence adds to any span it is in, computed once per sentence."""

    first: str  # its first and last token: the word pairs across sentence boundaries
    last: str
    features: frozenset[str]
    words: int  # tokens with a letter
    groups: tuple[tuple[str, int], ...]
    narrative: bool  # see `_narrative`


@functools.lru_cache(maxsize=8192)
def _sentence_parts(text: str, words: tuple[str, ...]) -> _Part:
    """One sentence's features that do not cross sentences (cached: each sentence is read
    in up to `WINDOW` windows, and its words, prefixes and pairs are the same in each)."""
    pairs = _marked_tokens(words)
    marked = [t for t, _ in pairs]
    alpha = [t for t, letter in pairs if letter]
    own = {f"w:{t}" for t in alpha}
    own.update(f"p:{t[:PREFIX]}" for t in alpha if len(t) > PREFIX)
    own.update(f"b:{a}_{b}" for a, b in itertools.pairwise(marked))
    own.update(sentence_features(text, words))
    own.update(_style(text))
    return _Part(
        marked[0] if marked else "",
        marked[-1] if marked else "",
        frozenset(own),
        len(alpha),
        _group_counts_of(text),
        _narrative(words),
    )


def features(sentences: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Named features of a span of sentences, each given as (text, words)."""
    feats: set[str] = set()
    counts: dict[str, int] = {}
    n = 0
    previous = ""
    for text, words in sentences:
        part = _sentence_parts(text, tuple(words or text.split()))
        feats |= part.features
        if part.first:
            if previous:
                feats.add(f"b:{previous}_{part.first}")
            previous = part.last
        n += part.words
        for group, count in part.groups:
            counts[group] = counts.get(group, 0) + count
    feats.update(f"lex2:{g}" for g, c in counts.items() if c >= 2)
    feats.add("len:" + ("1-5" if n <= 5 else "6-15" if n <= 15 else "16-40" if n <= 40 else "41+"))
    return list(feats)


def clear_caches() -> None:
    """Empty the per-sentence caches (see `nurture.nlp.clear_caches`)."""
    _group_counts_of.cache_clear()
    _sentence_parts.cache_clear()
    _voiced.cache_clear()
    _has_letter.cache_clear()


# --------------------------------------------------------------------------- concern

# Words of concern and argument. Worried or concerned business mail rarely uses strong
# words: it argues. It weighs risks and problems, says what "we need to" do, what
# "should" happen, what the writer "can't" accept, "however" the other side sees it.
# The message-level tone counts these words per square root of the text's length, so
# a long mail is not upset merely for being long and one line can still count. The
# lexicon and the length normalisation are hand-written; the density at which a
# message counts as concerned is chosen on the Berkeley Enron categories by
# scripts/train_upset.py (cross-validated) and shipped in upset.json.
_CONCERN = _fast(
    r"\b(?:need to|needs to|should(?:n't)?|must|have to|believe|i think|we think|not sure|"
    r"don't think|however|but|unless|although|afraid|can't|cannot|won't|concern\w*|worr\w*|"
    r"risk\w*|problem\w*|issue\w*|critical|serious\w*|important|strongly|really|clearly|"
    r"obviously|fact|unfortunately|difficult\w*|trouble\w*|fail\w*|wrong|mistake\w*|"
    r"threat\w*|hurt\w*|damag\w*|los[se]\w*|lost|bad|worse|worst)\b",
)
_WORD = re.compile(r"[a-z']+")
# The density at which a message counts as concerned (score 0.5) when upset.json does
# not say: the value scripts/train_upset.py chose before it was shipped there.
CONCERN_DENSITY_AT_HALF = 0.47
# A message is concerned only when it uses at least `CONCERN_MIN` such words (one "but"
# or "really" in a two-line note is no argument), and the density's length is counted
# plus `CONCERN_OFFSET` words, so short texts need more of them. Both chosen on the
# Berkeley half and goemotions-dev together: at (1, 10) Berkeley's cross-validated F1
# was 0.297 and the dev AUC of the whole score 0.839 (the model alone 0.854); at (3, 30)
# 0.299 and 0.851; at (4, 30) 0.299 and 0.851 with a lower Berkeley AUC.
CONCERN_OFFSET = 30
CONCERN_MIN = 3
# A covering note ("What do you make of this?") over a forwarded or quoted message
# takes its tone from what it passes on, at a discount: those are others' words.
COVER_NOTE_WORDS = 50
PASSED_ON_WEIGHT = 0.75
# Concern alone never reaches a recover nudge (detect.UPSET_MIN is 0.7): an argued,
# worried mail is worth knowing about, a call to an upset contact needs their words.
CONCERN_CEILING = 0.65


def concern_count(text: str) -> int:
    """How many words of concern or argument a text uses."""
    return _CONCERN.findall_count(_words_of(text))


def concern_density(text: str) -> float:
    """Concern words per square root of the text's length in words (plus
    `CONCERN_OFFSET`); 0 below `CONCERN_MIN` such words."""
    low = _words_of(text)
    count = _CONCERN.findall_count(low)
    if count < CONCERN_MIN:
        return 0.0
    return count / (len(_WORD.findall(low)) + CONCERN_OFFSET) ** 0.5


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


def concern_score(density: float, at_half: float | None = None) -> float:
    """The tone score of a concern density: 0.5 at the chosen density, at most the ceiling."""
    if at_half is None:
        model = classifier.load("upset")
        at_half = float(model.meta.get("concern_density_at_half", 0)) if model else 0.0
        at_half = at_half or CONCERN_DENSITY_AT_HALF
    return min(CONCERN_CEILING, 0.5 * density / at_half)


# --------------------------------------------------------------------------- the score

# Complaint cues are counted over a sentence and the one before it: "It still hasn't
# arrived. That's three weeks." is one complaint across two. Over three sentences, the
# "still" and "again" of business mail met an unrelated problem often enough that the
# recover line fired on 7 Berkeley messages, 2 of them upset; over two, on 3, 2 upset.
COMPLAINT_WINDOW = 2
# The model reads a sentence with the two before it (the training comments are one to
# three sentences long), and only whole windows: a text of fewer sentences is read
# whole, a longer one as each run of three. Scoring every sentence's shorter prefix as
# well gave a long text more draws at a high score: on goemotions-dev the model's AUC
# was 0.837 with prefixes and 0.843 with whole windows only (whole texts: 0.844).
WINDOW = 3
_CORE_COMPLAINT = frozenset({"unmet", "repeat", "money", "unhappy", "verdict"})
# Harsh judgements ("terrible service", "a joke", "disgraceful") are a kind of complaint
# when they come in the writer's voice; emotions (anger, annoyance) are the model's.
_VERDICT_GROUPS = frozenset({"harsh", "insult", "disgust"})
# Anger, annoyance or disappointment said beside a complaint is one more kind of it
# (never a complaint alone: that is the model's to weigh).
_FELT_GROUPS = frozenset({"anger", "annoyance", "disappointment"})
# Groups that address the reader by themselves: "why does it take ...", "sort it out".
_VOICE_GROUPS = frozenset({"reproach", "demand"})
_PAST_VERB = frozenset({"VBD", "VBN"})
_DISSATISFIED = frozenset({"unmet", "unhappy"}) | _VERDICT_GROUPS
_ASKED_AGAIN = frozenset({"repeat", "waiting"})


@dataclass(frozen=True, slots=True)
class Tone:
    """A message's tone: its upset score, the sentence behind it, and whether it chases.

    `upset` is on the scale of the two lines: 0.5 is upset (`nurture.nlp.UPSET_THRESHOLD`),
    0.7 is clear enough for a recover nudge (`detect.UPSET_MIN`). `chaser` is 0..1: how
    plainly the writer says they asked before and are still waiting ("this is my third
    email", "I have been waiting two weeks for an answer").
    """

    upset: float
    sentence: str
    chaser: float


def to_lines(probability: float, upset_at: float, recover_at: float) -> float:
    """Map a model probability onto the lines' scale, piecewise linear and monotone.

    `upset_at` (the probability chosen for the upset line) maps to 0.5 and `recover_at`
    (the one chosen for the recover line) to 0.7; 0 and 1 stay where they are.
    """
    upset_at = min(max(upset_at, 1e-6), 1 - 2e-6)
    recover_at = min(max(recover_at, upset_at + 1e-6), 1 - 1e-6)
    if probability < upset_at:
        return 0.5 * probability / upset_at
    if probability < recover_at:
        return 0.5 + 0.2 * (probability - upset_at) / (recover_at - upset_at)
    return 0.7 + 0.3 * (probability - recover_at) / (1 - recover_at)


def complaint_cues(
    texts: Sequence[str], words: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] = ()
) -> int:
    """How many kinds of complaint a span of sentences makes, in the writer's own voice.

    Counts the distinct kinds among: an unmet expectation (not received, not working,
    broken, no reply), a repeat (the third time, already asked), time passing (still,
    again, for two weeks, since Monday), money (refund, charged twice), a demand, negated
    satisfaction, a verdict (harsh words about what the complaint is about), and anger,
    annoyance or disappointment felt about it. It
    counts when a core kind (unmet, repeat, money, unhappy, verdict) is in the span, its
    last sentence complains, and the span speaks in the writer's own voice: to the reader
    ("you", "your", an @handle, "why does ..."), of the writer's own experience ("I", "my
    order"), or with the subject left out as notes and short posts do ("Paid for next-day
    delivery", "Been on hold": a sentence opening on a past-tense verb). A story about
    others ("the committee said the shipments never arrived") complains to no one here.
    """
    if not texts:
        return 0

    def speaks() -> bool:
        voiced = any(_voiced(tuple(ws)) for ws in words)
        return voiced or any(t and t[0] in _PAST_VERB for t in tags)

    return complaint_count([lexicon_groups(text) for text in texts], speaks)


def complaint_count(groups_of: Sequence[frozenset[str]], speaks: Callable[[], bool]) -> int:
    """`complaint_cues` of sentences with these lexicon groups; `speaks()` says whether
    one of them speaks as I or to you, or opens on a past-tense verb (asked only when the
    groups alone do not decide)."""
    if not groups_of:
        return 0
    last = groups_of[-1]
    if not (last & _COMPLAINT_GROUPS or last & _VERDICT_GROUPS):
        return 0  # the last sentence, the one the cues are counted for, must complain
    groups: set[str] = set().union(*groups_of)
    kinds = groups & _COMPLAINT_GROUPS
    if groups & _VERDICT_GROUPS:
        kinds.add("verdict")
    if groups & _FELT_GROUPS:
        kinds.add("felt")  # "I am furious ... it is unacceptable": two kinds
    if not kinds & _CORE_COMPLAINT:
        return 0
    if "positive" in last and not last & _DISSATISFIED:
        return 0  # "Thanks for the quick refund": money, but no complaint
    if not (groups & _VOICE_GROUPS or speaks()):
        return 0
    return len(kinds)


@functools.lru_cache(maxsize=8192)
def _voiced(words: tuple[str, ...]) -> bool:
    """Whether a sentence speaks as I or to you, or opens on an @handle (addresses one)."""
    if words and words[0].startswith("@") and len(words[0]) > 1:
        return True
    return any(w.lower().replace("\u2019", "'") in _VOICES for w in words)


def complaint_level(cues: int) -> float:
    """What the complaint cues alone say, on the lines' scale, set by the lines' meaning.

    No labelled complaints are available to fit this on (the tone corpora label emotion,
    and Reddit's raters marked "still not received" upset no more often than any other
    comment), so the count is put on the lines by definition: one kind of complaint
    ("I still haven't received my order") is upset, between the lines; two kinds ("...
    and it has been three weeks") earn a recover call; each further kind halves the
    distance to 1.
    """
    if cues <= 0:
        return 0.0
    if cues == 1:
        return ONE_COMPLAINT
    return 1.0 - (1.0 - TWO_COMPLAINTS) * 0.5 ** (cues - 2)


ONE_COMPLAINT = 0.55
TWO_COMPLAINTS = 0.75

# A long sentence with no I, we or you in it tells of others ("lawmakers were angry",
# an article pasted in): it is not the writer speaking to the reader, and the comments
# the model learned from are rarely like it. Its probability counts this much (a
# hand-set discount, kept from the rules this model replaced).
NARRATIVE_WORDS = 20
NARRATIVE_DISCOUNT = 0.5
_PERSONAL = _SECOND | _FIRST | {"we", "our", "us", "i've", "i'd", "i'll", "we're", "we've"}


def _narrative(words: Sequence[str]) -> bool:
    if sum(map(_has_letter, words)) < NARRATIVE_WORDS:
        return False
    return not {w.lower().replace("\u2019", "'") for w in words} & _PERSONAL


@dataclass(frozen=True, slots=True)
class SpanScore:
    """One sentence read with the ones before it: the model's probability, its complaint
    cues, and whether it says the writer asked before and still waits."""

    text: str
    probability: float
    cues: int
    chases: bool


# A sentence as the tone reads it: its text, its words and (when the tagger ran) their
# part-of-speech tags; callers may leave the tags out.
Said = tuple[str, Sequence[str]] | tuple[str, Sequence[str], Sequence[str]]


def span_scores(
    sentences: Sequence[Said], subject: str, model: classifier.LinearModel
) -> list[SpanScore]:
    """Each sentence (and the subject, the writer's words too) scored with its window."""
    spans: list[tuple[str, Sequence[str], Sequence[str]]] = [
        (item[0], item[1], item[2] if len(item) > 2 else ()) for item in sentences
    ]
    if subject.strip():
        spans.insert(0, (subject, subject.split(), ()))
    pairs = [(text, words) for text, words, _ in spans]
    out = []
    first_whole = min(len(spans), WINDOW) - 1
    for i, (text, words, _) in enumerate(spans):
        window = spans[max(0, i - COMPLAINT_WINDOW + 1) : i + 1]
        cues = complaint_cues(
            [t for t, _, _ in window], [w for _, w, _ in window], [g for _, _, g in window]
        )
        chases = bool(cues) and any(lexicon_groups(t) & _ASKED_AGAIN for t, _, _ in window)
        probability = 0.0
        if i >= first_whole:
            probability = model.score(features(pairs[max(0, i - WINDOW + 1) : i + 1]))
            if _sentence_parts(text, tuple(words or text.split())).narrative:
                probability *= NARRATIVE_DISCOUNT
        out.append(SpanScore(text, probability, cues, chases))
    return out


# Words and tokens of a message about code or a text under review: an identifier
# (snake_case, CONST_NAME), a call or a manual section (`f()`, `select(2)`), a system
# path, a source or manual file (`foo.c`, `uri.7`), an operator (`->`, `==`,
# `#include`), or a word only software work uses (patch, kernel, syscall, man page).
# Links and addresses are taken out first: a customer's tracking link is no code.
_LINKS = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+")
_CODE_WORDS = (
    r"\b(?:patch(?:es|set|sets)?|kernel|glibc|libc|syscalls?|system calls?|typedef|structs?|"
    r"compilers?|rebased?|man ?pages?|diffs|header files?|pull requests?|merge requests?|"
    r"source code|(?:this|the|that) function)\b"
)
# Every link or address `_LINKS` takes out has one of these in it.
_LINK_MARKS = ("://", "www.", "@")
# `_CODE`'s alternatives, each with a pattern (or a string) that every text it matches
# has a match of (contains), or "" where there is none: `technical` tries an
# alternative only on a text that has its hint. Prose has no "_", "->" or "==", and
# `_CODE` as one pattern took 70 ms of CPU over the text of 1,000 mails, the hints 2.
_CODE_PARTS: tuple[tuple[str, str | re.Pattern[str]], ...] = (
    (r"\b[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]\b", "_"),
    (r"\b[A-Za-z_][\w.]*\((?:\d\w?|[A-Za-z_]\w{2,}|)\)", "("),
    (r"(?<![\w/])/(?:usr|dev|proc|sys|etc|tmp|bin|lib|home|var|opt)/", "/"),
    (
        r"\b[A-Za-z][\w-]{2,}\.(?:[ch]|py|rs|go|js|cpp|sh|[1-8])\b",
        re.compile(r"\.(?:[ch]|py|rs|go|js|cpp|sh|[1-8])\b", re.IGNORECASE),
    ),
    (r"\w->\w", "->"),
    (r"\w::\w", "::"),
    (r"(?<![=!<>])[=!]=(?!=)", "="),
    (r"#include\b|#define\b", "#"),
    (_CODE_WORDS, ""),
)
_CODE = re.compile("|".join(part for part, _ in _CODE_PARTS), re.IGNORECASE)
# The words' first letters: tried as one class where a word starts, the words are tried
# only where one of them stands (case-blind, the class takes what the letters take).
_CODE_WORD_INITIALS = "cdghklmprst"
_CODE_HINTED = tuple(
    (
        re.compile(
            rf"\b(?=[{_CODE_WORD_INITIALS}]){part}" if part is _CODE_WORDS else part,
            re.IGNORECASE,
        ),
        hint,
    )
    for part, hint in _CODE_PARTS
)
# In a message about code, complaint cues count at most this many kinds. "That still
# doesn't work", "this is missing the NFS case", "fix anything that broke" critique
# the code or the page, not a service the writer is owed: at most upset, never a call.
# On a maintainer's mailbox (`bench/tone_false_alarms.py`, linux-man) the cues put 46 of
# the 2,890 messages from others at the recover line, 1 with this cap (the words above
# were written looking at that mailbox; on the lists of threads/ and mbox/ 8 of 365
# became 4); the project's customer messages keep their recall. Emotion (the model)
# still can reach the line.
TECHNICAL_CUES = 1


def technical(texts: Sequence[str]) -> bool:
    """Whether a message (its subject and sentences) is about code or a text under review:
    whether `_CODE` matches it, links and addresses taken out."""
    text = "\n".join(texts)
    if any(mark in text for mark in _LINK_MARKS):
        text = _LINKS.sub(" ", text)
    for part, hint in _CODE_HINTED:
        if isinstance(hint, str):
            if hint not in text:
                continue
        elif hint.search(text) is None:
            continue
        if part.search(text) is not None:
            return True
    return False


def combine(
    span: SpanScore, upset_at: float, recover_at: float, *, about_code: bool = False
) -> float:
    """A span's score on the lines: the model's, or its complaint level when higher (the
    model's score then orders complaints of one level among themselves). In a message
    `about_code`, the cues count at most `TECHNICAL_CUES` kinds."""
    emotion = to_lines(span.probability, upset_at, recover_at)
    level = complaint_level(min(span.cues, TECHNICAL_CUES) if about_code else span.cues)
    if not level:
        return emotion
    return max(emotion, level + 0.1 * (1.0 - level) * emotion)


def lines_of(model: classifier.LinearModel) -> tuple[float, float]:
    """The probabilities of the upset and the recover line, as the training chose them."""
    lines = model.meta.get("lines", {})
    upset_at = float(lines.get("upset", model.threshold))
    return upset_at, float(lines.get("recover", max(upset_at, 0.7)))


def message_tone(
    sentences: Sequence[Said],
    subject: str = "",
    concern: float = 0.0,
    *,
    model: classifier.LinearModel | None = None,
) -> Tone:
    """The tone of a message from its sentences (text, words[, tags]), subject and concern
    density.

    Each sentence is scored by the trained model with the two before it, and combined
    with the complaint cues of its window; the strongest sentence sets the score. The
    concern density can raise it up to `CONCERN_CEILING`.
    """
    if model is None:
        model = classifier.load("upset")
    spans = span_scores(sentences, subject, model) if model is not None else []
    return tone_of(spans, [item[0] for item in sentences], concern, model)


def tone_of(
    spans: Sequence[SpanScore],
    texts: Sequence[str],
    concern: float,
    model: classifier.LinearModel | None,
) -> Tone:
    """A message's tone from its scored spans, its sentences' texts and its concern
    density (see `message_tone`)."""
    best = 0.0
    best_sentence = ""
    chaser = 0.0
    at_half = CONCERN_DENSITY_AT_HALF
    if model is not None:
        at_half = float(model.meta.get("concern_density_at_half", 0)) or at_half
        upset_at, recover_at = lines_of(model)
        about_code = technical([span.text for span in spans])
        for span in spans:
            score = combine(span, upset_at, recover_at, about_code=about_code)
            if span.chases:
                chaser = 1.0
            if score > best:
                best, best_sentence = score, span.text
    concerned = concern_score(concern, at_half)
    if concerned > best:
        best = concerned
        best_sentence = max(texts, key=concern_count, default="")
    return Tone(upset=min(1.0, best), sentence=best_sentence, chaser=chaser)
