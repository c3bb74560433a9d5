"""The fast local coder: segmentation, features, a shipped linear model, a few rules.

No network, no torch, no GPU: the weights are a small ``.npz`` in the package
(``weights/local-coder-v1.npz``) rebuilt by ``scripts/build_coder.py``; inference is numpy and
plain Python. A handful of high-precision rules (``attunement.coding.rules``, a named table)
override the model on units with one reading ("Hi!", "Got it.", a heading, "You should ...").

>>> coder = LocalCoder()
>>> coded = coder.code_sync("That sounds exhausting. What would help most right now?")
>>> len(coded.spans)
2
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Sequence
from functools import cached_property, lru_cache
from importlib import resources
from itertools import chain, repeat
from operator import itemgetter, le
from pathlib import Path
from typing import Any

import numpy as np

from attunement.coding.batch import (
    FastBatch,
    PairTable,
    block_sums,
    build_batch,
    paused_gc,
)
from attunement.coding.fastpath import context_codes, featurizer
from attunement.coding.features import (
    char_ngrams,
    context_flags,
    sentence_features,
    unit_contexts,
)
from attunement.coding.rules import RULE_CONFIDENCE, apply_rules
from attunement.coding.segment import segment
from attunement.coding.taxonomy import ACTS, Act
from attunement.errors import ConfigError
from attunement.types import CodedUtterance

MODEL_NAME = "local-coder-v1"
OOV_CACHE_WORDS = 50_000
_validate = CodedUtterance.model_validate
_ZEROS = repeat(0)  # endless zeros: the default of ``map(dict.get, keys, _ZEROS)``


class LinearModel:
    """Weights over a feature vocabulary; scores feature blocks as the trainer did."""

    def __init__(
        self,
        vocab: Sequence[str],
        weights: np.ndarray,
        bias: np.ndarray,
        labels: Sequence[str],
        *,
        use_rules: bool = True,
        design_scale: float = 1.0,
        block_weights: Sequence[float] = (1.0, 1.0, 1.0),
        known_words: Sequence[str] = (),
        word_grams: tuple[np.ndarray, np.ndarray] | None = None,
        metadata: dict | None = None,
    ) -> None:
        if weights.shape != (len(vocab) + 1, len(labels)):
            raise ConfigError(
                f"weights shape {weights.shape} does not fit {len(vocab)} features and "
                f"{len(labels)} labels (row 0 is the unknown-feature row)"
            )
        unknown = [a for a in labels if a not in ACTS]
        if unknown:
            raise ConfigError(f"model labels {unknown} are not acts")
        self.index: dict[str, int] = dict(zip(vocab, range(1, len(vocab) + 1), strict=True))
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.labels: tuple[Act, ...] = tuple(labels)  # type: ignore[arg-type]
        self.use_rules = use_rules
        self.design_scale = float(design_scale)
        # weights of the word, context and char blocks (on top of 1/sqrt(count)), chosen by CV
        self.block_weights = tuple(float(x) for x in block_weights)
        # Lookup tables keyed by what extraction yields, so no feature string is built at
        # inference: unigrams by token, first words likewise, bigrams by their words' unigram
        # ids (``pair_table``, searched per batch; ``_bi``, by token pair, serves the training
        # path), and the char n-gram ids of every word the model knows (all fixed at load).
        vocab = list(vocab)
        ordered = all(map(le, vocab, vocab[1:]))  # as the trainer writes it
        self._uni = _keyed(vocab, "w|", ordered)
        # The pair and word tables hold the unigram keys' own string objects, not copies: a
        # sentence's lookups then read strings its unigram lookups have just brought into the
        # cache, and each word is stored once.
        shared = {w: w for w in (*self._uni, "<s>", "</s>")}
        self._bi = _keyed(vocab, "b|", ordered, pairs=True, shared=shared)
        self.pair_table = _pair_table(self._bi, self._uni, len(vocab))
        self._first = _keyed(vocab, "f|", ordered)
        self._first2 = _keyed(vocab, "f2|", ordered, pairs=True, shared=shared)
        self.known_words = sorted(set(self._uni) | set(known_words))  # _uni's objects first
        if word_grams is None or len(word_grams[1]) != len(self.known_words):
            get = self.index.get
            grams = [[get(g, 0) for g in char_ngrams(w)] for w in self.known_words]
            word_grams = (
                np.fromiter(chain.from_iterable(grams), dtype=np.int32),
                np.array([len(g) for g in grams], dtype=np.int32),
            )
        # (flat char n-gram ids of the known words, in order; how many each word has)
        self.word_grams = word_grams
        flat, counts = word_grams
        # Each known word's char n-gram rows summed once (a table derived from the weights):
        # at inference a known word costs one row instead of one per n-gram.
        self._word_row = dict(zip(self.known_words, range(1, len(counts) + 1), strict=True))
        self.word_lengths = np.concatenate(([0], counts)).astype(np.int64)  # n-grams per row
        starts = np.concatenate(([0], np.cumsum(counts[:-1]))).astype(np.int64)
        self.word_weights = np.zeros((len(counts) + 1, self.weights.shape[1]), dtype=np.float32)
        if len(counts):
            self.word_weights[1:] = np.add.reduceat(self.weights[flat], starts, axis=0)
        self._oov: dict[str, tuple[list[int], int]] = {}  # see oov_char_ids
        self.metadata = metadata or {}

    @cached_property
    def featurizer(self) -> Any | None:
        """The compiled per-sentence path over this model's tables, or None where the
        extension is not built or is switched off (:mod:`attunement.coding.fastpath`)."""
        return featurizer(self)

    @cached_property
    def word_chars(self) -> dict[str, list[int]]:
        """Known word -> its char n-gram ids (the training-time path, :meth:`vectorise`)."""
        flat, counts = self.word_grams
        ends = np.cumsum(counts).tolist()
        ids = flat.tolist()
        return {
            w: ids[end - n : end]
            for w, n, end in zip(self.known_words, counts.tolist(), ends, strict=True)
        }

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | Path, metadata: dict) -> None:
        """Write ``PATH.npz`` (weights as float16) and ``PATH.json`` (metadata)."""
        p = Path(path)
        vocab = sorted(self.index, key=self.index.__getitem__)
        np.savez_compressed(
            p.with_suffix(".npz"),
            weights=self.weights.astype(np.float16),
            bias=self.bias,
            vocab=np.array("\n".join(vocab)),
            words=np.array("\n".join(self.known_words)),
            word_grams=self.word_grams[0],
            word_gram_counts=self.word_grams[1],
            labels=np.array("\n".join(self.labels)),
        )
        meta = {
            **metadata,
            "use_rules": self.use_rules,
            "design_scale": self.design_scale,
            "block_weights": list(self.block_weights),
            "labels": list(self.labels),
        }
        p.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        """Load a model written by :meth:`save` (``path`` with or without suffix)."""
        p = Path(path)
        try:
            data = np.load(p.with_suffix(".npz"))
            meta = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load coder weights from {p}: {exc}") from None
        vocab = str(data["vocab"]).split("\n")
        labels = str(data["labels"]).split("\n")
        return cls(
            vocab,
            data["weights"],
            data["bias"],
            labels,
            use_rules=bool(meta.get("use_rules", True)),
            design_scale=float(meta.get("design_scale", 1.0)),
            block_weights=meta.get("block_weights", (1.0, 1.0, 1.0)),
            known_words=str(data["words"]).split("\n") if "words" in data else (),
            # a table derived at save time (older files lack it and derive it here)
            word_grams=(data["word_grams"], data["word_gram_counts"])
            if "word_grams" in data
            else None,
            metadata=meta,
        )

    # ---------------------------------------------------------------- scoring
    def context_ids(self, features: Sequence[str]) -> list[int]:
        """Ids of context-block features (user-turn and heading words), looked up once."""
        return list(map(self.index.get, features, repeat(0)))

    def vectorise(
        self, blocks: tuple[list[str], list[str], list[str]], context: list[int]
    ) -> tuple[list[int], tuple[int, int, int, int]]:
        """Feature ids of one sentence as four blocks (word, context, char, design), each led
        by a 0 (the zero row, so no block is empty), and the blocks' feature counts.

        Unknown features map to the zero row. ``context`` holds the ids of the context block
        (:meth:`context_ids`). Scores are block sums scaled by :meth:`block_scales`.
        """
        get = self.index.get
        toks, char_words, design = blocks
        ids: list[int] = [0]
        ids.extend(map(self._uni.get, toks, repeat(0)))
        seq = ["<s>", *toks, "</s>"]
        ids.extend(map(self._bi.get, zip(seq, seq[1:], strict=False), repeat(0)))
        if char_words:
            ids.append(self._first.get(char_words[0], 0))
            if len(char_words) > 1:
                ids.append(self._first2.get((char_words[0], char_words[1]), 0))
        n_word = len(ids) - 1
        ids.append(0)
        ids.extend(context)
        known = list(map(self.word_chars.get, char_words))
        if None in known:  # words the model never saw: make their n-grams now
            known = [
                k if k is not None else list(map(get, char_ngrams(w), repeat(0)))
                for k, w in zip(known, char_words, strict=True)
            ]
        n_before = len(ids)
        ids.append(0)
        ids.extend(chain.from_iterable(known))
        n_char = len(ids) - n_before - 1
        ids.append(0)
        ids.extend(map(get, design, repeat(0)))
        return ids, (n_word, len(context), n_char, len(design))

    def block_scales(self, counts: tuple[int, int, int, int]) -> tuple[float, ...]:
        """The weight of each block's features: its block weight / sqrt(count); design
        features a constant."""
        w, c, ch, _ = counts
        bw, bc, bch = self.block_weights
        return (
            bw * w**-0.5 if w else 0.0,
            bc * c**-0.5 if c else 0.0,
            bch * ch**-0.5 if ch else 0.0,
            self.design_scale,
        )

    def feature_values(
        self, blocks: tuple[list[str], list[str], list[str]], context: list[int]
    ) -> tuple[list[int], list[float]]:
        """(ids, values) of one sentence as a sparse row (for training and checks)."""
        ids, counts = self.vectorise(blocks, context)
        vals: list[float] = []
        for n, scale in zip(counts, self.block_scales(counts), strict=True):
            vals.extend([0.0] + [scale] * n)
        return ids, vals

    def oov_char_ids(self, word: str) -> tuple[list[int], int]:
        """(known ids, count) of the char n-grams of a word the model has no row for.

        Memoised per word, like a tokenizer's cache: words recur in any natural text and a
        word's n-grams are fixed for a model. Only the word is the key (never a sentence or an
        utterance), ids of unknown n-grams (the zero row, which adds nothing) are left out, and
        the cache is bounded: it is emptied when it holds ``OOV_CACHE_WORDS`` words.
        """
        hit = self._oov.get(word)
        if hit is None:
            grams = char_ngrams(word)
            if len(self._oov) >= OOV_CACHE_WORDS:
                self._oov.clear()
            hit = self._oov[word] = (
                [i for i in map(self.index.get, grams, _ZEROS) if i],
                len(grams),
            )
        return hit

    def fast_vectorise(
        self,
        blocks: tuple[list[str], list[str], list[str]],
        ids: list[int],
        rows: list[int],
    ) -> tuple[int, int, int, int]:
        """The coder's path: like :meth:`vectorise`, but appends to a batch's lists, a known
        word's char n-grams come as one row of ``word_weights``, and the context block (the
        same for the sentences of an utterance) is summed once per utterance by the caller.

        ``ids`` gets three blocks (word, char n-grams of unknown words, design), each led by a
        0; the word block holds the unigram ids, then one zero slot per bigram (sentence marks
        included), which :func:`~attunement.coding.batch.fill_pairs` fills for the whole batch
        at once from the unigram ids (in the same places, so the sums are unchanged).
        ``rows`` gets the sentence's word rows, led by a 0. Returns the counts (word, char
        n-grams of unknown words, ids in the unknown-word block, design); the batch adds the
        known words' n-gram counts (``word_lengths`` of their rows).
        """
        toks, words, design = blocks
        ids.append(0)
        mark = len(ids)
        ids.extend(map(self._uni.get, toks, _ZEROS))
        ids.extend(repeat(0, len(toks) + 1))  # the bigrams' slots: see batch.fill_pairs
        if words:
            ids.append(self._first.get(words[0], 0))
            if len(words) > 1:
                ids.append(self._first2.get((words[0], words[1]), 0))
        n_word = len(ids) - mark
        word_rows = list(map(self._word_row.get, words, _ZEROS))
        rows.append(0)
        rows.extend(word_rows)
        n_char = 0  # of unknown words; the known words' are counted per batch (word_lengths)
        ids.append(0)
        mark = len(ids)
        if 0 in word_rows:  # words the model never saw: their n-grams (memoised per word)
            oov = self.oov_char_ids
            for w, r in zip(words, word_rows, strict=True):
                if not r:
                    grams, n = oov(w)
                    ids.extend(grams)
                    n_char += n
        n_unknown = len(ids) - mark
        ids.append(0)
        ids.extend(map(self.index.get, design, _ZEROS))
        return n_word, n_char, n_unknown, len(design)

    def fast_probabilities(self, batch: FastBatch) -> np.ndarray:
        """Class probabilities of a batch built with :meth:`fast_vectorise`.

        The same sums, in the same order, as :meth:`probabilities` over :meth:`vectorise`
        rows (checked in tests), so the numbers do not depend on the batch.
        """
        n = len(batch.scales) // 4
        width = self.weights.shape[1]
        sums = block_sums(self.weights, batch.ids, batch.starts).reshape(n, 3, width)
        context = block_sums(self.weights, batch.context_ids, batch.context_starts)
        blocks = np.empty((n, 4, width), dtype=np.float32)
        blocks[:, 0] = sums[:, 0]
        blocks[:, 1] = context[batch.context_of]
        blocks[:, 2:] = sums[:, 1:]
        blocks *= batch.scales.reshape(n, 4, 1)
        logits = blocks.sum(axis=1)
        words = np.add.reduceat(self.word_weights[batch.rows], batch.row_starts, axis=0)
        logits += words * batch.scales[2::4, None]
        logits += self.bias
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def probabilities(self, ids: np.ndarray, vals: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Class probabilities of a batch; ``offsets`` are where each sentence's ids begin."""
        rows = self.weights[ids] * vals[:, None]
        logits = np.add.reduceat(rows, offsets, axis=0) + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits


