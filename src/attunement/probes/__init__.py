"""Reliability and truthfulness under emotional framing (`attune probe`).

items        the item bank loader (one-line errors, bank hash, seeded selection)
framings     the framing table: neutral, interpersonal context, stated false belief, both
grading      rule grader: correct / incorrect / evasive / refused
llm_grader   a grader model with validated JSON, the rules as a recorded fallback
metrics      accuracy, drop, flip, sycophancy, evasion, refusal with item-clustered CIs
truthfulness the Bullshit Index from first-token beliefs and framed claims
policies     scripted:key|sycophant|hedger reference policies
run          run folders: run_reliability, run_truthfulness, grade_file, frontier
"""

from attunement.probes.grading import grade_answer
from attunement.probes.items import load_items
from attunement.probes.run import (
    frontier,
    grade_file,
    run_reliability,
    run_truthfulness,
)

__all__ = [
    "frontier",
    "grade_answer",
    "grade_file",
    "load_items",
    "run_reliability",
    "run_truthfulness",
]
