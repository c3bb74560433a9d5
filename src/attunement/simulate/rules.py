"""THE rule table of the structural user: (need x acts x timing x history) -> change, reason.

Every way the simulated user's emotion can move is one row of ``RULES``: a name, the needs it
applies to, a condition written as named predicates over :class:`TurnFeatures` (``"!name"``
negates), the change, the reply it prompts, and the reason shown to users. Nothing else moves
the score. The rows encode the literature (see docs/simulator.md and REFERENCES.md):

- understanding before advice: advice that comes before any question or reflection drops an
  emotional user (ESConv: empathy 3.63 vs 3.90; BOLT; AnnoMI advice 19.8% in low-quality MI);
- questions alone do not satisfy (ESConv: questions are the lowest-rated strategy);
- advice lands after understanding, and fits only when it uses what the person holds;
- on an ambiguous request a clarifying question pays and a guess does not; on a clear request
  a question is a small cost (CollabLLM's over-asking);
- repeated formulaic reflections, more than two questions, and walls of text cost.

>>> from attunement.simulate.features import TurnFeatures
>>> f = TurnFeatures(need="vent", turn=0, acts=frozenset({"advise"}), pattern=("advise",),
...                  n_questions=0, words=12)
>>> [r.name for r in evaluate(f)]
['premature_advice']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attunement.simulate.features import TurnFeatures
from attunement.types import NEEDS, Need

MAX_STEP = 10.0  # per-turn change is clamped to +/- this (as SAGE)
SUCCESS_AT = 85.0  # emotion at or above: the user leaves satisfied
FAILURE_AT = 10.0  # emotion at or below: the user gives up
WALL_WORDS = 250  # a turn longer than this is a wall of text
MAX_QUESTIONS = 2  # more questions than this in one turn is an interrogation

ALL: tuple[Need, ...] = NEEDS
EMOTIONAL: tuple[Need, ...] = ("vent", "validation", "encouragement")
OPEN_NEEDS: tuple[Need, ...] = ("vent", "validation", "advice", "information", "encouragement")

# ----------------------------------------------------------------------------- predicates
Predicate = Callable[[TurnFeatures], bool]

PREDICATES: dict[str, tuple[Predicate, str]] = {
    "solves": (lambda f: f.solves, "the turn advises or informs"),
    "advises": (lambda f: "advise" in f.acts, "the turn advises"),
    "reassures": (lambda f: "reassure" in f.acts, "the turn reassures or encourages"),
    "asks": (lambda f: f.n_questions > 0, "the turn asks at least one question"),
    "asks_before_acting": (
        lambda f: f.asked_before_solving,
        "a question comes before any answer in the turn (a trailing offer after it does not)",
    ),
    "advice_dominates": (
        lambda f: f.n_solve >= 2 and f.n_solve > f.n_listen,
        "advice/information sentences outnumber reflections and questions (at least two)",
    ),
    "several_questions": (lambda f: f.n_questions >= 2, "two or more questions in the turn"),
    "too_many_questions": (
        lambda f: f.n_questions > MAX_QUESTIONS,
        f"more than {MAX_QUESTIONS} questions in the turn",
    ),
    "wall_of_text": (lambda f: f.words > WALL_WORDS, f"more than {WALL_WORDS} words"),
    "understood_first": (
        lambda f: f.after_understanding,
        "a question or reflection came before (earlier turn, or earlier in this turn)",
    ),
    "fresh_reflection": (
        lambda f: (
            bool(f.acts & {"reflect_feeling", "reflect_content"}) and not f.repeated_reflection
        ),
        "reflects feeling or content, not a repeat of last turn's reflection",
    ),
    "fresh_validation": (
        lambda f: "validate" in f.acts and not f.repeated_reflection,
        "validates, not a repeat of last turn's wording",
    ),
    "repeated_reflection": (
        lambda f: f.repeated_reflection,
        "the same reflection (wording or reflection-only pattern) as the turn(s) before",
    ),
    "invites": (
        lambda f: bool(f.acts & {"ask_open", "checkin", "ask_need"}),
        "an open question, check-in, or 'what would help?'",
    ),
    "question_streak": (
        lambda f: f.question_only and f.prev_question_only,
        "questions only, for the second turn in a row",
    ),
    "reveals_fact": (
        lambda f: bool(f.facts_touched or f.facts_volunteered),
        "a question or reflection touched a hidden fact's cues (or openly invited it)",
    ),
    "tried_new": (
        lambda f: bool(f.tried_new),
        "advice suggests what the user already tried (not yet said)",
    ),
    "tried_known": (
        lambda f: bool(f.tried_known),
        "advice suggests what the user already said they tried",
    ),
    "advice_fits": (
        lambda f: f.advice_fits,
        "advice touches the scenario's fitting cues or a revealed fact",
    ),
    "support_fits": (
        lambda f: f.support_fits,
        "encouragement touches the scenario's fitting cues or a revealed fact",
    ),
    "permission_before": (
        lambda f: f.permission_before,
        "an earlier turn asked what help they want or for permission",
    ),
    "clarifying": (
        lambda f: f.clarifying,
        "ask_clarify / ask_need, or a question touching the readings, before it was clarified",
    ),
    "clarified_before": (lambda f: f.clarified_before, "the ambiguity was cleared earlier"),
    "touches_meant": (lambda f: f.touches_meant, "the answer touches the meant reading"),
    "touches_other": (
        lambda f: f.touches_other_reading,
        "the answer touches a reading the user did not mean",
    ),
    "hits_meant_only": (
        lambda f: f.touches_meant and not f.touches_other_reading,
        "the answer touches the meant reading and no other",
    ),
    "misses_meant": (
        lambda f: f.touches_other_reading and not f.touches_meant,
        "the answer touches another reading and not the meant one",
    ),
    "answer_hit": (
        lambda f: f.answer_hit,
        "the answer touches the scenario's answer cues (any answer when none are set)",
    ),
    "first_turn": (lambda f: f.turn == 0, "the first assistant turn"),
    "resists_advice": (lambda f: "resists_advice" in f.traits, "persona trait resists_advice"),
    "dislikes_questions": (
        lambda f: "dislikes_questions" in f.traits,
        "persona trait dislikes_questions",
    ),
    "wants_seriousness": (
        lambda f: "wants_to_be_taken_seriously" in f.traits,
        "persona trait wants_to_be_taken_seriously",
    ),
}


# ----------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Rule:
    """One row: when ``need`` is in ``needs`` and every predicate in ``when`` holds."""

    name: str
    needs: tuple[Need, ...]
    when: tuple[str, ...]
    delta: float
    reaction: str
    reason: str
    counts: str | None = None  # a counter this rule increments (need-met thresholds)
    meets: bool = False  # firing meets the user's need (the dialogue ends well)

    def holds(self, f: TurnFeatures) -> bool:
        for p in self.when:
            neg = p.startswith("!")
            if PREDICATES[p[1:] if neg else p][0](f) == neg:
                return False
        return True

    def holds_given(self, values: dict[str, bool]) -> bool:
        """Like :meth:`holds`, over predicate values already computed for the turn."""
        for p in self.when:
            if p[0] == "!":
                if values[p[1:]]:
                    return False
            elif not values[p]:
                return False
        return True

    def explain(self) -> str:
        """The reason string stored on the turn: 'name: why (+6)'."""
        return f"{self.name}: {self.reason} ({self.delta:+g})"


R = Rule
RULES: tuple[Rule, ...] = (
    # --- understanding ------------------------------------------------------------------
    R("felt_heard", ("vent", "validation"), ("fresh_reflection",), 6, "felt_heard",
      "a fresh reflection lifts a user who wants to be heard", counts="heard"),
    R("felt_heard_light", ("advice", "information", "encouragement"), ("fresh_reflection",),
      3, "felt_heard", "a reflection shows the request was understood"),
    R("validated", ("validation",), ("fresh_validation",), 6, "felt_validated",
      "being told the reaction makes sense is what they came for", counts="validated"),
    R("validated_light", ("vent", "encouragement"), ("fresh_validation",), 3, "felt_validated",
      "normalising the feeling helps", counts="heard"),
    R("invited", OPEN_NEEDS, ("invites", "!question_streak"), 2, "invited",
      "an open question or check-in invites them to say more"),
    R("fact_shared", ALL, ("reveals_fact",), 2, "fact_revealed",
      "the question or reflection reached something they hold (a hidden fact)"),
    # --- costs of form --------------------------------------------------------------------
    R("formulaic_reflection", ALL, ("repeated_reflection",), -3, "formulaic",
      "the same reflection turn after turn stops paying and sounds scripted"),
    R("questions_alone", ("vent", "validation", "advice", "information", "encouragement",
      "clarify"), ("question_streak",), -3, "questions_only",
      "questions alone do not satisfy: a second question-only turn in a row"),
    R("over_questioned", ALL, ("too_many_questions",), -4, "over_questioned",
      f"more than {MAX_QUESTIONS} questions in one turn feels like an interrogation"),
    R("wall_of_text", ALL, ("wall_of_text",), -3, "too_long",
      f"a reply over {WALL_WORDS} words buries what matters"),
    # --- timing of advice -------------------------------------------------------------------
    R("premature_advice", EMOTIONAL, ("solves", "!understood_first"), -8, "premature_advice",
      "advice before any understanding on a need to be heard"),
    R("unasked_advice", ("vent", "validation"), ("advises", "understood_first",
      "!permission_before"), -3, "unwanted_advice",
      "advice they did not ask for, even after listening (asking first avoids it)"),
    R("advice_dominates", EMOTIONAL, ("advice_dominates", "understood_first"), -3,
      "unwanted_advice", "a token of sympathy, then a list of advice: the advice drowns it"),
    R("advice_before_understanding", ("advice",), ("advises", "!understood_first"), -3,
      "premature_advice", "advice lands after understanding, not before"),
    R("fitting_advice", ("advice",), ("advises", "understood_first", "advice_fits"), 10,
      "fitting_answer", "concrete advice after understanding that uses what they hold",
      meets=True),
    R("generic_advice", ("advice",), ("advises", "understood_first", "!advice_fits"), 2,
      "generic_advice", "advice after listening, but not fitted to their situation"),
    R("already_tried", ALL, ("tried_new",), -5, "already_tried",
      "advice ignores a hidden fact: they already tried that"),
    R("ignored_fact", ALL, ("tried_known",), -7, "ignored_fact",
      "advice repeats what they already said they tried"),
    # --- encouragement ----------------------------------------------------------------------
    R("encouraged", ("encouragement",), ("reassures", "understood_first"), 6, "encouraged",
      "encouragement after understanding lands", counts="encouraged"),
    R("encouraged_specific", ("encouragement",), ("reassures", "understood_first",
      "support_fits"), 3, "encouraged", "encouragement that names their real strengths"),
    R("hollow_reassurance", EMOTIONAL, ("reassures", "!understood_first"), -2, "dismissed",
      "reassurance before understanding sounds hollow"),
    # --- ambiguity ----------------------------------------------------------------------------
    R("clarifying_question", ("clarify",), ("clarifying",), 8, "clarified",
      "on an ambiguous request, asking which is meant is the right move"),
    R("guessed", ("clarify",), ("solves", "!clarified_before", "!clarifying",
      "!hits_meant_only"), -7, "guessed",
      "answered an ambiguous request by guessing instead of asking"),
    R("lucky_guess", ("clarify",), ("solves", "!clarified_before", "hits_meant_only"), 5,
      "fitting_answer", "a guess that happened to hit the meant reading", meets=True),
    R("resolved", ("clarify",), ("solves", "clarified_before", "!misses_meant"), 10,
      "fitting_answer", "answered the reading they meant, after asking", meets=True),
    R("wrong_reading", ("clarify",), ("solves", "clarified_before", "misses_meant"), -6,
      "guessed", "answered a reading they did not mean, after asking"),
    # --- clear tasks and information ---------------------------------------------------------
    R("needless_question", ("clear_task",), ("asks_before_acting",), -3, "needless_question",
      "asking on a clear request is a waste"),
    R("stalling", ("clear_task",), ("!solves",), -2, "stalling",
      "a clear request left unanswered this turn"),
    R("stalling_info", ("information",), ("!solves", "!first_turn"), -2, "stalling",
      "still no answer to a question of fact"),
    R("direct_answer", ("clear_task", "information"), ("solves", "answer_hit"), 10,
      "fitting_answer", "a good direct answer to what they asked", meets=True),
    R("off_target_answer", ("clear_task", "information"), ("solves", "!answer_hit"), 1,
      "off_target", "an answer, but not to what they asked"),
    # --- persona traits ------------------------------------------------------------------------
    R("pushed_advice", ALL, ("advises", "!understood_first", "resists_advice"), -2,
      "premature_advice", "this person resists advice that comes before listening"),
    R("questioned_too_much", ALL, ("several_questions", "dislikes_questions"), -2,
      "over_questioned", "this person dislikes being asked several things at once"),
    R("not_taken_seriously", ALL, ("reassures", "!understood_first", "wants_seriousness"),
      -3, "dismissed", "this person wants to be taken seriously, not cheered up"),
)  # fmt: skip
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}

# A need is also met when a counter reaches its threshold (a user heard three times over).
NEED_MET_COUNTS: dict[Need, tuple[str, int]] = {
    "vent": ("heard", 3),
    "validation": ("validated", 2),
    "encouragement": ("encouraged", 2),
}


RULES_FOR_NEED: dict[Need, tuple[Rule, ...]] = {
    need: tuple(r for r in RULES if need in r.needs) for need in ALL
}
_USED_FOR_NEED: dict[Need, tuple[tuple[str, Predicate], ...]] = {
    need: tuple(
        (name, PREDICATES[name][0])
        for name in sorted({p.lstrip("!") for r in rules for p in r.when})
    )
    for need, rules in RULES_FOR_NEED.items()
}


def evaluate(f: TurnFeatures) -> list[Rule]:
    """The rules that fire for one turn, in table order (pure).

    Each predicate the need's rows use is computed once per turn (this runs on every turn of
    every dialogue, so it is kept cheap).
    """
    values = {name: fn(f) for name, fn in _USED_FOR_NEED[f.need]}
    return [r for r in RULES_FOR_NEED[f.need] if r.holds_given(values)]


def total_delta(fired: list[Rule], noise: float = 0.0) -> float:
    """Sum of the fired rules' changes plus noise, clamped to +/- ``MAX_STEP``.

    >>> total_delta([RULES_BY_NAME["felt_heard"], RULES_BY_NAME["validated"]])
    10.0
    """
    raw = sum(r.delta for r in fired) + noise
    return float(max(-MAX_STEP, min(MAX_STEP, raw)))


def rule_table() -> list[dict[str, Any]]:
    """The table as plain rows, for docs, reports and ``attune`` users."""
    rows = []
    for r in RULES:
        conds = []
        for p in r.when:
            neg = p.startswith("!")
            desc = PREDICATES[p[1:] if neg else p][1]
            conds.append(("NOT " if neg else "") + desc)
        rows.append(
            {
                "name": r.name,
                "needs": list(r.needs),
                "when": list(r.when),
                "condition": "; ".join(conds),
                "delta": r.delta,
                "reaction": r.reaction,
                "reason": r.reason,
                "counts": r.counts,
                "meets_need": r.meets,
            }
        )
    return rows


def rule_table_markdown() -> str:
    """The table as markdown (docs/simulator.md embeds it; scripts/render_rule_table.py)."""
    lines = [
        "| rule | needs | when | change | reply | why |",
        "|---|---|---|---|---|---|",
    ]
    for row in rule_table():
        needs = "all" if len(row["needs"]) == len(ALL) else ", ".join(row["needs"])
        extra = []
        if row["counts"]:
            extra.append(f"counts `{row['counts']}`")
        if row["meets_need"]:
            extra.append("meets the need")
        why = row["reason"] + (f" ({'; '.join(extra)})" if extra else "")
        lines.append(
            f"| `{row['name']}` | {needs} | {row['condition']} | {row['delta']:+g} "
            f"| {row['reaction']} | {why} |"
        )
    return "\n".join(lines) + "\n"


def _check_table() -> None:
    """Fail at import if a row names an unknown predicate or duplicates a name."""
    names = [r.name for r in RULES]
    if len(set(names)) != len(names):
        raise RuntimeError("duplicate rule names in RULES")
    for r in RULES:
        for p in r.when:
            if p.lstrip("!") not in PREDICATES:
                raise RuntimeError(f"rule {r.name}: unknown predicate {p!r}")


_check_table()
