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
>>> t, w, d = sentence_features("Have you tried a short walk?", 0, 2, False, ctx)
>>> "d|q" in d and "d|ctx_disc" in d and "d|aux0" in d
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from attunement.coding.disclosure import discloses_feeling, lexicon

FEATURE_VERSION = 2
CHAR_NGRAMS = (3, 4, 5)

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?!]")
_MARKUP = re.compile(r"[*_`#>]+")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•◦▪‣–—]|\d{1,3}[.)]|[a-hA-H][.)]|\[[ xX]\])\s+")
_NUM_MARKER = re.compile(r"^\s*\d{1,3}[.)]\s")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s|\*\*[^*]+\*\*:?\s*$|__[^_]+__:?\s*$)")
_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_TRAIL = re.compile(r"[\s\"'”’)\]*_\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]+$")
_TRAIL_ASCII = " \t\"')]*_"
_MARKER_STARTS = frozenset("-*+•◦▪‣–—0123456789abcdefghABCDEFGH[ \t")
# a clause that starts after a comma, semicolon, "then" or "and": "if it fails, restart it"
# (the word boundary is tested once, before either word: twice as fast, the same matches)
_CLAUSE_START = re.compile(r"(?:[,;]|\b(?:then|and))\s+([a-z']+)")
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
    "advise_cues": "d|cue_advise",
    "inform_cues": "d|cue_inform",
    "reflect_cues": "d|cue_reflect",
    "restate_cues": "d|cue_restate",
    "explore_cues": "d|cue_explore",
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
        self.lead = frozenset(lex["lead_words"])
        # phrase cues indexed by first token, then by length: token -> [(n, {phrase: feats})]
        by_first: dict[str, dict[int, dict[tuple[str, ...], list[str]]]] = {}
        for name, feat in CUE_FEATURES.items():
            for phrase in lex[name]:
                toks = tuple(_TOKEN.findall(phrase.lower()))
                if toks:
                    by_len = by_first.setdefault(toks[0], {}).setdefault(len(toks), {})
                    by_len.setdefault(toks, []).append(feat)
        self.cues: dict[str, list[tuple[int, dict[tuple[str, ...], list[str]]]]] = {
            tok: sorted(by_len.items()) for tok, by_len in by_first.items()
        }
        # the same phrases for matching with set operations: one-word phrases by word, longer
        # ones by their first two words (which most sentences lack, so most skip the loop)
        self.cue_words: dict[str, list[str]] = {
            tok: phrases[(tok,)] for tok, by_len in by_first.items() for n, phrases in
            by_len.items() if n == 1
        }  # fmt: skip
        self.cue_word_set = frozenset(self.cue_words)
        self.cue_pairs: dict[tuple[str, str], list[tuple[int, dict]]] = {}
        for by_len in by_first.values():
            for n, phrases in sorted(by_len.items()):
                if n < 2:
                    continue
                for toks in phrases:
                    entry = self.cue_pairs.setdefault((toks[0], toks[1]), [])
                    if (n, phrases) not in entry:
                        entry.append((n, phrases))
        self.modal_features = {m: "d|m_" + m for m in self.modals}


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
        head_here = is_heading_like(sent)
        if not head_here and not _LIST_MARKER.match(sent):
            heading = []  # a plain unit ends the list the heading introduced
        out.append((prev_heading, heading))
        prev_heading = head_here
        if head_here:
            heading = heading_words(sent)
    return out


def word_feature_names(toks: Sequence[str]) -> list[str]:
    """Names of the word-block features of a token list: ``w|`` unigrams, ``b|`` bigrams with
    sentence marks, ``f|`` first word, ``f2|`` first two words.

    >>> word_feature_names(["try", "it", "?"])
    ['w|try', 'w|it', 'w|?', 'b|<s> try', 'b|try it', 'b|it ?', 'b|? </s>', 'f|try', 'f2|try it']
    """
    seq = ["<s>", *toks, "</s>"]
    out = ["w|" + t for t in toks]
    out += ["b|" + a + " " + b for a, b in zip(seq, seq[1:], strict=False)]
    words = [t for t in toks if t not in ("?", "!")]
    if words:
        out.append("f|" + words[0])
        if len(words) > 1:
            out.append("f2|" + words[0] + " " + words[1])
    return out


