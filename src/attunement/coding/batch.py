"""The arrays of one scoring batch of the local coder, and how their blocks are summed.

``LocalCoder`` fills plain lists per batch (feature ids in blocks, word rows, counts); this
module turns them into numpy arrays with the block starts and scales, finds the batch's
bigram rows in one search (:func:`fill_pairs`), and sums weight rows per block, exactly as
the per-sentence formula would (the same float operations in the same order), so the coder's
outputs do not depend on how it is batched. ``paused_gc`` pauses the cyclic garbage collector
for such bulk jobs.

>>> _starts(np.array([2, 3, 1])).tolist()
[0, 2, 5]
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np


@contextmanager
def paused_gc(*, freeze: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk job, then restore it.

    Coding allocates many small acyclic containers; each collection walks every live object
    (the loaded transcripts included), which cost about a third of ``attune code``'s time.
    Reference counting still frees everything; only reference cycles wait for the next run.
    With ``freeze`` (for a process that ends soon, like the CLI) the objects alive at the end
    are moved out of the collector's reach (``gc.freeze``) before it resumes, so it does not
    walk them all once more.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if freeze:
                gc.freeze()
            gc.enable()


def _inv_sqrt(counts: np.ndarray) -> np.ndarray:
    """``k ** -0.5`` (0 for 0) of each count, computed by Python's float power on the distinct
    counts, so the result is bit for bit what the per-sentence formula gives."""
    uniq, where = np.unique(counts, return_inverse=True)
    table = np.array([k**-0.5 if k else 0.0 for k in uniq.tolist()], dtype=np.float64)
    return table[where.reshape(counts.shape)]


class FastBatch(NamedTuple):
    """The arrays of one scoring batch (:meth:`LinearModel.fast_probabilities`)."""

    ids: np.ndarray  # per sentence three blocks: word, unknown-word char n-grams, design
    starts: np.ndarray  # where each of those blocks starts
    scales: np.ndarray  # per sentence four block scales: word, context, char, design
    rows: np.ndarray  # word rows (of ``word_weights``), per sentence led by a 0
    row_starts: np.ndarray
    context_ids: np.ndarray  # context blocks, each led by a 0
    context_starts: np.ndarray
    context_of: np.ndarray  # per sentence: its context block


class PairTable(NamedTuple):
    """Bigram feature rows keyed by ``left id * width + right id`` (unigram ids; two more ids
    for the sentence's start and end marks), sorted for :func:`numpy.searchsorted`."""

    keys: np.ndarray
    rows: np.ndarray
    width: int
    start: int
    end: int
    broken: int  # pairs left out because a word had no id (a valid model has none)

    @classmethod
    def of(
        cls,
        left: np.ndarray,
        right: np.ndarray,
        rows: np.ndarray,
        *,
        width: int,
        start: int,
        end: int,
    ) -> PairTable:
        """From the pairs' left ids, right ids and rows; an id of -1 marks a word without
        one (such a pair cannot be keyed and is counted in ``broken``)."""
        ok = (left >= 0) & (right >= 0)
        keys = left[ok] * width + right[ok]
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], rows[ok][order], width, start, end, int((~ok).sum()))


def fill_pairs(
    ids: np.ndarray, word_starts: np.ndarray, n_tokens: np.ndarray, table: PairTable
) -> None:
    """Write every sentence's bigram rows into its zero slots, in place.

    Each word block is ``0, n unigram ids, n + 1 slots, ...`` (from ``word_starts``): slot j
    is the pair (token j-1, token j), with the start mark before token 0 and the end mark after
    the last. An unknown token (id 0) makes a key no bigram has (every real key has both ids
    >= 1), so its pairs get row 0, as a dict miss would.
    """
    lengths = n_tokens + 1
    total = int(lengths.sum())
    if not total or not len(table.keys):  # the slots already hold row 0
        return
    j = np.arange(total) - np.repeat(_starts(lengths), lengths)  # slot index in its sentence
    shift = np.repeat(lengths, lengths)
    slots = np.repeat(word_starts + lengths, lengths) + j  # first slot: start + 1 + n
    left = ids[slots - shift]
    left[j == 0] = table.start
    right = ids[slots - shift + 1]
    right[j == shift - 1] = table.end
    keys = left * table.width + right
    pos = np.searchsorted(table.keys, keys)
    np.minimum(pos, len(table.keys) - 1, out=pos)
    ids[slots] = np.where(table.keys[pos] == keys, table.rows[pos], 0)


def _array(values: list[int]) -> np.ndarray:
    return np.frombuffer(array("q", values), dtype=np.int64)


def _starts(sizes: np.ndarray) -> np.ndarray:
    """Start offsets of consecutive blocks of the given sizes."""
    out = np.zeros(sizes.size, dtype=np.int64)
    np.cumsum(sizes.ravel()[:-1], out=out[1:])
    return out


def build_batch(
    ids: list[int],
    rows: list[int],
    counts: list[int],
    context_ids: list[int],
    context_sizes: list[int],
    context_of: list[int],
    *,
    pairs: PairTable,
    word_lengths: np.ndarray,
    block_weights: tuple[float, float, float],
    design_scale: float,
) -> FastBatch:
    """Arrays from the lists the coder fills per batch, the bigram slots filled
    (:func:`fill_pairs`); ``counts`` holds per sentence (word, context, char n-grams of unknown
    words, unknown-block, design, words, tokens). ``word_lengths`` holds the char n-gram count
    of each word row, added to the char counts here."""
    c = _array(counts).reshape(-1, 7)
    word_rows = _array(rows)
    row_starts = _starts(c[:, 5] + 1)
    c[:, 2] += np.add.reduceat(word_lengths[word_rows], row_starts)
    bw_word, bw_ctx, bw_char = block_weights
    inv = _inv_sqrt(c[:, :3])
    scales = np.empty((len(c), 4), dtype=np.float64)
    scales[:, 0] = bw_word * inv[:, 0]
    scales[:, 1] = bw_ctx * inv[:, 1]
    scales[:, 2] = bw_char * inv[:, 2]
    scales[:, 3] = design_scale
    starts = _starts(c[:, [0, 3, 4]] + 1)  # each block is led by a zero id
    all_ids = _array(ids)
    fill_pairs(all_ids, starts[0::3], c[:, 6], pairs)
    return FastBatch(
        ids=all_ids,
        starts=starts,
        scales=scales.astype(np.float32).ravel(),
        rows=word_rows,
        row_starts=row_starts,
        context_ids=_array(context_ids),
        context_starts=_starts(_array(context_sizes) + 1),
        context_of=_array(context_of),
    )


def block_sums(weights: np.ndarray, ids: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The sum of the weight rows of each block of ``ids`` (blocks begin at ``starts``, each
    led by id 0). Ids 0 inside a block (unknown features: the zero row) are dropped first:
    adding +0.0 never changes a float sum that starts at +0.0, so the sums are bit for bit
    those over all ids, for less work."""
    keep = ids != 0
    keep[starts] = True
    if not keep.all():
        starts = (np.cumsum(keep) - 1)[starts]
        ids = ids[keep]
    return np.add.reduceat(weights[ids], starts, axis=0)
