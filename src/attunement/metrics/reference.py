"""Published and recomputed human reference figures that runs are set against.

A data table, not code: each figure names its population, unit and source, so a report can
print it beside a model's rate (the "grounding gap"). Shares are fractions (0.207 = 20.7%).
Units differ between sources (share of turns vs share of utterances); the ``unit`` field says
which, and reports print it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from attunement.stats import Estimate

Measure = Literal[
    "question", "reflection", "advice", "acknowledgment", "follow_up", "clarification", "grounding"
]


@dataclass(frozen=True)
class ReferenceFigure:
    """One figure: ``kind`` is ``human`` (an absolute human rate) or ``llm_vs_human`` (the
    published relative difference of LLMs against humans, -0.775 = 77.5% fewer)."""

    measure: Measure
    value: float
    kind: Literal["human", "llm_vs_human"]
    population: str
    unit: str
    source: str


_ESCONV = "Liu et al. 2021, ESConv corpus (figure recomputed on the public release)"
_ANNOMI = "Wu et al. 2022, AnnoMI corpus (figure recomputed on the public release)"
_SHAIKH = "Shaikh et al. 2024, Grounding Gaps in Language Model Generations (NAACL)"

REFERENCE_FIGURES: tuple[ReferenceFigure, ...] = (
    ReferenceFigure(
        "question", 0.207, "human", "ESConv supporters", "share of turns (Question)", _ESCONV
    ),
    ReferenceFigure(
        "question",
        0.280,
        "human",
        "AnnoMI high-quality MI therapists",
        "share of utterances (question)",
        _ANNOMI,
    ),
    ReferenceFigure(
        "question",
        0.320,
        "human",
        "AnnoMI low-quality MI therapists",
        "share of utterances (question)",
        _ANNOMI,
    ),
    ReferenceFigure(
        "reflection",
        0.137,
        "human",
        "ESConv supporters",
        "share of turns (Reflection of feelings 7.8 + Restatement 5.9)",
        _ESCONV,
    ),
    ReferenceFigure(
        "reflection",
        0.285,
        "human",
        "AnnoMI high-quality MI therapists",
        "share of utterances (reflection)",
        _ANNOMI,
    ),
    ReferenceFigure(
        "reflection",
        0.070,
        "human",
        "AnnoMI low-quality MI therapists",
        "share of utterances (reflection)",
        _ANNOMI,
    ),
    ReferenceFigure(
        "advice",
        0.161,
        "human",
        "ESConv supporters",
        "share of turns (Providing Suggestions)",
        _ESCONV,
    ),
    ReferenceFigure(
        "advice",
        0.019,
        "human",
        "AnnoMI high-quality MI therapists",
        "share of utterances (advice)",
        _ANNOMI,
    ),
    ReferenceFigure(
        "advice",
        0.198,
        "human",
        "AnnoMI low-quality MI therapists",
        "share of utterances (advice)",
        _ANNOMI,
    ),
    ReferenceFigure(
        "grounding",
        -0.775,
        "llm_vs_human",
        "LLMs vs humans, mean of models and domains",
        "relative difference in grounding acts",
        _SHAIKH,
    ),
    ReferenceFigure(
        "follow_up",
        -0.643,
        "llm_vs_human",
        "GPT-3.5 vs humans",
        "relative difference in follow-ups",
        _SHAIKH,
    ),
    ReferenceFigure(
        "acknowledgment",
        -0.834,
        "llm_vs_human",
        "GPT-3.5 vs humans",
        "relative difference in acknowledgments",
        _SHAIKH,
    ),
)


def figures_for(
    measure: Measure, kind: Literal["human", "llm_vs_human"] | None = None
) -> list[ReferenceFigure]:
    """The reference figures for one measure, optionally of one kind.

    >>> [f.value for f in figures_for("advice", "human")]
    [0.161, 0.019, 0.198]
    """
    return [
        f for f in REFERENCE_FIGURES if f.measure == measure and (kind is None or f.kind == kind)
    ]


def grounding_gap(rates: dict[str, Estimate]) -> list[dict[str, object]]:
    """Rows setting a run's per-turn rates beside the human and published LLM figures.

    ``rates`` maps a measure (question, reflection, advice, acknowledgment, follow_up,
    clarification, grounding) to the run's per-turn rate. Each row holds the run's rate, every
    reference figure for the measure, and ``vs_human``: the run's relative difference from each
    human figure (comparable to Shaikh et al.'s "77.5% fewer grounding acts" when negative).

    >>> from attunement.stats import Estimate
    >>> row = grounding_gap({"advice": Estimate(value=0.5)})[0]
    >>> row["measure"], [round(r["vs_human"], 2) for r in row["references"]]
    ('advice', [2.11, 25.32, 1.53])
    """
    rows: list[dict[str, object]] = []
    for measure, est in rates.items():
        refs = []
        for fig in REFERENCE_FIGURES:
            if fig.measure != measure:
                continue
            vs = None
            if fig.kind == "human" and est.value is not None and fig.value > 0:
                vs = est.value / fig.value - 1.0
            refs.append({**asdict(fig), "vs_human": vs})
        rows.append({"measure": measure, "rate": est.model_dump(), "references": refs})
    return rows
