"""What the structural user sees of one assistant turn: a small, frozen feature record.

The rule table (:mod:`attunement.simulate.rules`) is evaluated over these features, never over
raw text, so every rule is a pure function of (need, acts, timing, history). Cue matching is the
only text work: each scenario's cues are compiled once (:class:`CompiledScenario`) and matched
against the text of the spans that carry the relevant acts (questions and reflections for
facts, advice for fit and for "I already tried that").

Cues are lowercase words or phrases matched case-insensitively from the start of a word, so a
stem like ``manag`` matches "manager" and "managing".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from attunement.coding.taxonomy import GROUP_ACTS, Act
from attunement.types import CodedUtterance, Need, Scenario

EXPLORE_ACTS: frozenset[Act] = frozenset(GROUP_ACTS["EXPLORE"])
REFLECT_ACTS: frozenset[Act] = frozenset(("reflect_feeling", "reflect_content", "validate"))
SOLVE_ACTS: frozenset[Act] = frozenset(GROUP_ACTS["SOLVE"])
# Showing or seeking understanding (ESConv: "a question or reflection"); a bare "I see"
# (acknowledge) or "may I suggest" (ask_permission) is not understanding.
UNDERSTANDING_ACTS: frozenset[Act] = frozenset(
    ("reflect_feeling", "reflect_content", "validate", "ask_open", "ask_clarify", "ask_need",
     "checkin")
)  # fmt: skip
INVITE_ACTS: frozenset[Act] = frozenset(("ask_open", "checkin", "ask_need"))
PERMISSION_ACTS: frozenset[Act] = frozenset(("ask_permission", "ask_need"))
_WORD = re.compile(r"[a-z0-9']+")


def compile_cues(cues: list[str] | tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any cue from the start of a word (None if none).

    Memoised on the cues, so a bank is compiled once per process, not once per dialogue.

    >>> compile_cues(["manag", "talked to"]).search("have you talked to hr?") is not None
    True
    """
    return _compile(tuple(cues))


