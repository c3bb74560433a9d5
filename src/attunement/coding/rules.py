"""High-precision rules that override the local coder's model: a named table, as data.

Only where a unit has one reading: bare greetings, thanks, sign-offs and receipts, markdown
headings, and the commonest openings of advice ("You should ...", "Have you tried ...?",
"I'd suggest ...", "It might help to ..."), which the labelled data holds too rarely for the
model to learn them. Whether the rules are applied at all is chosen by cross-validation on the
training split (``scripts/build_coder.py``) and recorded in the weights metadata.

>>> apply_rules("You should call them tomorrow.").name
'advice_opening'
>>> apply_rules("You should be proud of yourself.") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from attunement.coding.taxonomy import Act

__all__ = ["RULES", "RULE_CONFIDENCE", "Rule", "apply_rules"]

RULE_CONFIDENCE = 0.99


class Rule(NamedTuple):
    """A high-precision override: when ``pattern`` matches the start of the normalised unit
    (patterns that must cover the whole unit end with ``$``)."""

    name: str
    pattern: re.Pattern[str]
    act: Act


_P = re.compile
# Advice openings: optional hedged lead-ins, then a phrase that proposes an action.
_ADVICE_LEAD = (
    r"(?:(?:i think|i guess|i believe|i feel like|i'd say|maybe|perhaps|so|well|honestly|also"
    r"|and|but|then|in that case|if i were you|if you can|if possible|for now)[,]?\s+)*"
)
_ADVICE_CORE = (
    r"(?:you (?:should|could try|can try|may try|might try|might want to|may want to|need to"
    r"|ought to|could (?:also )?(?:ask|talk|try|call|write|go|take|make|get|look|start|set"
    r"|reach|join|speak|consider|see|use|think about)|can (?:also )?(?:ask|talk|call|reach"
    r"|join|speak|consider|look))"
    r"|i(?:'d| would)? (?:suggest|recommend|advise)(?! (?:we|that we))|my (?:advice|suggestion)"
    r"|have you (?:tried|considered)|why (?:don't you|not try)|how about (?:trying|you)"
    r"|(?:maybe|perhaps) (?:try|you could try)|it (?:might|may|could|would) (?:help|be worth"
    r"|be a good idea|be good to)|it(?:'s| is| would be) (?:worth|a good idea|best to)"
    r"|make sure you|be sure to|don't forget to)"
)
_ADVICE_NOT = r"(?! (?:be|feel|know|not|never|blame|before|yet|already|anything)\b)(?= \w)"
# Matched against the unit lowercased, markdown and trailing punctuation/emoji removed.
RULES: tuple[Rule, ...] = (
    Rule(
        "greeting",
        _P(
            r"(?:hi|hello|hey|hiya|heya|good (?:morning|afternoon|evening))"
            r"(?: there| again| friend)?$"
        ),
        "other",
    ),
    Rule("bare_thanks", _P(r"(?:thanks|thank you|thx|ty)(?: so much| a lot)?$"), "other"),
    Rule(
        "sign_off",
        _P(
            r"(?:take care|bye|goodbye|good luck|best of luck|cheers|all the best)"
            r"(?: (?:now|friend|to you|with (?:it|that|everything)))?$"
        ),
        "other",
    ),
    Rule(
        "bare_receipt",
        _P(
            r"(?:i see|got it|gotcha|ok(?:ay)?|mm+|m+hm+|uh[- ]huh|understood"
            r"|noted|right|i hear you)$"
        ),
        "acknowledge",
    ),
    Rule("markdown_heading", _P(r"#{1,6} .*$"), "other"),
    # Advice in its commonest openings, after optional hedges (docs/labelling.md: a question
    # proposing an action is advise). "You should be proud", "you can do this" stay out.
    Rule("advice_opening", _P(_ADVICE_LEAD + _ADVICE_CORE + _ADVICE_NOT), "advise"),
)
_NORM_TRAIL = re.compile(r"[\s.!?,;:\"'”’)\]*_~\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]+$")
_NORM_LEAD = re.compile(r"^(?:[\s*_\"'“‘(]+|(?:[-*+•]|\d{1,3}[.)])\s+)+")
# The ASCII part of _NORM_TRAIL's class (\s on str patterns includes \x1c-\x1f): for an ASCII
# unit, stripping these from the right is the same as the regex, without trying every position.
_NORM_TRAIL_ASCII = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f .!?,;:\"')]*_~"


_COMBINED = re.compile("|".join(f"(?P<r{i}>{r.pattern.pattern})" for i, r in enumerate(RULES)))


def apply_rules(sentence: str, rules: Sequence[Rule] = RULES) -> Rule | None:
    """The rule that decides ``sentence``, if any.

    >>> apply_rules("Hi there! 👋").name
    'greeting'
    >>> apply_rules("Hi, I think you should rest.") is None
    True
    """
    raw = sentence.strip()
    if raw.startswith("#"):
        norm = raw.lower()
    else:
        low = raw.lower()
        if low.isascii():
            norm = _NORM_LEAD.sub("", low).rstrip(_NORM_TRAIL_ASCII)
        else:
            norm = _NORM_TRAIL.sub("", _NORM_LEAD.sub("", low.replace("\u2019", "'")))
    if rules is RULES:  # one pass over all rules; the first that matches wins, as in the loop
        m = _COMBINED.match(norm)
        return RULES[int(m.lastgroup[1:])] if m and m.lastgroup else None
    for rule in rules:
        if rule.pattern.match(norm):
            return rule
    return None
