"""Field definitions and answers: strict checks, clear field errors, junk never crashes."""

from __future__ import annotations

import contextlib
import datetime
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confide.errors import InvalidInput
from confide.support import forms_builder as fb
from confide.support.library import LIBRARY

TEXT: dict[str, Any] = {
    "id": "situation",
    "kind": "text",
    "label": "What happened?",
    "required": True,
}
SCALE: dict[str, Any] = {
    "id": "mood",
    "kind": "scale",
    "label": "How strong?",
    "required": True,
    "min": 0,
    "max": 10,
    "min_label": "Barely",
    "max_label": "Very",
}
CHOICE: dict[str, Any] = {
    "id": "pick",
    "kind": "choice",
    "label": "Which one?",
    "required": False,
    "choices": ["Morning", "Evening"],
}
DATE: dict[str, Any] = {"id": "when", "kind": "date", "label": "When?", "required": False}
FIELDS = [TEXT, SCALE, CHOICE, DATE]


def errors_of(call: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.message
    return caught.value.field_errors


# --- field definitions ---------------------------------------------------------------------


def test_it_accepts_every_kind_and_returns_canonical_definitions() -> None:
    clean = fb.validate_fields([*FIELDS, {**TEXT, "id": "more", "help": "  a hint\r\n  "}])
    assert clean[:4] == FIELDS
    assert clean[4]["help"] == "a hint"


def test_every_library_template_is_valid_as_written() -> None:
    for entry in LIBRARY:
        assert fb.validate_fields(entry.fields) == entry.fields, entry.key
        fb.validate_template(
            title=entry.title, instructions=entry.instructions, fields=entry.fields
        )


def test_labels_are_one_line_and_help_keeps_its_lines() -> None:
    [field] = fb.validate_fields(
        [{**TEXT, "label": "  two\nlines\t here ", "help": "first\r\nsecond"}]
    )
    assert field["label"] == "two lines here"
    assert field["help"] == "first\nsecond"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"id": "Has Caps"}, "0.id"),
        ({"id": ""}, "0.id"),
        ({"id": "x" * 41}, "0.id"),
        ({"id": 7}, "0.id"),
        ({"kind": "html"}, "0.kind"),
        ({"kind": None}, "0.kind"),
        ({"label": ""}, "0.label"),
        ({"label": "   "}, "0.label"),
        ({"label": "x" * 201}, "0.label"),
        ({"label": ["not", "text"]}, "0.label"),
        ({"help": "x" * 501}, "0.help"),
        ({"required": "yes"}, "0.required"),
        ({"onclick": "alert(1)"}, "0"),
        ({"choices": ["a", "b"]}, "0"),  # choices on a text field
    ],
)
def test_it_names_the_broken_part_of_a_definition(change: dict[str, Any], key: str) -> None:
    errors = errors_of(lambda: fb.validate_fields([{**TEXT, **change}]))
    assert key in errors, errors


@pytest.mark.parametrize(
    "change",
    [
        {"min": 0, "max": 0},
        {"min": 5, "max": 3},
        {"min": -1, "max": 10},
        {"min": 0, "max": 11},
        {"min": "0", "max": 10},
        {"min": True, "max": 10},
        {"min": 0.5, "max": 10},
        {"min_label": "x" * 61},
    ],
)
def test_a_scale_runs_between_0_and_10(change: dict[str, Any]) -> None:
    errors = errors_of(lambda: fb.validate_fields([{**SCALE, **change}]))
    assert any(key.startswith("0.m") for key in errors), errors


@pytest.mark.parametrize(
    "choices",
    [
        ["only one"],
        [f"c{n}" for n in range(13)],
        ["same", "same"],
        ["fine", ""],
        ["fine", "x" * 101],
        ["fine", 3],
        "a,b",
        None,
    ],
)
def test_a_choice_has_2_to_12_distinct_options(choices: Any) -> None:
    errors = errors_of(lambda: fb.validate_fields([{**CHOICE, "choices": choices}]))
    assert "0.choices" in errors


def test_ids_are_unique_and_the_list_is_bounded() -> None:
    assert "1.id" in errors_of(lambda: fb.validate_fields([TEXT, {**TEXT}]))
    many = [{**TEXT, "id": f"f{n}"} for n in range(31)]
    assert "fields" in errors_of(lambda: fb.validate_fields(many))
    assert len(fb.validate_fields(many[:30])) == 30
    assert "fields" in errors_of(lambda: fb.validate_fields([]))
    assert fb.validate_fields([], allow_empty=True) == []
    assert "fields" in errors_of(lambda: fb.validate_fields({"id": "x"}))


