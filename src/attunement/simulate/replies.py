"""What the structural user says back: default lines per reaction, varied by persona style.

A reaction is named by the rule that moved the emotion most (see ``Rule.reaction``). Lines are
templates: ``{fact}`` is a revealed hidden fact in the user's words, ``{reading}`` the meant
reading of an ambiguous request. A scenario's own ``replies`` override these per reaction.
The choice among lines is made by the session's seeded ``random.Random``: same seed, same words.
"""

from __future__ import annotations

import random
from typing import Literal

Reaction = Literal[
    "felt_heard", "felt_validated", "invited", "fact_revealed", "formulaic", "over_questioned",
    "too_long", "premature_advice", "unwanted_advice", "generic_advice", "fitting_answer",
    "already_tried", "ignored_fact", "encouraged", "dismissed", "clarified", "guessed",
    "needless_question", "stalling", "off_target", "questions_only", "neutral", "goodbye_good",
    "goodbye_bad", "goodbye_neutral",
]  # fmt: skip

# reaction -> style -> lines; "plain" is the fallback for every style.
DEFAULT_REPLIES: dict[str, dict[str, tuple[str, ...]]] = {
    "felt_heard": {
        "plain": (
            "Yeah, that's exactly it.",
            "Yes. That's how it feels.",
            "Thank you, that's it really.",
        ),
        "terse": ("Yeah.", "Pretty much.", "That's it."),
        "chatty": (
            "Yes! Honestly that's exactly it, nobody else seems to get that part.",
            "Oh, that's so it. It's been going round and round in my head.",
        ),
        "guarded": ("...yeah. Something like that.", "I suppose that's fair."),
        "formal": ("Yes, that is an accurate way to put it.", "That is a fair summary."),
        "anxious": (
            "Yes, that's it, and I can't stop thinking about it.",
            "Exactly, and it keeps me up at night.",
        ),
        "sarcastic": ("Huh. Okay, you actually got that.", "Well, yes. Gold star."),
    },
    "felt_validated": {
        "plain": (
            "Thanks. I was starting to think I was overreacting.",
            "That helps to hear, honestly.",
        ),
        "terse": ("Okay. Good to hear.", "Thanks."),
        "chatty": ("Oh thank you, I really needed someone to say that out loud.",),
        "guarded": ("Maybe. I guess it's not completely unreasonable.",),
        "formal": ("I appreciate that. It is reassuring to hear.",),
        "anxious": ("Really? Okay. That helps a bit, I kept thinking it was just me.",),
        "sarcastic": ("Glad someone thinks I'm not losing it.",),
    },
    "invited": {
        "plain": ("Where do I start...", "It's a lot, honestly.", "Well, it's complicated."),
        "terse": ("Long story.", "Hard to say."),
        "chatty": ("Okay so, where do I even begin, there's so much to it.",),
        "guarded": ("I don't know. It's hard to explain.",),
        "formal": ("It is somewhat difficult to summarise.",),
        "anxious": ("I don't even know, everything feels tangled up.",),
        "sarcastic": ("How long have you got?",),
    },
    "fact_revealed": {
        "plain": ("{fact}", "Actually, {fact}"),
        "terse": ("{fact}",),
        "chatty": ("Oh and the thing is, {fact}", "{fact} I should've said that earlier."),
        "guarded": ("Fine. {fact}", "...{fact}"),
        "formal": ("I should mention: {fact}",),
        "anxious": ("The thing is, {fact}",),
        "sarcastic": ("Since you ask: {fact}",),
    },
    "formulaic": {
        "plain": ("You said that already.", "That sounds a bit scripted, to be honest."),
        "terse": ("You said that.",),
        "sarcastic": ("Is there an echo in here?",),
        "formal": ("You have already said as much.",),
    },
    "over_questioned": {
        "plain": ("That's a lot of questions.", "I'm not sure which of those to answer."),
        "terse": ("Too many questions.",),
        "chatty": ("Wow okay, that's a lot of questions at once, I don't know where to start!",),
        "guarded": ("Why do you need to know all that?",),
        "sarcastic": ("Is this an interview?",),
        "anxious": ("Sorry, I'm getting a bit overwhelmed by all the questions.",),
    },
    "questions_only": {
        "plain": (
            "I've told you what's going on. Are you going to say anything?",
            "More questions... I was hoping for something back.",
            "I don't know. I've said what I can.",
        ),
        "terse": ("Enough questions.", "And?"),
        "chatty": ("Haha okay, I feel like I'm doing all the talking here!",),
        "guarded": ("I've said enough, I think.",),
        "formal": ("I have answered a number of questions now. What do you suggest?",),
        "anxious": ("I'm not sure what else to say... is that bad?",),
        "sarcastic": ("Twenty questions, round two.", "Do I get a prize at the end?"),
    },
    "too_long": {
        "plain": ("That's a lot to read.", "Sorry, I kind of lost you halfway through."),
        "terse": ("Too long.",),
        "sarcastic": ("I asked for help, not an essay.",),
    },
    "premature_advice": {
        "plain": ("I didn't really ask for a plan.", "That's not really what I need right now."),
        "terse": ("Not what I asked.", "No."),
        "chatty": ("Oh, um, I wasn't really looking for tips, I just needed to get it out.",),
        "guarded": ("You don't really know the situation.",),
        "formal": ("I was not asking for a solution at this point.",),
        "anxious": ("I know, I know, I should just... it's not that easy though.",),
        "sarcastic": ("Wow, why didn't I think of that.", "Thanks, very practical."),
    },
    "unwanted_advice": {
        "plain": ("Maybe. I wasn't really after advice though.",),
        "guarded": ("I didn't ask what to do.",),
        "sarcastic": ("Right, fixing mode.",),
    },
    "generic_advice": {
        "plain": ("I suppose. That's a bit general though.", "Maybe. I'm not sure it fits."),
        "terse": ("Bit generic.",),
        "formal": ("That is sensible in general, though not quite my situation.",),
        "sarcastic": ("Sounds like a fridge magnet.",),
    },
    "fitting_answer": {
        "plain": ("Okay, that actually helps.", "That makes sense. I can do that."),
        "terse": ("Useful. Thanks.", "That works."),
        "chatty": ("Oh that's actually really helpful, I can totally do that!",),
        "guarded": ("Alright. That could work.",),
        "formal": ("Thank you, that is genuinely useful.",),
        "anxious": ("Okay. Okay, that feels doable. Thank you.",),
        "sarcastic": ("Fine, that's actually useful. Don't let it go to your head.",),
    },
    "already_tried": {
        "plain": ("I already tried that. {fact}", "Tried it. {fact}"),
        "terse": ("Tried that. {fact}",),
        "sarcastic": ("Gosh, never thought of that. {fact}",),
        "formal": ("I have already attempted that. {fact}",),
    },
    "ignored_fact": {
        "plain": ("I told you I already did that.", "Were you listening? I said I tried that."),
        "terse": ("Already said. Did that.",),
        "sarcastic": ("Did you read a word I wrote?",),
    },
    "encouraged": {
        "plain": ("Thanks. I needed that.", "Okay. Maybe I can do this."),
        "terse": ("Thanks.",),
        "chatty": ("Aw, thank you, that really does help!",),
        "anxious": ("You think so? Okay. That helps a little.",),
        "sarcastic": ("Alright, alright. Maybe I'm not hopeless.",),
    },
    "dismissed": {
        "plain": ("That's easy to say.", "It doesn't feel fine."),
        "guarded": ("You don't know that.",),
        "sarcastic": ("Great, a motivational poster.",),
        "formal": ("That is kind, but it does not address the matter.",),
    },
    "clarified": {
        "plain": ("I mean {reading}.", "Sorry, I should have said: {reading}."),
        "terse": ("{reading}.",),
        "chatty": ("Oh good question! I mean {reading}.",),
        "formal": ("To clarify: {reading}.",),
        "sarcastic": ("{reading}. Obviously.",),
    },
    "guessed": {
        "plain": ("That's not what I meant.", "No, that's not it."),
        "terse": ("Wrong thing.",),
        "sarcastic": ("Not even close.",),
        "formal": ("I am afraid that is not what I was asking for.",),
    },
    "needless_question": {
        "plain": ("Just the normal thing, please.", "It's a simple request."),
        "terse": ("Just do it.", "Whatever's standard."),
        "sarcastic": ("It's not a trick question.",),
        "formal": ("The standard version will do, thank you.",),
    },
    "stalling": {
        "plain": ("Can you just answer?",),
        "terse": ("Answer?",),
        "sarcastic": ("Any day now.",),
    },
    "off_target": {
        "plain": ("That doesn't quite answer what I asked.",),
        "terse": ("Not what I asked.",),
        "sarcastic": ("Nice answer. To a different question.",),
    },
    "neutral": {
        "plain": ("Okay.", "Hm.", "Right."),
        "terse": ("Ok.",),
        "chatty": ("Okay, sure, hm.",),
        "formal": ("I see.",),
        "sarcastic": ("Sure.",),
    },
    "goodbye_good": {
        "plain": ("Thanks, this really helped. I'll leave it there.",),
        "terse": ("Thanks. That's all.",),
        "chatty": ("Thank you so much, honestly, I feel so much better. Bye!",),
        "formal": ("Thank you for your help. Goodbye.",),
        "sarcastic": ("Okay, you were actually useful. Bye.",),
    },
    "goodbye_bad": {
        "plain": ("Forget it. This isn't helping.",),
        "terse": ("Never mind.",),
        "chatty": ("Okay, I think I'll just talk to someone else about this, bye.",),
        "formal": ("I do not think this is helping. Goodbye.",),
        "sarcastic": ("Great chat. Bye.",),
    },
    "goodbye_neutral": {
        "plain": ("Okay, I need to go. Thanks anyway.",),
        "terse": ("Gotta go.",),
        "formal": ("I must leave it there. Thank you.",),
    },
}


