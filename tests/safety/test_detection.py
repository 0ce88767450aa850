"""Tests for crisis-language detection (plain functions, no database)."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.safety import detection
from confide.safety.detection import LANGUAGES, CrisisMatch, detect_crisis

CATEGORIES = {"suicide", "self_harm", "harm_others", "danger"}
RULE_ID = re.compile(r"^(?:en|de|fr|es|nl)\.(?:suicide|self_harm|harm_others|danger)\.[a-z_]+$")
RULE_IDS = {rule.rule_id for rule in detection._RULES}

# (message, expected category, expected language)
POSITIVE = [
    # English
    ("I've been thinking about KILLING MYSELF every night this week.", "suicide", "en"),
    ("Honestly I just want to die, nothing helps", "suicide", "en"),
    ("wanna die tbh", "suicide", "en"),
    ("Im gonna kill myself", "suicide", "en"),
    ("i dont want to be here anymore", "suicide", "en"),
    ("I don\u2019t want to live any more.", "suicide", "en"),
    ("Everyone would be better off dead without me, I'm sure of it.", "suicide", "en"),
    ("Had an awful day at work and I'm feeling suicidal again.", "suicide", "en"),
    ("I keep thinking about ending it all.", "suicide", "en"),
    ("I\u2019m going to take my own life this weekend.", "suicide", "en"),
    ("There is no reason to live anymore.", "suicide", "en"),
    ("I'm thinking about taking an overdose.", "suicide", "en"),
    ("I can\u2019t stop thinking about killing myself", "suicide", "en"),
    ("The session went fine. But honestly? I want to die.", "suicide", "en"),
    ("I hurt myself again last night and hid it from everyone.", "self_harm", "en"),
    ("I cut myself after the call with my mum.", "self_harm", "en"),
    ("Self-harm is the only thing that helps me cope lately.", "self_harm", "en"),
    ("I'm so angry I'm going to hurt him when he gets home.", "harm_others", "en"),
    ("I think someone is going to hurt me tonight.", "danger", "en"),
    ("Please call me, I\u2019m not safe at home.", "danger", "en"),
    ("im not safe", "danger", "en"),
    # German
    ("Ich will mich umbringen.", "suicide", "de"),
    ("Ich möchte nicht mehr leben.", "suicide", "de"),
    ("Ich moechte einfach nur sterben", "suicide", "de"),
    ("Ich habe wieder Suizidgedanken, seit Tagen.", "suicide", "de"),
    ("Manchmal denke ich an SELBSTMORD.", "suicide", "de"),
    ("Ich will mir das Leben nehmen.", "suicide", "de"),
    ("Ich ritze mich wieder.", "self_harm", "de"),
    ("Ich habe Angst, dass ich mich verletzen werde.", "self_harm", "de"),
    ("Mein Mann hat gedroht, mich umzubringen.", "danger", "de"),
    # French
    ("Je vais me suicider.", "suicide", "fr"),
    ("J\u2019ai envie de me tuer.", "suicide", "fr"),
    ("Je veux en finir.", "suicide", "fr"),
    ("Je n'ai plus envie de vivre.", "suicide", "fr"),
    ("Parfois je veux MOURIR", "suicide", "fr"),
    ("J'ai recommencé à me faire du mal.", "self_harm", "fr"),
    ("Je ne suis pas en sécurité chez moi.", "danger", "fr"),
    # Spanish
    ("Quiero suicidarme.", "suicide", "es"),
    ("No quiero vivir.", "suicide", "es"),
    ("Ya no quiero vivir así, estoy agotada.", "suicide", "es"),
    ("Voy a quitarme la vida.", "suicide", "es"),
    ("Me quiero morir.", "suicide", "es"),
    ("Estoy pensando en matarme.", "suicide", "es"),
    ("Tengo ganas de hacerme daño.", "self_harm", "es"),
    ("He vuelto a cortarme.", "self_harm", "es"),
    # Dutch
    ("Ik denk aan zelfmoord.", "suicide", "nl"),
    ("Ik wil mezelf van kant maken.", "suicide", "nl"),
    ("Ik wil dood.", "suicide", "nl"),
    ("Ik wil niet meer leven.", "suicide", "nl"),
    ("Ik heb suïcidale gedachten.", "suicide", "nl"),
    ("Ik wil mezelf pijn doen.", "self_harm", "nl"),
    ("Ik snijd in mezelf.", "self_harm", "nl"),
    ("Ik ben thuis niet veilig.", "danger", "nl"),
]

NEGATIVE = [
    # negations
    "I would never kill myself",
    "I would never kill myself, I promise.",
    "I'm not suicidal",
    "Not suicidal, just exhausted.",
    "I don't want to die",
    "I dont want to die, I want things to get better.",
    "I have no intention of hurting myself.",
    "There's no way I'd kill myself.",
    "I won't hurt anyone, I just needed to vent.",
    "I'm not okay but I don't want to die",
    "ich will mich nicht umbringen",
    "Ich will nicht sterben.",
    "je ne veux pas me suicider",
    "Je ne veux pas mourir.",
    "no quiero suicidarme",
    "No quiero morir.",
    "Ik wil niet dood.",
    "Ik zou mezelf nooit pijn doen.",
    # idioms
    "This traffic is killing me.",
    "I could kill for a coffee right now.",
    "I'm dying to see you next week!",
    "I'd die of embarrassment if she saw that.",
    "She is killing it at work.",
    "The deadline is on Friday.",
    "He looked drop dead gorgeous at the wedding.",
    "My feet are killing me after that hike.",
    "I cut myself shaving this morning.",
    "I hurt myself at the gym yesterday.",
    "Ça me tue de rire.",
    "Das bringt mich noch um, dieser Stress.",
    "Me muero de risa con este vídeo.",
    "Ik ga dood van de honger.",
    "Je veux mourir de rire.",
    "J'ai hâte d'en finir avec ce projet.",
    "I don't want to live with my parents any more.",
    "No quiero vivir en Madrid.",
    "Ich will nicht mehr in Berlin leben.",
    # "not sure" is not "not safe"
    "Ich bin nicht sicher, ob ich komme.",
    "No estoy seguro de la fecha.",
    # third-party, educational and past mentions
    "the suicide rate",
    "The suicide rate among young men is worrying.",
    "We watched a film about suicide.",
    "suicide prevention",
    "My friend attempted suicide years ago.",
    "I wrote an essay on self-harm for my psychology class.",
    "My grandfather died by suicide in 1990.",
    "That would be career suicide.",
    "He is suicidal and his family is worried.",
    "I used to self harm when I was a teenager.",
    "Die Suizidrate in Deutschland ist gestiegen.",
    "Un film sur le suicide.",
    "Mon frère s'est suicidé il y a des années.",
    "La tasa de suicidio ha bajado.",
    "Zelfmoordpreventie is belangrijk.",
    # nothing to find
    "",
    "   \n\t ",
    "\U0001f600\U0001f600\U0001f622\U0001f64f",
    "Thanks for today, see you on Thursday!",
]

BENIGN_PARAGRAPHS = [
    "Thank you for the session last week. I have been thinking a lot about what we discussed "
    "regarding my relationship with my mother and how it affects my life. Work has been "
    "stressful, the deadline for the big project is next Friday and my manager keeps asking "
    "for updates. I'm trying to go to the gym more often and sleep better. I feel better than "
    "last month though, and I'm proud that I kept going with the breathing exercises. ",
    "Vielen Dank für die letzte Sitzung. Die Arbeit ist stressig und mein Chef will jeden Tag "
    "einen Bericht. Ich bin nicht sicher, ob ich den Termin am Dienstag schaffe. Das Leben ist "
    "voll, aber ich bin zuversichtlich. ",
    "Merci pour la séance. Le travail est stressant et mon patron veut un rapport chaque jour. "
    "J'ai hâte d'en finir avec ce projet. La vie est chargée mais j'ai de l'espoir. ",
    "Gracias por la sesión. Quiero hablar de la boda de mi hermana la próxima vez, porque no sé "
    "cómo manejar a mi padre. La vida está llena pero tengo esperanza. ",
    "Bedankt voor de sessie. Het werk is stressvol en mijn baas wil elke dag een rapport. Het "
    "leven is druk maar ik heb hoop. ",
]


def _long_benign_text(length: int) -> str:
    text = ""
    while len(text) < length:
        text += "".join(BENIGN_PARAGRAPHS)
    return text[:length]


# -------------------------------------------------------------------------- what is flagged


@pytest.mark.parametrize(("message", "category", "language"), POSITIVE)
def test_it_flags_crisis_language(message: str, category: str, language: str) -> None:
    match = detect_crisis(message)
    assert match is not None, message
    assert (match.category, match.language) == (category, language)


@pytest.mark.parametrize(("message", "category", "language"), POSITIVE)
def test_it_flags_crisis_language_inside_a_long_message(
    message: str, category: str, language: str
) -> None:
    # The benign text comes first and ends a sentence, so it cannot negate the message.
    padding = _long_benign_text(1500)
    match = detect_crisis(f"{padding}\n\n{message}\n\nSee you next week.")
    assert match is not None, message
    assert match.category == category


def test_it_flags_what_follows_but_when_that_clause_is_not_negated() -> None:
    said_fine = detect_crisis("I said I was fine but I want to die")
    assert said_fine is not None
    assert said_fine.rule == "en.suicide.want_to_die"
    assert detect_crisis("I'm not okay but I don't want to die") is None


def test_it_flags_a_phrase_that_contains_its_own_negation() -> None:
    # "no quiero vivir" contains "no" but is itself the crisis phrase.
    for message in ("No quiero vivir", "Ich will nicht mehr leben", "I'm not safe"):
        assert detect_crisis(message) is not None, message


def test_it_flags_ambivalence_after_a_negation() -> None:
    for message in ("I don't know why I want to die", "No one knows I want to die"):
        assert detect_crisis(message) is not None, message


def test_it_flags_a_phrase_wrapped_over_two_lines() -> None:
    assert detect_crisis("Some days I just want to\ndie, to be honest") is not None


def test_it_flags_text_with_curly_apostrophes_accents_and_odd_spacing() -> None:
    assert detect_crisis("I\u2019M   GOING TO\tKILL\u00a0MYSELF") is not None
    assert detect_crisis("Je n\u2019ai plus envie de vivre") is not None
    assert detect_crisis("Tengo ganas de hacerme dan\u0303o") is not None  # combining tilde
    assert detect_crisis("Ich mo\u0308chte sterben") is not None  # combining diaeresis
    assert detect_crisis("I want to d\u200bie") is not None  # zero-width space


def test_it_reports_the_most_severe_category() -> None:
    match = detect_crisis("I cut myself last night and now I want to die.")
    assert match is not None
    assert match.category == "suicide"


def test_it_reports_the_language_the_message_is_written_in() -> None:
    # "suicide" is also a French word; the rest of the message decides.
    french = detect_crisis("Je pense au suicide tous les jours et je ne sais pas quoi faire")
    english = detect_crisis("I think about suicide every day and I don't know what to do")
    assert french is not None
    assert english is not None
    assert french.language == "fr"
    assert english.language == "en"


def test_it_flags_every_rules_own_example() -> None:
    for rule in detection._RULES:
        found = [r.rule_id for r, _ in detection._scan(detection._normalise(rule.example))]
        assert rule.rule_id in found, (rule.rule_id, rule.example, found)


# ---------------------------------------------------------------------- what is not flagged


@pytest.mark.parametrize("message", NEGATIVE)
def test_it_does_not_flag_negations_idioms_and_mentions(message: str) -> None:
    assert detect_crisis(message) is None


def test_it_does_not_flag_a_very_long_benign_message() -> None:
    assert detect_crisis(_long_benign_text(50_000)) is None


def test_it_does_not_flag_a_phrase_split_by_a_blank_line() -> None:
    assert detect_crisis("Some days I just want to\n\ndie laughing at your jokes") is None


def test_it_accepts_empty_and_whitespace_only_text() -> None:
    assert detect_crisis("") is None
    assert detect_crisis("\n\n\n") is None


# ------------------------------------------------------------------------------ the result


@pytest.mark.parametrize(("message", "category", "language"), POSITIVE)
def test_it_never_returns_the_matched_text(message: str, category: str, language: str) -> None:
    match = detect_crisis(message)
    assert match is not None
    assert [field.name for field in dataclasses.fields(CrisisMatch)] == [
        "category",
        "language",
        "rule",
    ]
    assert match.category in CATEGORIES
    assert match.language in LANGUAGES
    assert RULE_ID.match(match.rule)
    assert match.rule in RULE_IDS
    values = (match.category, match.language, match.rule)
    # Phrases have spaces; ids do not. And the message is nowhere in the result.
    assert not any(" " in value for value in values)
    assert message not in repr(match)
    assert detection._normalise(message) not in repr(match)


def test_it_returns_a_frozen_value() -> None:
    match = detect_crisis("I want to die")
    assert match == CrisisMatch(category="suicide", language="en", rule="en.suicide.want_to_die")
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.rule = "changed"  # type: ignore[misc]


def test_it_has_unique_well_formed_rule_ids_in_every_language() -> None:
    assert len(RULE_IDS) == len(detection._RULES)
    assert all(RULE_ID.match(rule_id) for rule_id in RULE_IDS)
    assert {rule.language for rule in detection._RULES} == set(LANGUAGES)
    assert LANGUAGES == ("en", "de", "fr", "es", "nl")
    for language in LANGUAGES:
        categories = {rule.category for rule in detection._RULES if rule.language == language}
        assert categories == CATEGORIES, language


# ------------------------------------------------------------------- robustness and speed


@given(st.text())
def test_it_never_raises_on_arbitrary_text(text: str) -> None:
    match = detect_crisis(text)
    assert match is None or (
        isinstance(match, CrisisMatch)
        and match.category in CATEGORIES
        and match.language in LANGUAGES
        and match.rule in RULE_IDS
    )


# Words that occur in the rules, so generated text often comes close to matching.
_VOCABULARY = sorted(
    {word for rule in detection._RULES for word in re.findall(r"[a-z']+", rule.example.lower())}
    | {"not", "never", "but", "i", "me", "my", "and", "a", "the", "-", ",", ".", "\n"}
)


def _matches_like_the_written_pattern(index: int, s: str) -> bool:
    """Whether the rule matches ``s`` the way the scanner looks for it (anchors first)."""
    rule = detection._RULES[index]
    for hit in detection._TRIGGER.finditer(" " + s):
        indices, any_of = detection._RULES_AT[hit.group(1)]
        if index in indices and rule.anchored is not None and rule.anchored.match(s, hit.start()):
            assert any_of.match(s, hit.start()) is not None
            return True
    return rule.unanchored is not None and rule.unanchored.search(s) is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_VOCABULARY), max_size=12))
def test_it_matches_rules_exactly_as_written(words: list[str]) -> None:
    s = detection._normalise(" ".join(words))
    for index, rule in enumerate(detection._RULES):
        expected = re.search(rule.pattern, s) is not None
        assert _matches_like_the_written_pattern(index, s) == expected, (rule.rule_id, s)


def test_it_checks_a_long_message_quickly() -> None:
    text = _long_benign_text(2_000)
    detect_crisis(text)  # warm up
    runs = 50
    start = time.perf_counter()
    for _ in range(runs):
        detect_crisis(text)
    per_message = (time.perf_counter() - start) / runs
    # Typically a fraction of a millisecond; the bound leaves room for slow, busy CI machines.
    assert per_message < 0.01
