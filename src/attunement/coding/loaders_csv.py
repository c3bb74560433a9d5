"""The CSV transcript formats: AnnoMI (one row per utterance) and BOLT (one row per label).

Used by :func:`attunement.coding.loaders.read_transcripts`; the checks every format shares
(empty and over-long turns, problems in strict or lenient mode) live there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from attunement.coding.loaders import (
    _BOLT_SEPARATORS,
    ANNOMI_COLUMNS,
    BOLT_COLUMNS,
    _make_turn,
    _Problems,
    normalise_role,
)
from attunement.errors import InputError
from attunement.types import Conversation, Turn


def _csv_rows(
    path: Path, text: str, need: tuple[str, ...], name: str, problems: _Problems
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    """(column -> index, the non-blank rows with their line numbers); rows with fewer cells
    than the header are reported to ``problems`` as they come and skipped."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise InputError(f"cannot read a CSV header ({exc})", path=str(path), line=1) from None
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError(
            f"not {name}: missing column(s) {missing}; found {header[:8]}", path=str(path), line=1
        )
    rows = []
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputError(f"bad CSV ({exc})", path=str(path), line=reader.line_num) from None
    return {h: i for i, h in enumerate(header)}, _complete(rows, len(header), path, problems)


def _complete(
    rows: list[tuple[int, list[str]]], width: int, path: Path, problems: _Problems
) -> Iterator[tuple[int, list[str]]]:
    for lineno, row in rows:
        if len(row) < width:
            msg = f"{len(row)} columns, expected {width}"
            problems.add(InputError(msg, path=str(path), line=lineno))
            continue
        yield lineno, row


def _cell(row: list[str], col: dict[str, int], name: str) -> str:
    return row[col[name]].strip() if name in col else ""


def read_annomi(path: Path, text: str, problems: _Problems) -> list[Conversation]:
    col, rows = _csv_rows(path, text, ANNOMI_COLUMNS, "AnnoMI CSV", problems)
    convs: dict[str, Conversation] = {}
    order: dict[str, list[tuple[float, Turn]]] = {}
    for lineno, row in rows:
        get = partial(_cell, row, col)
        where = {"path": str(path), "line": lineno, "field": "interlocutor"}
        role = normalise_role(get("interlocutor"))
        if role is None:
            problems.add(InputError(f"unknown interlocutor {get('interlocutor')!r}", **where))
            continue
        tid = get("transcript_id")
        try:
            uid = float(get("utterance_id"))
        except ValueError:
            problems.add(InputError("not a number", **{**where, "field": "utterance_id"}))
            continue
        meta = {"source_role": get("interlocutor"), "line": lineno}
        for src, dst in (
            ("main_therapist_behaviour", "gold_behaviour"),
            ("client_talk_type", "gold_talk_type"),
        ):
            if get(src) and get(src).lower() not in ("n/a", "nan", ""):
                meta[dst] = get(src)
        where["field"] = "utterance_text"
        turn = _make_turn(
            0, role, row[col["utterance_text"]], where=where, problems=problems, metadata=meta
        )
        if tid not in convs:
            quality = get("mi_quality")
            convs[tid] = Conversation(
                id=f"annomi-{tid}", metadata={"source": "annomi", "mi_quality": quality or None}
            )
            order[tid] = []
        order[tid].append((uid, turn))
    for tid, conv in convs.items():
        for i, (_, turn) in enumerate(sorted(order[tid], key=lambda x: x[0])):
            turn.index = i
            conv.turns.append(turn)
    return list(convs.values())


def read_bolt(path: Path, text: str, problems: _Problems) -> list[Conversation]:
    col, rows = _csv_rows(path, text, BOLT_COLUMNS, "BOLT CSV", problems)
    by_text: dict[str, Conversation] = {}
    for lineno, row in rows:
        prompt = row[col["prompt"]]
        for sep in _BOLT_SEPARATORS:
            if prompt.rstrip().endswith(sep.strip()):
                prompt = prompt.rstrip()[: -len(sep.strip())]
                break
        label = row[col["completion"]].strip().removesuffix("END").strip()
        key = prompt.strip()
        if key in by_text:
            by_text[key].turns[0].metadata["gold_labels"].append(label)
            continue
        where = {"path": str(path), "line": lineno, "field": "prompt"}
        turn = _make_turn(
            0,
            "assistant",
            key,
            where=where,
            problems=problems,
            metadata={"source_role": "therapist", "gold_labels": [label], "line": lineno},
        )
        by_text[key] = Conversation(id=f"bolt-{lineno}", turns=[turn], metadata={"source": "bolt"})
    return list(by_text.values())
