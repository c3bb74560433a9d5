"""Segmentation of LLM-style answers: lists, headings, emoji, paragraphs, and the labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attunement.coding.segment import segment

DATA = Path(__file__).resolve().parents[1] / "src/attunement/coding/data"


def texts(t: str) -> list[str]:
    return [s.text for s in segment(t)]


def test_plain_sentences_split_on_terminal_punctuation():
    assert texts("That sounds hard. What happened next? I'm here!") == [
        "That sounds hard.",
        "What happened next?",
        "I'm here!",
    ]


def test_numbered_and_bulleted_items_are_one_unit_each():
    t = "Here's a plan:\n1. Open the file. Then save it.\n2) Close it\n- a bullet\n• another"
    segs = segment(t)
    assert [s.kind for s in segs] == ["heading", "item", "item", "item", "item"]
    assert segs[1].text == "1. Open the file. Then save it."


def test_markdown_headings_and_bold_lines_are_headings():
    segs = segment("## Sleep\n**What helps most**\nKeep one bedtime.")
    assert [(s.kind, s.text) for s in segs] == [
        ("heading", "## Sleep"),
        ("heading", "**What helps most**"),
        ("sentence", "Keep one bedtime."),
    ]


def test_emoji_attach_to_the_sentence_they_close():
    assert texts("You've got this! 💪 Let me know 🙂") == ["You've got this! 💪", "Let me know 🙂"]
    assert texts("Have fun! 🇮🇹 Bring a hat.") == ["Have fun! 🇮🇹", "Bring a hat."]


def test_paragraphs_always_break():
    assert texts("first line without stop\n\nsecond line") == [
        "first line without stop",
        "second line",
    ]


def test_abbreviations_numbers_and_ellipses_do_not_break():
    assert texts("See Dr. Lee, e.g. on Monday at 3.30 today.") == [
        "See Dr. Lee, e.g. on Monday at 3.30 today."
    ]
    assert texts("hmm... maybe later. no. not today") == ["hmm... maybe later.", "no.", "not today"]
    assert texts("It's No. 5 on the list.") == ["It's No. 5 on the list."]


def test_offsets_point_into_the_original_text():
    t = "  Hi there!\n\n* **Bold** item.   \nOk? 👍  "
    for s in segment(t):
        assert t[s.start : s.end] == s.text
        assert s.text == s.text.strip()


@pytest.mark.parametrize("blank", ["", "   ", "\n\n\t"])
def test_empty_text_has_no_segments(blank):
    assert segment(blank) == []


def test_agrees_with_the_labelled_units():
    """The cut the labellers made (docs/labelling.md): most units are found exactly."""
    files = sorted(DATA.glob("labelled_*.jsonl"))
    if not files:
        pytest.skip("no labelled data in the package")
    gold = found = 0
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            units = {s.strip() for s, _ in rec["labels"]}
            gold += len(units)
            found += len(units & set(texts(rec["text"])))
    assert gold > 0
    assert found / gold >= 0.85, f"only {found}/{gold} labelled units found exactly"
