"""Features of one sentence for the local coder: words, character n-grams, designed cues.

Four blocks, each a list of feature strings, so that training (scikit-learn) and inference
(numpy) share one extraction function and cannot drift apart:

- ``word``: lowercased unigrams and bigrams (with sentence-start/end marks), the first word and
  the first two words. Scaled by 1/sqrt(count) at scoring time.
- ``char``: character 3-5-grams inside word boundaries (``<word>``), which carry typos, plurals
  and unseen inflections. Scaled by 1/sqrt(count).
- ``design``: the cues the taxonomy is defined by (question form, wh-/auxiliary start,
  imperative mood, second person + feeling word, modals, hedges, list markers, headings,
  position in the utterance, length, and the previous user turn: disclosure, question), plus
  phrase cues from ``lexicon.json``. Weight 1 each.
- ``context``: the words of the previous user turn (``u|``) and of the heading the sentence
  sits under (``h|``): "Common causes:" items inform, "Steps:" items advise. Scaled by
  1/sqrt(count).

>>> ctx = context_flags("I'm so anxious about tomorrow")
>>> w, c, d, u = sentence_features("Have you tried a short walk?", 0, 2, False, ctx)
>>> "d|q" in d and "d|ctx_disc" in d and "d|aux0" in d
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from attunement.coding.disclosure import discloses_feeling, lexicon

FEATURE_VERSION = 1
CHAR_NGRAMS = (3, 4, 5)

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?!]")
_MARKUP = re.compile(r"[*_`#>]+")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•◦▪‣–—]|\d{1,3}[.)]|[a-hA-H][.)]|\[[ xX]\])\s+")
_NUM_MARKER = re.compile(r"^\s*\d{1,3}[.)]\s")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s|\*\*[^*]+\*\*:?\s*$|__[^_]+__:?\s*$)")
_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_TRAIL = re.compile(r"[\s\"'”’)\]*_\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]+$")
_PRONOUNS = frozenset({"you", "i", "it", "they", "we", "he", "she", "that", "this", "there", "u"})

# lexicon list name -> design feature it fires (phrase cues, matched on word boundaries)
CUE_FEATURES: dict[str, str] = {
    "validate_cues": "d|cue_validate",
    "reassure_cues": "d|cue_reassure",
    "acknowledge_cues": "d|cue_ack",
    "disclose_cues": "d|cue_disclose",
    "greeting_cues": "d|cue_greet",
    "help_words": "d|cue_help",
    "permission_cues": "d|cue_perm",
    "checkin_cues": "d|cue_checkin",
    "hedges": "d|hedge",
}


class _Lex:
    """Lexicon lists compiled once into sets and word-boundary regexes."""

    def __init__(self) -> None:
        lex = lexicon()
        self.feelings = frozenset(w for w in lex["feelings"] if " " not in w)
        self.second = frozenset(lex["second_person"])
        self.first = frozenset(lex["first_person"])
        self.wh = frozenset(lex["wh_words"])
        self.aux = frozenset(lex["aux_verbs"])
        self.modals = frozenset(lex["modals"])
        self.base = frozenset(lex["base_verbs"])
        self.cues: list[tuple[re.Pattern[str], str]] = []
        for name, feat in CUE_FEATURES.items():
            alts = "|".join(re.escape(p) for p in sorted(lex[name], key=len, reverse=True))
            self.cues.append((re.compile(rf"(?<![a-z'])(?:{alts})(?![a-z'])"), feat))


@lru_cache(maxsize=1)
def _lex() -> _Lex:
    return _Lex()


class Context(NamedTuple):
    """What the coder uses of the previous user turn: design flags and its words."""

    flags: tuple[str, ...]
    words: tuple[str, ...]


NO_CONTEXT = Context(("d|ctx_none",), ())


def context_flags(context: str | None) -> Context:
    """Features of the previous user turn: disclosed feelings, asked a question, its words
    (``u|`` unigrams and the first two words), which tell a how-to request from a vent.

    >>> context_flags("How do I reset my router?").flags
    ('d|ctx_q',)
    """
    if not context or not context.strip():
        return NO_CONTEXT
    flags = []
    if discloses_feeling(context):
        flags.append("d|ctx_disc")
    if "?" in context:
        flags.append("d|ctx_q")
    toks = [t for t in _TOKEN.findall(context[:2000].lower().replace("\u2019", "'")) if t != "!"]
    words = ["u|" + t for t in dict.fromkeys(toks)]
    if len(toks) > 1:
        words.append("uf|" + toks[0] + " " + toks[1])
    return Context(tuple(flags), tuple(words))


def is_heading_like(sentence: str) -> bool:
    """A heading or lead-in ("**Plan**", "Here are some options:"): list items follow it."""
    return bool(_HEADING.match(sentence)) or sentence.rstrip().endswith(":")


def unit_contexts(sentences: Sequence[str]) -> list[tuple[bool, list[str]]]:
    """For each unit: (does it follow a heading directly, the heading words it sits under).

    A heading's scope is the list items after it; any other unit ends it.

    >>> [h for _, h in unit_contexts(["Causes:", "- Stress.", "- Diet.", "So, yes."])]
    [[], ['h|causes'], ['h|causes'], []]
    """
    out: list[tuple[bool, list[str]]] = []
    prev_heading = False
    heading: list[str] = []
    for sent in sentences:
        out.append((prev_heading, heading))
        prev_heading = is_heading_like(sent)
        if prev_heading:
            heading = heading_words(sent)
        elif not _LIST_MARKER.match(sent):
            heading = []
    return out


def heading_words(heading: str) -> list[str]:
    """``h|`` features of the heading or lead-in a list item sits under ("Common causes:")."""
    return ["h|" + t for t in _TOKEN.findall(_MARKUP.sub(" ", heading.lower())) if t not in "?!"]


def sentence_features(
    text: str,
    position: int,
    n_sentences: int,
    after_heading: bool,
    ctx: Context = NO_CONTEXT,
    heading: Sequence[str] = (),
) -> tuple[list[str], list[str], list[str], list[str]]:
    """The (word, char, design, context) feature strings of one sentence in its utterance.

    ``heading`` holds the :func:`heading_words` of the lead-in above the sentence, if any.
    """
    lx = _lex()
    design: list[str] = list(ctx.flags)
    marker = _LIST_MARKER.match(text)
    if marker:
        design.append("d|num" if _NUM_MARKER.match(text) else "d|bullet")
        body = text[marker.end() :]
    else:
        body = text
    if _HEADING.match(text):
        design.append("d|heading")
    if "**" in text:
        design.append("d|bold")
    low = _MARKUP.sub(" ", body.lower()).replace("\u2019", "'")
    core = _TRAIL.sub("", low)
    toks = _TOKEN.findall(low)
    words = [t for t in toks if t not in ("?", "!")]
    n = len(words)

    # -------- word block
    feats = ["w|" + t for t in toks]
    seq = ["<s>", *toks, "</s>"]
    feats.extend(["b|" + a + " " + b for a, b in zip(seq, seq[1:], strict=False)])
    if words:
        feats.append("f|" + words[0])
        if n > 1:
            feats.append("f2|" + words[0] + " " + words[1])

    # -------- char block
    chars: list[str] = []
    for w in words:
        p = "<" + w + ">"
        lp = len(p)
        for k in CHAR_NGRAMS:
            if lp < k:
                break
            chars.extend([p[i : i + k] for i in range(lp - k + 1)])

    # -------- design block
    if core.endswith("?"):
        design.append("d|q")
    elif core.endswith(":"):
        design.append("d|colon")
    if "!" in core:
        design.append("d|excl")
    if _EMOJI.search(text):
        design.append("d|emoji")
    if words:
        w0 = words[0]
        w1 = words[1] if n > 1 else ""
        if w0 in lx.wh:
            design.append("d|wh0")
        if w0 in lx.aux:
            design.append("d|aux0")
            if w1 in lx.second:
                design.append("d|aux_you")
        if w0 in lx.base and not (w0 in lx.aux and w1 in _PRONOUNS):
            design.append("d|imp0")
        if w0 in lx.first:
            design.append("d|i0")
        if w0 in lx.second:
            design.append("d|you0")
    wset = set(words)
    has_feel = not lx.feelings.isdisjoint(wset)
    has_you = not lx.second.isdisjoint(wset)
    has_i = not lx.first.isdisjoint(wset)
    if has_feel:
        design.append("d|feel")
        if has_you:
            design.append("d|you_feel")
        if has_i:
            design.append("d|i_feel")
        if "sounds" in wset or "sound" in wset or "seems" in wset:
            design.append("d|sounds_feel")
    if has_you:
        design.append("d|you")
    if has_i:
        design.append("d|i")
    design.extend(["d|m_" + m for m in lx.modals.intersection(wset)])
    for pattern, feat in lx.cues:
        if pattern.search(core):
            design.append(feat)
    if position == 0:
        design.append("d|first")
    if position == n_sentences - 1:
        design.append("d|last")
    if n_sentences == 1:
        design.append("d|only")
    if after_heading:
        design.append("d|after_heading")
    design.append("d|len" + ("1" if n <= 3 else "2" if n <= 8 else "3" if n <= 16 else "4"))
    if "d|ctx_disc" in ctx.flags:
        design.extend([f + "&disc" for f in design if f in _CONJOIN])
    return feats, chars, design, [*ctx.words, *heading]


_CONJOIN = frozenset({"d|q", "d|imp0", "d|you_feel", "d|m_should", "d|m_try", "d|first", "d|num"})
