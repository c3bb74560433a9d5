"""The run-on splitter: cuts chat text where a person would, leaves ordinary long sentences,
lists, headings, code, URLs and numbers alone, and keeps the segment offsets exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attunement.coding.runon import WEIGHTS, split_runon, splitter, stretches
from attunement.coding.segment import segment

DATA = Path(__file__).resolve().parents[1] / "src/attunement/coding/data"


def pieces(text: str) -> list[str]:
    return [text[a:b] for a, b in split_runon(text)]


# Written for these tests (not from the labelled data): unpunctuated chat turns, cut by hand.
# The splitter misses cuts (CV recall under 0.6), so it may miss one here; every cut it makes
# must be one a person made, and on the clear ones (EXACT) it must find them all.
EXACT = [
    ["omg im so sorry", "that sounds really scary", "are u somewhere safe right now"],
    ["honestly that was so brave of u", "im really proud of u", "how r u feeling now"],
    ["ugh thats rough", "do u want advice or do u just wanna vent"],
    ["thats a lot to carry on ur own", "do u have anyone u can talk to about it"],
]
RUNONS = [
    *EXACT,
    [
        "thats so unfair on u",
        "i had a boss like that once",
        "it wore me down for months",
        "have u thought about talking to hr",
    ],
    ["aww that sounds lovely", "im so happy for u both"],
    ["no worries at all", "take ur time", "im not going anywhere"],
    [
        "i get it",
        "exams are brutal",
        "maybe try doing 25 min blocks with a proper break in between",
    ],
    ["yeah that happened to me too", "its honestly so common", "dont be too hard on urself"],
    ["congrats on the new job", "u totally deserve it", "when do u start"],
    ["hey", "im here for u", "whats been going on"],
]

# Ordinary long sentences: one unit each, however long.
SENTENCES = [
    "I know you've been trying really hard to keep everything together for the kids while he's "
    "away",
    "It sounds like the move has been a lot harder on you than anyone around you has noticed",
    "You could ask your manager whether the deadline can move by a week given everything "
    "that happened",
    "Most people find that the first few weeks after a breakup are the hardest part of all",
    "i think it would be worth telling ur teacher what happened so they can help u catch up",
]


@pytest.mark.parametrize("units", EXACT, ids=lambda u: u[0][:20])
def test_clear_runons_split_where_a_person_would(units):
    assert pieces(" ".join(units)) == units


@pytest.mark.parametrize("units", RUNONS, ids=lambda u: u[0][:20])
def test_every_cut_is_a_human_cut(units):
    text = " ".join(units)
    human = {len(" ".join(units[:i])) + 1 for i in range(1, len(units))}
    assert {a for a, _ in split_runon(text)[1:]} <= human


@pytest.mark.parametrize("sentence", SENTENCES, ids=lambda s: s[:20])
def test_ordinary_long_sentences_are_not_split(sentence):
    assert pieces(sentence) == [sentence]
    assert [s.text for s in segment(sentence)] == [sentence]


def test_segment_uses_the_splitter_only_on_sentences():
    run = " ".join(EXACT[0])
    assert [s.text for s in segment(run)] == EXACT[0]
    assert all(s.kind == "sentence" for s in segment(run))
    item = "- " + run
    assert [s.text for s in segment(item)] == [item]  # list items stay whole
    assert [s.text for s in segment(run, split_runons=False)] == [run]


def cut_pairs(text: str) -> list[tuple[str, str]]:
    """The words either side of each cut."""
    return [(text[:a].split()[-1], text[a:].split()[0]) for a, _ in split_runon(text)[1:]]


def test_short_stretches_punctuation_code_urls_and_numbers_are_left_alone():
    assert pieces("im sorry that sucks") == ["im sorry that sucks"]
    assert pieces("That sounds hard. What happened?") == ["That sounds hard. What happened?"]
    code = "run `git reset --hard HEAD i think u want git stash it keeps ur changes safe` first"
    assert all(code[:a].count("`") % 2 == 0 for a, _ in split_runon(code))
    url = "go to https://example.org/help i found the form there it takes like 5 mins honestly"
    assert all("://" not in p + n for p, n in cut_pairs(url))
    nums = "the code is 4 8 15 16 23 42 i think u type it in slowly and it should unlock fine"
    assert not any(p.isdigit() and n.isdigit() for p, n in cut_pairs(nums))


def test_stretches_end_at_sentence_punctuation():
    assert [[t.raw for t in s] for s in stretches("ok cool. so what now? fine")] == [
        ["ok", "cool."],
        ["so", "what", "now?"],
        ["fine"],
    ]


def test_weights_are_small_and_described():
    meta = json.loads(WEIGHTS.with_suffix(".json").read_text(encoding="utf-8"))
    assert WEIGHTS.with_suffix(".npz").stat().st_size < 1_500_000
    assert meta["version"] == "runon-splitter-v1" and len(meta["data_hash"]) == 64
    assert 0.0 < meta["cv"]["boundary"]["precision"] <= 1.0
    assert meta["min_words"] == splitter().min_words >= 3
    assert "is_heldout" in meta["split"]


def test_offsets_hold_on_every_labelled_text():
    files = sorted(DATA.glob("labelled_*.jsonl"))
    if not files:
        pytest.skip("no labelled data in the package")
    n = 0
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            text = json.loads(line)["text"]
            end = 0
            for s in segment(text):
                assert text[s.start : s.end] == s.text, (path.name, s)
                assert s.text == s.text.strip() and s.text
                assert s.start >= end
                end = s.end
            words = [w for s in segment(text) for w in s.text.split()]
            assert words == text.split()
            n += 1
    assert n > 0


def test_fast_scores_equal_the_training_features():
    """The run-time sums (one lookup per token and template) equal the features the trainer
    fitted (:func:`gap_features`), gap by gap."""
    from itertools import repeat

    from attunement.coding.runon import dist_bin, gap_features, prepare

    m = splitter()
    for units in RUNONS + [[s] for s in SENTENCES]:
        toks = stretches(" ".join(units))[0]
        w, c, reg = prepare(toks, m.classes)
        fast = m.scores(toks, w, c, reg)
        n = len(toks)
        for g in range(n - 1):
            feats = gap_features(toks, w, c, reg, g)
            slow = m.bias + m.dist_end[dist_bin(n - 1 - g)]
            slow += sum(map(m.weights.get, feats, repeat(0.0)))
            assert fast[g] == pytest.approx(slow, abs=1e-9)


def test_long_stretches_are_the_stretches_the_splitter_looks_at():
    """The fast gate gives exactly the stretches the slow path would score, on every text."""
    from attunement.coding.runon import long_stretches, register, splitter, stretches
    from attunement.coding.segment import segment
    from attunement.coding.train import data_files, load_labelled

    m = splitter()
    texts = [r["text"] for r in load_labelled(data_files()).records]
    texts += ["a\u2009b c\u00a0d " * 8, "ok so\u3000then " * 9, "  ", ""]
    units = [s.text for t in texts for s in segment(t, split_runons=False)] + texts[-4:]
    for text in units:
        for min_words, prose in ((m.min_words, m.split_prose), (3, True), (3, False)):
            slow = [
                toks
                for toks in stretches(text)
                if len(toks) >= min_words and (prose or register(toks) != "ucP")
            ]
            assert long_stretches(text, min_words, prose) == slow, text


def test_splitter_tables_need_sorted_names():
    from attunement.coding.runon import _tables_of_sorted
    from attunement.errors import ConfigError

    names, values = ["n1=a", "n1=b", "p1=a", "cap"], [1.0, 2.0, 3.0, 4.0]
    assert _tables_of_sorted(sorted(names), [4.0, 1.0, 2.0, 3.0]) == {
        "": {"cap": 4.0},
        "n1": {"a": 1.0, "b": 2.0},
        "p1": {"a": 3.0},
    }
    with pytest.raises(ConfigError, match="not sorted"):
        _tables_of_sorted(["n1=a", "p1=a", "n1=b"], values[:3])


def test_stored_arrays_load_to_the_same_splitter(tmp_path):
    """The grouped storage (:meth:`Splitter.arrays`) loads back to the same weights and the
    same scores, gap by gap."""
    import sys

    from attunement.coding.runon import Splitter, prepare

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from build_runon_splitter import write_npz

    m = splitter()
    base = tmp_path / "copy"
    write_npz(base.with_suffix(".npz"), m.arrays())
    base.with_suffix(".json").write_text(
        WEIGHTS.with_suffix(".json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    again = Splitter.load(base)
    assert again.weights == m.weights and again.tables == m.tables
    for units in RUNONS:
        toks = stretches(" ".join(units))[0]
        args = prepare(toks, m.classes)
        assert again.scores(toks, *args) == m.scores(toks, *args)


@pytest.mark.parametrize(
    ("text", "before", "is_blocked"),
    [
        ("i think its worth telling ur teacher what happened", "teacher", True),
        ("can u ask ur mum how she feels about it", "mum", True),
        ("let me know when u get home", "know", True),
        ("thats so rough what did ur boss say after", "rough", False),
        ("ugh that sucks how r u holding up", "sucks", False),
        ("check `ls -la` output", "`ls", True),
        ("it costs 12 50 now", "12", True),
    ],
)
def test_gaps_never_cut(text, before, is_blocked):
    """Code, URLs, number runs, and a wh-clause that a verb of telling, asking or knowing up to
    three words back takes as its object, are never cut; other wh-words may start a sentence."""
    from attunement.coding.runon import blocked

    toks = stretches(text)[0]
    g = [t.raw for t in toks].index(before)
    assert blocked(toks, g, text) is is_blocked


def test_an_older_weights_format_gives_a_config_error(tmp_path):
    """Weights in the earlier flat format (names and weights only) are refused with the file
    and the rebuild command, not a KeyError."""
    from attunement.coding.runon import Splitter
    from attunement.errors import ConfigError

    base = tmp_path / "old"
    np.savez(base.with_suffix(".npz"), features=np.zeros(3, np.uint8), weights=np.zeros(1))
    base.with_suffix(".json").write_text(
        WEIGHTS.with_suffix(".json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"old\.npz: no word_keys.*build_runon_splitter"):
        Splitter.load(base)
