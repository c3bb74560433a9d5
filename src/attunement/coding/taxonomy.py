"""The attunement act taxonomy (see docs/taxonomy.md): 14 acts, 4 groups, derived grounding acts.

Tables, not code: reports show ``ACT_DEFINITIONS``; metrics group acts with ``ACT_GROUP``.
"""

from __future__ import annotations

from typing import Literal, get_args

Act = Literal[
    "reflect_feeling",
    "reflect_content",
    "validate",
    "ask_open",
    "ask_clarify",
    "ask_need",
    "ask_permission",
    "checkin",
    "acknowledge",
    "reassure",
    "advise",
    "inform",
    "self_disclose",
    "other",
]
ACTS: tuple[Act, ...] = get_args(Act)

Group = Literal["EXPLORE", "REFLECT", "SOLVE", "SUPPORT", "OTHER"]
GROUPS: tuple[Group, ...] = get_args(Group)

ACT_DEFINITIONS: dict[Act, str] = {
    "reflect_feeling": "names or mirrors the person's emotion, stated or implied",
    "reflect_content": "restates, paraphrases or summarises what they said; an understanding check",
    "validate": "says the feeling or reaction makes sense, is normal or legitimate",
    "ask_open": "invites elaboration on experience, feelings, meaning or perspective",
    "ask_clarify": "resolves an ambiguity in what they want or in the facts, before acting",
    "ask_need": "asks what kind of help they want (listening, ideas, information)",
    "ask_permission": "asks before giving advice or information",
    "checkin": "asks how they are doing or feeling now; reaches out unprompted",
    "acknowledge": "brief receipt with no further content",
    "reassure": "comfort, encouragement, hope; affirms strengths",
    "advise": "suggests, directs, problem-solves, plans",
    "inform": "gives facts, explanations, psychoeducation, a direct answer",
    "self_disclose": "the speaker shares its own experience or feeling",
    "other": "greetings, thanks, closings, off-task text",
}

GROUP_ACTS: dict[Group, tuple[Act, ...]] = {
    "EXPLORE": ("ask_open", "ask_clarify", "ask_need", "ask_permission", "checkin"),
    "REFLECT": ("reflect_feeling", "reflect_content", "validate", "acknowledge"),
    "SOLVE": ("advise", "inform"),
    "SUPPORT": ("reassure", "self_disclose"),
    "OTHER": ("other",),
}
ACT_GROUP: dict[Act, Group] = {act: g for g, acts in GROUP_ACTS.items() for act in acts}

GROUP_DEFINITIONS: dict[Group, str] = {
    "EXPLORE": "questions that open up, clarify, or ask what help is wanted",
    "REFLECT": "showing understanding: reflections, validation, acknowledgment",
    "SOLVE": "advice and information",
    "SUPPORT": "reassurance and self-disclosure",
    "OTHER": "greetings, closings, off-task text",
}

Grounding = Literal["clarification", "acknowledgment", "follow_up"]
GROUNDING_DEFINITIONS: dict[Grounding, str] = {
    "clarification": "ask_clarify, or a reflect_content that checks understanding (a question)",
    "acknowledgment": "acknowledge: signals understanding and nothing else",
    "follow_up": "ask_open or checkin: asks for elaboration",
}

_UNDERSTANDING_CHECK_MARKERS = ("?", "do i have that right", "is that right", "am i right")


def grounding_acts(spans: list[tuple[str, str]]) -> set[Grounding]:
    """Grounding acts (Shaikh et al.) of an utterance, derived from its (sentence, act) spans.

    >>> spans = [("So it moved twice?", "reflect_content"), ("I see.", "acknowledge")]
    >>> sorted(grounding_acts(spans))
    ['acknowledgment', 'clarification']
    """
    found: set[Grounding] = set()
    for text, act in spans:
        is_check = act == "reflect_content" and any(
            m in text.lower() for m in _UNDERSTANDING_CHECK_MARKERS
        )
        if act == "ask_clarify" or is_check:
            found.add("clarification")
        elif act == "acknowledge":
            found.add("acknowledgment")
        elif act in ("ask_open", "checkin"):
            found.add("follow_up")
    return found
