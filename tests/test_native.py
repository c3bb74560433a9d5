"""The compiled hot loops (``_native.c`` via ``attunement.coding.fastpath``) give exactly what
their Python references give: the featurizer what ``sentence_features`` then ``fast_vectorise``
give, the run-on scorer the float scores of ``Splitter.scores`` and the cuts of ``Splitter.cuts``.

Checked on every labelled text of the project, on random strings built from what the rules look
at (markers, headings, markup, whitespace classes, clause words, cue phrases, capitals, URLs,
numbers, non-ASCII words), and end to end through the coder."""

from __future__ import annotations

import os
import random

import pytest

from attunement.coding.fastpath import context_codes, featurizer, native_module
from attunement.coding.features import (
    NO_CONTEXT,
    _lex,
    context_flags,
    sentence_features,
    unit_contexts,
)
from attunement.coding.local import LinearModel, LocalCoder, weights_path
from attunement.coding.runon import prepare, splitter, stretches
from attunement.coding.segment import segment
from attunement.coding.train import data_files, load_labelled

PURE = os.environ.get("ATTUNE_PURE_PYTHON", "") not in ("", "0")
needs_native = pytest.mark.skipif(PURE, reason="ATTUNE_PURE_PYTHON is set")


@pytest.fixture(scope="module")
def model() -> LinearModel:
    return LinearModel.load(weights_path())


@pytest.fixture(scope="module")
def fast(model):
    fz = featurizer(model)
    if fz is None:
        pytest.skip("the compiled featurizer is switched off")
    return fz


def reference(model, text, position, n, after, ctx):
    ids: list[int] = []
    rows: list[int] = []
    feats = sentence_features(text, position, n, after, ctx)
    counts = model.fast_vectorise(feats, ids, rows)
    return ids, rows, (*counts, len(feats[1]), len(feats[0]))


def compiled(fast, model, text, position, n, after, ctx):
    ids: list[int] = []
    rows: list[int] = []
    got = fast.featurize(text, position, n, after, context_codes(model.index, ctx), ids, rows)
    return None if got is None else (ids, rows, got)


@needs_native
def test_the_extension_is_built():
    """The install compiles it wherever a C compiler is (the test set-up needs one anyway, for
    llama-cpp-python); a silent build failure would only make the coder slower, so say it."""
    assert native_module() is not None, (
        "attunement.coding._native is not built: reinstall with a C compiler "
        "(pip install -e .), or set ATTUNE_PURE_PYTHON=1 to test the Python path alone"
    )


def test_every_labelled_sentence_gets_the_reference_ids(model, fast):
    records = load_labelled(data_files()).records
    checked = skipped = non_ascii = 0
    for rec in records:
        ctx = context_flags(rec.get("context"))
        segs = segment(rec["text"])
        units = unit_contexts([s.text for s in segs])
        for i, (seg, (after, _)) in enumerate(zip(segs, units, strict=True)):
            got = compiled(fast, model, seg.text, i, len(segs), after, ctx)
            if got is None:
                assert any(map(handed_back, seg.text)), seg.text
                skipped += 1
                continue
            assert got == reference(model, seg.text, i, len(segs), after, ctx), seg.text
            checked += 1
            non_ascii += not seg.text.isascii()
    assert checked > 50_000 and skipped < 50 and non_ascii > 1_000


def handed_back(char: str) -> bool:
    """The characters the compiled featurizer leaves to Python: a decimal digit that is not
    ASCII, and the two whose lowercase is ASCII or two characters."""
    return not char.isascii() and (char.isdecimal() or char in "\u0130\u212a")


def test_no_other_character_changes_what_the_rules_see_when_lowercased():
    """The featurizer lowercases only ASCII and keeps, for any other character, the flags of the
    original (whitespace, word character, closer, emoji, bullet, right quote): right for every
    character of Unicode but the two it hands back, which this checks over all of them."""

    def flags(c: str) -> tuple[bool, ...]:
        o = ord(c)
        emoji = 0x1F300 <= o <= 0x1FAFF or 0x2600 <= o <= 0x27BF
        return (c.isspace(), c.isalnum(), emoji, c in "\u201d\u2019\ufe0f\u200d",
                c in "\u2022\u25e6\u25aa\u2023\u2013\u2014")  # fmt: skip

    special = []
    for o in range(128, 0x110000):
        c = chr(o)
        low = c.lower()
        if len(low) != 1 or low.isascii():
            special.append(c)
        else:
            assert flags(low) == flags(c), hex(o)
    assert special == ["\u0130", "\u212a"]


def random_text(rng: random.Random, pieces: list[str]) -> str:
    """A string of pieces, often led by a marker or heading, in any case."""
    lead = rng.choice(
        ["", "", "- ", "* ", "+ ", "1. ", "12) ", "1234. ", "a. ", "H) ", "[x] ", "[ ] ", " 3. ",
         "# ", "###### ", "####### ", "#", "**", "__", "\t- ", "\x1c- ", "-", "1.x "]
    )  # fmt: skip
    body = "".join(
        rng.choice(pieces) + (" " if rng.random() < 0.5 else "") for _ in range(rng.randint(0, 14))
    )
    text = lead + body
    if rng.random() < 0.2:
        text += rng.choice(["**", "__", "**:", "** \n", ":", "?", "!", "?)", '."', " *_"])
    r = rng.random()
    return text.upper() if r < 0.15 else text.title() if r < 0.3 else text


