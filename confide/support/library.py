"""Confide's own library of written exercises, kept as code.

The wording is Confide's: plain, warm and short, written for someone filling it in on a phone
between sessions. Each entry becomes an `ExerciseTemplate` row (practice null, `key` set) the
first time it is needed (`library_ensure`, called by the assign page and the demo seeding):
created by key, and brought up to date when the code here changed. Assignments copy a
template's fields, so changing an entry never changes an exercise already given.
"""

from __future__ import annotations

import dataclasses

from django.db import IntegrityError, transaction

from confide.support.forms_builder import FieldDef
from confide.support.models import ExerciseTemplate


@dataclasses.dataclass(frozen=True)
class LibraryEntry:
    key: str
    title: str
    instructions: str
    fields: list[FieldDef]
    for_couples: bool = False


def _text(field_id: str, label: str, help_text: str = "", *, required: bool = False) -> FieldDef:
    field: FieldDef = {"id": field_id, "kind": "text", "label": label, "required": required}
    if help_text:
        field["help"] = help_text
    return field


def _scale(
    field_id: str,
    label: str,
    low_label: str,
    high_label: str,
    help_text: str = "",
    *,
    required: bool = False,
) -> FieldDef:
    field: FieldDef = {
        "id": field_id,
        "kind": "scale",
        "label": label,
        "required": required,
        "min": 0,
        "max": 10,
        "min_label": low_label,
        "max_label": high_label,
    }
    if help_text:
        field["help"] = help_text
    return field


THOUGHT_RECORD = LibraryEntry(
    key="thought-record",
    title="Thought record",
    instructions=(
        "When a feeling hits hard, it often comes with a quick thought we barely notice. "
        "This page helps you slow that moment down and look at it from a few sides.\n\n"
        "Pick one recent moment that stayed with you. There are no right answers, and a few "
        "words in each box are enough."
    ),
    fields=[
        _text(
            "situation",
            "What was happening?",
            "Where were you, who was there, what were you doing? A sentence or two is plenty.",
            required=True,
        ),
        _text(
            "automatic_thought",
            "What went through your mind?",
            "The first thought, in the words it came in. For example: I always get this wrong.",
            required=True,
        ),
        _text(
            "emotion",
            "What did you feel?",
            "One or two words are enough: sad, worried, angry, ashamed, lonely...",
            required=True,
        ),
        _scale(
            "intensity",
            "How strong was that feeling?",
            "Barely there",
            "As strong as it gets",
            required=True,
        ),
        _text(
            "evidence_for",
            "What makes the thought feel true?",
            "Facts you know, rather than guesses about what others think.",
        ),
        _text(
            "evidence_against",
            "What doesn't quite fit the thought?",
            "Anything that points the other way, or what a good friend might gently point out.",
        ),
        _text(
            "balanced_thought",
            "A fuller, kinder way to see it",
            "Not forced positivity: a thought that makes room for everything you wrote above.",
            required=True,
        ),
        _scale(
            "emotion_after",
            "How strong is that feeling now?",
            "Barely there",
            "As strong as it gets",
        ),
    ],
)

ACTIVATION_PLAN = LibraryEntry(
    key="activation-plan",
    title="Activity plan",
    instructions=(
        "When we feel low, we tend to do less, and doing less can make us feel lower still. "
        "Planning one small thing, and noticing how it goes, is a gentle way to turn that "
        "around.\n\n"
        "Fill in the first part now, and come back to the last question after you have done it."
    ),
    fields=[
        _text(
            "activity",
            "What will you do?",
            "Something small and doable: a walk round the block, a call to a friend, one drawer "
            "tidied.",
            required=True,
        ),
        {"id": "when", "kind": "date", "label": "When will you do it?", "required": True},
        _scale(
            "expected_mastery",
            "How much of a sense of achievement do you expect?",
            "None at all",
            "A great deal",
        ),
        _scale(
            "expected_pleasure",
            "How much enjoyment do you expect?",
            "None at all",
            "A great deal",
        ),
        _text(
            "what_happened",
            "Afterwards: how did it go?",
            "Did you do it? What did you notice in yourself? It counts even if it did not go to "
            "plan.",
        ),
    ],
)

GRATITUDE = LibraryEntry(
    key="gratitude-journal",
    title="Three good things",
    instructions=(
        "At the end of a day, look back for three things that went well or that you were glad "
        "of. They can be small: a warm drink, a kind word, a bus that came on time.\n\n"
        "For each one, add a line about why it happened or why it mattered to you."
    ),
    fields=[
        field
        for n, word in ((1, "first"), (2, "second"), (3, "third"))
        for field in (
            _text(f"thing_{n}", f"The {word} good thing", required=n == 1),
            _text(f"why_{n}", "Why did it happen, or why did it matter to you?"),
        )
    ],
)