def test_a_template_needs_a_title_and_short_instructions() -> None:
    assert "title" in errors_of(
        lambda: fb.validate_template(title=" ", instructions="", fields=FIELDS)
    )
    assert "title" in errors_of(
        lambda: fb.validate_template(title="x" * 121, instructions="", fields=FIELDS)
    )
    assert "instructions" in errors_of(
        lambda: fb.validate_template(title="Fine", instructions="x" * 4001, fields=FIELDS)
    )
    assert fb.validate_template(title=" A  title ", instructions=" Hi\r\n", fields=FIELDS) == (
        "A title",
        "Hi",
    )


# --- answers ------------------------------------------------------------------------------


def test_a_draft_may_be_partial_but_a_submission_must_be_complete() -> None:
    assert fb.validate_answers(FIELDS, {"situation": "At work"}, complete=False) == {
        "situation": "At work"
    }
    errors = errors_of(lambda: fb.validate_answers(FIELDS, {"situation": "x"}, complete=True))
    assert set(errors) == {"mood"}
    full = {"situation": "At work", "mood": 7}
    assert fb.validate_answers(FIELDS, full, complete=True) == full


def test_empty_optional_answers_are_left_out() -> None:
    answers = {"situation": "  At work \r\n", "mood": 3, "pick": "", "when": " "}
    assert fb.validate_answers(FIELDS, answers, complete=True) == {
        "situation": "At work",
        "mood": 3,
    }


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ({"mood": 11}, "mood"),
        ({"mood": -1}, "mood"),
        ({"mood": "7"}, "mood"),
        ({"mood": True}, "mood"),
        ({"mood": 7.0}, "mood"),
        ({"pick": "Noon"}, "pick"),
        ({"pick": 1}, "pick"),
        ({"when": "14/03/2027"}, "when"),
        ({"when": "2027-02-30"}, "when"),
        ({"when": "2027-3-4"}, "when"),
        ({"situation": "x" * 10_001}, "situation"),
        ({"situation": ["x"]}, "situation"),
        ({"not_asked": "x"}, "answers"),
    ],
)
def test_it_refuses_answers_that_do_not_fit(answers: dict[str, Any], key: str) -> None:
    errors = errors_of(lambda: fb.validate_answers(FIELDS, answers, complete=False))
    assert key in errors, errors


def test_answers_must_be_an_object() -> None:
    junks: list[Any] = [None, [], "x", 3]
    for junk in junks:
        assert "answers" in errors_of(
            lambda junk=junk: fb.validate_answers(FIELDS, junk, complete=False)
        )


def test_a_browser_post_becomes_typed_answers() -> None:
    posted = {"a-situation": "At work", "a-mood": "7", "a-pick": "Morning", "a-other": "x"}
    assert fb.answers_from_form(FIELDS, posted) == {
        "situation": "At work",
        "mood": 7,
        "pick": "Morning",
    }
    # Not a number: passed on as text, so the check names it.
    raw = fb.answers_from_form(FIELDS, {"a-mood": "seven"})
    assert "mood" in errors_of(lambda: fb.validate_answers(FIELDS, raw, complete=False))
    raw = fb.answers_from_form(FIELDS, {"a-mood": "\u0667"})  # an Arabic-Indic seven
    assert "mood" in errors_of(lambda: fb.validate_answers(FIELDS, raw, complete=False))


# --- the builder's rows ---------------------------------------------------------------------


def test_builder_rows_become_definitions_with_ids_from_their_labels() -> None:
    posted = {
        "rows": "4",
        "0-kind": "text",
        "0-label": "What happened?",
        "0-required": "on",
        "1-kind": "scale",
        "1-label": "What happened?",
        "1-min": "1",
        "1-max": "5",
        "1-max_label": "A lot",
        "2-kind": "text",  # blank: left out
        "3-kind": "choice",
        "3-id": "kept_id",
        "3-label": "Pick",
        "3-choices": "One\r\n\r\nTwo\n",
    }
    rows = fb.rows_from_form(posted)
    definitions = fb.definitions_from_rows(rows)
    assert fb.validate_fields(definitions) == [
        {"id": "what_happened", "kind": "text", "label": "What happened?", "required": True},
        {
            "id": "what_happened_2",
            "kind": "scale",
            "label": "What happened?",
            "required": False,
            "min": 1,
            "max": 5,
            "max_label": "A lot",
        },
        {
            "id": "kept_id",
            "kind": "choice",
            "label": "Pick",
            "required": False,
            "choices": ["One", "Two"],
        },
    ]


