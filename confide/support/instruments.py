"""The questionnaires Confide offers as measures, with their published wording and scoring.

PHQ-9 (depression) and GAD-7 (anxiety)
    Kroenke, K., Spitzer, R. L. & Williams, J. B. W. (2001). The PHQ-9: validity of a brief
    depression severity measure. Journal of General Internal Medicine 16(9), 606-613.
    Spitzer, R. L., Kroenke, K., Williams, J. B. W. & Löwe, B. (2006). A brief measure for
    assessing generalized anxiety disorder: the GAD-7. Archives of Internal Medicine 166(10),
    1092-1097.
    Developed by Drs. Robert L. Spitzer, Janet B. W. Williams, Kurt Kroenke and colleagues, with
    an educational grant from Pfizer Inc. The copyright notice says: "No permission required to
    reproduce, translate, display or distribute."

CSI-4 (relationship satisfaction, 4-item Couples Satisfaction Index)
    Funk, J. L. & Rogge, R. D. (2007). Testing the ruler with item response theory: increasing
    precision of measurement for relationship satisfaction with the Couples Satisfaction Index.
    Journal of Family Psychology 21(4), 572-583. https://doi.org/10.1037/0893-3200.21.4.572
    The authors place the CSI scales in the public domain: free to use without permission.

The item wording, the answer labels and the severity bands below are the published ones; do not
edit them (a changed word is a different instrument). Everything here is pure: no database, no
request, so the scoring can be tested on its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from confide.errors import InvalidInput

# The answers of PHQ-9 and GAD-7 items, as printed on the forms.
_FREQUENCY = ("Not at all", "Several days", "More than half the days", "Nearly every day")

PFIZER_NOTICE = (
    "Developed by Drs. Robert L. Spitzer, Janet B. W. Williams, Kurt Kroenke and colleagues, "
    "with an educational grant from Pfizer Inc. No permission required to reproduce, "
    "translate, display or distribute."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Option:
    value: int
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    number: int  # 1-based, as printed
    text: str
    options: tuple[Option, ...]

    @property
    def key(self) -> str:
        """The form field (and field error) name of this item: ``item1``, ``item2``, ..."""
        return f"item{self.number}"

    @property
    def max_value(self) -> int:
        return self.options[-1].value


@dataclasses.dataclass(frozen=True, slots=True)
class Band:
    """A published score range, inclusive at both ends (scores are whole numbers)."""

    key: str  # stored in MeasureResponse.band (at most 24 characters)
    label: str
    low: int
    high: int
    short: str = ""  # a shorter label for the chart, when `label` is long

    @property
    def chart_label(self) -> str:
        return self.short or self.label

    @property
    def range_text(self) -> str:
        return f"{self.low}\u2013{self.high}"


@dataclasses.dataclass(frozen=True, slots=True)
class Questionnaire:
    """One instrument: its items, its bands and where it comes from."""

    key: str  # the value of models.Instrument
    name: str  # "PHQ-9"
    title: str  # "PHQ-9 (mood)"
    stem: str  # the question every item answers
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    source: str  # the citation shown under the form and the chart
    licence: str
    meaning: str  # what a score (and a cut-off) means, in plain words
    two_weeks: bool  # asks about the last 2 weeks
    crisis_item: int | None = None  # the item whose answer above zero raises a crisis flag
    higher_is_better: bool = False  # True for satisfaction; False for symptom counts

    @property
    def max_score(self) -> int:
        return sum(item.max_value for item in self.items)

    def band_for(self, score: int) -> Band:
        for band in self.bands:
            if band.low <= score <= band.high:
                return band
        raise ValueError(f"{score} is outside {self.name}'s range 0-{self.max_score}")

    def band_by_key(self, key: str) -> Band | None:
        return next((band for band in self.bands if band.key == key), None)

    def validate(self, answers: Sequence[object]) -> tuple[int, ...]:
        """The item scores, if `answers` has exactly one whole number in range per item.

        Strict on purpose: a string ("2"), a boolean (True is 1 to Python), a float, a missing
        item or an extra one is refused, with an error on each item that is wrong.
        """
        errors: dict[str, list[str]] = {}
        scores: list[int] = []
        for index, item in enumerate(self.items):
            value = answers[index] if index < len(answers) else None
            if value is None:
                errors[item.key] = ["Choose one answer."]
            elif type(value) is not int or not 0 <= value <= item.max_value:
                errors[item.key] = ["Choose one of the answers shown."]
            else:
                scores.append(value)
        if len(answers) > len(self.items):
            errors["answers"] = [f"{self.name} has {len(self.items)} questions, no more."]
        if errors:
            raise InvalidInput("Please answer every question.", field_errors=errors)
        return tuple(scores)

    def score(self, answers: Sequence[object]) -> Result:
        """Validate and score: the total and its published band."""
        scores = self.validate(answers)
        total = sum(scores)
        crisis = self.crisis_item is not None and scores[self.crisis_item - 1] > 0
        return Result(
            questionnaire=self,
            answers=scores,
            score=total,
            band=self.band_for(total),
            urgent=crisis,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    questionnaire: Questionnaire
    answers: tuple[int, ...]
    score: int
    band: Band
    urgent: bool  # PHQ-9 item 9 above zero


def _frequency_items(texts: Sequence[str]) -> tuple[Item, ...]:
    options = tuple(Option(value, label) for value, label in enumerate(_FREQUENCY))
    return tuple(Item(number, text, options) for number, text in enumerate(texts, start=1))


PHQ9 = Questionnaire(
    key="phq9",
    name="PHQ-9",
    title="PHQ-9 (mood)",
    stem=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=_frequency_items(
        (
            "Little interest or pleasure in doing things",
            "Feeling down, depressed, or hopeless",
            "Trouble falling or staying asleep, or sleeping too much",
            "Feeling tired or having little energy",
            "Poor appetite or overeating",
            "Feeling bad about yourself \u2014 or that you are a failure or have let yourself "
            "or your family down",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "Moving or speaking so slowly that other people could have noticed? Or the "
            "opposite \u2014 being so fidgety or restless that you have been moving around a "
            "lot more than usual",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
        )
    ),
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("moderately_severe", "Moderately severe", 15, 19),
        Band("severe", "Severe", 20, 27),
    ),
    source=(
        "PHQ-9: Kroenke, Spitzer & Williams (2001), Journal of General Internal Medicine "
        "16(9), 606\u2013613."
    ),
    licence=PFIZER_NOTICE,
    meaning=(
        "The total (0\u201327) adds up how often each problem bothered you. The bands are the "
        "published ones: 0\u20134 minimal, 5\u20139 mild, 10\u201314 moderate, 15\u201319 "
        "moderately severe, 20\u201327 severe. A questionnaire is not a diagnosis: your "
        "therapist looks at it with you."
    ),
    two_weeks=True,
    crisis_item=9,
)

GAD7 = Questionnaire(
    key="gad7",
    name="GAD-7",
    title="GAD-7 (anxiety)",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=_frequency_items(
        (
            "Feeling nervous, anxious, or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid, as if something awful might happen",
        )
    ),
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("severe", "Severe", 15, 21),
    ),
    source=(
        "GAD-7: Spitzer, Kroenke, Williams & L\u00f6we (2006), Archives of Internal Medicine "
        "166(10), 1092\u20131097."
    ),
    licence=PFIZER_NOTICE,
    meaning=(
        "The total (0\u201321) adds up how often each problem bothered you. The bands are the "
        "published ones: 0\u20134 minimal, 5\u20139 mild, 10\u201314 moderate, 15\u201321 "
        "severe. A questionnaire is not a diagnosis: your therapist looks at it with you."
    ),
    two_weeks=True,
)

_TRUE = ("Not at all", "A little", "Somewhat", "Mostly", "Almost completely", "Completely")

CSI4 = Questionnaire(
    key="csi4",
    name="CSI-4",
    title="CSI-4 (relationship satisfaction)",
    stem="Please answer each question about your relationship with your partner.",
    items=(
        Item(
            1,
            "Please indicate the degree of happiness, all things considered, of your relationship.",
            tuple(
                Option(value, label)
                for value, label in enumerate(
                    (
                        "Extremely unhappy",
                        "Fairly unhappy",
                        "A little unhappy",
                        "Happy",
                        "Very happy",
                        "Extremely happy",
                        "Perfect",
                    )
                )
            ),
        ),
        Item(
            2,
            "I have a warm and comfortable relationship with my partner.",
            tuple(Option(value, f"{label} true") for value, label in enumerate(_TRUE)),
        ),
        Item(
            3,
            "How rewarding is your relationship with your partner?",
            tuple(Option(value, label) for value, label in enumerate(_TRUE)),
        ),
        Item(
            4,
            "In general, how satisfied are you with your relationship?",
            tuple(Option(value, label) for value, label in enumerate(_TRUE)),
        ),
    ),
    bands=(
        # Scores are whole numbers, so "below 13.5" is 0-13 and "13.5 or more" is 14-21.
        Band(
            "dissatisfied",
            "Notable relationship dissatisfaction",
            0,
            13,
            short="Notable dissatisfaction",
        ),
        Band("satisfied", "Satisfied", 14, 21),
    ),
    source=(
        "CSI-4: Funk & Rogge (2007), \u201cTesting the ruler with item response theory\u201d, "
        "Journal of Family Psychology 21(4), 572\u2013583."
    ),
    licence="The authors place the Couples Satisfaction Index scales in the public domain.",
    meaning=(
        "The total (0\u201321) is higher the more satisfied you are with your relationship. "
        "In Funk and Rogge\u2019s study, totals below 13.5 marked notable relationship "
        "dissatisfaction, the range in which couples usually describe real distress; 13.5 or "
        "more reads as satisfied. The cut-off is a guide for a conversation, not a verdict."
    ),
    two_weeks=False,
    higher_is_better=True,
)

QUESTIONNAIRES: dict[str, Questionnaire] = {q.key: q for q in (PHQ9, GAD7, CSI4)}


def questionnaire(key: str) -> Questionnaire:
    """The instrument stored as `key` (a value of models.Instrument)."""
    try:
        return QUESTIONNAIRES[key]
    except KeyError:
        raise InvalidInput(
            "Choose a questionnaire.",
            field_errors={"instrument": ["Choose PHQ-9, GAD-7 or CSI-4."]},
        ) from None