def test_random_strings_get_the_reference_ids(model, fast):
    lx = _lex()
    phrases = sorted(" ".join(p) for v in lx.cue_pairs.values() for _, by in v for p in by)
    words = sorted(lx.base)[:60] + sorted(lx.feelings)[:30] + sorted(lx.aux) + sorted(lx.wh)
    words += sorted(lx.lead) + sorted(lx.modals) + sorted(lx.cue_words) + phrases[:200]
    words += ["then", "and", "you", "I", "don't", "it's9", "sounds", "o'clock", "zzqx", "ABC"]
    chars = list(" \t\n\r\x0b\x0c\x1c\x1f\x00,;:.!?*_`#>-+[]xX()\"'0123456789aAhHzZ")
    # not ASCII: quotes, dashes and bullets, letters, other spaces, emoji and joiners, a
    # numeral that is a word character, the characters handed back to Python
    chars += list("’‘”“—–•◦▪‣éÉßΩ\xa0\u2003\x85🎉☀➀\ufe0f\u200d£°→İK١\ud800")
    pieces = words + chars + ["**", "__", " then ", " and ", ", ", ";then ", "'s", "1. "]
    pieces += ["éthen go", "ßand try", "➀then ask", "_and go", "’s", "don’t"]  # word boundaries
    contexts = [NO_CONTEXT, context_flags("I'm so sad and lonely"), context_flags("How?")]
    rng = random.Random(20261127)
    non_ascii = handed = 0
    for _ in range(40_000):
        text = random_text(rng, pieces)
        n = rng.randint(1, 4)
        args = (text, rng.randrange(n), n, rng.random() < 0.3, rng.choice(contexts))
        got = compiled(fast, model, *args)
        if got is None:
            assert any(map(handed_back, text)), repr(text)
            handed += 1
            continue
        assert got == reference(model, *args), repr(text)
        non_ascii += not text.isascii()
    assert non_ascii > 10_000 and handed > 100


def test_a_sentence_with_a_character_it_cannot_stand_for_is_left_to_python(model, fast):
    ids, rows = [1], [2]
    for text in ("Step \u0661. Rest.", "İstanbul?", "200 \u212a", "That’s hard 🎉"):
        got = fast.featurize(text, 0, 1, False, context_codes(model.index, NO_CONTEXT), ids, rows)
        assert (got is None) == any(map(handed_back, text))
        if got is not None:
            assert (ids[1:], rows[1:]) == reference(model, text, 0, 1, False, NO_CONTEXT)[:2]
        ids, rows = [1], [2]


def test_a_call_made_while_one_runs_is_left_to_python(model, fast):
    """The featurizer's scratch buffers are its own: a call that arrives while another runs
    (here from the unknown-word callback, as another thread could while the first is in it)
    gets None, so its caller takes the Python path, and the first call is unharmed."""
    from attunement.coding.fastpath import FIXED_FEATURES

    inner = []

    def oov(word):
        inner.append(nested.featurize("Try it.", 0, 1, False, ((), False), [], []))
        return model.oov_char_ids(word)

    nested = native_module().Featurizer(
        words={}, pairs={}, phrases={}, phrase_starts={},
        fixed=[(0, None)] * len(FIXED_FEATURES), modals=[], cues=[], cues_q=[], oov=oov,
    )  # fmt: skip
    ids: list[int] = []
    rows: list[int] = []
    got = nested.featurize("zzqx blorp", 0, 1, False, ((), False), ids, rows)
    assert inner == [None, None]
    assert got[1] == sum(model.oov_char_ids(w)[1] for w in ("zzqx", "blorp"))
    assert nested.featurize("Try it.", 0, 1, False, ((), False), [], []) is not None


def test_an_object_whose_init_failed_refuses_work(fast):
    """A failed or missing __init__ leaves an object that raises, never one that half works."""
    native = native_module()
    empty = {"words": {}, "pairs": {}, "phrases": {}, "phrase_starts": {}}
    featurizer = native.Featurizer.__new__(native.Featurizer)
    with pytest.raises(RuntimeError):
        featurizer.featurize("ok", 0, 1, False, ((), False), [], [])
    with pytest.raises(ValueError):  # no fixed features: fails after the tables are built
        featurizer.__init__(**empty, fixed=[], modals=[], cues=[], cues_q=[], oov=len)
    with pytest.raises(RuntimeError):
        featurizer.featurize("ok", 0, 1, False, ((), False), [], [])
    scorer = native.RunonScorer.__new__(native.RunonScorer)
    tables = dict.fromkeys(["by_word", "by_pair", "by_class_pair", "pnc", "pcn", "s1c", "s2c",
                            "punct", "other"], {})  # fmt: skip
    with pytest.raises(ValueError):  # no distance bins
        scorer.__init__(**tables, dist_end=[0.0], dist_prev=[0.0], bin_of=[], threshold=0.0)
    with pytest.raises(RuntimeError):
        scorer.scores(["a", "b"], ["other", "other"], ["a", "b"], 0.0, {}, {})


