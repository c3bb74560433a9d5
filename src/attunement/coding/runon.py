"""Where to cut run-on chat text that has no sentence punctuation.

People type "ur def not the only one i promise i spent most of first year alone it does get
better": three sentences, three acts, no full stops. The punctuation rules in
:mod:`attunement.coding.segment` see one unit, so the coder can give only one act. This module
scores every whitespace gap inside a long unpunctuated stretch with a small linear model
(logistic regression over the words around the gap, their classes, capitals, commas and
distances; fitted by ``scripts/build_runon_splitter.py`` on the training split) and cuts where
the score clears a threshold chosen by grouped cross-validation for boundary F1 (a missed cut
gives two sentences one act; a wrong cut usually leaves the larger piece, and its act, on the
sentence). Decoding is greedy, left to right, since the distance from the previous cut is a
feature. Pure numpy and dicts at run time.

>>> text = "thats a lot to carry on ur own do u have anyone u can talk to about it"
>>> [text[a:b] for a, b in split_runon(text)]
['thats a lot to carry on ur own', 'do u have anyone u can talk to about it']
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from functools import cached_property, lru_cache
from operator import le
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from attunement.coding.disclosure import lexicon
from attunement.errors import ConfigError

WEIGHTS = Path(__file__).parent / "weights" / "runon-splitter-v1"

_TOKEN = re.compile(r"\S+")
# A token that ends a sentence: terminal punctuation, then closers (quotes, brackets, emoji).
_TERMINAL = re.compile(
    r"(?:[.!?]|…)[\"'”’)\]*_\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]*$"
)
# The same ending followed by more text: a stretch boundary inside a string.
_INNER = re.compile(
    r"(?:[.!?]|…)[\"'”’)\]*_\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]*\s"
)
# last characters of a token that cannot end a sentence (most tokens): skip the regex
_PLAIN_END = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,;:-")
_STRIP = ".,;:!?\"'()[]{}*_…“”‘’<>-–—~"
_NUMBER = re.compile(r"^[\d.,:/%$£€+-]*\d[\d.,:/%$£€+-]*$")
# fmt: off
_PRON3 = frozenset({
    "he", "she", "they", "it", "we", "its", "it's", "theres", "there's", "thats", "that's",
    "this", "there", "his", "her", "their", "our", "everyone", "everybody", "nobody", "someone",
    "somebody", "people",
})
_DISCOURSE = frozenset({
    "so", "also", "honestly", "tbh", "anyway", "anyways", "like", "maybe", "plus", "btw", "oh",
    "ok", "okay", "okk", "yeah", "yes", "yep", "no", "nah", "lol", "haha", "hahaha", "omg", "ugh",
    "well", "hey", "hi", "hello", "thanks", "thank", "sorry", "seriously", "then", "now", "ahh",
    "aw", "aww", "please", "idk", "imo", "tho", "though",
})
_CONJ = frozenset({
    "and", "but", "or", "because", "cos", "cuz", "coz", "if", "when", "while", "since", "until",
    "unless",
})
# verbs (and two words) that take a wh-clause as object, and the wh-words that open it
_WH_VERBS = frozenset({
    "tell", "tells", "telling", "told", "ask", "asks", "asking", "asked", "explain",
    "explaining", "explained", "know", "knows", "knowing", "knew", "wonder", "wondering",
    "wondered", "remember", "decide", "figure", "understand", "see", "learn", "learning",
    "sure", "idea",
})
_WH_OBJECT = frozenset({
    "what", "whats", "what's", "how", "hows", "how's", "why", "when", "where", "which", "who",
    "whether",
})
# fmt: on
_BINS = (0, 1, 2, 3, 4, 6, 9, 13)  # distance bins in words: 1, 2, 3, 4-5, 6-8, 9-12, 13+


class Token(NamedTuple):
    """A whitespace token of a stretch: offsets into the text, raw and normalised form."""

    start: int
    end: int
    raw: str
    word: str


def lexicon_classes() -> dict[str, str]:
    """Word -> class from lexicon.json and the lists above; the first list that holds a word
    wins. Build time only: the weights carry the table they were fitted with, so later edits to
    the shared lexicon cannot shift the features under them."""
    lex = lexicon()
    aux = [w for w in lex["aux_verbs"] + lex["modals"] if w not in ("try", "consider")]
    out: dict[str, str] = {}
    for name, words in (
        ("i", lex["first_person"]),
        ("you", lex["second_person"]),
        ("wh", lex["wh_words"]),
        ("aux", aux),
        ("disc", _DISCOURSE),
        ("conj", _CONJ),
        ("pron", _PRON3),
        ("verb", lex["base_verbs"]),
    ):
        for w in words:
            out.setdefault(w, name)
    return out


def word_class(word: str, raw: str, classes: dict[str, str]) -> str:
    """The coarse class of a normalised word (``raw`` decides numbers and symbols)."""
    cls = classes.get(word)
    if cls is not None:
        return cls
    if _NUMBER.match(raw):
        return "num"
    return "other" if word else "sym"


def _ends_stretch(raw: str) -> bool:
    """Does this token end a stretch (terminal punctuation, then closers)?"""
    return raw[-1] not in _PLAIN_END and _TERMINAL.search(raw) is not None


def stretches(text: str) -> list[list[Token]]:
    """Runs of tokens with no sentence-ending punctuation inside (a run ends after such a
    token), so only gaps the punctuation rules left alone are candidates."""
    out: list[list[Token]] = []
    cur: list[Token] = []
    for m in _TOKEN.finditer(text):
        raw = m.group()
        cur.append(Token(m.start(), m.end(), raw, raw.lower().replace("’", "'").strip(_STRIP)))
        if _ends_stretch(raw):
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def dist_bin(d: int) -> int:
    """Index of the distance bin (``d`` >= 1 words)."""
    return _BIN_OF[d] if d < len(_BIN_OF) else len(_BINS) - 1


_BIN_OF = [sum(d > b for b in _BINS[1:]) for d in range(_BINS[-1] + 2)]


def register(toks: list[Token]) -> str:
    """Chat text starts lowercase and often has no final punctuation; capitalised prose ending
    in punctuation ("ucP") rarely runs on."""
    return _register(toks[0].raw, toks[-1].raw)


def _register(first_raw: str, last_raw: str) -> str:
    first = first_raw.lstrip(_STRIP)[:1]
    return ("lc" if first.islower() else "uc") + ("P" if _TERMINAL.search(last_raw) else "N")


def long_stretches(text: str, min_words: int, split_prose: bool) -> list[list[Token]]:
    """The stretches of ``text`` the splitter looks at (at least ``min_words`` tokens, and not
    capitalised prose unless ``split_prose``), as :func:`stretches` gives them. Cheap for the
    many texts with none: tokens are built only for the stretches returned."""
    raws = text.split()  # the same tokens as _TOKEN (both split on str.isspace characters)
    if len(raws) < min_words:
        return []
    ranges, start = [], 0
    for i, raw in enumerate(raws):
        if _ends_stretch(raw):
            ranges.append((start, i + 1))
            start = i + 1
    if start < len(raws):
        ranges.append((start, len(raws)))
    keep = [
        (a, b)
        for a, b in ranges
        if b - a >= min_words and (split_prose or _register(raws[a], raws[b - 1]) != "ucP")
    ]
    if not keep:
        return []
    spans = [m.span() for m in _TOKEN.finditer(text)]
    return [
        [
            Token(x, y, raw, raw.lower().replace("’", "'").strip(_STRIP))
            for (x, y), raw in zip(spans[a:b], raws[a:b], strict=True)
        ]
        for a, b in keep
    ]


def is_prose(text: str) -> bool:
    """Fast path, same answer as :func:`register` == "ucP" on a text that is one stretch."""
    s = text.strip()
    if not s or s.split(None, 1)[0].lstrip(_STRIP)[:1].islower():
        return False
    return _TERMINAL.search(s) is not None and _INNER.search(s) is None


def prepare(toks: list[Token], classes: dict[str, str]) -> tuple[list[str], list[str], str]:
    """Per stretch, once: normalised words, their classes and the register."""
    words = [t.word or "<sym>" for t in toks]
    return words, [word_class(t.word, t.raw, classes) for t in toks], register(toks)


def gap_features(toks: list[Token], w: list[str], c: list[str], reg: str, g: int) -> list[str]:
    """Features of the gap after ``toks[g]``, except distances (added at decoding)."""
    p2 = w[g - 1] if g > 0 else "<s>"
    n2 = w[g + 2] if g + 2 < len(w) else "</s>"
    c2 = c[g + 2] if g + 2 < len(c) else "end"
    feats = [
        "p1=" + w[g],
        "p2=" + p2,
        "n1=" + w[g + 1],
        "n2=" + n2,
        f"pp={p2}_{w[g]}",
        f"nn={w[g + 1]}_{n2}",
        f"pn={w[g]}_{w[g + 1]}",
        "pc=" + c[g],
        "nc=" + c[g + 1],
        f"pcnc={c[g]}_{c[g + 1]}",
        f"ncnc={c[g + 1]}_{c2}",
        f"pnc={w[g]}_{c[g + 1]}",
        f"pcn={c[g]}_{w[g + 1]}",
        # a word one or two back with the next word's class: "ask him | what", "telling ur
        # teacher | what happened" go on, where "thats rough | do u" does not
        f"s1c={p2}_{c[g + 1]}",
        f"s2c={w[g - 2] if g > 1 else '<s>'}_{c[g + 1]}",
        "reg=" + reg,
        f"rpc={reg}_{c[g]}",
        f"rnc={reg}_{c[g + 1]}",
    ]
    last = toks[g].raw[-1]
    if last in ",;:":
        feats.append("punct=" + last)
    first = toks[g + 1].raw[0]
    if first.isupper():
        feats.append("cap" if w[g + 1] != "i" else "capI")
    return feats


def blocked(toks: list[Token], g: int, text: str) -> bool:
    """Gaps never cut: inside inline code, next to a URL, between two numbers, and before a
    wh-word that a verb of telling, asking or knowing up to three words back takes as its
    object ("telling ur teacher what happened", "let me know how it goes"): on the training
    split 1,929 of 1,947 such gaps are inside a sentence."""
    a, b = toks[g], toks[g + 1]
    if b.word in _WH_OBJECT and any(t.word in _WH_VERBS for t in toks[max(0, g - 2) : g + 1]):
        return True
    if "`" in text and text.count("`", 0, a.end) % 2:
        return True
    if any("://" in t.raw or t.raw.startswith("www.") for t in (a, b)):
        return True
    return bool(_NUMBER.match(a.raw) and _NUMBER.match(b.raw))


# templates keyed by the same thing, stored and scored together: one lookup per key
GROUPS: dict[str, tuple[str, ...]] = {
    "word": ("p1", "p2", "n1", "n2"),
    "pair": ("pp", "pn", "nn"),
    "class_pair": ("pcnc", "ncnc"),
}
_GROUPED = frozenset(t for names in GROUPS.values() for t in names)


class Splitter:
    """The fitted weights: feature -> weight, distance-bin weights, threshold, gate."""

    def __init__(
        self,
        weights: dict[str, float] | None,
        bias: float,
        dist_prev: np.ndarray,
        dist_end: np.ndarray,
        threshold: float,
        min_words: int,
        classes: dict[str, str],
        split_prose: bool,
        *,
        tables: dict[str, dict[str, float]] | None = None,
        groups: dict[str, dict[str, list[float]]] | None = None,
    ) -> None:
        """``weights`` maps feature names ("p1=so") to weights; or pass ``tables`` (template
        -> key -> weight) and ``groups`` (:data:`GROUPS` name -> key -> the weights of its
        templates), what :meth:`load` reads; then the flat map is made only if asked for."""
        self.bias = bias
        self.dist_prev = [float(x) for x in dist_prev]
        self.dist_end = [float(x) for x in dist_end]
        self.threshold = threshold
        self.min_words = min_words
        self.classes = classes
        self.split_prose = split_prose
        if tables is None:
            tables = {}
            for name, value in (weights or {}).items():
                tmpl, sep, key = name.partition("=")
                tables.setdefault(tmpl if sep else "", {})[key if sep else name] = value
        if groups is None:
            groups = {g: _grouped(tables, names) for g, names in GROUPS.items()}
        # the templates scored one by one (those of GROUPS are read from the groups)
        self.tables = {t: keyed for t, keyed in tables.items() if t not in _GROUPED}
        self.groups = groups
        self._weights = weights
        self.by_word = groups["word"]
        self.by_pair = groups["pair"]
        self.by_class_pair = groups["class_pair"]
        self._by_class: dict[str, tuple[dict[str, float], dict[str, float]]] = {}

    @property
    def weights(self) -> dict[str, float]:
        """Feature name -> weight (the training-time view; made from the tables on demand)."""
        if self._weights is None:
            flat = _flat(self.tables)
            for group, names in GROUPS.items():
                for key, row in self.groups[group].items():
                    for name, value in zip(names, row, strict=True):
                        if value:
                            flat[f"{name}={key}"] = value
            self._weights = flat
        return self._weights

    def base(self, reg: str) -> float:
        """The part of every gap's score that depends on nothing but the register: the bias
        and the register's weight."""
        return self.bias + self.tables.get("reg", {}).get(reg, 0.0)

    def class_weights(self, reg: str) -> tuple[dict[str, float], dict[str, float]]:
        """Class -> summed weight of the class and register-class templates, for the class
        before the gap and the class after it, in register ``reg`` (built once per register)."""
        hit = self._by_class.get(reg)
        if hit is None:
            t, empty = self.tables, {}
            sides = []
            for cls_t, reg_t in (("pc", "rpc"), ("nc", "rnc")):
                plain, by_reg = t.get(cls_t, empty), t.get(reg_t, empty)
                keys = set(plain) | {k.partition("_")[2] for k in by_reg if k.startswith(reg + "_")}
                sides.append({k: plain.get(k, 0.0) + by_reg.get(f"{reg}_{k}", 0.0) for k in keys})
            hit = self._by_class[reg] = (sides[0], sides[1])
        return hit

    def arrays(self) -> dict[str, np.ndarray]:
        """The weights as the arrays of the ``.npz`` :meth:`load` reads: each group's keys
        (newline-joined UTF-8) and weight matrix, the other templates' feature names (sorted)
        and weights, the bias and the distance weights; weights as float16."""
        out: dict[str, np.ndarray] = {}
        for group in GROUPS:
            keys = sorted(self.groups[group])
            out[f"{group}_keys"] = _text_array(keys)
            out[group] = np.array([self.groups[group][k] for k in keys], dtype=np.float16)
        flat = _flat(self.tables)
        names = sorted(flat)
        out["features"] = _text_array(names)
        out["weights"] = np.array([flat[k] for k in names], dtype=np.float16)
        out["bias"] = np.array([self.bias], dtype=np.float32)
        out["dist_prev"] = np.asarray(self.dist_prev, dtype=np.float32)
        out["dist_end"] = np.asarray(self.dist_end, dtype=np.float32)
        return out

    @classmethod
    def load(cls, base: Path = WEIGHTS) -> Splitter:
        """Read the weights (:meth:`arrays`) and metadata; the groups come as stored, one dict
        per group, so loading builds no per-feature strings."""
        meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(base.with_suffix(".npz")) as z:
            missing = [f"{g}_keys" for g in GROUPS if f"{g}_keys" not in z.files]
            if missing:
                raise ConfigError(
                    f"{base.with_suffix('.npz')}: no {', '.join(missing)} (an older format); "
                    "rebuild it with: python scripts/build_runon_splitter.py"
                )
            names = _text_of(z["features"])
            values = z["weights"].astype(float).tolist()
            groups = {
                group: dict(
                    zip(_text_of(z[f"{group}_keys"]), z[group].astype(float).tolist(), strict=True)
                )
                for group in GROUPS
            }
            return cls(
                None,
                float(z["bias"][0]),
                z["dist_prev"],
                z["dist_end"],
                float(meta["threshold"]),
                int(meta["min_words"]),
                {w: c for c, words in meta["classes"].items() for w in words},
                bool(meta["split_prose"]),
                tables=_tables_of_sorted(names, values),
                groups=groups,
            )

    def scores(self, toks: list[Token], w: list[str], c: list[str], reg: str) -> list[float]:
        """Each gap's score but the distance from the previous cut: the sums of
        :func:`gap_features`, with one lookup per token, pair or class pair (templates keyed by
        the same thing are grouped at load), not one per gap and template."""
        m, t, empty = len(toks) - 1, self.tables, {}
        ew = ["<s>", *w, "</s>"]
        ew2 = ["<s>", "<s>", *w]  # ew2[g] is the word two before token g + 1 ("<s>" if none)
        z4, z3, z2 = [0.0] * 4, [0.0] * 3, [0.0] * 2
        tw = [self.by_word.get(x, z4) for x in ew]
        tp = [self.by_pair.get(f"{a}_{b}", z3) for a, b in zip(ew, ew[1:], strict=False)]
        cn = [*c[1:], "end"]
        tc = [self.by_class_pair.get(f"{a}_{b}", z2) for a, b in zip(c, cn, strict=True)]
        before, after = self.class_weights(reg)
        pnc, pcn = t.get("pnc", empty), t.get("pcn", empty)
        s1c, s2c = t.get("s1c", empty), t.get("s2c", empty)
        base = self.base(reg)
        de, top = self.dist_end, len(_BIN_OF) - 1
        out = []
        for g in range(m):
            out.append(
                base + de[_BIN_OF[min(m - g, top)]]
                + tw[g + 1][0] + tw[g][1] + tw[g + 2][2] + tw[g + 3][3]
                + tp[g][0] + tp[g + 1][1] + tp[g + 2][2]
                + before.get(c[g], 0.0) + after.get(c[g + 1], 0.0)
                + tc[g][0] + tc[g + 1][1]
                + pnc.get(f"{w[g]}_{c[g + 1]}", 0.0) + pcn.get(f"{c[g]}_{w[g + 1]}", 0.0)
                + s1c.get(f"{ew[g]}_{c[g + 1]}", 0.0) + s2c.get(f"{ew2[g]}_{c[g + 1]}", 0.0)
            )  # fmt: skip
        punct, other = t.get("punct", empty), t.get("", empty)
        raws = [tok.raw for tok in toks]
        for g, raw in enumerate(raws[:-1]):
            if raw[-1] in ",;:":
                out[g] += punct.get(raw[-1], 0.0)
            if raws[g + 1][0].isupper():
                out[g] += other.get("cap" if w[g + 1] != "i" else "capI", 0.0)
        return out

    @cached_property
    def native(self) -> Any | None:
        """The compiled scorer over these weights, or None (:mod:`attunement.coding.fastpath`)."""
        from attunement.coding.fastpath import runon_scorer

        return runon_scorer(self, _BIN_OF)

    def cuts(self, toks: list[Token], text: str, *, native: bool = True) -> list[int]:
        """Indices g of the gaps (after ``toks[g]``) to cut, decided greedily left to right;
        by the compiled scorer where there is one (the same cuts), unless ``native`` is False."""
        w, c, reg = prepare(toks, self.classes)
        fast = self.native if native else None
        if fast is not None and len(toks) > 1:
            raws = [t.raw for t in toks]
            got = fast.cuts(w, c, raws, self.base(reg), *self.class_weights(reg),
                            lambda g: blocked(toks, g, text))  # fmt: skip
            if got is not None:
                return got
        base = self.scores(toks, w, c, reg)
        prev, top, thr = self.dist_prev, len(_BIN_OF), self.threshold
        if max(base) + max(prev) <= thr:
            return []
        out: list[int] = []
        last = -1
        for g, s in enumerate(base):
            d = g - last
            if s + prev[_BIN_OF[d] if d < top else -1] > thr and not blocked(toks, g, text):
                out.append(g)
                last = g
        return out


