"""Read transcripts to code: the project's JSONL, OpenAI chat JSONL, ESConv JSON, AnnoMI and
BOLT CSV. Everything becomes ``Conversation``; human labels of the source are kept in the turn
metadata (``gold_strategy``, ``gold_behaviour``, ``gold_labels``) so the coder can be checked.

Bad input never raises a traceback: in strict mode the first problem raises one ``InputError``
(file, line, field, why); with ``lenient=True`` good lines load and the problems are returned.
An empty turn is kept (so turn numbers stay those of the source) but marked with ``error`` and
not coded. A turn longer than ``MAX_TURN_CHARS`` is truncated to that many characters and its
metadata says so (``truncated_from``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from attunement.errors import InputError
from attunement.jsonl import iter_json_lines, validation_error
from attunement.types import Conversation, Role, Turn

TranscriptFormat = Literal["auto", "jsonl", "esconv", "annomi", "bolt", "openai"]
FORMATS: tuple[str, ...] = ("auto", "jsonl", "esconv", "annomi", "bolt", "openai")
MAX_TURN_CHARS = 20_000

ROLE_ALIASES: dict[str, Role] = {
    "user": "user",
    "seeker": "user",
    "usr": "user",
    "client": "user",
    "human": "user",
    "patient": "user",
    "speaker": "user",
    "assistant": "assistant",
    "supporter": "assistant",
    "sys": "assistant",
    "system_bot": "assistant",
    "therapist": "assistant",
    "counselor": "assistant",
    "counsellor": "assistant",
    "bot": "assistant",
    "gpt": "assistant",
    "listener": "assistant",
    "model": "assistant",
    "system": "system",
}
ANNOMI_COLUMNS = ("transcript_id", "utterance_id", "interlocutor", "utterance_text")
BOLT_COLUMNS = ("prompt", "completion")
_FIRST_KEY = re.compile(r'"(dialog|messages|turns)"\s*:')
_KEY_FORMAT = {"dialog": "esconv", "messages": "openai", "turns": "jsonl"}
_BOLT_SEPARATORS = ("\n\n###\n\n", "\n\n###", "###", "->")


class Transcripts(NamedTuple):
    """What a loader returns: the conversations, the format used, the problems skipped."""

    conversations: list[Conversation]
    format: str
    skipped: list[InputError]


def normalise_role(name: str) -> Role | None:
    """The project role of a source speaker name, or None when it is not known.

    >>> normalise_role("Supporter"), normalise_role("usr"), normalise_role("narrator")
    ('assistant', 'user', None)
    """
    return ROLE_ALIASES.get(str(name).strip().lower())


class _Problems:
    """Collects problems: raises the first one in strict mode."""

    def __init__(self, lenient: bool) -> None:
        self.lenient = lenient
        self.items: list[InputError] = []

    def add(self, err: InputError) -> None:
        if not self.lenient:
            raise err
        self.items.append(err)


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    if not raw.strip():
        raise InputError("file is empty", path=str(path))
    return raw


def _decode(raw: bytes, path: Path, problems: _Problems) -> str:
    """UTF-8 text; lines with invalid bytes are reported and blanked (line numbers kept)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = []
    for lineno, chunk in enumerate(raw.split(b"\n"), 1):
        try:
            lines.append(chunk.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problems.add(
                InputError(f"invalid UTF-8 at byte {exc.start}", path=str(path), line=lineno)
            )
            lines.append("")
    return "\n".join(lines).lstrip("\ufeff")


def _make_turn(
    index: int,
    role: Role,
    content: Any,
    *,
    where: dict[str, Any],
    problems: _Problems,
    metadata: dict[str, Any] | None = None,
) -> Turn:
    """A turn with the checks every format shares (type, empty, too long)."""
    meta = dict(metadata or {})
    error = None
    if not isinstance(content, str):
        problems.add(InputError(f"expected text, got {type(content).__name__}", **where))
        content, error = "", "not text"
    elif not content.strip():
        problems.add(InputError("empty turn", **where))
        error = "empty turn"
    elif len(content) > MAX_TURN_CHARS:
        meta["truncated_from"] = len(content)
        content = content[:MAX_TURN_CHARS]
    return Turn(index=index, role=role, content=content, error=error, metadata=meta)


# --------------------------------------------------------------------------- JSONL formats
def _read_jsonl(path: Path, kind: str, problems: _Problems) -> list[Conversation]:
    out: list[Conversation] = []
    for lineno, obj in iter_json_lines(path):
        if isinstance(obj, InputError):
            problems.add(obj)
            continue
        try:
            if kind == "jsonl":
                conv = _conversation_line(obj, path, lineno, problems)
            elif kind == "openai":
                conv = _openai_line(obj, path, lineno, problems)
            else:
                conv = _esconv_dialog(obj, f"esconv-{lineno}", path, lineno, problems)
        except InputError as err:
            problems.add(err)
            continue
        if conv is not None:
            out.append(conv)
    return out


def _conversation_line(obj: dict, path: Path, lineno: int, problems: _Problems) -> Conversation:
    try:
        conv = Conversation.model_validate(obj)
    except ValidationError as exc:
        raise validation_error(exc, path=str(path), line=lineno) from None
    for i, turn in enumerate(conv.turns):
        content = turn.content
        if content.strip() and len(content) <= MAX_TURN_CHARS:
            continue  # the common case: nothing to check further
        where = {"path": str(path), "line": lineno, "field": f"turns.{i}.content"}
        checked = _make_turn(turn.index, turn.role, content, where=where, problems=problems,
                             metadata=turn.metadata)  # fmt: skip
        turn.content, turn.error, turn.metadata = checked.content, checked.error, checked.metadata
    return conv


def _openai_line(obj: dict, path: Path, lineno: int, problems: _Problems) -> Conversation:
    msgs = obj.get("messages")
    if not isinstance(msgs, list):
        raise InputError(
            "expected a list of messages", path=str(path), line=lineno, field="messages"
        )
    turns = []
    for i, msg in enumerate(msgs):
        where = {"path": str(path), "line": lineno, "field": f"messages.{i}"}
        if not isinstance(msg, dict) or "role" not in msg:
            raise InputError("expected an object with 'role' and 'content'", **where)
        role = normalise_role(msg["role"])
        if role is None:
            if msg["role"] in ("tool", "function", "developer"):
                continue
            raise InputError(
                f"unknown role {msg['role']!r}", **{**where, "field": f"messages.{i}.role"}
            )
        content = msg.get("content")
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        where["field"] = f"messages.{i}.content"
        turns.append(
            _make_turn(
                len(turns),
                role,
                content,
                where=where,
                problems=problems,
                metadata={"source_role": msg["role"]},
            )
        )
    cid = str(obj.get("id") or f"line-{lineno}")
    return Conversation(id=cid, turns=turns, metadata={"source": "openai", "line": lineno})


# --------------------------------------------------------------------------- ESConv
def _esconv_dialog(
    obj: Any, default_id: str, path: Path, line: int | None, problems: _Problems, item: str = ""
) -> Conversation:
    where0 = {"path": str(path), "line": line}
    if not isinstance(obj, dict) or not isinstance(obj.get("dialog"), list):
        raise InputError(
            "expected an ESConv dialog with a 'dialog' list", **where0, field=item + "dialog"
        )
    turns = []
    for i, utt in enumerate(obj["dialog"]):
        where = {**where0, "field": f"{item}dialog.{i}"}
        if not isinstance(utt, dict):
            raise InputError("expected an object", **where)
        speaker = utt.get("speaker")
        role = normalise_role(speaker) if isinstance(speaker, str) else None
        if role is None:
            raise InputError(
                f"unknown speaker {speaker!r}", **{**where, "field": where["field"] + ".speaker"}
            )
        content = utt.get("content", utt.get("text"))
        ann = utt.get("annotation") if isinstance(utt.get("annotation"), dict) else {}
        meta: dict[str, Any] = {"source_role": speaker}
        strategy = ann.get("strategy", utt.get("strategy"))
        feedback = ann.get("feedback", utt.get("rating", utt.get("feedback")))
        if strategy:
            meta["gold_strategy"] = strategy
        if feedback not in (None, ""):
            meta["feedback"] = feedback
        where["field"] += ".content" if "content" in utt else ".text"
        turns.append(_make_turn(i, role, content, where=where, problems=problems, metadata=meta))
    keep = (
        "emotion_type",
        "problem_type",
        "situation",
        "experience_type",
        "survey_score",
        "seeker_question1",
        "seeker_question2",
    )
    meta = {k: obj[k] for k in keep if k in obj}
    meta["source"] = "esconv"
    cid = str(obj.get("id", obj.get("dialog_id", default_id)))
    return Conversation(id=cid, domain=obj.get("problem_type"), turns=turns, metadata=meta)


def _read_esconv(path: Path, text: str, problems: _Problems) -> list[Conversation]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON ({exc.msg}, column {exc.colno})", path=str(path), line=exc.lineno
        ) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError("expected a JSON list of ESConv dialogs", path=str(path))
    out = []
    for i, obj in enumerate(data):
        try:
            out.append(_esconv_dialog(obj, f"esconv-{i}", path, None, problems, item=f"{i}."))
        except InputError as err:
            problems.add(err)
    return out


