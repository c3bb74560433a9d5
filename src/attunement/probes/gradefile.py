"""Grade answers someone else produced, and check the grader against their labels.

Input is JSONL or CSV with the columns ``question``, ``reference`` (or ``answer``), ``output``,
and optionally ``id``, ``aliases`` (a list, or ``|``-separated in CSV), ``false_belief`` (the
belief stated in the prompt) and ``label`` (a person's grade: correct, incorrect, evasive,
refused). Other columns are ignored. With labels, :func:`agreement` gives accuracy with a CI,
Cohen's kappa and the confusion table, so the grader can be trusted (or not) on your data.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, Field, ValidationError

from attunement.errors import InputError
from attunement.jsonl import iter_json_lines, validation_error
from attunement.stats import Estimate, bootstrap_mean, cohen_kappa
from attunement.types import Grade, GradedAnswer, ProbeItem

GRADES: tuple[str, ...] = get_args(Grade)
REQUIRED = ("question", "reference", "output")


class AnswerRow(BaseModel):
    """One answer to grade, with an optional human label."""

    id: str
    question: str
    reference: str
    aliases: list[str] = Field(default_factory=list)
    false_belief: str | None = None
    output: str
    label: Grade | None = None

    def item(self) -> ProbeItem:
        return ProbeItem(
            id=self.id,
            category="external",
            question=self.question,
            answer=self.reference,
            aliases=self.aliases,
            false_belief=self.false_belief,
            source="grade-file",
        )


def _clean(raw: dict[str, Any], lineno: int, path: str) -> dict[str, Any]:
    row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
    if "reference" not in row and "answer" in row:
        row["reference"] = row.pop("answer")
    for col in REQUIRED:
        if row.get(col) in (None, ""):
            raise InputError("missing or empty", path=path, line=lineno, field=col)
    aliases = row.get("aliases")
    if isinstance(aliases, str):
        row["aliases"] = [a.strip() for a in aliases.split("|") if a.strip()]
    elif aliases is None:
        row["aliases"] = []
    for opt in ("false_belief", "label"):
        value = row.get(opt)
        if isinstance(value, str):
            value = value.strip() or None
        row[opt] = value.lower() if (opt == "label" and isinstance(value, str)) else value
    if row["label"] is not None and row["label"] not in GRADES:
        raise InputError(
            f"{row['label']!r} is not one of {', '.join(GRADES)}",
            path=path,
            line=lineno,
            field="label",
        )
    row["id"] = str(row.get("id") or f"row-{lineno}")
    keep = set(AnswerRow.model_fields)
    return {k: v for k, v in row.items() if k in keep}


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    with fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "answer" in header and "reference" not in header:
            header.append("reference")
        for col in REQUIRED:
            if col not in header:
                raise InputError("missing column", path=str(path), line=1, field=col)
        try:
            for row in reader:
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"bad CSV: {exc}", path=str(path), line=reader.line_num) from None


def read_answers(path: str | Path) -> list[AnswerRow]:
    """Load an answers file (``.csv``, else JSONL); one-line errors with file, line, field."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", path=str(p))
    rows: list[AnswerRow] = []
    source = _csv_rows(p) if p.suffix.lower() == ".csv" else iter_json_lines(p)
    for lineno, raw in source:
        if isinstance(raw, InputError):
            raise raw
        try:
            rows.append(AnswerRow.model_validate(_clean(raw, lineno, str(p))))
        except ValidationError as exc:
            raise validation_error(exc, path=str(p), line=lineno) from None
    if not rows:
        raise InputError("no answers in the file", path=str(p))
    return rows


async def agrade_rows(
    rows: Sequence[AnswerRow], *, grader: str | None = None
) -> list[GradedAnswer]:
    """Grade rows by the rules, or with a grader model spec (rules as the recorded fallback)."""
    from attunement.probes.grading import grade_answer

    if grader is None:
        return [grade_answer(r.item(), r.output, r.false_belief) for r in rows]
    from attunement.backends import load_backend
    from attunement.probes.llm_grader import LLMGrader

    llm = LLMGrader(load_backend(grader))
    try:
        return list(
            await asyncio.gather(*(llm.grade(r.item(), r.output, r.false_belief) for r in rows))
        )
    finally:
        await llm.backend.aclose()


def grade_file(path: str | Path, *, grader: str | None = None) -> list[GradedAnswer]:
    """Grade every answer of a JSONL or CSV file (see module docstring for the columns)."""
    return asyncio.run(agrade_rows(read_answers(path), grader=grader))


class Agreement(BaseModel):
    """How the grader's grades compare with people's labels."""

    n: int
    accuracy: Estimate
    kappa: float | None
    confusion: dict[str, dict[str, int]] = Field(description="label -> grader's grade -> count")


def agreement(rows: Sequence[AnswerRow], graded: Sequence[GradedAnswer]) -> Agreement | None:
    """Agreement on the labelled rows (None when no row has a label)."""
    pairs = [(r.label, str(g.grade)) for r, g in zip(rows, graded, strict=True) if r.label]
    if not pairs:
        return None
    confusion: dict[str, dict[str, int]] = {}
    for label, got in pairs:
        confusion.setdefault(label, {}).setdefault(got, 0)
        confusion[label][got] += 1
    return Agreement(
        n=len(pairs),
        accuracy=bootstrap_mean([float(x == y) for x, y in pairs]),
        kappa=cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs]),
        confusion=confusion,
    )
