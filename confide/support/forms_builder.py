"""Written exercises as data: field definitions, the answers to them, and the builder's rows.

Pure functions, no database. A field definition (`ExerciseTemplate.fields`, copied into
`Exercise.fields`) is::

    {"id": "situation", "kind": "text", "label": "What happened?", "help": "...",
     "required": true}
    {"id": "mood", "kind": "scale", "label": "...", "required": true, "min": 0, "max": 10,
     "min_label": "Not at all", "max_label": "Completely"}
    {"id": "pick", "kind": "choice", "label": "...", "required": false, "choices": ["a", "b"]}
    {"id": "when", "kind": "date", "label": "...", "required": false}

Answers (`ExerciseResponse.answers`, encrypted) are ``{"<field id>": value}``: a string for
text (at most 10,000 characters), choice (one of the choices) and date (ISO yyyy-mm-dd), an int
for a scale. Empty optional fields are left out; a draft may leave out required ones too.

Everything a therapist writes here (labels, help, end labels, choices, titles, instructions)
is plain text: templates always escape it when they show it, so it can never become markup.
Every check raises `InvalidInput` with `field_errors`; junk of any shape never raises anything
else (tests/support/test_forms_builder.py checks that with hypothesis).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from confide.errors import InvalidInput

KINDS = ("text", "scale", "choice", "date")
MAX_FIELDS = 30
MAX_ID = 40
MAX_LABEL = 200
MAX_HELP = 500
MAX_END_LABEL = 60
MIN_CHOICES, MAX_CHOICES = 2, 12
MAX_CHOICE = 100
SCALE_LOW, SCALE_HIGH = 0, 10
MAX_TEXT_ANSWER = 10_000
MAX_TITLE = 120
MAX_INSTRUCTIONS = 4000

FieldDef = dict[str, Any]
Answers = dict[str, str | int]

_ID = re.compile(r"[a-z0-9_]{1,40}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COMMON_KEYS = frozenset({"id", "kind", "label", "help", "required"})
_KIND_KEYS = {
    "text": frozenset(),
    "date": frozenset(),
    "scale": frozenset({"min", "max", "min_label", "max_label"}),
    "choice": frozenset({"choices"}),
}


def _one_line(value: str) -> str:
    """A label: one line, runs of whitespace (newlines, tabs) as single spaces."""
    return " ".join(value.replace("\x00", "").split())


def _multi_line(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Errors:
    def __init__(self) -> None:
        self.by_key: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.by_key.setdefault(key, []).append(message)

    def raise_if_any(self, summary: str) -> None:
        if self.by_key:
            raise InvalidInput(summary, field_errors=self.by_key)


def _text_option(
    raw: Mapping[str, Any], key: str, *, limit: int, errors: _Errors, where: str, line: bool
) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(where, "Write this as text.")
        return ""
    clean = _one_line(value) if line else _multi_line(value)
    if len(clean) > limit:
        errors.add(where, f"At most {limit} characters.")
    return clean


def _clean_field(raw: object, index: int, errors: _Errors, seen: set[str]) -> FieldDef | None:
    here = f"{index}"
    if not isinstance(raw, dict):
        errors.add(here, "Each field must be an object with an id, a kind and a label.")
        return None
    unknown = [
        k
        for k in raw
        if not isinstance(k, str)
        or k not in _COMMON_KEYS | _KIND_KEYS.get(str(raw.get("kind")), frozenset())
    ]
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        errors.add(f"{here}.kind", "Choose a kind: written answer, scale, choice or date.")
        return None
    if unknown:
        names = ", ".join(sorted(repr(k) for k in unknown))[:200]
        errors.add(here, f"This field has options that do not fit its kind: {names}.")
    field_id = raw.get("id")
    if not isinstance(field_id, str) or _ID.fullmatch(field_id) is None:
        errors.add(
            f"{here}.id",
            f"An id is 1 to {MAX_ID} characters: lower-case letters, digits and underscores.",
        )
        field_id = ""
    elif field_id in seen:
        errors.add(f"{here}.id", "Two fields cannot have the same id.")
    seen.add(str(field_id))
    label = _text_option(
        raw, "label", limit=MAX_LABEL, errors=errors, where=f"{here}.label", line=True
    )
    if not label and f"{here}.label" not in errors.by_key:
        errors.add(f"{here}.label", "Write the question or prompt.")
    help_text = _text_option(
        raw, "help", limit=MAX_HELP, errors=errors, where=f"{here}.help", line=False
    )
    required = raw.get("required", False)
    if not isinstance(required, bool):
        errors.add(f"{here}.required", "Required is yes or no.")
        required = False
    field: FieldDef = {"id": field_id, "kind": kind, "label": label, "required": required}
    if help_text:
        field["help"] = help_text
    if kind == "scale":
        _clean_scale(raw, field, here, errors)
    elif kind == "choice":
        _clean_choices(raw, field, here, errors)
    return field


def _clean_scale(raw: Mapping[str, Any], field: FieldDef, here: str, errors: _Errors) -> None:
    low, high = raw.get("min"), raw.get("max")
    if not _is_int(low) or not _is_int(high):
        errors.add(f"{here}.min", "A scale needs whole numbers from and to, e.g. 0 to 10.")
        return
    assert isinstance(low, int) and isinstance(high, int)  # noqa: S101 - narrowed by _is_int
    if not SCALE_LOW <= low < high <= SCALE_HIGH:
        errors.add(
            f"{here}.min",
            f"A scale runs from a lower to a higher number between {SCALE_LOW} and {SCALE_HIGH}.",
        )
        return
    field["min"], field["max"] = low, high
    for key in ("min_label", "max_label"):
        text = _text_option(
            raw, key, limit=MAX_END_LABEL, errors=errors, where=f"{here}.{key}", line=True
        )
        if text:
            field[key] = text


def _clean_choices(raw: Mapping[str, Any], field: FieldDef, here: str, errors: _Errors) -> None:
    choices = raw.get("choices")
    where = f"{here}.choices"
    if not isinstance(choices, list):
        errors.add(where, f"List {MIN_CHOICES} to {MAX_CHOICES} choices.")
        return
    clean: list[str] = []
    for choice in choices:
        if not isinstance(choice, str):
            errors.add(where, "Each choice is a piece of text.")
            return
        text = _one_line(choice)
        if not text or len(text) > MAX_CHOICE:
            errors.add(where, f"Each choice is 1 to {MAX_CHOICE} characters.")
            return
        clean.append(text)
    if not MIN_CHOICES <= len(clean) <= MAX_CHOICES:
        errors.add(where, f"List {MIN_CHOICES} to {MAX_CHOICES} choices.")
        return
    if len(set(clean)) != len(clean):
        errors.add(where, "Each choice can appear only once.")
        return
    field["choices"] = clean


def validate_fields(raw: object, *, allow_empty: bool = False) -> list[FieldDef]:
    """The clean, canonical field definitions, or InvalidInput.

    Field errors are keyed by position: ``"3.label"`` is the label of the fourth field;
    ``"fields"`` is about the list itself.
    """
    if not isinstance(raw, list):
        raise InvalidInput(
            "The fields are not valid.", field_errors={"fields": ["The fields must be a list."]}
        )
    if len(raw) > MAX_FIELDS:
        raise InvalidInput(
            "The form has too many fields.",
            field_errors={"fields": [f"A form can have at most {MAX_FIELDS} fields."]},
        )
    errors = _Errors()
    if not raw and not allow_empty:
        errors.add("fields", "Add at least one field.")
    seen: set[str] = set()
    clean = [_clean_field(item, i, errors, seen) for i, item in enumerate(raw)]
    errors.raise_if_any("Some fields need another look.")
    return [f for f in clean if f is not None]


def validate_template(*, title: object, instructions: object, fields: object) -> tuple[str, str]:
    """The clean (title, instructions); the fields are checked by `validate_fields`."""
    errors = _Errors()
    clean_title = _one_line(title) if isinstance(title, str) else ""
    if not clean_title:
        errors.add("title", "Give the exercise a title.")
    elif len(clean_title) > MAX_TITLE:
        errors.add("title", f"A title is at most {MAX_TITLE} characters.")
    clean_instructions = _multi_line(instructions) if isinstance(instructions, str) else ""
    if len(clean_instructions) > MAX_INSTRUCTIONS:
        errors.add("instructions", f"Instructions are at most {MAX_INSTRUCTIONS:,} characters.")
    try:
        validate_fields(fields)
    except InvalidInput as invalid:
        for key, messages in invalid.field_errors.items():
            for message in messages:
                errors.add(key, message)
    errors.raise_if_any("The exercise needs another look.")
    return clean_title, clean_instructions


# --- answers -----------------------------------------------------------------------------


def _clean_answer(field: FieldDef, value: object) -> str | int | None:
    """The clean value (None: empty), or raises ValueError with the message to show."""
    kind = field["kind"]
    if kind == "scale":
        if value is None or value == "":
            return None
        if not _is_int(value):
            raise ValueError("Choose one of the numbers.")
        assert isinstance(value, int)  # noqa: S101 - narrowed by _is_int
        if not field["min"] <= value <= field["max"]:
            raise ValueError(f"Choose a number from {field['min']} to {field['max']}.")
        return value
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("This answer should be text.")
    if kind == "text":
        text = _multi_line(value)
        if len(text) > MAX_TEXT_ANSWER:
            raise ValueError(f"At most {MAX_TEXT_ANSWER:,} characters.")
        return text or None
    if kind == "choice":
        if value == "":
            return None
        if value not in field["choices"]:
            raise ValueError("Choose one of the options.")
        return value
    # date
    text = value.strip()
    if not text:
        return None
    if _ISO_DATE.fullmatch(text) is None:
        raise ValueError("Give a date as year-month-day, e.g. 2027-03-14.")
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError("This date does not exist.") from None
    return day.isoformat()


def validate_answers(fields: list[FieldDef], answers: object, *, complete: bool) -> Answers:
    """Clean answers to `fields`: unknown field ids are refused, empty answers left out.

    `complete` (submitting) requires every required field; a draft may be partial. Field
    errors are keyed by field id (``"answers"`` for the whole).
    """
    if not isinstance(answers, dict):
        raise InvalidInput(
            "The answers are not valid.",
            field_errors={"answers": ["The answers must be an object."]},
        )
    errors = _Errors()
    known = {f["id"] for f in fields}
    for key in answers:
        if key not in known:
            errors.add("answers", "An answer was given to a question this exercise does not ask.")
            break
    clean: Answers = {}
    for field in fields:
        try:
            value = _clean_answer(field, answers.get(field["id"]))
        except ValueError as exc:
            errors.add(field["id"], str(exc))
            continue
        if value is None:
            if complete and field.get("required"):
                errors.add(field["id"], "Please answer this before sending.")
            continue
        clean[field["id"]] = value
    errors.raise_if_any(
        "Some answers need another look." if not complete else "Some answers are missing."
    )
    return clean


def answers_from_form(fields: list[FieldDef], data: Mapping[str, Any]) -> dict[str, object]:
    """What a browser posted (``a-<field id>`` = text), as the typed values the answers hold.

    Only known fields are read. A scale's text becomes an int when it is a plain number; anything
    else is passed on as it came, so `validate_answers` names the problem.
    """
    raw: dict[str, object] = {}
    for field in fields:
        value = data.get(f"a-{field['id']}")
        if value is None:
            continue
        text = str(value)
        if field["kind"] == "scale" and text.strip():
            digits = text.strip()
            number: object = (
                int(digits)
                if digits.isascii() and digits.lstrip("-").isdecimal() and len(digits) < 6
                else digits
            )
            raw[field["id"]] = number
        else:
            raw[field["id"]] = text
    return raw


# --- the builder's rows (a plain HTML form: no JavaScript) --------------------------------


@dataclasses.dataclass
class BuilderRow:
    """One field of the form builder, as the text its inputs hold."""

    id: str = ""
    kind: str = "text"
    label: str = ""
    help: str = ""
    required: bool = False
    min: str = "0"
    max: str = "10"
    min_label: str = ""
    max_label: str = ""
    choices: str = ""  # one per line

    @property
    def blank(self) -> bool:
        return not any(
            (self.label, self.help, self.min_label, self.max_label, self.choices.strip())
        )

    def definition(self) -> dict[str, object]:
        """The definition this row describes (checked later by `validate_fields`)."""
        out: dict[str, object] = {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "required": self.required,
        }
        if self.help.strip():
            out["help"] = self.help
        if self.kind == "scale":
            out["min"] = _number(self.min)
            out["max"] = _number(self.max)
            if self.min_label.strip():
                out["min_label"] = self.min_label
            if self.max_label.strip():
                out["max_label"] = self.max_label
        elif self.kind == "choice":
            out["choices"] = [line.strip() for line in self.choices.splitlines() if line.strip()]
        return out


def _number(text: str) -> int | str:
    text = text.strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 4 else text


def rows_from_fields(fields: list[FieldDef]) -> list[BuilderRow]:
    return [
        BuilderRow(
            id=str(f.get("id", "")),
            kind=str(f.get("kind", "text")),
            label=str(f.get("label", "")),
            help=str(f.get("help", "")),
            required=bool(f.get("required", False)),
            min=str(f.get("min", 0)),
            max=str(f.get("max", 10)),
            min_label=str(f.get("min_label", "")),
            max_label=str(f.get("max_label", "")),
            choices="\n".join(str(c) for c in f.get("choices", [])),
        )
        for f in fields
    ]


def rows_from_form(data: Mapping[str, Any]) -> list[BuilderRow]:
    """The builder's rows as posted (``rows`` = how many; ``<n>-label`` and so on).

    At most MAX_FIELDS + 1 rows are read, so a forged count cannot make the page huge; a form
    with more fields than allowed is refused by `validate_fields`.
    """
    count_text = str(data.get("rows", "0"))
    count = int(count_text) if count_text.isascii() and count_text.isdecimal() else 0
    rows = []
    for n in range(min(count, MAX_FIELDS + 1)):

        def value(name: str, limit: int, n: int = n) -> str:
            return str(data.get(f"{n}-{name}", ""))[:limit]

        rows.append(
            BuilderRow(
                id=value("id", 64).strip(),
                kind=value("kind", 16),
                label=value("label", MAX_LABEL * 2),
                help=value("help", MAX_HELP * 2),
                required=data.get(f"{n}-required") in ("on", "1", "true"),
                min=value("min", 8),
                max=value("max", 8),
                min_label=value("min_label", MAX_END_LABEL * 2),
                max_label=value("max_label", MAX_END_LABEL * 2),
                choices=value("choices", (MAX_CHOICE + 2) * MAX_CHOICES * 2),
            )
        )
    return rows


def rows_apply(rows: list[BuilderRow], op: str) -> list[BuilderRow]:
    """The rows after a builder button: "add", "up-<n>", "down-<n>", "remove-<n>"."""
    rows = list(rows)
    if op == "add":
        if len(rows) < MAX_FIELDS:
            rows.append(BuilderRow())
        return rows
    action, _, position = op.partition("-")
    if not (position.isascii() and position.isdecimal()) or int(position) >= len(rows):
        return rows
    n = int(position)
    if action == "remove":
        del rows[n]
    elif action == "up" and n > 0:
        rows[n - 1], rows[n] = rows[n], rows[n - 1]
    elif action == "down" and n + 1 < len(rows):
        rows[n + 1], rows[n] = rows[n], rows[n + 1]
    return rows


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:MAX_ID].strip("_")
    return slug or "field"


def definitions_from_rows(rows: list[BuilderRow]) -> list[dict[str, object]]:
    """The definitions of the rows that are filled in; new rows get an id from their label."""
    kept = [r for r in rows if not r.blank]
    taken = {r.id for r in kept if r.id}
    out = []
    for row in kept:
        if not row.id:
            base = _slug(row.label)
            candidate, n = base, 2
            while candidate in taken:
                suffix = f"_{n}"
                candidate = base[: MAX_ID - len(suffix)] + suffix
                n += 1
            row.id = candidate
            taken.add(candidate)
        out.append(row.definition())
    return out


def row_errors(error: InvalidInput, count: int) -> list[dict[str, list[str]]]:
    """Field errors of `validate_fields` per row: [{"label": [...], ...}, ...]."""
    per_row: list[dict[str, list[str]]] = [{} for _ in range(count)]
    for key, messages in error.field_errors.items():
        head, _, attr = key.partition(".")
        if head.isdecimal() and int(head) < count:
            per_row[int(head)].setdefault(attr or "row", []).extend(messages)
    return per_row