def _tables_of_sorted(names: list[str], values: list[float]) -> dict[str, dict[str, float]]:
    """Template -> key -> weight from feature names in sorted order (as the weights file holds
    them): each template's names ("p1=...") are one run, so each table is one slice, not one
    string split per feature; names without "=" go to the "" table."""
    if not all(map(le, names, names[1:])):
        raise ConfigError("the run-on splitter's feature names are not sorted; rebuild it")
    tables: dict[str, dict[str, float]] = {}
    i = 0
    while i < len(names):
        tmpl, sep, _ = names[i].partition("=")
        if not sep:
            tables.setdefault("", {})[names[i]] = values[i]
            i += 1
            continue
        end = bisect_left(names, tmpl + ">", i)  # ">" sorts right after "="
        cut = len(tmpl) + 1
        tables[tmpl] = dict(zip([n[cut:] for n in names[i:end]], values[i:end], strict=True))
        i = end
    return tables


def _flat(tables: dict[str, dict[str, float]]) -> dict[str, float]:
    """Feature name ("p1=so", or the bare name of the "" template) -> weight."""
    return {
        (f"{tmpl}={key}" if tmpl else key): value
        for tmpl, keyed in tables.items()
        for key, value in keyed.items()
    }


def _text_array(words: list[str]) -> np.ndarray:
    """Strings as one newline-joined UTF-8 byte array (no pickling, compact)."""
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def _text_of(array: np.ndarray) -> list[str]:
    """The strings of :func:`_text_array`."""
    return bytes(array).decode("utf-8").split("\n") if array.size else []