def _keyed(
    vocab: list[str],
    prefix: str,
    ordered: bool,
    *,
    pairs: bool = False,
    shared: dict[str, str] | None = None,
) -> dict:
    """Feature id (row) by key for the features named ``prefix + key`` ("w|sad" -> "sad"; with
    ``pairs``, "b|so sad" -> ("so", "sad")). The trainer writes the vocabulary sorted
    (``ordered``), so each kind is one slice found by bisection, and pair keys are split in one
    pass over the slice; an unsorted vocabulary takes the slow path (one check per feature).
    ``shared`` maps a word to the string object pair keys should hold (equal keys either way)."""
    if not ordered:
        names = [(f[len(prefix) :], i) for i, f in enumerate(vocab, 1) if f.startswith(prefix)]
        if not pairs:
            return dict(names)
        return {tuple(_shared(k.split(" ", 1), shared)): i for k, i in names}
    lo = bisect_left(vocab, prefix)
    hi = bisect_left(vocab, prefix[:-1] + chr(ord(prefix[-1]) + 1), lo)
    rows = range(lo + 1, hi + 1)
    cut = len(prefix)
    if not pairs:
        return dict(zip([f[cut:] for f in vocab[lo:hi]], rows, strict=True))
    # tokens hold no spaces, newlines or "|", so each name splits into exactly two words
    words = "\n".join(vocab[lo:hi])[cut:].replace("\n" + prefix, " ").split(" ")
    if len(words) != 2 * len(rows):  # a name that breaks that: the slow path
        return _keyed(vocab, prefix, False, pairs=True, shared=shared)
    words = _shared(words, shared)
    return dict(zip(zip(words[0::2], words[1::2], strict=True), rows, strict=True))


