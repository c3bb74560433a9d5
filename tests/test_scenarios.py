"""The scenario bank as a whole, the loader's errors, suites and the bank hash."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from attunement.errors import ConfigError, InputError
from attunement.scenarios import (
    BANK_DIR,
    SUITES,
    bank_hash,
    list_suites,
    load_scenarios,
    select_suite,
)
from attunement.simulate.features import compile_cues
from attunement.types import NEEDS

BANK = load_scenarios()
MIN_PER_NEED = {
    "vent": 12,
    "validation": 12,
    "advice": 15,
    "information": 12,
    "clarify": 25,
    "clear_task": 25,
    "encouragement": 12,
}


def test_bank_size_and_coverage():
    assert len(BANK) >= 120
    counts = Counter(s.need for s in BANK)
    for need in NEEDS:
        assert counts[need] >= MIN_PER_NEED[need], (need, counts[need])
    assert len({s.domain for s in BANK}) >= 8
    assert len({s.persona.name for s in BANK}) >= 10
    assert len({s.persona.style for s in BANK}) >= 5
    assert {t for s in BANK for t in s.persona.traits} >= {
        "resists_advice",
        "dislikes_questions",
        "wants_to_be_taken_seriously",
    }


def test_ids_unique_and_well_formed():
    ids = [s.id for s in BANK]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", i) for i in ids)


def test_every_clarify_has_readings_and_meant_with_cues():
    for s in BANK:
        if s.need != "clarify":
            continue
        assert len(s.readings) >= 2 and s.meant in {r.id for r in s.readings}, s.id
        assert all(r.cues and r.text for r in s.readings), s.id


def test_hidden_facts_where_they_change_good_help():
    for s in BANK:
        if s.need in ("vent", "validation", "advice", "encouragement"):
            assert s.hidden_facts, f"{s.id}: a {s.need} scenario needs hidden facts"
        for f in s.hidden_facts:
            assert f.cues or f.volunteer, f"{s.id}/{f.id}: unreachable fact"
            assert compile_cues(f.cues) is not None or f.volunteer
        if s.need == "advice":
            assert s.fitting_cues, f"{s.id}: advice needs fitting_cues"
    tried = sum(1 for s in BANK for f in s.hidden_facts if f.tried)
    assert tried >= 20


# Cues are matched from the start of a word, so these would match nearly any reply.
TOO_GENERIC = {"you", "i", "it", "the", "a", "an", "to", "for", "how", "do", "is", "time", "her"}


def test_cues_are_specific_enough():
    for s in BANK:
        cue_lists = [s.fitting_cues, s.answer_cues]
        cue_lists += [f.cues for f in s.hidden_facts] + [f.tried for f in s.hidden_facts]
        cue_lists += [r.cues for r in s.readings]
        for cues in cue_lists:
            for cue in cues:
                assert cue.strip() == cue and cue, f"{s.id}: blank or padded cue {cue!r}"
                assert cue.lower() not in TOO_GENERIC, f"{s.id}: cue {cue!r} matches anything"


def test_disclosure_plus_task_openings():
    disclosure = [s for s in BANK if "disclosure" in s.tags]
    assert len(disclosure) >= 30
    assert len({s.need for s in disclosure}) >= 5


def test_openings_varied_in_length_and_register():
    lengths = [len(s.opening.split()) for s in BANK]
    assert min(lengths) <= 5 and max(lengths) >= 35
    assert len({s.opening for s in BANK}) == len(BANK)
    lowercase_starts = sum(1 for s in BANK if s.opening[:1].islower())
    assert lowercase_starts >= 5  # some people type in lowercase


def test_reply_overrides_name_known_reactions():
    with_replies = [s for s in BANK if s.replies]
    assert len(with_replies) >= 10


@pytest.mark.parametrize("name", ["core", "disclosure", "ambiguity", "grounding", "all"])
def test_named_suites_non_empty(name: str):
    assert select_suite(BANK, name)


def test_core_is_balanced():
    core = select_suite(BANK, "core")
    assert 21 <= len(core) <= 35
    counts = Counter(s.need for s in core)
    assert set(counts) == set(NEEDS)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_ambiguity_suite_holds_both_sides():
    needs = Counter(s.need for s in select_suite(BANK, "ambiguity"))
    assert needs["clarify"] >= 25 and needs["clear_task"] >= 25


def test_select_by_need_tag_domain_id_and_union():
    assert {s.need for s in select_suite(BANK, "vent")} == {"vent"}
    assert {s.domain for s in select_suite(BANK, "grief")} == {"grief"}
    one = select_suite(BANK, BANK[0].id)
    assert [s.id for s in one] == [BANK[0].id]
    union = select_suite(BANK, "vent, validation")
    assert {s.need for s in union} == {"vent", "validation"}
    assert len(union) == len(select_suite(BANK, "vent")) + len(select_suite(BANK, "validation"))


def test_unknown_suite_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown suite 'nope'"):
        select_suite(BANK, "nope")
    with pytest.raises(ConfigError):
        select_suite(BANK, " , ")


def test_list_suites_with_counts():
    rows = list_suites(BANK)
    assert {r["name"] for r in rows} == set(SUITES)
    assert all(r["count"] > 0 for r in rows)


def test_bank_hash_is_stable_and_sensitive():
    h = bank_hash(BANK)
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert bank_hash(list(reversed(BANK))) == h  # order does not matter
    changed = [BANK[0].model_copy(update={"emotion_start": 41.0}), *BANK[1:]]
    assert bank_hash(changed) != h


# --------------------------------------------------------------------------- loader errors
GOOD = """\
personas:
  ann: {style: terse}
