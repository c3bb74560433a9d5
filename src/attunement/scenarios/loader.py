"""Load scenarios from YAML or JSON-lines files; errors name the file, line, scenario and field.

A YAML file holds either a list of scenarios or a mapping with any of:

- ``personas``: name -> persona, so scenarios can say ``persona: maya`` instead of repeating it
  (personas from every file of a directory are shared; a single file also sees a
  ``personas.yaml`` beside it);
- ``defaults``: fields applied to every scenario of the file unless it sets them (``tags`` are
  added to the scenario's own);
- ``scenarios``: the list.

A ``.jsonl`` file holds one full scenario per line. YAML is read with a safe loader only
(``yaml.CSafeLoader`` when libyaml is built, else ``yaml.SafeLoader``, as ``yaml.safe_load``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from attunement.errors import InputError
from attunement.jsonl import iter_json_lines
from attunement.simulate.replies import Reaction
from attunement.types import Persona, Scenario

BANK_DIR = Path(__file__).parent / "bank"
SUFFIXES = (".yaml", ".yml", ".jsonl")
REACTIONS: frozenset[str] = frozenset(get_args(Reaction))
# libyaml's safe loader when present (about 10x faster); same safety as yaml.safe_load.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_scenarios(path: str | Path | None = None) -> list[Scenario]:
    """Scenarios from a file or a directory (default: the project's own bank).

    Raises:
        InputError: a missing file, bad YAML/JSON, an unknown persona, an invalid field, or a
            duplicate id; the message names the file, line, scenario and field.

    >>> len(load_scenarios()) >= 120
    True
    """
    root = Path(path) if path is not None else BANK_DIR
    if not root.exists():
        raise InputError("no such file or directory", path=str(root))
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"no scenario files ({', '.join(SUFFIXES)}) here", path=str(root))
    else:
        files = [root]
    docs = {p: _read_yaml(p) for p in files if p.suffix != ".jsonl"}
    personas: dict[str, Persona] = {}
    if not root.is_dir() and root.suffix != ".jsonl":
        sibling = root.parent / "personas.yaml"
        if sibling.exists() and sibling != root:
            personas.update(_personas(sibling, _read_yaml(sibling)))
    for p, doc in docs.items():
        personas.update(_personas(p, doc))

    out: list[Scenario] = []
    where: dict[str, str] = {}
    for p in files:
        items = _jsonl_items(p) if p.suffix == ".jsonl" else _yaml_items(p, docs[p])
        for index, line, raw in items:
            sc = _build(p, index, line, raw, personas, docs.get(p))
            if sc.id in where:
                keys = ["scenarios", index] if isinstance(docs.get(p), dict) else [index]
                raise InputError(
                    f"duplicate scenario id {sc.id!r} (first in {where[sc.id]})",
                    path=str(p),
                    line=line or _line_of(p, keys),
                    field=f"scenarios[{index}] ({sc.id}).id",
                )
            where[sc.id] = str(p)
            out.append(sc)
    return out


# ----------------------------------------------------------------------------- reading
def _read_yaml(p: Path) -> Any:
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=str(p)) from None
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a SafeLoader, C or Python
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", path=str(p), line=line) from None


def _personas(p: Path, doc: Any) -> dict[str, Persona]:
    if not isinstance(doc, dict) or "personas" not in doc:
        return {}
    block = doc["personas"]
    if not isinstance(block, dict):
        raise InputError("expected a mapping name -> persona", path=str(p), field="personas")
    out = {}
    for key, value in block.items():
        data = {"name": str(key), **value} if isinstance(value, dict) else value
        try:
            out[str(key)] = Persona.model_validate(data)
        except ValidationError as exc:
            loc = ".".join(str(x) for x in exc.errors()[0]["loc"])
            raise InputError(
                exc.errors()[0]["msg"],
                path=str(p),
                line=_line_of(p, ["personas", key]),
                field=f"personas.{key}" + (f".{loc}" if loc else ""),
            ) from None
    return out


def _yaml_items(p: Path, doc: Any) -> list[tuple[int, int | None, Any]]:
    if doc is None:
        return []
    if isinstance(doc, dict):
        unknown = set(doc) - {"personas", "defaults", "scenarios"}
        if unknown:
            raise InputError(
                f"unknown top-level key(s) {sorted(unknown)}; expected personas, defaults, "
                "scenarios",
                path=str(p),
                field=sorted(unknown)[0],
            )
        items = doc.get("scenarios", [])
    else:
        items = doc
    if not isinstance(items, list):
        raise InputError("expected a list of scenarios", path=str(p), field="scenarios")
    # Lines are looked up only when something is wrong (composing YAML is slow).
    return [(i, None, raw) for i, raw in enumerate(items)]


def _jsonl_items(p: Path) -> list[tuple[int, int | None, Any]]:
    out = []
    for i, (line, obj) in enumerate(iter_json_lines(p)):
        if isinstance(obj, InputError):
            raise obj
        out.append((i, line, obj))
    return out


# ----------------------------------------------------------------------------- building
def _build(
    p: Path,
    index: int,
    line: int | None,
    raw: Any,
    personas: dict[str, Persona],
    doc: Any,
) -> Scenario:
    label = f"scenarios[{index}]"

    prefix: list[Any] = ["scenarios", index] if isinstance(doc, dict) else [index]

    def fail(msg: str, fld: str, keys: list[Any] | None = None) -> InputError:
        at = line
        if p.suffix != ".jsonl":  # the deepest node that exists, else the scenario's line
            at = _line_of(p, [*prefix, *(keys or [])]) or line
        return InputError(msg, path=str(p), line=at, field=f"{label}.{fld}")

    if not isinstance(raw, dict):
        raise fail("expected a mapping (one scenario)", "(scenario)")
    if isinstance(raw.get("id"), str):
        label = f"scenarios[{index}] ({raw['id']})"
    data = dict(raw)
    defaults = (doc.get("defaults") if isinstance(doc, dict) else None) or {}
    if not isinstance(defaults, dict):
        raise InputError("expected a mapping of field -> value", path=str(p), field="defaults")
    for key, value in defaults.items():
        own = data.get("tags", [])
        if key == "tags" and isinstance(value, list) and isinstance(own, list):
            data["tags"] = [*own, *[t for t in value if t not in own]]
        else:
            data.setdefault(key, value)
    persona = data.get("persona")
    if isinstance(persona, str):
        if persona not in personas:
            raise fail(f"unknown persona {persona!r} (define it under 'personas')", "persona")
        data["persona"] = personas[persona]
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [x for x in first.get("loc", ())]
        n = len(exc.errors())
        more = f" (and {n - 1} more problem{'s' if n > 2 else ''})" if n > 1 else ""
        fld = ".".join(str(x) for x in loc) or "(scenario)"
        raise fail(first.get("msg", "invalid value") + more, fld, loc) from None
    bad = sorted(set(sc.replies) - REACTIONS)
    if bad:
        raise fail(f"unknown reaction(s) {bad}; known: {sorted(REACTIONS)}", "replies")
    fact_ids = [f.id for f in sc.hidden_facts]
    if len(set(fact_ids)) != len(fact_ids):
        raise fail("hidden fact ids must be unique within a scenario", "hidden_facts")
    return sc


def _line_of(p: Path, keys: list[Any] | None) -> int | None:
    """1-based line of the YAML node at ``keys`` (best effort; only used on the error path)."""
    if not keys:
        return None
    try:
        node = yaml.compose(p.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    found = node
    for key in keys:
        if isinstance(found, yaml.MappingNode):
            nxt = next((v for k, v in found.value if k.value == str(key)), None)
        elif isinstance(found, yaml.SequenceNode) and isinstance(key, int):
            nxt = found.value[key] if key < len(found.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        found = nxt
    return found.start_mark.line + 1 if found is not None else None
