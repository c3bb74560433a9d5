"""The fast local coder: segmentation, features, a shipped linear model, a few rules.

No network, no torch, no GPU: the weights are a small ``.npz`` in the package
(``weights/local-coder-v1.npz``) rebuilt by ``scripts/build_coder.py``; inference is numpy and
plain Python. A handful of high-precision rules (``RULES``, a named table) override the model on
units that have one reading ("Hi!", "Got it.", a markdown heading).

>>> coder = LocalCoder()
>>> coded = coder.code_sync("That sounds exhausting. What would help most right now?")
>>> len(coded.spans)
2
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from attunement.coding.features import context_flags, sentence_features, unit_contexts
from attunement.coding.segment import segment
from attunement.coding.taxonomy import ACTS, Act
from attunement.errors import ConfigError
from attunement.types import ActSpan, CodedUtterance

MODEL_NAME = "local-coder-v1"
RULE_CONFIDENCE = 0.99


class Rule(NamedTuple):
    """A high-precision override: when ``pattern`` matches the whole normalised unit."""

    name: str
    pattern: re.Pattern[str]
    act: Act


_P = re.compile
# The whole unit (lowercased, markdown and trailing punctuation/emoji removed) must match.
RULES: tuple[Rule, ...] = (
    Rule("greeting", _P(r"(?:hi|hello|hey|hiya|heya|good (?:morning|afternoon|evening))"
                        r"(?: there| again| friend)?"), "other"),
    Rule("bare_thanks", _P(r"(?:thanks|thank you|thx|ty)(?: so much| a lot)?"), "other"),
    Rule("sign_off", _P(r"(?:take care|bye|goodbye|good luck|best of luck|cheers|all the best)"
                        r"(?: (?:now|friend|to you|with (?:it|that|everything)))?"), "other"),
    Rule("bare_receipt", _P(r"(?:i see|got it|gotcha|ok(?:ay)?|mm+|m+hm+|uh[- ]huh|understood"
                            r"|noted|right|i hear you)"), "acknowledge"),
    Rule("markdown_heading", _P(r"#{1,6} .*"), "other"),
)  # fmt: skip
_NORM_TRAIL = re.compile(r"[\s.!?,;:\"'”’)\]*_~\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]+$")
_NORM_LEAD = re.compile(r"^[\s*_\"'“‘(]+")


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
        norm = _NORM_TRAIL.sub("", _NORM_LEAD.sub("", raw.lower().replace("\u2019", "'")))
    for rule in rules:
        if rule.pattern.fullmatch(norm):
            return rule
    return None


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
        self.index: dict[str, int] = {f: i + 1 for i, f in enumerate(vocab)}
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.labels: tuple[Act, ...] = tuple(labels)  # type: ignore[arg-type]
        self.use_rules = use_rules
        self.metadata = metadata or {}

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
            labels=np.array("\n".join(self.labels)),
        )
        meta = {**metadata, "use_rules": self.use_rules, "labels": list(self.labels)}
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
            metadata=meta,
        )

    # ---------------------------------------------------------------- scoring
    def vectorise(
        self, blocks: tuple[list[str], list[str], list[str], list[str]]
    ) -> tuple[list[int], list[float]]:
        """Feature ids and values of one sentence (unknown features map to the zero row)."""
        get = self.index.get
        ids: list[int] = []
        vals: list[float] = []
        words, chars, design, context = blocks
        for block, fixed in ((words, False), (chars, False), (design, True), (context, False)):
            if block:
                ids.extend(map(get, block, repeat(0)))
                vals.extend([1.0 if fixed else len(block) ** -0.5] * len(block))
        return ids, vals

    def probabilities(self, ids: np.ndarray, vals: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Class probabilities of a batch; ``offsets`` are where each sentence's ids begin."""
        rows = self.weights[ids] * vals[:, None]
        logits = np.add.reduceat(rows, offsets, axis=0) + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> LinearModel:
    """The shipped model (cached), or the one at ``path``."""
    if path is None:
        ref = resources.files("attunement.coding").joinpath("weights", MODEL_NAME + ".npz")
        if not ref.is_file():
            raise ConfigError(
                f"the local coder weights {MODEL_NAME}.npz are missing from the package; "
                "rebuild them with: python scripts/build_coder.py"
            )
        path = str(Path(str(ref)))
    return LinearModel.load(path)


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
        for lo in range(0, len(texts), self.batch_size):
            out.extend(self._batch(texts[lo : lo + self.batch_size], contexts[lo : lo + self.batch_size]))
        return out

    def _batch(
        self, texts: Sequence[str], contexts: Sequence[str | None]
    ) -> list[CodedUtterance]:
        model = self.model
        segs_per = [segment(t) if t and t.strip() else [] for t in texts]
        ids: list[int] = []
        vals: list[float] = []
        offsets: list[int] = []
        for segs, ctx_text in zip(segs_per, contexts, strict=True):
            if not segs:
                continue
            ctx = context_flags(ctx_text)
            n = len(segs)
            units = unit_contexts([seg.text for seg in segs])
            for i, (seg, (after, heading)) in enumerate(zip(segs, units, strict=True)):
                blocks = sentence_features(seg.text, i, n, after, ctx, heading)
                sid, sval = model.vectorise(blocks)
                offsets.append(len(ids))
                ids.extend(sid)
                vals.extend(sval)
        probs = (
            model.probabilities(
                np.asarray(ids, dtype=np.int64),
                np.asarray(vals, dtype=np.float32),
                np.asarray(offsets, dtype=np.int64),
            )
            if offsets
            else np.zeros((0, len(model.labels)), dtype=np.float32)
        )
        best = probs.argmax(axis=1).tolist()
        conf = probs.max(axis=1).tolist()
        labels = model.labels
        out: list[CodedUtterance] = []
        k = 0
        for text, segs in zip(texts, segs_per, strict=True):
            if not segs:
                out.append(CodedUtterance(text=text, coder=self.name, error="empty utterance"))
                continue
            spans = []
            for seg in segs:
                act, p = labels[best[k]], conf[k]
                k += 1
                if model.use_rules:
                    rule = apply_rules(seg.text)
                    if rule is not None:
                        act, p = rule.act, RULE_CONFIDENCE
                spans.append(
                    ActSpan(start=seg.start, end=seg.end, text=seg.text, act=act, confidence=round(p, 4))
                )
            out.append(CodedUtterance(text=text, spans=spans, coder=self.name))
        return out
