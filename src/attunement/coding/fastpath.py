"""The compiled paths of the local coder's two hot loops, and the tables they run on.

``_native.c`` (an optional C extension, built at install time where a C compiler is) holds:

- ``Featurizer``: for one sentence, what :func:`~attunement.coding.features.sentence_features`
  followed by :meth:`~attunement.coding.local.LinearModel.fast_vectorise` gives (the same ids
  in the same order), without a Python string per token or feature;
- ``RunonScorer``: the gaps :meth:`~attunement.coding.runon.Splitter.cuts` cuts in a stretch of
  run-on text (the same float sums in the same order).

It holds rules, not data: this module hands it the model's tables and the lexicon as plain
dicts, and the ids of the design features by name, so the lexicon, the weights and the feature
names stay where they are. The Python functions remain the reference and the fallback: the
rare sentence with a character the compiled featurizer hands back (a decimal digit that is not
ASCII, U+0130, U+212A), an install without the extension, and ``ATTUNE_PURE_PYTHON=1`` take
them, with the same outputs (``tests/test_native.py``). A model's featurizer may be shared
between threads: a call that arrives while another is running gets None from it and takes the
Python path (its scratch buffers are its own).

>>> from attunement.coding.local import load_model
>>> fast = featurizer(load_model())
>>> fast is None or fast.featurize("Try a walk.", 0, 1, False, NO_CONTEXT_CODES, [], [])[4] == 3
True
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from attunement.coding.features import (
    _CONJOIN,
    _PRONOUNS,
    CUE_FEATURES,
    FEATURE_VERSION,
    Context,
    _lex,
)

if TYPE_CHECKING:  # pragma: no cover
    from attunement.coding.local import LinearModel
    from attunement.coding.runon import Splitter

# The fixed design features in the order of the C enum (``F_NUM`` ... ``F_LEN4``).
FIXED_FEATURES: tuple[str, ...] = (
    "d|num", "d|bullet", "d|heading", "d|bold", "d|q", "d|colon", "d|excl", "d|emoji", "d|wh0",
    "d|aux0", "d|aux_you", "d|imp0", "d|imp_lead", "d|imp_clause", "d|i0", "d|you0", "d|feel",
    "d|you_feel", "d|i_feel", "d|sounds_feel", "d|you", "d|i", "d|first", "d|last", "d|only",
    "d|after_heading", "d|len1", "d|len2", "d|len3", "d|len4",
)  # fmt: skip

# Word classes the rules test, as the C enum's bits (``C_FEEL`` = 1 ...).
WORD_CLASSES: tuple[str, ...] = (
    "feelings", "second", "first", "wh", "aux", "base", "lead", "pronouns", "sounds",
)  # fmt: skip
_SOUNDS = frozenset({"sounds", "sound", "seems"})

NO_CONTEXT_CODES: tuple[tuple[tuple[Any, Any], ...], bool] = ((), False)


def native_module() -> Any | None:
    """The compiled module, or None when it was not built or ``ATTUNE_PURE_PYTHON`` is set."""
    if os.environ.get("ATTUNE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from attunement.coding import _native  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _native if _native.FEATURE_VERSION == FEATURE_VERSION else None


def _design(index: dict[str, int], name: str) -> tuple[int, int | None]:
    """(id of a design feature, id of its "&disc" twin, or None when it has none)."""
    return index.get(name, 0), index.get(name + "&disc", 0) if name in _CONJOIN else None


def featurizer(model: LinearModel) -> Any | None:
    """The compiled featurizer over ``model``'s tables, or None (see :func:`native_module`)."""
    native = native_module()
    if native is None:
        return None
    lx = _lex()
    index = model.index
    classes = (
        lx.feelings, lx.second, lx.first, lx.wh, lx.aux, lx.base, lx.lead, _PRONOUNS, _SOUNDS,
    )  # fmt: skip
    cue_names = sorted(set(CUE_FEATURES.values()))
    cue_bit = {name: 1 << i for i, name in enumerate(cue_names)}
    modal_names = sorted(lx.modal_features.values())
    modal_bit = {m: 1 << modal_names.index(f) for m, f in lx.modal_features.items()}
    bits: dict[str, int] = {}
    for i, members in enumerate(classes):
        for word in members:
            bits[word] = bits.get(word, 0) | 1 << i
    cues = {w: sum(cue_bit[f] for f in set(feats)) for w, feats in lx.cue_words.items()}
    uni, rows, first = model._uni, model._word_row, model._first
    keys = uni.keys() | rows.keys() | first.keys() | bits.keys() | cues.keys() | modal_bit.keys()
    words = {
        w: (uni.get(w, 0), rows.get(w, 0), first.get(w, 0), bits.get(w, 0), cues.get(w, 0),
            modal_bit.get(w, 0))
        for w in keys
    }  # fmt: skip
    phrases: dict[str, int] = {}
    starts: dict[str, int] = {}
    for (a, b), entries in lx.cue_pairs.items():
        for size, by_phrase in entries:
            starts[f"{a} {b}"] = starts.get(f"{a} {b}", 0) | 1 << size
            for toks, feats in by_phrase.items():
                key = " ".join(toks)
                phrases[key] = phrases.get(key, 0) | sum(cue_bit[f] for f in set(feats))
    return native.Featurizer(
        words=words,
        pairs={f"{a} {b}": i for (a, b), i in model._first2.items()},
        phrases=phrases,
        phrase_starts=starts,
        fixed=[_design(index, f) for f in FIXED_FEATURES],
        modals=[_design(index, f) for f in modal_names],
        cues=[_design(index, f) for f in cue_names],
        cues_q=[_design(index, f + "&q") for f in cue_names],
        oov=model.oov_char_ids,
    )


def context_codes(
    index: dict[str, int], ctx: Context
) -> tuple[tuple[tuple[int, int | None], ...], bool]:
    """A user turn's context flags as the featurizer takes them: (their design ids and "&disc"
    twins, whether the user disclosed a feeling)."""
    return tuple(_design(index, f) for f in ctx.flags), "d|ctx_disc" in ctx.flags


def runon_scorer(splitter: Splitter, bin_of: list[int]) -> Any | None:
    """The compiled scorer over the run-on splitter's weights (``bin_of``: the distance bin of
    each distance), or None (see :func:`native_module`)."""
    native = native_module()
    if native is None:
        return None
    tables = splitter.tables
    return native.RunonScorer(
        by_word=splitter.by_word,
        by_pair=splitter.by_pair,
        by_class_pair=splitter.by_class_pair,
        **{name: tables.get(name, {}) for name in ("pnc", "pcn", "s1c", "s2c", "punct")},
        other=tables.get("", {}),
        dist_end=splitter.dist_end,
        dist_prev=splitter.dist_prev,
        bin_of=bin_of,
        threshold=splitter.threshold,
    )
