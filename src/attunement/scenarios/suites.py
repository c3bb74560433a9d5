"""Named suites of scenarios, selection by name, need, tag, domain or id, and the bank hash.

``select_suite(scenarios, "core")`` gives the balanced core set; a comma list is a union
(``"disclosure,clarify"``); a name that is not a suite is tried as a need, then a tag, a
domain, and a scenario id. The hash of the selected bank goes into each run's config, so a
result always says which scenarios produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from attunement.errors import ConfigError
from attunement.types import NEEDS, Scenario


@dataclass(frozen=True)
class Suite:
    """A named selection of scenarios."""

    name: str
    description: str
    select: Callable[[Scenario], bool]


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("all", "every scenario of the bank", lambda s: True),
        Suite(
            "core",
            "a balanced subset across the seven needs (scenarios tagged 'core'); the default",
            lambda s: "core" in s.tags,
        ),
        Suite(
            "disclosure",
            "openings that mix an emotional disclosure with a task (tag 'disclosure')",
            lambda s: "disclosure" in s.tags,
        ),
        Suite(
            "ambiguity",
            "ambiguous requests (asking is right) beside clear tasks (asking is a waste)",
            lambda s: s.need in ("clarify", "clear_task") or "ambiguity" in s.tags,
        ),
        Suite(
            "grounding",
            "where asking pays: ambiguous requests, and facts only a pointed question uncovers "
            "(not volunteered) or that generic advice collides with ('I already tried that')",
            lambda s: (
                s.need == "clarify"
                or "grounding" in s.tags
                or any(f.tried or not f.volunteer for f in s.hidden_facts)
            ),
        ),
    )
}


def list_suites(scenarios: list[Scenario] | None = None) -> list[dict[str, object]]:
    """Suite names and descriptions (with counts when ``scenarios`` is given)."""
    rows: list[dict[str, object]] = []
    for s in SUITES.values():
        row: dict[str, object] = {"name": s.name, "description": s.description}
        if scenarios is not None:
            row["count"] = sum(1 for sc in scenarios if s.select(sc))
        rows.append(row)
    return rows


def _matcher(name: str, scenarios: list[Scenario]) -> Callable[[Scenario], bool]:
    if name in SUITES:
        return SUITES[name].select
    if name in NEEDS:
        return lambda s: s.need == name
    if any(name in s.tags for s in scenarios):
        return lambda s: name in s.tags
    if any(s.domain == name for s in scenarios):
        return lambda s: s.domain == name
    if any(s.id == name for s in scenarios):
        return lambda s: s.id == name
    tags = sorted({t for s in scenarios for t in s.tags})
    raise ConfigError(
        f"unknown suite {name!r}: use one of {sorted(SUITES)}, a need {list(NEEDS)}, "
        f"a tag ({', '.join(tags[:12])}{' ...' if len(tags) > 12 else ''}), a domain, "
        "or a scenario id"
    )


def select_suite(scenarios: list[Scenario], name: str) -> list[Scenario]:
    """The scenarios of suite ``name`` (a suite, need, tag, domain, id, or a comma list).

    Raises:
        ConfigError: an unknown name, or a selection with no scenario in it.

    >>> from attunement.scenarios.loader import load_scenarios
    >>> bank = load_scenarios()
    >>> {s.need for s in select_suite(bank, "clarify")}
    {'clarify'}
    """
    parts = [p.strip() for p in name.split(",") if p.strip()]
    if not parts:
        raise ConfigError("empty suite name")
    matchers = [_matcher(p, scenarios) for p in parts]
    chosen = [s for s in scenarios if any(m(s) for m in matchers)]
    if not chosen:
        raise ConfigError(f"suite {name!r} selects no scenarios")
    return chosen


def bank_hash(scenarios: list[Scenario]) -> str:
    """sha256 of the scenarios' canonical JSON (sorted by id): which bank produced a run."""
    payload = [s.model_dump(mode="json") for s in sorted(scenarios, key=lambda s: s.id)]
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