def char_ngrams(word: str) -> list[str]:
    """Character 3-5-grams of a word with boundary marks.

    >>> char_ngrams("sad")
    ['<sa', 'sad', 'ad>', '<sad', 'sad>', '<sad>']
    """
    p = "<" + word + ">"
    lp = len(p)
    return [p[i : i + k] for k in CHAR_NGRAMS for i in range(lp - k + 1)]


def heading_words(heading: str) -> list[str]:
    """``h|`` features of the heading or lead-in a list item sits under ("Common causes:")."""
    return ["h|" + t for t in _TOKEN.findall(_MARKUP.sub(" ", heading.lower())) if t not in "?!"]


def sentence_features(
    text: str,
    position: int,
    n_sentences: int,
    after_heading: bool,
    ctx: Context = NO_CONTEXT,
) -> tuple[list[str], list[str], list[str]]:
    """The blocks of one sentence in its utterance: (tokens, words, design features).

    The word block is made from the tokens (:func:`word_feature_names`), the char block from
    the words (:func:`char_ngrams`); the model looks both up without building the feature
    strings (tuples and a table of known words), which is what makes it fast. The context
    (``ctx.words`` and the :func:`heading_words` of the lead-in above the sentence), is the
    same for many sentences, so the model looks it up once (``LinearModel.context_ids``).
    """
    lx = _lex()
    design: list[str] = list(ctx.flags)
    first_char = text[:1]
    marker = _LIST_MARKER.match(text) if first_char in _MARKER_STARTS else None
    if marker:
        design.append("d|num" if _NUM_MARKER.match(text) else "d|bullet")
        body = text[marker.end() :]
    else:
        body = text
    if first_char in "#*_" and _HEADING.match(text):
        design.append("d|heading")
    if "**" in text:
        design.append("d|bold")
    low = body.lower()
    if "*" in low or "_" in low or "`" in low or "#" in low or ">" in low:
        low = _MARKUP.sub(" ", low)
    if "\u2019" in low:
        low = low.replace("\u2019", "'")
    core = low.rstrip(_TRAIL_ASCII) if low.isascii() else _TRAIL.sub("", low)
    toks = _TOKEN.findall(low)
    words = [t for t in toks if t not in ("?", "!")] if "?" in low or "!" in low else toks[:]
    n = len(words)

    # -------- word and char blocks: the tokens; the model looks up their unigrams, bigrams,
    # first word(s) and character n-grams itself (see word_feature_names for their names)

    # -------- design block
    if core.endswith("?"):
        design.append("d|q")
    elif core.endswith(":"):
        design.append("d|colon")
    if "!" in core:
        design.append("d|excl")
    if not text.isascii() and _EMOJI.search(text):
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
        elif w0 in lx.lead:
            design.extend(_imperative_after_lead(words, lx))
        if ("," in low or ";" in low or " then " in low or " and " in low) and any(
            m in lx.base for m in _CLAUSE_START.findall(low)
        ):
            design.append("d|imp_clause")
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
    modals = lx.modals.intersection(wset)
    if modals:
        design.extend(sorted(map(lx.modal_features.__getitem__, modals)))
    cue_feats: set[str] = set()
    for tok in wset & lx.cue_word_set:
        cue_feats.update(lx.cue_words[tok])
    if n > 1:
        pairs = list(zip(words, words[1:], strict=False))
        hits = lx.cue_pairs.keys() & pairs
        if hits:
            for i, pair in enumerate(pairs):
                if pair in hits:
                    for size, phrases in lx.cue_pairs[pair]:
                        found = phrases.get(tuple(words[i : i + size]))
                        if found:
                            cue_feats.update(found)
    if cue_feats:
        cue_list = sorted(cue_feats)
        design.extend(cue_list)
        if core.endswith("?"):
            design.extend([f + "&q" for f in cue_list])
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
    return toks, words, design


def _imperative_after_lead(words: Sequence[str], lx: _Lex) -> list[str]:
    """``d|imp_lead`` when a base verb follows only lead words ("Then melt the butter",
    "Just gently unplug it"): steps and suggestions rarely start with the verb in chat."""
    for word in words[1:4]:
        if word in lx.lead:
            continue
        return ["d|imp_lead"] if word in lx.base and word not in lx.aux else []
    return []


_CONJOIN = frozenset({"d|q", "d|imp0", "d|you_feel", "d|m_should", "d|m_try", "d|first", "d|num"})