defaults:
  need: vent
  tags: [mine]
scenarios:
  - id: a-1
    domain: work
    persona: ann
    opening: Hello.
    hidden_facts:
      - {id: f, text: It is late., cues: [late]}
"""


def test_loads_a_user_file_with_personas_and_defaults(tmp_path: Path):
    p = tmp_path / "mine.yaml"
    p.write_text(GOOD)
    (sc,) = load_scenarios(p)
    assert sc.persona.style == "terse" and sc.need == "vent" and sc.tags == ["mine"]
    assert load_scenarios(tmp_path)[0].id == "a-1"


def test_malformed_field_names_file_line_scenario_and_field(tmp_path: Path):
    p = tmp_path / "bad.yaml"
    p.write_text(GOOD.replace("need: vent", "need: vent\n  emotion_start: 140"))
    with pytest.raises(InputError) as info:
        load_scenarios(p)
    err = info.value
    assert err.path == str(p)
    assert err.field == "scenarios[0] (a-1).emotion_start"
    assert err.line == 8  # the scenario's line (the bad value came from defaults)
    assert "bad.yaml" in str(err) and "emotion_start" in str(err)


def test_nested_field_error_points_at_its_line(tmp_path: Path):
    p = tmp_path / "bad.yaml"
    p.write_text(GOOD.replace("cues: [late]", "cues: late"))
    with pytest.raises(InputError) as info:
        load_scenarios(p)
    assert info.value.field == "scenarios[0] (a-1).hidden_facts.0.cues"
    assert info.value.line == 12


def test_invalid_yaml_names_line(tmp_path: Path):
    p = tmp_path / "broken.yaml"
    p.write_text("scenarios:\n  - id: x\n    opening: [unclosed\n")
    with pytest.raises(InputError) as info:
        load_scenarios(p)
    assert info.value.path == str(p) and info.value.line is not None


def test_unknown_persona_and_reaction_and_duplicates(tmp_path: Path):
    p = tmp_path / "a.yaml"
    p.write_text(GOOD.replace("persona: ann", "persona: bob"))
    with pytest.raises(InputError, match="unknown persona 'bob'"):
        load_scenarios(p)
    p.write_text(
        GOOD.replace("    opening: Hello.", "    opening: Hello.\n    replies: {huh: [x]}")
    )
    with pytest.raises(InputError, match="unknown reaction"):
        load_scenarios(p)
    p.write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(InputError, match="duplicate scenario id 'a-1'"):
        load_scenarios(tmp_path)


def test_clarify_without_meant_is_rejected(tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text(GOOD.replace("need: vent", "need: clarify"))
    with pytest.raises(InputError, match="clarify") as info:
        load_scenarios(p)
    assert info.value.field.startswith("scenarios[0] (a-1)")


def test_jsonl_file_and_missing_path(tmp_path: Path):
    p = tmp_path / "s.jsonl"
    p.write_text(BANK[0].model_dump_json() + "\n" + '{"id": "x"}\n')
    with pytest.raises(InputError) as info:
        load_scenarios(p)
    assert info.value.line == 2
    with pytest.raises(InputError, match="no such file"):
        load_scenarios(tmp_path / "nope")


def test_single_bank_file_sees_sibling_personas():
    vent = load_scenarios(BANK_DIR / "vent.yaml")
    assert vent and all(s.need == "vent" for s in vent)
