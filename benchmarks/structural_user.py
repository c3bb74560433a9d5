"""How cheap is the structural user? Per-turn cost of ``StructuralSession.step`` over the bank.

The assistant turns are pre-coded (hand-built ``CodedUtterance``s mimicking the three scripted
strategies), so this times the simulated user alone: feature extraction, the rule table,
bookkeeping and the reply line. Prints a markdown table.

Usage: python benchmarks/structural_user.py [--repeat N]
"""

from __future__ import annotations

import argparse
import random
import time

from attunement.scenarios import load_scenarios
from attunement.simulate.structural import StructuralUser
from attunement.types import ActSpan, CodedUtterance

LINES = {
    "solver": [[("advise", "You should make a list and start with the easiest item."),
                ("advise", "Try doing the first small step today.")]],
    "reflector": [
        [("reflect_feeling", "That sounds really hard."),
         ("validate", "It makes sense you feel this way."),
         ("ask_open", "What has been the hardest part?")],
        [("reflect_content", "So it has all landed on you at once. Is that right?"),
         ("ask_need", "Would ideas help, or would you rather talk it through?")],
        [("validate", "Anyone would be shaken by that."),
         ("advise", "Given what you said, pick the smallest next step and take it today.")],
    ],
    "asker": [[("ask_open", "Can you tell me more?"),
               ("ask_clarify", "What exactly do you mean?")]],
}  # fmt: skip


def coded(parts: list[tuple[str, str]]) -> tuple[str, CodedUtterance]:
    text, spans = "", []
    for act, s in parts:
        text += (" " if text else "") + s
        spans.append(ActSpan(start=len(text) - len(s), end=len(text), text=s, act=act))
    return text, CodedUtterance(text=text, spans=spans)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="passes over the bank per policy")
    args = ap.parse_args()
    bank = load_scenarios()
    user = StructuralUser()
    turns = {name: [coded(p) for p in plans] for name, plans in LINES.items()}
    print("| policy | dialogues | turns | user time per turn (us) | dialogues/s (user only) |")
    print("|---|---|---|---|---|")
    for name, script in turns.items():
        n_dialogues = n_turns = 0
        t0 = time.perf_counter()
        for rep in range(args.repeat):
            for sc in bank:
                s = user.start(sc, seed=rep)
                for k in range(sc.max_turns):
                    n_turns += 1
                    if s.step(*script[min(k, len(script) - 1)]).end:
                        break
                n_dialogues += 1
        dt = time.perf_counter() - t0
        print(f"| {name} | {n_dialogues} | {n_turns} | {dt / n_turns * 1e6:.0f} "
              f"| {n_dialogues / dt:.0f} |")  # fmt: skip
    random.seed(0)


if __name__ == "__main__":
    main()