def test_builder_buttons_add_move_and_remove_rows() -> None:
    rows = [fb.BuilderRow(label=name) for name in "abc"]
    assert [r.label for r in fb.rows_apply(rows, "up-1")] == ["b", "a", "c"]
    assert [r.label for r in fb.rows_apply(rows, "down-1")] == ["a", "c", "b"]
    assert [r.label for r in fb.rows_apply(rows, "remove-0")] == ["b", "c"]
    assert len(fb.rows_apply(rows, "add")) == 4
    for junk in ("up-0", "down-2", "remove-9", "up-x", "explode", "remove-", "up-\u0661"):
        assert [r.label for r in fb.rows_apply(rows, junk)] == ["a", "b", "c"], junk
    full = [fb.BuilderRow(label=str(n)) for n in range(fb.MAX_FIELDS)]
    assert len(fb.rows_apply(full, "add")) == fb.MAX_FIELDS


def test_a_forged_row_count_reads_at_most_one_row_too_many() -> None:
    posted = {"rows": "100000", **{f"{n}-label": f"q{n}" for n in range(50)}}
    rows = fb.rows_from_form(posted)
    assert len(rows) == fb.MAX_FIELDS + 1
    errors = errors_of(lambda: fb.validate_fields(fb.definitions_from_rows(rows)))
    assert "fields" in errors
    assert fb.rows_from_form({"rows": "-3"}) == []
    assert fb.rows_from_form({"rows": "lots"}) == []


def test_row_errors_land_on_their_row() -> None:
    with pytest.raises(InvalidInput) as caught:
        fb.validate_fields([TEXT, {**SCALE, "min": 9, "max": 2}])
    per_row = fb.row_errors(caught.value, 2)
    assert per_row[0] == {}
    assert "min" in per_row[1]


# --- properties -----------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_clean_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"),
        min_size=1,
        max_size=200,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def valid_answers(draw: st.DrawFn) -> dict[str, Any]:
    answers: dict[str, Any] = {"situation": draw(_clean_text), "mood": draw(st.integers(0, 10))}
    if draw(st.booleans()):
        answers["pick"] = draw(st.sampled_from(CHOICE["choices"]))
    if draw(st.booleans()):
        day = draw(st.dates(min_value=datetime.date(1, 1, 1)))
        answers["when"] = day.isoformat()
    return answers


@given(valid_answers())
@settings(max_examples=300)
def test_any_valid_answers_round_trip(answers: dict[str, Any]) -> None:
    clean = fb.validate_answers(FIELDS, answers, complete=True)
    assert clean == answers
    # ... through the JSON the database keeps, and back through the check.
    again = json.loads(json.dumps(clean))
    assert fb.validate_answers(FIELDS, again, complete=True) == answers


@given(_json)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_junk_answers_give_invalid_input_and_nothing_else(junk: Any) -> None:
    for complete in (False, True):
        with contextlib.suppress(InvalidInput):
            fb.validate_answers(FIELDS, junk, complete=complete)
        with contextlib.suppress(InvalidInput):
            fb.validate_answers(
                FIELDS,
                {"situation": junk, "mood": junk, "pick": junk, "when": junk},
                complete=complete,
            )


_field_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(alphabet=string.ascii_lowercase + "_", max_size=42), _json),
        "kind": st.one_of(st.sampled_from(fb.KINDS), _json),
        "label": st.one_of(st.text(max_size=210), _json),
        "help": st.one_of(st.text(max_size=20), _json),
        "required": _json,
        "min": st.one_of(st.integers(-2, 12), _json),
        "max": st.one_of(st.integers(-2, 12), _json),
        "min_label": _json,
        "max_label": _json,
        "choices": st.one_of(st.lists(st.text(max_size=5), max_size=14), _json),
    },
)


@given(st.one_of(_json, st.lists(st.one_of(_field_like, _json), max_size=5)))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_junk_definitions_give_invalid_input_and_nothing_else(junk: Any) -> None:
    try:
        clean = fb.validate_fields(junk)
    except InvalidInput:
        return
    # Whatever passes is canonical: checking it again changes nothing.
    assert fb.validate_fields(clean) == clean


@given(
    st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=20), st.text(max_size=12)
)
@settings(max_examples=200)
def test_junk_builder_posts_give_invalid_input_and_nothing_else(
    posted: dict[str, str], op: str
) -> None:
    rows = fb.rows_apply(fb.rows_from_form({"rows": "3", **posted}), op)
    with contextlib.suppress(InvalidInput):
        fb.validate_fields(fb.definitions_from_rows(rows))