def _pair_table(pairs: dict, unigrams: dict[str, int], n_features: int) -> PairTable:
    """The bigram rows keyed by the two words' unigram ids (sentence marks get two ids past
    the vocabulary), so a batch's bigrams are found with one numpy search
    (:func:`~attunement.coding.batch.fill_pairs`) instead of one dict lookup each.

    Exact, because every bigram the trainer keeps has both words in the unigram table: a
    feature kept for being in ``MIN_DF`` sentences has words in as many. A model that breaks
    that is refused rather than silently losing those bigrams."""
    start, end = n_features + 1, n_features + 2
    ids = {**unigrams, "<s>": start, "</s>": end}
    n = len(pairs)
    table = PairTable.of(
        np.fromiter(map(ids.get, map(itemgetter(0), pairs), repeat(-1)), np.int64, count=n),
        np.fromiter(map(ids.get, map(itemgetter(1), pairs), repeat(-1)), np.int64, count=n),
        np.fromiter(pairs.values(), np.int64, count=n),
        width=n_features + 3,
        start=start,
        end=end,
    )
    if table.broken:
        raise ConfigError(
            f"{table.broken} bigram features of the coder weights have a word without a "
            "unigram row; rebuild them with: python scripts/build_coder.py"
        )
    return table


def _shared(words: list[str], shared: dict[str, str] | None) -> list[str]:
    """The words, each swapped for its ``shared`` object where it has one."""
    return list(map(shared.get, words, words)) if shared else words