def test_bad_arguments_raise_rather_than_crash(fast):
    with pytest.raises(TypeError):
        fast.featurize("ok", 0, 1, False, ((), False), (), [])
    with pytest.raises(TypeError):
        fast.featurize(b"ok", 0, 1, False, ((), False), [], [])
    with pytest.raises(TypeError):
        fast.featurize("ok", 0, 1, False, (("x",), False), [], [])
    with pytest.raises(TypeError):
        fast.featurize("ok", 0, 1)


def test_the_coder_codes_the_same_with_and_without_it(model, fast):
    """End to end: the same spans, acts and confidences from the compiled path and from the
    Python path (``featurizer`` None), on texts with and without non-ASCII sentences."""
    records = load_labelled(data_files()).records[::7]
    texts = [r["text"] for r in records] + ["That’s rough. Have you slept?\n- Rest 🛌\n- Eat."]
    contexts = [r.get("context") for r in records] + ["I’m wiped out"]
    with_it = LocalCoder(model).code_many(texts, contexts)
    plain = LinearModel.load(weights_path())
    plain.__dict__["featurizer"] = None  # the cached property, switched off
    without = LocalCoder(plain).code_many(texts, contexts)
    assert model.featurizer is not None
    assert [c.model_dump() for c in with_it] == [c.model_dump() for c in without]


@pytest.fixture(scope="module")
def scorer():
    fast = splitter().native
    if fast is None:
        pytest.skip("the compiled run-on scorer is switched off")
    return fast


def both_scores(scorer, toks):
    """(Python scores, compiled scores) of one stretch."""
    sp = splitter()
    w, c, reg = prepare(toks, sp.classes)
    raws = [t.raw for t in toks]
    return sp.scores(toks, w, c, reg), scorer.scores(
        w, c, raws, sp.base(reg), *sp.class_weights(reg)
    )


def test_every_labelled_stretch_gets_the_reference_scores_and_cuts(scorer):
    """Bit for bit the same floats (so the same cuts at any threshold) on every stretch of
    every labelled text, and the same cuts."""
    sp = splitter()
    checked = cut = 0
    for rec in load_labelled(data_files()).records:
        for seg in segment(rec["text"], split_runons=False):
            for toks in stretches(seg.text):
                if len(toks) < 2:
                    continue
                py, native = both_scores(scorer, toks)
                assert native == py, seg.text
                want = sp.cuts(toks, seg.text, native=False)
                assert sp.cuts(toks, seg.text) == want, seg.text
                checked += 1
                cut += len(want)
    assert checked > 50_000 and cut > 1_000


def test_random_stretches_get_the_reference_scores_and_cuts(scorer):
    """Random token runs: known and unknown words, capitals (ASCII and not), the tokens the
    never-cut rules look at (wh-objects, URLs, numbers, code), punctuation, a lone surrogate
    (no UTF-8 form: the compiled scorer hands that stretch back to Python)."""
    sp = splitter()
    rng = random.Random(11)
    known = sorted(sp.by_word)[::5]
    odd = ["I", "i", "U", "Ok", "So", "What", "tell", "know", "how", "http://x.y", "www.z",
           "12", "3.5", "`code`", "`", "É", "élan", "Ürgent", "x,", "y;", "z:", "\ud800", "😀",
           "!!", "-", "ǅ"]  # fmt: skip
    handed_back = 0
    for _ in range(6_000):
        raw = [rng.choice(known if rng.random() < 0.7 else odd) for _ in range(rng.randint(2, 40))]
        text = " ".join(t.capitalize() if rng.random() < 0.15 else t for t in raw)
        for toks in stretches(text):
            if len(toks) < 2:
                continue
            py, native = both_scores(scorer, toks)
            if native is None:
                assert any("\ud800" in t.raw for t in toks)
                handed_back += 1
            else:
                assert native == py, text
            assert sp.cuts(toks, text) == sp.cuts(toks, text, native=False), text
    assert handed_back


def test_the_scorer_refuses_bad_arguments(scorer):
    with pytest.raises(TypeError):
        scorer.cuts(["a", "b"], ["other", "other"], ["a", "b"], 0.0, {}, {}, None)
    with pytest.raises(ValueError):
        scorer.scores(["a", "b"], ["other"], ["a", "b"], 0.0, {}, {})
    with pytest.raises(TypeError):
        scorer.scores(["a", 1], ["other", "other"], ["a", "b"], 0.0, {}, {})
    assert scorer.scores(["a"], ["other"], ["a"], 0.0, {}, {}) == []
