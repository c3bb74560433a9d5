"""Does a user's message disclose feelings? A small lexicon detector (the lexicon is data).

Used twice: as a context feature of the local coder (advice right after a disclosure reads
differently), and by the metrics for P(advise | the user disclosed feelings in the previous
turn). A rule-based detector on purpose: cheap, deterministic, explainable, and independent of
the coder it conditions.

A message discloses feelings when it holds one of the ``direct`` phrases ("I can't cope"), a
``feeling_nouns`` phrase ("my anxiety"), or a feeling word in a sentence that speaks about the
speaker (I / me / my). Words that are often literal ("hard", "down", "low", "lost") only count
after a feeling frame ("feel", "so", "really", "been").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

_TOKEN = re.compile(r"[a-z']+")
_SENT = re.compile(r"[^.!?\n]+")
WEAK_FEELINGS: frozenset[str] = frozenset(
    {
        "hard",
        "down",
        "low",
        "lost",
        "heavy",
        "tough",
        "rough",
        "difficult",
        "broken",
        "mixed",
        "empty",
        "stuck",
        "alone",
        "hate",
        "cry",
        "struggle",
        "harder",
        "worry",
        "stress",
        "fear",
    }
)
_FRAMES = frozenset({"feel", "feeling", "felt", "so", "really", "been", "very", "super", "too"})
_SELF = frozenset({"i", "i'm", "im", "i've", "ive", "me", "my", "myself", "i'd"})


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The coder's lexicon (``attunement/coding/lexicon.json``)."""
    text = resources.files("attunement.coding").joinpath("lexicon.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    lex = lexicon()
    single = frozenset(w for w in lex["feelings"] if " " not in w)
    phrases = tuple(w for w in lex["feelings"] if " " in w)
    d = lex["disclosure"]
    direct = tuple(d["direct"]) + tuple(d["feeling_nouns"])
    return single, phrases, direct


def disclosure_terms(text: str) -> list[str]:
    """The feeling words or phrases by which ``text`` discloses feelings (empty if none).

    >>> disclosure_terms("I'm so stressed about work and I can't sleep")
    ["can't sleep", 'stressed']
    >>> disclosure_terms("My hard drive is full, how do I free space?")
    []
    """
    return list(_terms(text))


def discloses_feeling(text: str | None) -> bool:
    """True when the message discloses the speaker's feelings (stops at the first term: the
    coder asks this of every user turn).

    >>> discloses_feeling("honestly i feel so alone lately")
    True
    >>> discloses_feeling("Can you convert 5 miles to km?")
    False
    """
    return bool(text) and next(_terms(text), None) is not None


def _terms(text: str) -> Iterator[str]:
    """The disclosure terms of ``text`` in order, each once, found lazily."""
    low = text.lower().replace("\u2019", "'")
    single, phrases, direct = _tables()
    seen: set[str] = set()
    for p in direct:
        if p in low:
            seen.add(p)
            yield p
    for sent in _SENT.findall(low):
        toks = _TOKEN.findall(sent)
        if not _SELF.intersection(toks):
            continue
        for p in phrases:
            if p in sent and p not in seen:
                seen.add(p)
                yield p
        for i, tok in enumerate(toks):
            if tok not in single or tok in seen:
                continue
            if tok in WEAK_FEELINGS and not (i > 0 and toks[i - 1] in _FRAMES):
                continue
            seen.add(tok)
            yield tok