def weights_path() -> Path:
    """Where the shipped weights are (``.npz``; the metadata ``.json`` sits next to it)."""
    ref = resources.files("attunement.coding").joinpath("weights", MODEL_NAME + ".npz")
    if not ref.is_file():
        raise ConfigError(
            f"the local coder weights {MODEL_NAME}.npz are missing from the package; "
            "rebuild them with: python scripts/build_coder.py"
        )
    return Path(str(ref))


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> LinearModel:
    """The shipped model (cached), or the one at ``path``."""
    return LinearModel.load(weights_path() if path is None else path)


class LocalCoder:
    """The default coder: fast, offline, deterministic."""

    def __init__(self, model: LinearModel | None = None, *, batch_size: int = 256) -> None:
        self.model = model or load_model()
        self.name = "local:" + str(self.model.metadata.get("version", MODEL_NAME))
        self.batch_size = batch_size

    async def code(self, text: str, *, context: str | None = None) -> CodedUtterance:
        """Coder protocol (the work is synchronous and fast)."""
        return self.code_sync(text, context=context)

    def code_sync(self, text: str, context: str | None = None) -> CodedUtterance:
        """Code one utterance."""
        return self.code_many([text], [context])[0]

    def code_many(
        self, texts: Sequence[str], contexts: Sequence[str | None] | None = None
    ) -> list[CodedUtterance]:
        """Code many utterances (batched numpy scoring); ``contexts`` are the user turns."""
        if contexts is None:
            contexts = [None] * len(texts)
        if len(contexts) != len(texts):
            raise ValueError(f"{len(contexts)} contexts for {len(texts)} texts")
        out: list[CodedUtterance] = []
        with paused_gc():
            for lo in range(0, len(texts), self.batch_size):
                out.extend(
                    self._batch(
                        texts[lo : lo + self.batch_size], contexts[lo : lo + self.batch_size]
                    )
                )
        return out

    def _batch(self, texts: Sequence[str], contexts: Sequence[str | None]) -> list[CodedUtterance]:
        model = self.model
        segs_per = [segment(t) if t and t.strip() else [] for t in texts]
        ids: list[int] = []
        rows: list[int] = []
        # per sentence: word, context, char, unknown-block, design, words, tokens
        counts: list[int] = []
        context_ids: list[int] = []  # one block per utterance (and per heading in it)
        context_sizes: list[int] = []
        context_of: list[int] = []  # per sentence: its context block
        vectorise = model.fast_vectorise
        lookup = model.context_ids
        fast = model.featurizer
        featurize = fast.featurize if fast is not None else None
        codes_of: dict[tuple[str, ...], tuple] = {}  # context flags -> the featurizer's codes
        for segs, ctx_text in zip(segs_per, contexts, strict=True):
            if not segs:
                continue
            ctx = context_flags(ctx_text)
            codes = codes_of.get(ctx.flags)
            if codes is None:
                codes = codes_of[ctx.flags] = context_codes(model.index, ctx)
            user_ids = lookup(ctx.words)
            blocks_here: dict[int, int] = {}  # id(heading words) -> context block
            n = len(segs)
            units = unit_contexts([seg.text for seg in segs])
            for i, (seg, (after, heading)) in enumerate(zip(segs, units, strict=True)):
                block = blocks_here.get(id(heading))
                if block is None:  # the user turn's words, plus the heading's for list items
                    cids = user_ids + lookup(heading) if heading else user_ids
                    block = blocks_here[id(heading)] = len(context_sizes)
                    context_ids.append(0)
                    context_ids.extend(cids)
                    context_sizes.append(len(cids))
                context_of.append(block)
                if featurize is not None:  # the compiled path; None: not ASCII
                    got = featurize(seg.text, i, n, after, codes, ids, rows)
                    if got is not None:
                        w, ch, unk, d, n_words, n_toks = got
                        counts += (w, context_sizes[block], ch, unk, d, n_words, n_toks)
                        continue
                feats = sentence_features(seg.text, i, n, after, ctx)
                w, ch, unk, d = vectorise(feats, ids, rows)
                counts += (w, context_sizes[block], ch, unk, d, len(feats[1]), len(feats[0]))
        if counts:
            batch = build_batch(
                ids,
                rows,
                counts,
                context_ids,
                context_sizes,
                context_of,
                pairs=model.pair_table,
                word_lengths=model.word_lengths,
                block_weights=model.block_weights,
                design_scale=model.design_scale,
            )
            probs = model.fast_probabilities(batch)
        else:
            probs = np.zeros((0, len(model.labels)), dtype=np.float32)
        best = probs.argmax(axis=1).tolist()
        conf = probs.max(axis=1).tolist()
        labels = model.labels
        use_rules = model.use_rules
        name = self.name
        out: list[CodedUtterance] = []
        k = 0
        for text, segs in zip(texts, segs_per, strict=True):
            if not segs:
                out.append(CodedUtterance(text=text, coder=name, error="empty utterance"))
                continue
            spans = []
            for seg in segs:
                act, p = labels[best[k]], conf[k]
                k += 1
                if use_rules:
                    rule = apply_rules(seg.text)
                    if rule is not None:
                        act, p = rule.act, RULE_CONFIDENCE
                spans.append(
                    {
                        "start": seg.start,
                        "end": seg.end,
                        "text": seg.text,
                        "act": act,
                        "confidence": round(p, 4),
                    }
                )
            # one validation call per utterance (spans included): pydantic validating a dict
            # is faster here than model_construct, and keeps the output checked
            out.append(_validate({"text": text, "spans": spans, "coder": name}))
        return out