VALUES = LibraryEntry(
    key="values-worksheet",
    title="What matters to me",
    instructions=(
        "Values are the directions we want to head in, rather than goals we tick off. "
        "This page helps you name what matters to you in one part of your life, and find one "
        "small step towards it.\n\n"
        "You can fill it in again for another part of life whenever you like."
    ),
    fields=[
        {
            "id": "domain",
            "kind": "choice",
            "label": "Which part of life would you like to look at?",
            "required": True,
            "choices": [
                "Partner or closest relationship",
                "Family",
                "Friendships",
                "Work or study",
                "Health and body",
                "Play and rest",
                "Community",
                "Learning and growing",
            ],
        },
        _text(
            "what_matters",
            "What matters to you here?",
            "The kind of person you would like to be in this part of life.",
            required=True,
        ),
        _scale(
            "importance",
            "How important is this to you right now?",
            "Not very",
            "Very important",
        ),
        _scale(
            "living_it",
            "How closely are you living by it at the moment?",
            "Not at all",
            "Fully",
        ),
        _text(
            "small_step",
            "One small step you could take this week",
            "Small enough that you could do it even on a hard day.",
            required=True,
        ),
    ],
)

COUPLES_CHECK_IN = LibraryEntry(
    key="couples-weekly-check-in",
    title="Weekly check-in for couples",
    instructions=(
        "A few minutes each week to look at how the two of you are doing. Each of you fills it "
        "in on your own first; then you can read each other's answers and talk them through.\n\n"
        "Start with what went well. When you raise a concern, describe the moment and how you "
        "felt, rather than what your partner is like."
    ),
    for_couples=True,
    fields=[
        _text(
            "appreciations",
            "Something you appreciated about your partner this week",
            "Big or small: something they did, said, or simply are.",
            required=True,
        ),
        _text("went_well", "What went well between you?"),
        _text(
            "concern",
            "A concern you would like to raise, gently",
            "For example: I felt alone on Tuesday evening, rather than: you never make time.",
        ),
        _text(
            "request",
            "A request for the coming week",
            "Something specific your partner could say yes to.",
        ),
        _scale(
            "closeness",
            "How close do you feel right now?",
            "Far apart",
            "Very close",
            required=True,
        ),
    ],
)

SPEAKER_LISTENER = LibraryEntry(
    key="speaker-listener-reflection",
    title="Listening reflection",
    instructions=(
        "After one of you has spoken about something that matters to them, the other writes "
        "down what they took in. The aim is to understand, not to agree or to reply: that can "
        "come later.\n\n"
        "Use your own words. Your partner can then tell you what you got right and what they "
        "would add."
    ),
    for_couples=True,
    fields=[
        _text(
            "heard",
            "What I heard my partner say",
            "As fairly as you can, without adding your own side.",
            required=True,
        ),
        _text(
            "they_feel",
            "What I think they feel",
            "Your best guess; it is fine to be unsure.",
            required=True,
        ),
        _text(
            "understood",
            "What I would like them to know I understood",
            required=True,
        ),
        {
            "id": "checked",
            "kind": "choice",
            "label": "Did you check with your partner whether you got it right?",
            "required": False,
            "choices": ["Yes, and I had it right", "Yes, and I learned more", "Not yet"],
        },
    ],
)

LIBRARY: tuple[LibraryEntry, ...] = (
    THOUGHT_RECORD,
    ACTIVATION_PLAN,
    GRATITUDE,
    VALUES,
    COUPLES_CHECK_IN,
    SPEAKER_LISTENER,
)


def _matches(template: ExerciseTemplate, entry: LibraryEntry) -> bool:
    return (
        template.title == entry.title
        and template.instructions == entry.instructions
        and template.fields == entry.fields
        and template.for_couples == entry.for_couples
        and template.practice_id is None
        and not template.archived
    )


def library_ensure() -> dict[str, ExerciseTemplate]:
    """The library's templates by key, created or brought up to date (one query when current)."""
    current = {
        t.key: t
        for t in ExerciseTemplate.objects.filter(key__in=[entry.key for entry in LIBRARY])
        if t.key is not None
    }
    for entry in LIBRARY:
        template = current.get(entry.key)
        if template is not None and _matches(template, entry):
            continue
        values = {
            "title": entry.title,
            "instructions": entry.instructions,
            "fields": entry.fields,
            "for_couples": entry.for_couples,
            "practice": None,
            "author": None,
            "archived": False,
        }
        if template is None:
            try:
                with transaction.atomic():
                    current[entry.key] = ExerciseTemplate.objects.create(key=entry.key, **values)
                continue
            except IntegrityError:
                # Created a moment ago by a concurrent request: bring that row up to date.
                template = ExerciseTemplate.objects.get(key=entry.key)
        for name, value in values.items():
            setattr(template, name, value)
        template.save(update_fields=list(values))
        current[entry.key] = template
    return current
