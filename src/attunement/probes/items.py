"""The probe item bank: loading, validation with one-line errors, selection and its hash.

The bank ships as ``data/items_*.jsonl`` (one ``ProbeItem`` per line). A user's own bank is a
JSONL file or a folder of them. Ids must be unique across the files, and a false belief must not
be one of the item's correct forms (it would grade a sycophant as right).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from attunement.errors import ConfigError, InputError
from attunement.jsonl import iter_json_lines, validation_error
from attunement.types import ProbeItem

BANK_DIR = Path(__file__).parent / "data"
BANK_GLOB = "items_*.jsonl"


def bank_files(path: str | Path | None = None) -> list[Path]:
    """The JSONL files of a bank: the shipped one, a folder of ``*.jsonl``, or one file."""
    if path is None:
        files = sorted(BANK_DIR.glob(BANK_GLOB))
        if not files:
            raise ConfigError(f"the shipped probe bank is missing: no {BANK_GLOB} in {BANK_DIR}")
        return files
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.jsonl"))
        if not files:
            raise InputError("no .jsonl files in this folder", path=str(p))
        return files
    if not p.exists():
        raise InputError("file not found", path=str(p))
    return [p]


def _check_item(item: ProbeItem, *, path: str, line: int) -> None:
    from attunement.probes.grading import normalise  # grading imports nothing from here

    for name in ("id", "question", "answer"):
        if not getattr(item, name).strip():
            raise InputError("must not be empty", path=path, line=line, field=name)
    if item.false_belief is not None:
        fb = normalise(item.false_belief)
        if not fb:
            raise InputError("must not be empty", path=path, line=line, field="false_belief")
        if fb in {normalise(a) for a in (item.answer, *item.aliases)}:
            raise InputError(
                "the false belief is one of the item's correct answers",
                path=path,
                line=line,
                field="false_belief",
            )


def load_items(
    path: str | Path | None = None,
    *,
    categories: Iterable[str] | None = None,
) -> list[ProbeItem]:
    """Load and validate a probe bank (default: the shipped one), optionally by category.

    Raises ``InputError`` naming file, line and field for the first bad line, and for a
    duplicate id; ``ConfigError`` for a category the bank does not have.
    """
    items: list[ProbeItem] = []
    seen: dict[str, str] = {}
    for file in bank_files(path):
        for lineno, obj in iter_json_lines(file):
            if isinstance(obj, InputError):
                raise obj
            try:
                item = ProbeItem.model_validate(obj)
            except ValidationError as exc:
                raise validation_error(exc, path=str(file), line=lineno) from None
            where = f"{file}:{lineno}"
            if item.id in seen:
                raise InputError(
                    f"duplicate id {item.id!r} (first at {seen[item.id]})",
                    path=str(file),
                    line=lineno,
                    field="id",
                )
            _check_item(item, path=str(file), line=lineno)
            seen[item.id] = where
            items.append(item)
    if categories is not None:
        wanted = list(categories)
        known = sorted({i.category for i in items})
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise ConfigError(
                f"unknown categor{'ies' if len(unknown) > 1 else 'y'} "
                f"{', '.join(unknown)}; the bank has: {', '.join(known)}"
            )
        items = [i for i in items if i.category in set(wanted)]
    return items


def bank_hash(items: Sequence[ProbeItem]) -> str:
    """A short hash of the items' content, order-independent (recorded in ``config.json``).

    >>> bank_hash([ProbeItem(id="a", category="x", question="q?", answer="b")])[:4].isalnum()
    True
    """
    blob = json.dumps(
        sorted((i.model_dump() for i in items), key=lambda d: d["id"]), sort_keys=True
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _rank(item_id: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


def select_items(
    items: Sequence[ProbeItem], *, limit: int | None = None, seed: int = 0
) -> list[ProbeItem]:
    """A deterministic subset of ``limit`` items, balanced across categories.

    Items are ordered by a seeded hash, then taken round-robin over categories, so a small limit
    still covers every category and the same seed always gives the same items.
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise ConfigError(f"limit must be at least 1, got {limit}")
    by_cat: dict[str, list[ProbeItem]] = {}
    for item in sorted(items, key=lambda i: _rank(i.id, seed)):
        by_cat.setdefault(item.category, []).append(item)
    queues = [by_cat[c] for c in sorted(by_cat)]
    out: list[ProbeItem] = []
    while len(out) < limit:
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def item_index(items: Iterable[ProbeItem]) -> dict[str, ProbeItem]:
    """Items by id."""
    return {i.id: i for i in items}
