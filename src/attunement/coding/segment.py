"""Sentence segmentation that survives LLM-style answers.

Assistant turns are rarely tidy prose: they hold markdown lists, numbered steps, bold headings,
emoji, several paragraphs, and (from people) lowercase sentences with typos. Acts are coded per
sentence, so the cut matters: a numbered step is its own unit, a heading ("**Here's a plan:**")
is its own unit, and an emoji belongs to the sentence it closes.

The rules, in order:
1. Lines are units: a newline always ends a segment (lists and paragraphs).
2. A line that starts with a list marker (``-``, ``*``, ``•``, ``1.``, ``2)``, ``a.``) is one
   item, not split further: a list item is one step or point ("- **Sleep.** Keep one bedtime.").
3. Inside a line, a sentence ends at ``.``, ``!``, ``?`` (or a run of them, with closing quotes,
   brackets, ``**`` and emoji attached) followed by whitespace, except after a known
   abbreviation, a single initial, or an ellipsis followed by a lowercase word.
4. A line that is only a heading (``## Plan``, ``**Options**``) or a short lead-in ending with a
   colon is one heading unit.
5. A long sentence stretch with no sentence punctuation (chat text: "ur not alone i felt the
   same it gets better") is cut further by the learned run-on splitter
   (:mod:`attunement.coding.runon`); list items and headings never are.

Offsets are character offsets into the original text, with surrounding whitespace trimmed, so
``text[s.start:s.end] == s.text`` always holds.

>>> [s.text for s in segment("That sounds hard. What happened?\\n\\n1. Rest.\\n2. Call her.")]
['That sounds hard.', 'What happened?', '1. Rest.', '2. Call her.']
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from attunement.coding.runon import split_runon, splitter

SegmentKind = Literal["sentence", "item", "heading"]


class Segment(NamedTuple):
    """One unit to code: character span, its text, and what kind of unit it is."""

    start: int
    end: int
    text: str
    kind: SegmentKind


# A list marker at the start of a line: bullets, numbers, letters, checkboxes.
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•◦▪‣–—]|\d{1,3}[.)]|[a-hA-H][.)]|\[[ xX]\])\s+")
# A markdown heading or a line that is only a bold/italic phrase, or ends with a colon.
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+.+|\*\*[^*\n]{1,120}\*\*:?|__[^_\n]{1,120}__:?)\s*$")
# Candidate sentence ends: terminal punctuation plus closers (quotes, brackets, markdown, emoji).
_END = re.compile(
    r"(?:[.!?]+|…)(?:[\"'”’)\]*_]|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D])*"
    r"(?=\s|$)"
)
# A bare emoji run after a sentence is attached to it (it closes that sentence).
_EMOJI_RUN = re.compile(
    r"\s*(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+)(?=\s|$)"
)

ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "e.g",
        "i.e",
        "etc",
        "vs",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "jr",
        "sr",
        "approx",
        "fig",
        "cf",
        "al",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
        "incl",
    }
)


def _is_abbreviation(line: str, end_of_token: int) -> bool:
    """True when the '.' at ``end_of_token`` closes an abbreviation, an initial or a number."""
    start = end_of_token
    while start > 0 and not line[start - 1].isspace() and line[start - 1] not in "(\"'":
        start -= 1
    token = line[start:end_of_token]
    if token.lower().rstrip(".") in ABBREVIATIONS:
        return True
    if (
        token.lower() in ("no", "st")
        and line[end_of_token + 1 : end_of_token + 3].strip()[:1].isdigit()
    ):
        return True  # "No. 5", "St. 3"
    return len(token) == 1 and token.isupper() and token != "I"  # an initial: "J. Smith"


def _split_line(line: str, offset: int, kind: SegmentKind, out: list[Segment]) -> None:
    """Split one line (already known to be a unit of ``kind``) into sentences."""
    pos = 0
    first = True
    n = len(line)
    search_from = 0
    while True:
        m = _END.search(line, search_from)
        if m is None:
            break
        end = m.end()
        punct_at = m.start()
        if line[punct_at] == "." and _is_abbreviation(line, punct_at):
            search_from = end
            continue
        rest = line[end:].lstrip()
        if not rest:
            break
        is_ellipsis = line[m.start() : m.start() + 2] == ".." or line[m.start()] == "…"
        if is_ellipsis and rest[0].islower():  # "hmm... maybe" continues the sentence
            search_from = end
            continue
        emoji = _EMOJI_RUN.match(line, end)
        if emoji:
            end = emoji.end()
        if not line[end:].strip():
            break
        _emit(line, pos, end, offset, kind if first else "sentence", out)
        first = False
        pos = end
        search_from = end
    if line[pos:n].strip():
        _emit(line, pos, n, offset, kind if first else "sentence", out)


def _emit(line: str, a: int, b: int, offset: int, kind: SegmentKind, out: list[Segment]) -> None:
    chunk = line[a:b]
    stripped = chunk.strip()
    if not stripped:
        return
    lead = len(chunk) - len(chunk.lstrip())
    start = offset + a + lead
    out.append(Segment(start, start + len(stripped), stripped, kind))


def _split_runons(segs: list[Segment]) -> list[Segment]:
    """Rule 5: re-cut long sentence segments at the run-on splitter's boundaries."""
    model = splitter()
    gate = model.min_words - 1
    out: list[Segment] = []
    for s in segs:
        if s.kind != "sentence" or s.text.count(" ") < gate:
            out.append(s)
            continue
        spans = split_runon(s.text, model)
        if len(spans) == 1:
            out.append(s)
            continue
        out.extend(Segment(s.start + a, s.start + b, s.text[a:b], "sentence") for a, b in spans)
    return out


def segment(text: str, split_runons: bool = True) -> list[Segment]:
    """Cut an utterance into ordered sentence, list-item and heading segments
    (``split_runons=False``: punctuation rules only, as the run-on splitter's trainer needs).

    >>> [(s.kind, s.text) for s in segment("**Options:**\\n- Walk 🚶 daily. Sleep early.\\nOk? 👍")]
    [('heading', '**Options:**'), ('item', '- Walk 🚶 daily. Sleep early.'), ('sentence', 'Ok? 👍')]
    """
    out: list[Segment] = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            if _HEADING.match(line) or (line.rstrip().endswith(":") and len(line) < 80):
                _emit(line, 0, len(line), offset, "heading", out)
            elif _LIST_MARKER.match(line):
                _emit(line, 0, len(line), offset, "item", out)
            else:
                _split_line(line, offset, "sentence", out)
        offset += len(line) + 1
    return _split_runons(out) if split_runons else out
