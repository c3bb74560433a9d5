"""JSON-lines read and write with validation, error locations, and a lenient mode.

A malformed line raises one ``InputError`` naming the file, the line number and the field; with
``lenient=True`` the good lines load and the bad ones are listed in ``LoadResult.skipped``.
Appends are flushed and fsynced line by line, so a killed run loses nothing already written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from attunement.errors import InputError

M = TypeVar("M", bound=BaseModel)


@dataclass
class LoadResult(Generic[M]):
    """Items that loaded, and the errors of the lines that were skipped (lenient mode)."""

    items: list[M] = field(default_factory=list)
    skipped: list[InputError] = field(default_factory=list)


def validation_error(err: ValidationError, *, path: str, line: int | None) -> InputError:
    """Turn pydantic's error into one line: the first failing field and why."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or None
    msg = first.get("msg", "invalid value")
    n = len(err.errors())
    more = f" (and {n - 1} more problem{'s' if n > 2 else ''})" if n > 1 else ""
    return InputError(msg + more, path=path, line=line, field=loc)


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, dict | InputError]]:
    """Yield (line number, parsed object or the error for that line); blank lines are skipped."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(p)) from None
    for lineno, chunk in enumerate(raw.split(b"\n"), start=1):
        if not chunk.strip():
            continue
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, InputError(f"invalid UTF-8 at byte {exc.start}", path=str(p), line=lineno)
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield lineno, InputError(f"not valid JSON ({exc.msg})", path=str(p), line=lineno)
            continue
        if not isinstance(obj, dict):
            yield lineno, InputError("expected a JSON object", path=str(p), line=lineno)
            continue
        yield lineno, obj


def read_jsonl(path: str | Path, model: type[M], *, lenient: bool = False) -> LoadResult[M]:
    """Load every line of ``path`` as ``model``; strict by default (first bad line raises)."""
    result: LoadResult[M] = LoadResult()
    for lineno, obj in iter_json_lines(path):
        if isinstance(obj, InputError):
            err = obj
        else:
            try:
                result.items.append(model.model_validate(obj))
                continue
            except ValidationError as exc:
                err = validation_error(exc, path=str(path), line=lineno)
        if not lenient:
            raise err
        result.skipped.append(err)
    return result


def write_jsonl(path: str | Path, items: Iterable[BaseModel]) -> int:
    """Write items, one per line, replacing the file atomically. Returns the count."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(item.model_dump_json() + "\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(p)
    return n


class JsonlAppender:
    """Append one model per line, flushed and fsynced, so a kill loses nothing written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def append(self, item: BaseModel) -> None:
        self._fh.write(item.model_dump_json() + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
