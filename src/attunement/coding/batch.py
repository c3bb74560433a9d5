"""The arrays of one scoring batch of the local coder, and how their blocks are summed.

``LocalCoder`` fills plain lists per batch (feature ids in blocks, word rows, counts); this
module turns them into numpy arrays with the block starts and scales, and sums weight rows
per block, exactly as the per-sentence formula would (the same float operations in the same
order), so the coder's outputs do not depend on how it is batched. ``paused_gc`` pauses the
cyclic garbage collector for such bulk jobs.

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
    block_weights: tuple[float, float, float],
    design_scale: float,
) -> FastBatch:
    """Arrays from the lists the coder fills per batch; ``counts`` holds per sentence (word,
    context, char, unknown-block, design, words)."""
    c = _array(counts).reshape(-1, 6)
    bw_word, bw_ctx, bw_char = block_weights
    inv = _inv_sqrt(c[:, :3])
    scales = np.empty((len(c), 4), dtype=np.float64)
    scales[:, 0] = bw_word * inv[:, 0]
    scales[:, 1] = bw_ctx * inv[:, 1]
    scales[:, 2] = bw_char * inv[:, 2]
    scales[:, 3] = design_scale
    return FastBatch(
        ids=_array(ids),
        starts=_starts(c[:, [0, 3, 4]] + 1),  # each block is led by a zero id
        scales=scales.astype(np.float32).ravel(),
        rows=_array(rows),
        row_starts=_starts(c[:, 5] + 1),
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
