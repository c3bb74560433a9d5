"""The shipped local coder: weights and metadata, behaviour on clear cases, batch = single,
bad input, and a rebuild round trip through the real trainer (scikit-learn)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from attunement.coding.local import LinearModel, LocalCoder, load_model, weights_path
from attunement.coding.rules import RULES, apply_rules
from attunement.coding.taxonomy import ACTS
from attunement.types import CodedUtterance

WEIGHTS = Path(__file__).resolve().parents[1] / "src/attunement/coding/weights"


@pytest.fixture(scope="module")
def coder() -> LocalCoder:
    return LocalCoder()


def test_weights_are_small_versioned_and_described():
    npz = WEIGHTS / "local-coder-v1.npz"
    meta = json.loads((WEIGHTS / "local-coder-v1.json").read_text())
    assert npz.stat().st_size < 5_000_000
    assert meta["version"] == "local-coder-v1"
    assert set(meta["labels"]) == set(ACTS)
    assert len(meta["data_hash"]) == 64 and "sha256" in meta["split_rule"]
    assert meta["n_heldout_sentences"] >= 300
    held = meta["heldout"]
    assert 0.0 <= held["macro_f1"] <= 1.0 and set(held["per_act"]) <= set(ACTS)
    assert meta["cv"]["best"]["macro_f1"] > 0.5  # chosen by CV on train, not on held-out


# Hand-written, unambiguous cases (not from the training data).
CLEAR = [
    ("You should call the landlord first thing tomorrow.", "advise"),
    ("That sounds really lonely.", "reflect_feeling"),
    ("How are you holding up today?", "checkin"),
    ("Would you like some ideas, or do you mostly want to vent right now?", "ask_need"),
    ("Would it help if I shared a few things that have worked for other people?", "ask_permission"),
    ("Do you mean the email to your manager or the one to HR?", "ask_clarify"),
    ("What was that like for you?", "ask_open"),
    ("It makes total sense that you're angry about it.", "validate"),
    ("Hi there!", "other"),
    ("I see.", "acknowledge"),
    ("The capital of Peru is Lima.", "inform"),
    ("Honestly, I've felt that way myself before big talks.", "self_disclose"),
]


@pytest.mark.parametrize(("text", "act"), CLEAR)
def test_clear_cases(coder, text, act):
    coded = coder.code_sync(text)
    assert [s.act for s in coded.spans] == [act], coded.spans


def test_llm_style_answer_is_coded_in_order(coder):
    text = (
        "I'm sorry, that sounds exhausting. 😔\n\n**A few ideas:**\n"
        "1. Try going to bed at the same time every night.\n"
        "2. Keep your phone out of the bedroom.\n\nHow are you feeling about it today?"
    )
    coded = coder.code_sync(text, context="I can't sleep and I'm so stressed about work.")
    acts = [s.act for s in coded.spans]
    assert acts[1:4] == ["other", "advise", "advise"] and acts[-1] == "checkin"
    assert coded.acts[-1] == "checkin" and "advise" in coded.act_set
    for span in coded.spans:
        assert text[span.start : span.end] == span.text
        assert 0.0 < span.confidence <= 1.0
    assert [s.start for s in coded.spans] == sorted(s.start for s in coded.spans)


def test_batch_equals_one_by_one(coder):
    texts = [t for t, _ in CLEAR] + ["", "Okay. Let's look at the numbers together."]
    contexts = [None] * len(CLEAR) + [None, "my budget is a mess"]
    batch = coder.code_many(texts, contexts)
    single = [coder.code_sync(t, c) for t, c in zip(texts, contexts, strict=True)]
    assert [b.model_dump() for b in batch] == [s.model_dump() for s in single]


def test_empty_utterance_is_an_error_not_an_exception(coder):
    coded = coder.code_sync("   ")
    assert isinstance(coded, CodedUtterance) and coded.failed and coded.spans == []


def test_async_protocol(coder):
    coded = asyncio.run(coder.code("Got it.", context="here's the file"))
    assert coded.acts == ["acknowledge"] and coded.coder.startswith("local:")


def test_rules_table_is_named_and_precise():
    assert len({r.name for r in RULES}) == len(RULES)
    assert apply_rules("Thanks!").name == "bare_thanks"
    assert apply_rules("**Thanks!** 🙏").name == "bare_thanks"
    assert apply_rules("Thanks for telling me about your week.") is None
    assert apply_rules("## Next steps").act == "other"


def test_context_changes_features_not_segmentation(coder):
    a = coder.code_sync("Have you tried a warm bath before bed?", context="I feel so anxious.")
    b = coder.code_sync("Have you tried a warm bath before bed?", context=None)
    assert len(a.spans) == len(b.spans) == 1


def test_rebuild_round_trip(tmp_path):
    """The real trainer on a small slice of the data: CV, fit, save, load, same predictions."""
    pytest.importorskip("sklearn")
    from attunement.coding.train import data_files, heldout_examples, train

    files = data_files()
    if not files:
        pytest.skip("no labelled data")
    lines = files[0].read_text(encoding="utf-8").splitlines()[:160]
    small = tmp_path / "labelled_small.jsonl"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = train([small], tmp_path / "m", folds=2, log=lambda *_: None)
    assert meta["n_heldout_sentences"] > 0 and meta["data_files"] == ["labelled_small.jsonl"]
    loaded = LinearModel.load(tmp_path / "m")
    assert loaded.metadata["data_hash"] == meta["data_hash"]
    from attunement.coding.train import heldout_predictions

    held = heldout_examples([small])
    again = heldout_predictions(loaded, held)
    from attunement.coding.train import act_metrics

    assert act_metrics([e.act for e in held], again)["macro_f1"] == pytest.approx(
        meta["heldout"]["macro_f1"]
    )


def test_stored_word_tables_equal_the_derived_ones(coder):
    """The shipped file stores each known word's char n-gram ids (a table derived from the
    vocabulary, saved so loading skips deriving it); deriving them afresh gives the same."""
    model = coder.model
    assert "word_grams" in np.load(weights_path())
    vocab = sorted(model.index, key=model.index.__getitem__)
    fresh = LinearModel(
        vocab, model.weights, model.bias, model.labels, known_words=model.known_words
    )
    for stored, derived in zip(model.word_grams, fresh.word_grams, strict=True):
        assert np.array_equal(stored, derived)
    assert np.array_equal(model.word_weights, fresh.word_weights)
    assert model.word_chars == fresh.word_chars


def test_cross_validation_does_not_depend_on_threads():
    """The CV fits run in threads; the scores (and so the chosen setting) must not change."""
    pytest.importorskip("sklearn")
    from attunement.coding.train import cross_validate, data_files, examples_of, load_labelled

    records = load_labelled(data_files()[:1]).records[:120]
    examples = [ex for rec in records for ex in examples_of(rec)]
    quiet = lambda *_: None  # noqa: E731
    one, two = (cross_validate(examples, folds=3, log=quiet, jobs=j) for j in (1, 2))
    assert one["grid"] == two["grid"] and one["best"] == two["best"]
    assert one["temperature"] == pytest.approx(two["temperature"])


def test_missing_weights_give_a_config_error(tmp_path):
    from attunement.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot load coder weights"):
        LinearModel.load(tmp_path / "nope")
    assert load_model() is load_model()  # cached


def test_batch_scoring_equals_the_training_path(coder):
    """The coder's block scoring and the sparse-row path the trainer uses give the same
    probabilities (one unit utterances, so segmentation is not involved)."""
    import numpy as np

    from attunement.coding.features import context_flags, sentence_features

    model = coder.model
    ctx = context_flags("I'm worried about my sister.")
    for text in ["Have you tried asking her directly?", "That sounds scary.", "- **Call** her."]:
        coded = coder.code_sync(text, context="I'm worried about my sister.")
        ids, vals = model.feature_values(
            sentence_features(text, 0, 1, False, ctx), model.context_ids(ctx.words)
        )
        probs = model.probabilities(
            np.asarray(ids), np.asarray(vals, dtype=np.float32), np.asarray([0])
        )[0]
        span = coded.spans[0]
        if span.confidence != 0.99:  # not decided by a rule
            assert model.labels[int(probs.argmax())] == span.act
            assert float(probs.max()) == pytest.approx(span.confidence, abs=1e-3)


SNAPSHOT = Path(__file__).resolve().parent / "data" / "local_coder_snapshot.json"


def test_outputs_equal_the_snapshot_exactly(coder):
    """The coder's acts and confidences on the held-out utterances are exactly those stored
    for these weights (by scripts/build_coder.py, first with the code before the speed-ups),
    so a faster inference path cannot change a single output."""
    import hashlib

    snap = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    npz = (WEIGHTS / "local-coder-v1.npz").read_bytes()
    assert snap["weights_sha256"] == hashlib.sha256(npz).hexdigest(), (
        "the weights were rebuilt: rewrite the snapshot with "
        "`python scripts/build_coder.py --snapshot-only`"
    )
    items = snap["utterances"]
    assert len(items) >= 100
    coded = coder.code_many([u["text"] for u in items], [u["context"] for u in items])
    got = [[[s.start, s.end, s.act, s.confidence] for s in cu.spans] for cu in coded]
    assert got == [u["spans"] for u in items]
    # the same in small batches, one by one, and with the per-word cache cold
    small = LocalCoder(LinearModel.load(WEIGHTS / "local-coder-v1"), batch_size=7)
    again = small.code_many([u["text"] for u in items], [u["context"] for u in items])
    assert [cu.model_dump() for cu in again] == [cu.model_dump() for cu in coded]


def test_fast_path_equals_the_training_path_on_all_labelled_texts(coder):
    """Segment every labelled utterance; the coder's batched block scoring and the sparse rows
    the trainer scores (``feature_values`` + ``probabilities``) agree on every unit."""
    import numpy as np

    from attunement.coding.features import context_flags, sentence_features, unit_contexts
    from attunement.coding.segment import segment
    from attunement.coding.train import data_files, load_labelled

    model = coder.model
    records = load_labelled(data_files()).records
    coded = coder.code_many([r["text"] for r in records], [r.get("context") for r in records])
    ids, vals, offsets, texts = [], [], [], []
    for rec in records:
        ctx = context_flags(rec.get("context"))
        segs = segment(rec["text"])
        units = unit_contexts([s.text for s in segs])
        for i, (seg, (after, heading)) in enumerate(zip(segs, units, strict=True)):
            blocks = sentence_features(seg.text, i, len(segs), after, ctx)
            row, v = model.feature_values(blocks, model.context_ids([*ctx.words, *heading]))
            offsets.append(len(ids))
            ids += row
            vals += v
            texts.append(seg.text)
    probs = model.probabilities(
        np.asarray(ids), np.asarray(vals, dtype=np.float32), np.asarray(offsets)
    )
    spans = [s for cu in coded for s in cu.spans]
    assert [s.text for s in spans] == texts and len(texts) > 3000
    for span, p in zip(spans, probs, strict=True):
        if model.use_rules and apply_rules(span.text) is not None:
            assert span.confidence == 0.99
            continue
        assert span.act == model.labels[int(p.argmax())]
        assert abs(span.confidence - float(p.max())) <= 1.5e-4  # rounded to 4 places


def test_unknown_word_cache_is_per_word_and_bounded(monkeypatch):
    """The per-word memo of unknown words' n-gram ids never changes a result and stays under
    its bound (it is emptied when full)."""
    from attunement.coding import local

    fresh = LocalCoder(LinearModel.load(WEIGHTS / "local-coder-v1"))
    texts = [f"Zorblax{i} quintuplified the flibbertigibbet{i % 7} again." for i in range(60)]
    first = fresh.code_many(texts)
    cached = fresh.model._oov
    assert "zorblax5" in cached and len(cached) >= 60
    monkeypatch.setattr(local, "OOV_CACHE_WORDS", 10)
    bounded = LocalCoder(LinearModel.load(WEIGHTS / "local-coder-v1"))
    again = bounded.code_many(texts)
    assert len(bounded.model._oov) <= 10
    assert [c.model_dump() for c in again] == [c.model_dump() for c in first]
    assert [c.model_dump() for c in fresh.code_many(texts)] == [c.model_dump() for c in first]


def test_garbage_collector_is_restored():
    import gc

    from attunement.coding.batch import paused_gc

    assert gc.isenabled()
    LocalCoder().code_many(["Hi there.", "That sounds hard."])
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: stays off
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("sentence", "feature", "fires"),
    [
        ("Whisk the eggs until pale.", "d|imp0", True),
        ("Then gently unplug the router.", "d|imp_lead", True),
        ("Just then the phone rang.", "d|imp_lead", False),
        ("If it still fails, restart the router.", "d|imp_clause", True),
        ("If it still fails, the router is broken.", "d|imp_clause", False),
        ("Eggs and flour are all you need.", "d|imp0", False),
    ],
)
def test_imperative_features(sentence, feature, fires):
    """Steps and suggestions rarely start with the verb in chat: a base verb after lead words
    or at a later clause start also marks the imperative (advise vs inform)."""
    from attunement.coding.features import sentence_features

    assert (feature in sentence_features(sentence, 0, 1, False)[2]) is fires


def test_word_tables_from_an_unsorted_vocabulary(coder):
    """The trainer writes the vocabulary sorted and the loader slices it; any other order must
    still give the same lookup tables (the slow path)."""
    import random

    from attunement.coding.local import _keyed

    vocab = sorted(coder.model.index, key=coder.model.index.__getitem__)
    shuffled = vocab[:]
    random.Random(0).shuffle(shuffled)
    for prefix, pairs in (("w|", False), ("b|", True), ("f|", False), ("f2|", True)):
        for names, ordered in ((vocab, True), (shuffled, False)):
            want = {
                (tuple(f[len(prefix) :].split(" ", 1)) if pairs else f[len(prefix) :]): i
                for i, f in enumerate(names, 1)
                if f.startswith(prefix)
            }
            assert _keyed(names, prefix, ordered, pairs=pairs) == want
    # a sorted name that does not split into two words takes the slow path too
    odd = ["b|a b", "b|c d e", "w|x"]
    assert _keyed(odd, "b|", True, pairs=True) == {("a", "b"): 1, ("c", "d e"): 2}
    # the loaded pair keys hold the unigram keys' own string objects, not copies
    model = coder.model
    own = {w: w for w in model._uni}
    pairs_known = [k for k in model._bi if k[0] in own and k[1] in own]
    assert pairs_known and all(a is own[a] and b is own[b] for a, b in pairs_known)


def test_labelled_ids_are_unique_across_files(tmp_path):
    """The split, CV groups and snapshot are keyed by id: the shipped files share none, and a
    file reusing another file's id is refused with its file, line and field."""
    from attunement.coding.train import data_files, load_labelled
    from attunement.errors import InputError

    records = load_labelled(data_files()).records
    assert len({r["id"] for r in records}) == len(records)
    line = {"id": "x-1", "source": "counselling", "register": "plain", "context": "hi",
            "text": "Hello.", "labels": [["Hello.", "other"]]}  # fmt: skip
    a, b = tmp_path / "labelled_a.jsonl", tmp_path / "labelled_b.jsonl"
    a.write_text(json.dumps(line) + "\n", encoding="utf-8")
    b.write_text("\n" + json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_labelled([a, b])
    message = str(err.value)
    assert "labelled_b.jsonl" in message and "2" in message and "id" in message
    assert "labelled_a.jsonl:1" in message


def test_cv_choice_treats_small_differences_as_ties():
    """The rules win a CV tie; a tie is a difference below CV_TIE, not equal 3-decimal
    roundings (0.86958 against 0.86940 rounds apart but is a tie)."""
    from attunement.coding.train import CV_TIE, choose_setting

    def row(c, rules, f1):
        return {"blocks": [1.5, 0.5, 1.0], "C": c, "class_weight": None, "rules": rules,
                "macro_f1": f1}  # fmt: skip

    grid = [row(0.3, False, 0.86958), row(0.3, True, 0.86940), row(0.5, True, 0.8690)]
    assert choose_setting(grid) == row(0.3, True, 0.86940)
    # a real win for the rules-off setting stands
    grid = [row(0.3, False, 0.8700 + CV_TIE), row(0.3, True, 0.8699)]
    assert choose_setting(grid)["rules"] is False


def test_batch_bigrams_equal_the_dict_lookups(coder):
    """The bigram slots a batch fills by numpy search (``fill_pairs``) hold exactly the rows a
    dict lookup of each (word, word) pair gives: sentence marks, unknown words, one-token and
    token-less sentences included."""
    from attunement.coding.batch import _starts, fill_pairs
    from attunement.coding.features import sentence_features

    model = coder.model
    texts = [
        "That sounds exhausting.",
        "Have you tried qwzxv before bed?",
        "?",
        "...",
        "Ok",
        "so sad so sad so sad",
        "Try the blorptastic settings menu, then restart it!",
    ]
    ids: list[int] = []
    rows: list[int] = []
    want: list[list[int]] = []
    n_tokens, word_sizes = [], []
    for i, text in enumerate(texts):
        blocks = sentence_features(text, i, len(texts), False)
        start = len(ids)
        n_word, *_ = model.fast_vectorise(blocks, ids, rows)
        seq = ["<s>", *blocks[0], "</s>"]
        want.append([model._bi.get(pair, 0) for pair in zip(seq, seq[1:], strict=False)])
        n_tokens.append(len(blocks[0]))
        word_sizes.append(n_word + 1)
        # the rest of the sentence's ids (char and design blocks) stay where they are
        ids[start + n_word + 1 :] = []
    arr = np.array(ids, dtype=np.int64)
    starts = _starts(np.array(word_sizes))
    fill_pairs(arr, starts, np.array(n_tokens), model.pair_table)
    got = [arr[s + 1 + n : s + 2 + 2 * n].tolist() for s, n in zip(starts, n_tokens, strict=True)]
    assert got == want
    assert any(0 in w for w in want) and any(x for w in want for x in w)


def test_weights_whose_bigram_words_lack_unigram_rows_are_refused():
    """Bigrams are looked up by their words' unigram ids; a model with a bigram whose word has
    no unigram row could not score it, so loading says so instead of dropping it."""
    from attunement.errors import ConfigError

    vocab = ["b|so sad", "w|so"]  # "sad" has no unigram row
    with pytest.raises(ConfigError, match="1 bigram features"):
        LinearModel(vocab, np.zeros((3, 2), dtype=np.float32), np.zeros(2), ["validate", "other"])


def test_shipped_labelled_data_passes_its_checker(tmp_path):
    """Every shipped data file passes ``scripts/check_labelled.py`` (known sources and
    registers, acts, labels that are in-order substrings covering the text, unique ids); and
    the checker does catch a bad line, naming the file, the line and why."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    script = root / "scripts" / "check_labelled.py"
    from attunement.coding.train import data_files

    files = [str(p) for p in data_files()]
    ok = subprocess.run([sys.executable, str(script), *files], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout[-2000:]
    assert ", 0 bad lines" in ok.stdout
    bad = tmp_path / "labelled_bad.jsonl"
    line = {"id": "bad-0001", "source": "counselling", "register": "whispered",
            "context": "hi", "text": "Mm-hmm. Go on.",
            "labels": [["Mm-hmm.", "acknowledge"]]}  # fmt: skip
    bad.write_text(json.dumps(line) + "\n", encoding="utf-8")
    caught = subprocess.run([sys.executable, str(script), str(bad)], capture_output=True, text=True)
    assert caught.returncode == 1
    assert f"{bad}:1: register 'whispered'" in caught.stdout
    assert "text not covered by labels: 'Go on.'" in caught.stdout