@lru_cache(maxsize=8192)
def _compile(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted({c.strip().lower() for c in cues if c.strip()}, key=lambda c: (-len(c), c))
    if not cleaned:
        return None
    alts = "|".join(re.escape(c) for c in cleaned)
    # Matched against lowercased text (no IGNORECASE: about twice as fast).
    return re.compile(rf"(?<![a-z0-9])(?:{alts})")


def _hits(pattern: re.Pattern[str] | None, text: str) -> bool:
    """``text`` must already be lowercase."""
    return bool(text) and pattern is not None and pattern.search(text) is not None


@dataclass(frozen=True)
class CompiledScenario:
    """A scenario's cue patterns, compiled once per session (cheap per turn)."""

    need: Need
    traits: frozenset[str]
    fact_ids: tuple[str, ...]
    fact_cues: tuple[re.Pattern[str] | None, ...]
    fact_tried: tuple[re.Pattern[str] | None, ...]
    volunteer: tuple[bool, ...]
    fitting: re.Pattern[str] | None
    answer: re.Pattern[str] | None
    meant: re.Pattern[str] | None
    other_readings: re.Pattern[str] | None
    any_reading: re.Pattern[str] | None

    @classmethod
    def of(cls, scenario: Scenario) -> CompiledScenario:
        """Compiled once per scenario object (held, so its ``id`` cannot be reused)."""
        hit = _SCENARIO_CACHE.get(id(scenario))
        if hit is not None and hit[0] is scenario:
            return hit[1]
        if len(_SCENARIO_CACHE) >= _CACHE_SIZE:
            _SCENARIO_CACHE.clear()
        compiled = cls._build(scenario)
        _SCENARIO_CACHE[id(scenario)] = (scenario, compiled)
        return compiled

    @classmethod
    def _build(cls, scenario: Scenario) -> CompiledScenario:
        meant = [r for r in scenario.readings if r.id == scenario.meant]
        others = [r for r in scenario.readings if r.id != scenario.meant]
        return cls(
            need=scenario.need,
            traits=frozenset(scenario.persona.traits),
            fact_ids=tuple(f.id for f in scenario.hidden_facts),
            fact_cues=tuple(compile_cues(f.cues) for f in scenario.hidden_facts),
            fact_tried=tuple(compile_cues(f.tried) for f in scenario.hidden_facts),
            volunteer=tuple(f.volunteer for f in scenario.hidden_facts),
            fitting=compile_cues(scenario.fitting_cues),
            answer=compile_cues(scenario.answer_cues),
            meant=compile_cues([c for r in meant for c in r.cues]),
            other_readings=compile_cues([c for r in others for c in r.cues]),
            any_reading=compile_cues([c for r in scenario.readings for c in r.cues]),
        )


_CACHE_SIZE = 4096
_SCENARIO_CACHE: dict[int, tuple[Scenario, CompiledScenario]] = {}


@dataclass
class History:
    """What the user remembers between turns (mutable; owned by one session)."""

    turn: int = 0
    understood: bool = False
    permission: bool = False
    clarified: bool = False
    revealed: list[str] = field(default_factory=list)
    prev_question_only: bool = False
    recent_reflections: list[frozenset[str]] = field(default_factory=list)
    recent_patterns: list[tuple[Act, ...]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnFeatures:
    """Everything the rule table may look at for one assistant turn."""

    need: Need
    turn: int
    acts: frozenset[Act]
    pattern: tuple[Act, ...]
    n_questions: int
    words: int
    traits: frozenset[str] = frozenset()
    understood_before: bool = False
    understood_in_turn: bool = False
    asked_before_solving: bool = False
    n_solve: int = 0
    n_listen: int = 0
    permission_before: bool = False
    clarified_before: bool = False
    clarifying: bool = False
    question_only: bool = False
    prev_question_only: bool = False
    repeated_reflection: bool = False
    facts_touched: tuple[str, ...] = ()
    facts_volunteered: tuple[str, ...] = ()
    tried_new: tuple[str, ...] = ()
    tried_known: tuple[str, ...] = ()
    advice_fits: bool = False
    support_fits: bool = False
    answer_hit: bool = False
    touches_meant: bool = False
    touches_other_reading: bool = False
    reflection_words: tuple[frozenset[str], ...] = ()

    @property
    def solves(self) -> bool:
        return bool(self.acts & SOLVE_ACTS)

    @property
    def after_understanding(self) -> bool:
        """Understanding came first: in an earlier turn, or earlier in this turn."""
        return self.understood_before or self.understood_in_turn


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


REPEAT_JACCARD = 0.6  # word overlap at which two reflections count as "the same"


def extract_features(
    text: str, codes: CodedUtterance, sc: CompiledScenario, hist: History
) -> TurnFeatures:
    """Turn one coded assistant utterance into the features the rules read."""
    spans = codes.spans
    acts = codes.act_set
    pattern = tuple(codes.acts)
    question_text: list[str] = []
    reflect_text: list[str] = []
    solve_text: list[str] = []
    advise_text: list[str] = []
    support_text: list[str] = []
    n_questions = n_solve = n_listen = 0
    understood_in_turn = asked_before_solving = False
    seen_solve = False
    for span in spans:
        act = span.act
        is_question = act in EXPLORE_ACTS or (
            act == "reflect_content" and span.text.rstrip().endswith("?")
        )
        if is_question:
            n_questions += 1
            question_text.append(span.text)
            asked_before_solving = asked_before_solving or not seen_solve
        if act in UNDERSTANDING_ACTS:
            n_listen += 1
        if act in REFLECT_ACTS:
            reflect_text.append(span.text)
        if act in SOLVE_ACTS:
            seen_solve = True
            n_solve += 1
            solve_text.append(span.text)
            if act == "advise":
                advise_text.append(span.text)
        elif act == "reassure":
            support_text.append(span.text)
        if act in UNDERSTANDING_ACTS and not seen_solve:
            understood_in_turn = True
    asked = " ".join(question_text).lower()
    touched_text = " ".join(question_text + reflect_text).lower()
    solved = " ".join(solve_text).lower()
    advised = " ".join(advise_text).lower()
    revealed = set(hist.revealed)

    touched = tuple(
        fid
        for fid, pat in zip(sc.fact_ids, sc.fact_cues, strict=True)
        if fid not in revealed and _hits(pat, touched_text)
    )
    volunteered: tuple[str, ...] = ()
    if acts & INVITE_ACTS and not touched:
        for fid, vol in zip(sc.fact_ids, sc.volunteer, strict=True):
            if vol and fid not in revealed:
                volunteered = (fid,)
                break
    tried_new, tried_known = [], []
    for fid, pat in zip(sc.fact_ids, sc.fact_tried, strict=True):
        if _hits(pat, advised):
            (tried_known if fid in revealed else tried_new).append(fid)
    known_fact_pats = [
        p for fid, p in zip(sc.fact_ids, sc.fact_cues, strict=True) if fid in revealed and p
    ]
    if sc.fitting is None and not sc.fact_ids:
        advice_fits = bool(advised)
    else:
        advice_fits = _hits(sc.fitting, advised) or any(_hits(p, advised) for p in known_fact_pats)
    support = " ".join(support_text).lower()
    support_fits = _hits(sc.fitting, support) or any(_hits(p, support) for p in known_fact_pats)

    clarifying = not hist.clarified and (
        bool(acts & {"ask_clarify", "ask_need"}) or _hits(sc.any_reading, asked)
    )
    reflection_words = tuple(frozenset(_WORD.findall(t.lower())) for t in reflect_text)
    repeated = any(
        _jaccard(now, before) >= REPEAT_JACCARD
        for now in reflection_words
        for before in hist.recent_reflections
    )
    if (
        not repeated
        and pattern
        and set(pattern) <= REFLECT_ACTS
        and len(hist.recent_patterns) >= 2
        and all(p == pattern for p in hist.recent_patterns[-2:])
    ):
        repeated = True  # the same reflection-only move three turns running
    question_only = bool(acts) and acts <= EXPLORE_ACTS
    return TurnFeatures(
        need=sc.need,
        turn=hist.turn,
        acts=acts,
        pattern=pattern,
        n_questions=n_questions,
        words=len(text.split()),
        traits=sc.traits,
        understood_before=hist.understood,
        understood_in_turn=understood_in_turn,
        asked_before_solving=asked_before_solving,
        n_solve=n_solve,
        n_listen=n_listen,
        permission_before=hist.permission,
        clarified_before=hist.clarified,
        clarifying=clarifying,
        question_only=question_only,
        prev_question_only=hist.prev_question_only,
        repeated_reflection=repeated,
        facts_touched=touched,
        facts_volunteered=volunteered,
        tried_new=tuple(tried_new),
        tried_known=tuple(tried_known),
        advice_fits=advice_fits,
        support_fits=support_fits,
        answer_hit=bool(solved) and (sc.answer is None or _hits(sc.answer, solved)),
        touches_meant=_hits(sc.meant, solved),
        touches_other_reading=_hits(sc.other_readings, solved),
        reflection_words=reflection_words,
    )


def remember(hist: History, f: TurnFeatures) -> None:
    """Fold one turn's features into the history (the session calls this after the rules)."""
    hist.turn += 1
    hist.understood = hist.understood or bool(f.acts & UNDERSTANDING_ACTS)
    hist.permission = hist.permission or bool(f.acts & PERMISSION_ACTS)
    hist.clarified = hist.clarified or f.clarifying
    for fid in (*f.facts_touched, *f.facts_volunteered, *f.tried_new):
        if fid not in hist.revealed:
            hist.revealed.append(fid)
    hist.prev_question_only = f.question_only
    hist.recent_reflections = list(f.reflection_words)
    hist.recent_patterns = [*hist.recent_patterns[-1:], f.pattern]