def pick_line(
    reaction: str,
    *,
    style: str,
    rng: random.Random,
    overrides: dict[str, list[str]] | None = None,
    fact: str = "",
    reading: str = "",
    avoid: set[str] | frozenset[str] = frozenset(),
) -> str:
    """One line for ``reaction`` in ``style``, filled in; scenario overrides win.

    Lines in ``avoid`` (what the user just said) are skipped while others remain, so a user
    does not repeat themselves word for word; a style with a single line borrows the plain ones.

    >>> pick_line("clarified", style="terse", rng=random.Random(0), reading="the short one",
    ...           overrides={"clarified": ["{reading}, please."]})
    'the short one, please.'
    """
    lines: list[str] = list((overrides or {}).get(reaction) or ())
    if not lines:
        by_style = DEFAULT_REPLIES.get(reaction) or DEFAULT_REPLIES["neutral"]
        lines = list(by_style.get(style) or by_style["plain"])
        if len(lines) < 2 and style != "plain":
            lines += [x for x in by_style["plain"] if x not in lines]
    filled = [_fill(line, fact, reading) for line in lines]
    fresh = [x for x in filled if x not in avoid] or filled
    return fresh[rng.randrange(len(fresh))] if len(fresh) > 1 else fresh[0]


def _fill(line: str, fact: str, reading: str) -> str:
    try:
        return line.format(fact=fact, reading=reading).strip()
    except (KeyError, IndexError, ValueError):  # a scenario line with stray braces: as written
        return line.strip()