# --------------------------------------------------------------------------- detection
def detect_format(path: str | Path, text: str | None = None) -> str:
    """Guess the format from the extension and the first record.

    Raises InputError when nothing fits, naming what was seen.
    """
    p = Path(path)
    if text is None:
        text = _read_bytes(p)[:65536].decode("utf-8", errors="replace")
    head = text.lstrip("\ufeff \t\r\n")
    first_line = head.split("\n", 1)[0]
    if p.suffix.lower() in (".csv", ".tsv") or (
        not head.startswith(("{", "[")) and "," in first_line
    ):
        cols = {c.strip().strip('"') for c in first_line.split(",")}
        if set(ANNOMI_COLUMNS) <= cols:
            return "annomi"
        if set(BOLT_COLUMNS) <= cols:
            return "bolt"
        raise InputError(
            f"a CSV that is neither AnnoMI nor BOLT (columns {sorted(cols)[:8]})",
            path=str(p),
            line=1,
        )
    if head.startswith("["):
        return "esconv"
    if head.startswith("{"):
        for line in head.split("\n"):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                key = _FIRST_KEY.search(line[:4000])  # a line longer than the sniffed head
                if key:
                    return _KEY_FORMAT[key.group(1)]
                if p.suffix.lower() == ".json":
                    return "esconv"
                continue
            if isinstance(obj, dict):
                if "dialog" in obj:
                    return "esconv"
                if "messages" in obj:
                    return "openai"
                if "turns" in obj:
                    return "jsonl"
            break
    raise InputError(
        "unknown transcript format (expected conversation JSONL, OpenAI chat "
        "JSONL, ESConv JSON, AnnoMI or BOLT CSV); name it with --format",
        path=str(p),
    )


def read_transcripts(
    path: str | Path, format: TranscriptFormat = "auto", *, lenient: bool = False
) -> Transcripts:
    """Load transcripts in any supported format (``auto`` detects it).

    Returns (conversations, format chosen, problems skipped). Strict by default: the first
    problem raises InputError; ``lenient=True`` keeps going and returns the problems.
    """
    p = Path(path)
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    raw = _read_bytes(p)
    problems = _Problems(lenient)
    chosen = (
        format if format != "auto" else detect_format(p, raw[:65536].decode("utf-8", "replace"))
    )
    if chosen in ("jsonl", "openai") or (
        chosen == "esconv" and raw.lstrip().startswith(b"{") and p.suffix.lower() == ".jsonl"
    ):
        convs = _read_jsonl(p, chosen, problems)
    else:
        text = _decode(raw, p, problems)
        from attunement.coding.loaders_csv import read_annomi, read_bolt

        reader = {"esconv": _read_esconv, "annomi": read_annomi, "bolt": read_bolt}[chosen]
        convs = reader(p, text, problems)
    if not convs and not problems.items:
        raise InputError(f"no conversations found (read as {chosen})", path=str(p))
    return Transcripts(convs, chosen, problems.items)