def _grouped(tables: dict[str, dict[str, float]], names: tuple[str, ...]) -> dict:
    """key -> the weights of ``names`` for that key, in order (0.0 where a template lacks it)."""
    out: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        for key, value in tables.get(name, {}).items():
            row = out.get(key)
            if row is None:
                row = out[key] = [0.0] * len(names)
            row[j] = value
    return out


@lru_cache(maxsize=1)
def splitter() -> Splitter:
    """The shipped splitter, loaded once."""
    return Splitter.load()


def split_runon(text: str, model: Splitter | None = None) -> list[tuple[int, int]]:
    """Character spans of ``text`` cut at the run-on boundaries the model finds, in order,
    whitespace trimmed; one span (the whole trimmed text) when nothing is cut.

    >>> split_runon("  I know you've been trying really hard to keep it all together  ")
    [(2, 63)]
    """
    m = model or splitter()
    if not m.split_prose and is_prose(text):
        lead = len(text) - len(text.lstrip())
        return [(lead, len(text.rstrip()))]
    starts = [0]
    for toks in long_stretches(text, m.min_words, m.split_prose):
        starts.extend(toks[g + 1].start for g in m.cuts(toks, text))
    starts.append(len(text))
    spans = []
    for a, b in zip(starts, starts[1:], strict=False):
        chunk = text[a:b]
        lead = len(chunk) - len(chunk.lstrip())
        if chunk.strip():
            spans.append((a + lead, a + len(chunk.rstrip())))
    return spans
