"""Detect crisis language in what a client writes.

When a client's message mentions suicide, self-harm, intent to harm someone else or being in
immediate danger, the client is shown crisis resources straight away and the message is
flagged urgent in the therapist's inbox. :func:`detect_crisis` makes that call.

This is safety-critical code. It is a lexicon, not a classifier: every rule is a phrase
pattern a person wrote down, with a stable id, in one of :data:`LANGUAGES`. There is no
machine learning, no network access and no dependency outside the standard library, so it is
fast, deterministic, auditable and works offline.

How a message is checked
------------------------
1. *Normalise*: curly and other look-alike apostrophes become ``'``, dashes become ``-``,
   invisible characters are dropped, text is case-folded, accents are stripped (NFKD, then
   combining marks removed; ``ß`` becomes ``ss``), whitespace is collapsed. A single line break
   counts as a space (e-mail wraps lines); a blank line separates clauses.
2. *Find anchors*: every rule is rewritten (at import) into alternatives that each start
   with fixed letters, its "anchors" (``want(?:s|ed)? to die`` is anchored on "want"). One
   pre-compiled trie of all anchors finds the word starts where some rule could match, and
   only those rules are tried, only there. A 2,000-character message takes a fraction of a
   millisecond.
3. *Match*: rules are regular expressions over the normalised text with word boundaries.
   Rules are written with their real spelling (``hacerme daño``, ``möchte``); accents are
   stripped from the patterns the same way as from the text, and German umlauts also match
   their ``ae``/``oe``/``ue`` spellings. Contractions are matched with and without the
   apostrophe (``don't``/``dont``, ``i'm``/``im``, ``can't``/``cant``).
4. *Suppress* a match when, within its clause (clauses end at ``. ! ? ; : ,``, brackets, a
   blank line, a spaced dash, and at "but"/"aber"/"mais"/"pero"/"maar" and similar):

   * a negation cue (``not``, ``never``, ``don't``, ``nicht``, ``ne``/``pas``, ``no``,
     ``niet``...) stands within four words before the phrase or inside it ("I would never
     kill myself", "ich will mich nicht umbringen"). Words such as "and", "if", "why",
     "sure", "know", "stop" end that look-back ("I don't know why I want to die" and "I can't
     stop thinking about killing myself" are flagged). Phrases that *contain* a negation
     ("no quiero vivir", "nicht mehr leben", "I don't want to live", "I'm not safe") are
     written as whole phrases and are never negated;
   * the phrase is a noun used as a topic or compound ("the suicide rate", "suicide
     prevention", "a film about suicide", "career suicide", "overdose deaths");
   * the clause is about someone else ("my friend attempted suicide"): a third-person word
     and no first-person word in the clause, for rules that do not name the writer
     themselves;
   * the clause is about the resolved past ("years ago", "when I was a teenager", "used to",
     "früher", "il y a des années", "hace años", "vroeger") and has no sign of recurrence
     ("again", "still", "now", "lately", "wieder", "encore", "otra vez", "weer"...).
5. *Choose*: of the matches left, the most severe category wins (suicide, then danger, then
   harm to others, then self-harm); then the language the message is most likely written in
   (a count of common words); then the earliest.

The result holds the category, the language and the rule id, never the text that matched, so
it can be logged and stored without copying what the client wrote.

Limits (read these before relying on it)
----------------------------------------
* It errs toward flagging. Ambiguous first-person statements are flagged ("I don't think I'd
  ever kill myself" is caught by the four-word look-back, but "I would never, ever kill
  myself" is flagged because the comma ends the clause). Hyperbole that names a person is
  flagged ("I'm going to kill him", "my mum is going to kill me").
* It only knows the phrases written here, in five languages. Euphemisms, misspellings,
  slang, sarcasm, other languages and scripts, and meaning spread over several sentences are
  missed. A ``None`` result never means a client is safe; it supports, and never replaces,
  clinical judgement and the crisis button.
* Negation is a look-back window, not a parse: double negatives, negations far from the
  phrase or after it ("Kill myself? No.") are not understood.
* Third-party detection is word-based: "Sarah attempted suicide" (a name, no pronoun) is
  flagged; "my brother doesn't know I want to die" is caught only because "want to die" is a
  first-person phrase. Reports and past statements are suppressed only with the cues listed
  in the patterns below; a first-person past attempt ("I attempted suicide years ago") is
  treated as resolved, as required, which a clinician may disagree with.
* German "sicher" and Spanish "seguro" also mean "sure", so "ich bin nicht sicher" and "no
  estoy seguro" are deliberately not danger phrases.

Maintaining the lexicon
-----------------------
Treat every change like a clinical content change and get it reviewed. Each rule carries an
``example`` that the test suite checks it flags. Every alternative in a pattern starts with
``\\b``. Rule ids are stable: they are stored on flagged messages, so never reuse or rename
one; retire it and add a new id instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["LANGUAGES", "CrisisMatch", "detect_crisis"]

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "nl")

# Most severe first. All of them show the client crisis resources and flag the message.
_SEVERITY: dict[str, int] = {"suicide": 0, "danger": 1, "harm_others": 2, "self_harm": 3}


@dataclass(frozen=True, slots=True)
class CrisisMatch:
    """Why a message was flagged. Never contains the text that matched."""

    category: str
    """One of ``"suicide"``, ``"self_harm"``, ``"harm_others"``, ``"danger"``."""
    language: str
    """The language of the rule that matched, one of :data:`LANGUAGES`."""
    rule: str
    """Stable rule id, e.g. ``"en.suicide.want_to_die"``."""


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_CHAR_MAP: dict[int, str | None] = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\u02b9\u0060\u00b4\uff07"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"},
    # Invisible characters (soft hyphen, zero-width space/joiners, BOM) would split words.
    **{ord(c): None for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff"},
    # Ligatures NFKD leaves alone.
    0x0153: "oe",
    0x00E6: "ae",
}
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_BLANK_LINE = re.compile(r"\n\s*\n")


_SPECIAL = re.compile("[" + "".join(re.escape(chr(code)) for code in _CHAR_MAP) + "]")


def _special(match: re.Match[str]) -> str:
    return _CHAR_MAP[ord(match.group())] or ""


def _normalise(text: str) -> str:
    text = text.casefold()
    if not text.isascii():
        # Apostrophes first: NFKD turns an acute accent on its own into a space.
        text = _SPECIAL.sub(_special, text)
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
        if not text.isascii():
            text = _SPECIAL.sub(_special, text)
    return "\n".join(" ".join(paragraph.split()) for paragraph in _BLANK_LINE.split(text))


_CLAUSE_BREAK = re.compile(
    r"[.!?;:,()\[\]{}\n\u00a1\u00bf]+| -+ "
    r"|\b(?:but|however|though|although|aber|sondern|jedoch|allerdings|mais|cependant"
    r"|pourtant|pero|sino|aunque|maar|echter)\b"
)
_TOKEN = re.compile(r"[\w']+")
_WORD = re.compile(r"\w+")

# --------------------------------------------------------------------------------------------
# Pattern helpers
# --------------------------------------------------------------------------------------------

# Macros usable as <name> in patterns. Gaps are lazy runs of whole words.
_MACROS: dict[str, str] = {
    "w": r"[\w'-]{1,40}",  # a word (bounded, so a match has a bounded length)
    "g1": r"(?:<w> )??",
    "g2": r"(?:<w> ){0,2}?",
    "g3": r"(?:<w> ){0,3}?",
    "en_rel": (
        r"(?:husband|wife|partner|boyfriend|girlfriend|bf|gf|ex|ex-husband|ex-wife"
        r"|ex-boyfriend|ex-girlfriend|ex-partner|dad|father|mom|mum|mother|stepdad|stepfather"
        r"|stepmom|stepmum|stepmother|brother|sister|son|daughter|uncle|cousin|roommate"
        r"|flatmate|landlord|boss|neighbou?r|parents?|family)"
    ),
    "en_victim": (
        r"(?:him|her|them|you|someone|somebody|anyone|anybody|everyone|everybody|people"
        r"|others|other people|my (?:own )?(?:<en_rel>|baby|babies|kids?|child|children"
        r"|coworkers?|colleagues?|teacher|classmates?)|the (?:baby|kids?|children|neighbou?rs?))"
    ),
    "en_who": r"(?:he|she|they|someone|somebody|my <en_rel>)",
    "de_rel": (
        r"(?:mein (?:mann|ehemann|freund|ex|exmann|ex-mann|exfreund|ex-freund|partner|vater"
        r"|stiefvater|bruder|sohn|nachbar|mitbewohner|chef|onkel)|meine (?:frau|ehefrau"
        r"|freundin|ex|exfrau|ex-frau|exfreundin|ex-freundin|partnerin|mutter|stiefmutter"
        r"|schwester|tochter|nachbarin|mitbewohnerin|chefin))"
    ),
    "de_who": r"(?:er|sie|jemand|man|<de_rel>)",
    "fr_who": (
        r"(?:il|elle|ils|elles|quelqu'?un|mon (?:mari|copain|ex|père|beau-père|frère|conjoint"
        r"|compagnon|voisin|patron)|ma (?:femme|copine|mère|belle-mère|soeur|conjointe"
        r"|compagne|voisine))"
    ),
    "es_who": (
        r"(?:él|ella|ellos|ellas|alguien|mi (?:marido|esposo|novio|ex|padre|padrastro|hermano"
        r"|pareja|esposa|novia|madre|madrastra|hermana|vecino|vecina|jefe))"
    ),
    "nl_who": (
        r"(?:hij|zij|ze|iemand|mijn (?:man|vriend|ex|vader|stiefvader|broer|partner|vrouw"
        r"|vriendin|moeder|stiefmoeder|zus|buurman|baas))"
    ),
    # Gap that does not swallow an object pronoun ("ik wil hem dood" is about someone else).
    "nl_g2_self": r"(?:(?!hem |haar |hun |jou |ze |hen )<w> ){0,2}?",
}
_MACRO = re.compile(r"<(\w+)>")
# German umlauts also match the ae/oe/ue spelling people type without a German keyboard.
# (So never put an umlaut inside a character class or a look-behind.)
_PATTERN_CHARS: dict[str, str] = {"ä": "(?:a|ae)", "ö": "(?:o|oe)", "ü": "(?:u|ue)", "ß": "ss"}


def _strip_accents(text: str) -> str:
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def _expand(source: str) -> str:
    previous = ""
    while previous != source:
        previous, source = source, _MACRO.sub(lambda m: _MACROS[m.group(1)], source)
    return source


def _fold_pattern(source: str) -> str:
    """Expand macros and fold accents out of a pattern the same way as out of the text."""
    folded = "".join(_PATTERN_CHARS.get(c) or _strip_accents(c) for c in _expand(source))
    if not folded.isascii() or folded != folded.lower():
        raise ValueError(f"patterns must be lower case and fold to ASCII: {source!r}")
    return folded


def _compile(source: str) -> re.Pattern[str]:
    return re.compile(_fold_pattern(source))


def _group_end(pattern: str, start: int) -> int:
    """Index of the ``)`` closing the group opened at ``pattern[start]``."""
    depth = 0
    in_class = escaped = False
    for index in range(start, len(pattern)):
        char = pattern[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced pattern: {pattern!r}")


def _alternatives(pattern: str) -> list[str]:
    """Split a pattern at its top-level ``|``."""
    parts: list[str] = []
    depth = 0
    in_class = escaped = False
    last = 0
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[last:index])
            last = index + 1
    parts.append(pattern[last:])
    return parts


def _distribute(alternative: str) -> list[str]:
    """Rewrite an alternative so that, where possible, each starts with a letter.

    ``\\b(?:want|wish) to die`` becomes ``want to die`` and ``wish to die``, so each can be
    tried only where a word starting with "want" or "wish" occurs (see :func:`_scan`); so
    does a group glued to the first letters (``m(?:o|oe)chte`` gives "mochte", "moechte").
    """
    alternative = alternative.removeprefix(r"\b")
    letters = len(_anchor(alternative))
    if not alternative.startswith("(?:", letters):
        return [alternative]
    head, group = alternative[:letters], alternative[letters:]
    end = _group_end(group, 0)
    options = _alternatives(group[3:end])
    rest = group[end + 1 :]
    if rest[:1] in ("*", "+", "{"):
        return [alternative]
    if rest.startswith("??"):
        options, rest = ["", *options], rest[2:]
    elif rest.startswith("?"):
        options, rest = [*options, ""], rest[1:]
    return [form for option in options for form in _distribute(head + option + rest)]


def _anchor(form: str) -> str:
    """The letters every match of ``form`` starts with ("" if it may start otherwise)."""
    letters = []
    for index, char in enumerate(form):
        if not ("a" <= char <= "z") or form[index + 1 : index + 2] in ("?", "*", "+", "{"):
            break
        letters.append(char)
    return "".join(letters)


@dataclass(frozen=True, slots=True)
class _Rule:
    rule_id: str
    category: str
    language: str
    pattern: str
    """The pattern as written, folded. Matching uses ``anchored`` and ``unanchored``."""
    alternatives: tuple[tuple[str, frozenset[str]], ...]
    """The alternatives that start with a fixed word prefix, each with its anchors."""
    anchored: re.Pattern[str] | None
    """Those alternatives together; tried only where one of ``anchors`` occurs."""
    anchors: tuple[str, ...]
    """Those word prefixes ("want" for ``want(?:s|ed)? to die``)."""
    unanchored: re.Pattern[str] | None
    """Any other alternatives, searched for in the whole text."""
    negatable: bool
    """False for phrases that carry their own negation ("no quiero vivir")."""
    personless: bool
    """True when the phrase does not itself name the writer, so it may be about a third party."""
    mention: bool
    """True for nouns that are also used as topics ("suicide prevention")."""
    not_after: re.Pattern[str] | None
    """Suppress when the text just before the match (80 characters) ends with a match of this."""
    example: str
    """A message this rule must flag (checked by the test suite)."""


def _rule(
    language: str,
    category: str,
    name: str,
    pattern: str,
    *,
    example: str,
    negatable: bool = True,
    personless: bool = False,
    mention: bool = False,
    not_after: str | None = None,
) -> _Rule:
    rule_id = f"{language}.{category}.{name}"
    if language not in LANGUAGES or category not in _SEVERITY:
        raise ValueError(f"bad language or category in {rule_id}")
    folded = _fold_pattern(pattern)
    anchored: list[tuple[str, frozenset[str]]] = []
    unanchored: list[str] = []
    for alternative in _alternatives(folded):
        if not alternative.startswith(r"\b"):
            raise ValueError(f"{rule_id}: every alternative must start with \\b")
        alternative = alternative.removeprefix(r"\b")
        starts = frozenset(_anchor(form) for form in _distribute(alternative))
        if "" in starts:
            unanchored.append(alternative)
        else:
            anchored.append((alternative, starts))
    anchored_pattern = "|".join(alternative for alternative, _ in anchored)
    return _Rule(
        rule_id=rule_id,
        category=category,
        language=language,
        pattern=folded,
        alternatives=tuple(anchored),
        anchored=re.compile(anchored_pattern) if anchored else None,
        anchors=tuple(sorted({anchor for _, starts in anchored for anchor in starts})),
        unanchored=re.compile(r"\b(?:" + "|".join(unanchored) + ")") if unanchored else None,
        negatable=negatable,
        personless=personless,
        mention=mention,
        not_after=_compile(not_after) if not_after else None,
        example=example,
    )


# --------------------------------------------------------------------------------------------
# The lexicon
# --------------------------------------------------------------------------------------------

# A third person shortly before "me"/"mich" makes it someone else's act (the danger rules
# catch it): "er will mich umbringen", "ça va me tuer", "hij wil me vermoorden".
_DE_OTHER_BEFORE = r"\b<de_who>\b(?:,? (?!ich\b)<w>){0,3},? ?$"
_NL_OTHER_BEFORE = r"\b(?:<nl_who>|men)\b(?:,? (?!ik\b)<w>){0,3},? ?$"
_FR_OTHER_BEFORE = (
    r"\b(?:ça|cela|ce|il|elle|ils|elles|on|tu|quelqu'?un|qui)"
    r"(?: (?:va|vont|vas|veut|veulent|voulait|pourrait|menace de|a menacé de|essaie de"
    r"|a essayé de))? $"
)
_ES_OTHER_BEFORE = (
    r"\b(?:va a|van a|quiere|quieren|amenaza con|amenazó con|intentaron|trató de|podría)"
    r" $"
)

_EN = "en"
_DE = "de"
_FR = "fr"
_ES = "es"
_NL = "nl"
_SUICIDE = "suicide"
_SELF_HARM = "self_harm"
_HARM_OTHERS = "harm_others"
_DANGER = "danger"

_RULES: tuple[_Rule, ...] = (
    # ---------------------------------------------------------------- English: suicide
    _rule(
        _EN,
        _SUICIDE,
        "kill_myself",
        r"\bkill(?:s|ed|ing)? my ?self\b(?! (?:laughing|trying|working|studying|training)\b)",
        example="Honestly I'm going to kill myself",
    ),
    _rule(
        _EN,
        _SUICIDE,
        "unalive",
        r"\bunaliv(?:e|ed|ing) (?:my ?self|me)\b|\bunaliving\b",
        example="i want to unalive myself",
    ),
    _rule(
        _EN,
        _SUICIDE,
        "end_my_life",
        r"\b(?:end|ends|ended|ending|take|takes|took|taking) my (?:own )?life\b",
        example="I have been thinking about ending my life.",
    ),
    _rule(
        _EN,
        _SUICIDE,
        "end_it_all",
        r"\bend(?:ing)? it all\b|\bend it (?:tonight|today|now|for good|once and for all)\b"
        r"|\b(?:going to|gonna|want to|wanna|ready to|planning to) end it\b(?! (?:with|between)\b)",
        example="I keep thinking about ending it all",
    ),
    _rule(
        _EN,
        _SUICIDE,
        "want_to_die",
        r"\b(?:want|wants|wanted|wanting|wanna|wish|ready|deserve) (?:to )?die\b"
        r"(?! (?:of|from|laughing)\b)",
        example="I just want to die",
    ),
    _rule(
        _EN,
        _SUICIDE,
        "wish_dead",
        r"\bwish (?:i|i'd) (?:was|were|could be|had) (?:just )?(?:dead|gone|never been born)\b"
        r"|\bwish i could (?:just )?die\b|\bwish i (?:was|were|had) never (?:been )?born\b",
        example="Some days I wish I was dead.",
    ),
    _rule(
        _EN,
        _SUICIDE,
        "never_wake_up",
        r"\b(?:hope|wish|want to|wanna|would like to|sleep and|fall asleep and)"
        r" (?:i |i'?d |i'?ll |to )?(?:just )?(?:never|not|don'?t|wouldn'?t|didn'?t|won'?t)"
        r" wake up\b",
        example="I go to bed and hope I never wake up",
        negatable=False,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "better_off_dead",
        r"\bbetter off (?:dead|without me|if i (?:was|were) (?:dead|gone))\b",
        example="Everyone would be better off without me",
        personless=True,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "suicide",
        r"\bsuicid(?:e|es|al|ality)\b",
        example="I've been feeling SUICIDAL again",
        personless=True,
        mention=True,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "no_reason_to_live",
        r"\b(?:no|zero|not (?:a|one|any)|nothing) (?:single |real )?(?:reasons?|point|purpose)"
        r" (?:to|in|for|of) (?:live|living|being alive|staying alive|going on|carrying on"
        r"|life|existing|my life)\b",
        example="There is no reason to live any more.",
        negatable=False,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "nothing_to_live_for",
        r"\bnothing (?:left )?to live for\b|\b(?:not|isn'?t|no longer|never) worth living\b"
        r"|\b(?:my )?life (?:is|feels|seems) (?:so |completely |totally )?"
        r"(?:pointless|meaningless|hopeless|not worth (?:it|living))\b",
        example="My life is pointless and I have nothing to live for",
        negatable=False,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "dont_want_to_live",
        r"\b(?:don'?t|do not|didn'?t|never|no longer|not) (?:really |even |actually )?"
        r"(?:want|wanna|wish) (?:to )?(?:live|be alive|exist)\b"
        r"(?! (?:in|with|at|on|near|by|there|here|alone|together|abroad|far|somewhere|without"
        r"|like (?:that|them|him|her))\b)"
        r"|\b(?:don'?t|do not|no longer) (?:really |even )?(?:want|wanna) (?:to )?be"
        r" (?:here|around) (?:anymore|any more|any longer)\b",
        example="i dont want to be here anymore",
        negatable=False,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "tired_of_living",
        r"\b(?:tired|sick|weary|exhausted) of (?:living|being alive|life|existing|being here)\b"
        r"(?! (?:in|at|as|with|on|here)\b)",
        example="I'm so tired of living like this",
        personless=True,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "cant_go_on",
        r"\b(?:can'?t|cannot|can not|couldn'?t) (?:go on|keep going|carry on|keep living"
        r"|live like this)\b(?! (?:a|an|the|my|with|to|about|and|holiday|vacation|trips?)\b)"
        r"|\b(?:can'?t|cannot|can not) (?:do this|take (?:it|this|the pain)|handle (?:it|this"
        r"|life)) (?:anymore|any more|any longer)\b",
        example="I can't go on like this",
        negatable=False,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "dont_care_if_i_die",
        r"\b(?:care|notice|miss me|matter|mind) if i (?:die|died|was dead|were dead|was gone"
        r"|were gone|killed my ?self|disappeared for good)\b"
        r"|\bwouldn'?t mind (?:dying|being dead|not waking up)\b",
        example="Nobody would even notice if I died",
        negatable=False,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "overdose",
        r"\boverdos(?:e|es|ed|ing)\b",
        example="I'm thinking about taking an overdose tonight",
        personless=True,
        mention=True,
    ),
    _rule(
        _EN,
        _SUICIDE,
        "all_my_pills",
        r"\b(?:take|took|taking|swallow|swallowed|swallowing|down|downed) "
        r"(?:all (?:of )?(?:my|the|these|those)|a (?:bunch|handful|bottle|whole bottle|box|pack)"
        r" of|the whole (?:bottle|pack|packet|box) of|too many|every one of (?:my|the))"
        r"(?: <w>)? (?:pills|tablets|meds|medication|medicine|painkillers|paracetamol"
        r"|tylenol|ibuprofen)\b",
        example="I could just take all my pills at once",
    ),
    _rule(
        _EN,
        _SUICIDE,
        "method",
        r"\b(?:hang|hanging|hanged|shoot|shooting|shot|drown|drowning|poison|poisoning|gas"
        r"|gassing|electrocute|suffocate|suffocating) my ?self\b"
        r"|\b(?:slit|slitting|cut|cutting|open) (?:my|both) wrists?\b|\bblow my brains out\b"
        r"|\bjump(?:ing)? (?:off|from) (?:a|the|my|this) (?:<w> )?(?:bridge|roof|building"
        r"|cliff|balcony|window|tower)\b|\b(?:jump|step|throw my ?self|lie down) in front of"
        r" (?:a|the) (?:train|bus|car|truck|lorry|tram)\b",
        example="I want to jump off the bridge near my flat",
    ),
    # ---------------------------------------------------------------- English: self-harm
    _rule(
        _EN,
        _SELF_HARM,
        "hurt_myself",
        r"\b(?:hurt|hurts|hurting|harm|harms|harmed|harming|injure|injured|injuring) my ?self\b"
        r"(?! (?:at|while|during|playing|running|lifting|skiing|falling|exercising|working out"
        r"|training|moving|on the|in the (?:gym|garden|kitchen)|by accident|accidentally)\b)",
        example="I'm scared I'll hurt myself tonight",
    ),
    _rule(
        _EN,
        _SELF_HARM,
        "cut_myself",
        r"\b(?:cut|cuts|cutting|slice|slicing|sliced|scratch|scratching|scratched|burn|burning"
        r"|burned|burnt|carve|carving|carved) my ?self\b(?! (?:shaving|cooking|chopping|slicing"
        r"|while|on|by accident|accidentally|in the kitchen|making|opening|preparing|doing)\b)"
        r"|\bcutting (?:again|my (?:arms?|legs?|thighs?|skin))\b"
        r"|\b(?:started|start|been|keep|kept|back to) cutting\b(?! (?:back|down|out|the|my hair"
        r"|hair|corners|costs|it|them|class|classes|carbs|sugar|ties|onions)\b)",
        example="I cut myself again last night",
    ),
    _rule(
        _EN,
        _SELF_HARM,
        "self_harm",
        r"\bself(?: |-)?(?:harm|harms|harmed|harming|injury|injuries|injure|injuring|injurious"
        r"|mutilation|mutilate|mutilating)\b",
        example="The urge to self-harm is back",
        personless=True,
        mention=True,
    ),
    _rule(
        _EN,
        _SELF_HARM,
        "starve_myself",
        r"\bstarv(?:e|ed|ing) my ?self\b",
        example="I've been starving myself for weeks",
    ),
    # ---------------------------------------------------------------- English: harm to others
    _rule(
        _EN,
        _HARM_OTHERS,
        "hurt_someone",
        r"\b(?:going to|gonna|want to|wanna|i will|i'?ll|about to|plan(?:ning)? to|might|could"
        r"|thinking (?:about|of)|thoughts? (?:about|of)|urges? to|tempted to"
        r"|fantasi[sz](?:e|ing) about) <g1>(?:kill|killing|hurt|hurting|stab|stabbing|shoot"
        r"|shooting|murder|murdering|strangle|strangling|choke|choking|harm|harming|beat up"
        r"|beating up|attack|attacking|poison|poisoning|smother|smothering|drown|drowning)"
        r" <en_victim>\b",
        example="I'm going to hurt him when he gets home",
    ),
    _rule(
        _EN,
        _HARM_OTHERS,
        "want_them_dead",
        r"\b(?:want|wish|wished|wanted) (?:him|her|them|you|my <en_rel>|everyone|everybody)"
        r" (?:to be )?dead\b",
        example="I want him dead",
    ),
    _rule(
        _EN,
        _HARM_OTHERS,
        "homicidal",
        r"\bhomicidal\b",
        example="I've been having homicidal thoughts",
        personless=True,
        mention=True,
    ),
    # ---------------------------------------------------------------- English: danger
    _rule(
        _EN,
        _DANGER,
        "someone_will_hurt_me",
        r"\b<en_who>(?:'s|'re| is| are| will| has| have)? <g2>(?:going to|gonna|wants? to"
        r"|trying to|tried to|threaten(?:ed|s|ing)? to|said (?:he|she|they)(?:'d| would| will"
        r"| was going to| were going to)|might|about to|coming to) (?:kill|hurt|rape|beat"
        r"|attack|shoot|stab|strangle|choke|murder) me\b"
        r"|\b<en_who>'ll (?:kill|hurt|rape|beat|attack|shoot|stab|strangle|choke|murder) me\b",
        example="Someone is going to hurt me",
    ),
    _rule(
        _EN,
        _DANGER,
        "being_hurt",
        r"\b<en_who>(?:'s|'re| is| are| keeps| kept| has been| have been| was)? (?:hitting"
        r"|beating|choking|strangling|raping|abusing|hurting|threatening|stalking) me\b"
        r"|\b<en_who> (?:hits|hit|beats|beat|chokes|choked|strangles|strangled|rapes|raped"
        r"|abuses|abused|hurts|threatens|threatened|attacked) me\b"
        r"|\b<en_who>(?:'s| is| has)? (?:got |holding |carrying )?a (?:gun|knife|weapon)\b",
        example="My boyfriend hits me when he drinks",
    ),
    _rule(
        _EN,
        _DANGER,
        "not_safe",
        r"\bi'?m not safe\b|\bi am not safe\b|\bi (?:don'?t|do not) feel safe\b"
        r"|\bnot safe (?:at home|here|with (?:him|her|them|my <w>))\b|\bi'?m in danger\b"
        r"|\bi am in danger\b|\b(?:fear|fearing|afraid|scared|terrified) for my (?:life|safety)\b"
        r"|\bmy life is in danger\b",
        example="please help im not safe",
        negatable=False,
    ),
    # ---------------------------------------------------------------- German: suicide
    _rule(
        _DE,
        _SUICIDE,
        "mich_umbringen",
        r"\bmich <g3>(?:umbringen|umzubringen|umgebracht|töten|zu töten|getötet|erhängen"
        r"|aufhängen|aufzuhängen|erschießen|zu erschießen|vergiften|ertränken"
        r"|vor (?:den|einen) zug (?:werfen|zu werfen|schmeißen))\b|\bbringe? mich <g3>um\b"
        r"|\b(?:töte|erhänge|erschieße|vergifte) mich\b",
        example="Ich will mich UMBRINGEN.",
        not_after=_DE_OTHER_BEFORE,
    ),
    _rule(
        _DE,
        _SUICIDE,
        "das_leben_nehmen",
        r"\bmir <g2>das leben (?:zu )?nehmen\b|\bnehme? mir <g2>das leben\b"
        r"|\b(?:meinem|dem) leben <g2>ein ende (?:zu )?(?:setzen|machen|bereiten)\b",
        example="Ich denke daran, mir das Leben zu nehmen",
    ),
    _rule(
        _DE,
        _SUICIDE,
        "sterben_wollen",
        r"\b(?:will|wollte|möchte|möchten|würde gerne?|würde lieber|wünsche mir|wünschte mir"
        r"|am liebsten|lieber) <g3>(?:sterben|tot sein)\b(?! (?:vor|für)\b)"
        r"|\bsterben (?:will|wollen|möchte)\b"
        r"|\b(?:ich )?wäre (?:lieber |besser |am liebsten )?tot\b|\blieber tot\b",
        example="Ich möchte einfach nur sterben",
    ),
    _rule(
        _DE,
        _SUICIDE,
        "nicht_mehr_leben",
        r"\bnicht mehr (?:leben|weiterleben|existieren|aufwachen)\b(?! (?:in|mit|bei|ohne)\b)"
        r"|\b(?:will|möchte|wollen|mag) <g2>nicht mehr (?:da|hier) sein\b"
        r"|\bkeine (?:lust|kraft|energie) mehr (?:zu|auf) (?:leben|das leben|weiterleben)\b"
        r"|\b(?:leben|alles|es) <g2>(?:hat|macht|ergibt) (?:für mich )?keinen sinn mehr\b"
        r"|\bkeinen (?:grund|sinn) (?:mehr )?(?:zu leben|zum leben|weiterzuleben)\b",
        example="Ich will nicht mehr leben.",
        negatable=False,
    ),
    _rule(
        _DE,
        _SUICIDE,
        "suizid",
        r"\bsuizid(?:al|ale|alen|aler|ales|alität|gedanken|gedanke|versuch|versuche|versuchs"
        r"|absicht|absichten|plan|pläne|plänen|gefährdet|gefährdete|gefahr)?\b",
        example="Ich habe wieder Suizidgedanken.",
        personless=True,
        mention=True,
    ),
    _rule(
        _DE,
        _SUICIDE,
        "selbstmord",
        r"\bselbstmord(?:gedanken|gedanke|versuch|versuche|absicht|absichten|plan|pläne"
        r"|gefährdet|gefahr)?\b",
        example="Ich denke ständig an Selbstmord",
        personless=True,
        mention=True,
    ),
    _rule(
        _DE,
        _SUICIDE,
        "lebensmuede",
        r"\blebensmüde\b|\bdes lebens müde\b",
        example="Ich bin so lebensmüde",
        personless=True,
    ),
    _rule(
        _DE,
        _SUICIDE,
        "mir_etwas_antun",
        r"\bmir <g2>(?:etwas|was|irgendwas) (?:an ?tun|anzutun|antue|antun werde)\b",
        example="Ich habe Angst, dass ich mir etwas antue",
    ),
    _rule(
        _DE,
        _SUICIDE,
        "schluss_machen",
        r"\b(?:mit allem|mit dem leben|mit meinem leben) <g1>schluss (?:zu )?machen\b"
        r"|\bschluss machen mit (?:allem|dem leben|meinem leben)\b"
        r"|\ballem ein ende (?:zu )?(?:setzen|machen|bereiten)\b",
        example="Ich will mit allem Schluss machen",
    ),
    _rule(
        _DE,
        _SUICIDE,
        "methode",
        r"\b(?:von (?:der|einer) brücke|vom dach|aus dem fenster|vor (?:den|einen) zug) <g1>"
        r"(?:zu )?springen\b|\bspringe? (?:von (?:der|einer) brücke|vom dach|aus dem fenster"
        r"|vor (?:den|einen) zug)\b|\b(?:alle|die ganzen|eine packung|eine handvoll|zu viele)"
        r" <g1>(?:tabletten|pillen|schlaftabletten|medikamente) <g1>(?:nehmen|schlucken"
        r"|genommen|geschluckt)\b|\büberdosis\b",
        example="Ich will von der Brücke springen",
    ),
    # ---------------------------------------------------------------- German: self-harm
    _rule(
        _DE,
        _SELF_HARM,
        "ritzen",
        r"\b(?:mich|ich) <g2>(?:ritzen|ritze|geritzt|zu ritzen)\b|\britze (?:mich|wieder)\b"
        r"|\britzen\b(?<!\bden ritzen)(?<!\bdie ritzen)(?<!\bder ritzen)(?<!\bin ritzen)"
        r"(?<!\baus ritzen)(?<!\bzwischen ritzen)",
        example="Ich ritze mich wieder",
    ),
    _rule(
        _DE,
        _SELF_HARM,
        "mich_verletzen",
        r"\bmich <g3>(?:selbst )?(?:verletzen|zu verletzen|verletze)\b|\bmich <g3>selbst verletzt\b"
        r"|\bverletze mich <g1>(?:selbst|absichtlich|wieder)\b"
        r"|\bmir <g3>(?:selbst )?(?:weh ?tun|weh ?zu ?tun|schaden|zu schaden)\b"
        r"|\b(?:schneide|schneiden|verbrenne|verbrennen) <g1>mich <g1>(?:selbst|absichtlich"
        r"|wieder)\b",
        example="Ich will mich verletzen",
        not_after=_DE_OTHER_BEFORE,
    ),
    _rule(
        _DE,
        _SELF_HARM,
        "selbstverletzung",
        r"\bselbstverletz(?:ung|ungen|end|ende|endes|enden|ender)\b|\bsvv\b"
        r"|\bselbst verletzendes verhalten\b",
        example="Ich kämpfe wieder mit Selbstverletzung",
        personless=True,
        mention=True,
    ),
    # ---------------------------------------------------------------- German: harm to others
    _rule(
        _DE,
        _HARM_OTHERS,
        "andere_verletzen",
        r"\b(?:will|werde|möchte|könnte|würde am liebsten|muss|wollte|gleich) <g1>(?:ihn|sie"
        r"|jemanden|jemand|ihm|ihr|dich|euch|alle|meinen <w>|meine <w>|mein <w>"
        r"|das baby|die kinder) <g2>(?:umbringen|töten|abstechen|erstechen|erschießen"
        r"|erwürgen|verletzen|weh ?tun|schlagen|zusammenschlagen|angreifen)\b"
        r"|\bbringe? (?:ihn|sie|jemanden|dich|euch) <g2>um\b",
        example="Ich werde ihn umbringen",
    ),
    # ---------------------------------------------------------------- German: danger
    _rule(
        _DE,
        _DANGER,
        "jemand_will_mich",
        r"\b<de_who> <g2>(?:will|wird|möchte|droht|drohte|hat gedroht|versucht|versuchte"
        r"|hat versucht),? <g2>mich <g2>(?:umbringen|umzubringen|töten|zu töten|schlagen"
        r"|zu schlagen|verletzen|zu verletzen|vergewaltigen|erwürgen|abstechen)\b"
        r"|\b<de_who> (?:schlägt|bedroht|verfolgt|würgt|vergewaltigt|misshandelt|missbraucht"
        r"|verprügelt) mich\b",
        example="Mein Mann will mich umbringen",
    ),
    _rule(
        _DE,
        _DANGER,
        "nicht_sicher",
        r"\b(?:ich bin|bin ich) <g2>nicht (?:mehr )?in sicherheit\b"
        r"|\bich fühle mich <g2>nicht (?:mehr )?sicher\b(?! (?:ob|dass|bei|mit|in)\b)"
        r"|\bich bin (?:hier |zu hause |daheim )?in (?:lebens)?gefahr\b|\bin lebensgefahr\b"
        r"|\bangst um mein leben\b",
        example="Ich bin zu Hause nicht mehr in Sicherheit",
        negatable=False,
    ),
    # ---------------------------------------------------------------- French: suicide
    _rule(
        _FR,
        _SUICIDE,
        "me_suicider",
        r"\bme (?:suicider|suiciderai|suiciderais|suicidais|suicide)\b",
        example="Je vais me suicider",
    ),
    _rule(
        _FR,
        _SUICIDE,
        "suicide",
        r"\bsuicid(?:e|es|aire|aires)\b",
        example="J'ai des pensées suicidaires",
        personless=True,
        mention=True,
    ),
    _rule(
        _FR,
        _SUICIDE,
        "me_tuer",
        r"\bme (?:tuer|tuerai|tuerais|foutre en l'?air|flinguer|pendre|jeter (?:sous|d'?un|du"
        r" haut|par la fenêtre|dans le vide))\b|\bme tue\b(?! (?:à|a|au|de)\b)",
        example="J\u2019ai envie de me tuer",
        not_after=_FR_OTHER_BEFORE,
    ),
    _rule(
        _FR,
        _SUICIDE,
        "en_finir",
        r"\ben finir\b(?! avec (?!(?:la vie|ma vie|tout|moi|cette vie|l'?existence)\b))"
        r"|\b(?:mettre|mets|mis) (?:fin|un terme) (?:à|a) (?:mes jours|ma vie|mon existence)\b",
        example="Je veux en finir.",
        not_after=r"\b(?:hâte|vivement|pressée?|pressés) d'?$",
    ),
    _rule(
        _FR,
        _SUICIDE,
        "veux_mourir",
        r"\b(?:veux|voudrais|aimerais|préfère|préférerais|souhaite|envie de|besoin de|prête? à"
        r"|mérite de) <g1>(?:mourir|crever|être mort|être morte)\b(?! de (?:rire|honte|faim|soif"
        r"|chaud|froid|ennui|peur|fatigue|jalousie|curiosité|envie|plaisir)\b)",
        example="Parfois j'ai envie de MOURIR",
    ),
    _rule(
        _FR,
        _SUICIDE,
        "mieux_mort",
        r"\b(?:serais|serait|serions|seraient) mieux (?:mort|morte|morts|sans moi)\b"
        r"|\bmieux sans moi\b",
        example="Tout le monde serait mieux sans moi",
        personless=True,
    ),
    _rule(
        _FR,
        _SUICIDE,
        "plus_envie_de_vivre",
        r"\b(?:plus|pas|aucune) envie de vivre\b"
        r"|\b(?:ne )?(?:veux|voudrais|peux) (?:plus|pas) vivre\b(?! (?:à|a|en|avec|ici|là|la"
        r"|loin|près|seule?|comme ça|comme ca)\b)"
        r"|\b(?:plus|aucune|pas de) raisons? de vivre\b|\b(?:fatiguée?|marre|lasse?) de vivre\b"
        r"|\bmarre de la vie\b",
        example="Je n\u2019ai plus envie de vivre",
        negatable=False,
    ),
    _rule(
        _FR,
        _SUICIDE,
        "vie_sans_sens",
        r"\b(?:la|ma) vie n'?a (?:plus |pas |aucun )?(?:de |aucun )?sens\b"
        r"|\bne plus me réveiller\b|\bplus jamais me réveiller\b",
        example="Ma vie n'a plus de sens",
        negatable=False,
    ),
    _rule(
        _FR,
        _SUICIDE,
        "methode",
        r"\bsauter (?:d'?un|du|par la|de la|depuis le) (?:pont|toit|fenêtre|balcon|immeuble"
        r"|falaise)\b|\b(?:avaler|prendre|pris|avalé) (?:toutes? (?:mes|les)|tous mes|une boîte"
        r" de|une plaquette de|trop de) (?:<w> )?(?:médicaments|cachets|comprimés|pilules"
        r"|somnifères)\b|\bsurdose\b",
        example="Je pense à avaler tous mes médicaments",
    ),
    # ---------------------------------------------------------------- French: self-harm
    _rule(
        _FR,
        _SELF_HARM,
        "me_faire_du_mal",
        r"\bme (?:faire|fais|ferai|ferais) (?:du )?mal\b(?! (?:au|à|a|aux|en)\b)"
        r"|\bme suis (?:fait|faite) du mal\b"
        r"|\bme (?:scarifier|scarifie|mutiler|mutile|taillader|taillade)\b"
        r"|\bme (?:blesser|brûler)\b(?! (?:en|au|à|a|avec)\b)"
        r"|\bme (?:couper|coupe)\b(?! (?:les|la|le|l'|au|en|un|une|des|à|a)\b)",
        example="J'ai encore envie de me faire du mal",
        not_after=_FR_OTHER_BEFORE,
    ),
    _rule(
        _FR,
        _SELF_HARM,
        "automutilation",
        r"\bauto-?mutilations?\b|\bscarifications?\b",
        example="Je lutte contre l'automutilation depuis ce matin",
        personless=True,
        mention=True,
    ),
    # ---------------------------------------------------------------- French: harm to others
    _rule(
        _FR,
        _HARM_OTHERS,
        "tuer_quelquun",
        r"\b(?:vais|veux|voudrais|pourrais|envie de|capable de|peur de) <g1>"
        r"(?:le |la |les |l'|lui )?(?:tuer|buter|poignarder|étrangler|faire du mal)\b"
        r"(?<!\bme tuer)(?<!\bme faire du mal)"
        r"|\b(?:tuer|buter|poignarder|étrangler) (?:quelqu'?un|mon <w>|ma <w>|mes <w>"
        r"|tout le monde|les gens)\b"
        r"|\bfaire du mal (?:à|a) (?:quelqu'?un|lui|elle|eux|mon <w>|ma <w>|mes <w>)\b",
        example="Je vais le tuer",
    ),
    # ---------------------------------------------------------------- French: danger
    _rule(
        _FR,
        _DANGER,
        "pas_en_securite",
        r"\b(?:suis|me sens) pas en sécurité\b|\bje suis en danger\b"
        r"|\b(?:peur|crains) pour ma vie\b|\bma vie est en danger\b",
        example="Je ne suis pas en sécurité chez moi",
        negatable=False,
    ),
    _rule(
        _FR,
        _DANGER,
        "on_va_me_tuer",
        r"\b<fr_who> <g2>(?:va|vont|veut|veulent|voulait|menace de|a menacé de|essaie de"
        r"|a essayé de) <g1>me (?:tuer|frapper|battre|violer|étrangler|faire du mal|buter)\b"
        r"|\b<fr_who> me (?:frappe|bat|battait|viole|étrangle|menace|harcèle)\b"
        r"(?! (?:aux|au|à|a) (?:échecs|cartes|jeu|course|tennis|foot)\b)",
        example="Mon mari a menacé de me tuer",
    ),
    # ---------------------------------------------------------------- Spanish: suicide
    _rule(
        _ES,
        _SUICIDE,
        "suicidarme",
        r"\bsuicidarme\b|\bme <g2>(?:suicidar|suicidaré|suicidaría|suicido)\b",
        example="Me voy a suicidar",
    ),
    _rule(
        _ES,
        _SUICIDE,
        "suicidio",
        r"\bsuicid(?:io|ios|a|as)\b",
        example="Tengo pensamientos suicidas",
        personless=True,
        mention=True,
    ),
    _rule(
        _ES,
        _SUICIDE,
        "matarme",
        r"\bmatarme\b(?! (?:trabajando|estudiando|a trabajar|a estudiar|de risa|por ti)\b)"
        r"|\bme (?:voy a|quiero|quisiera|gustaría|dan ganas de|tengo que) matar\b"
        r"(?! (?:trabajando|estudiando|a trabajar|de risa)\b)"
        r"|\bme mato\b(?! (?:trabajando|estudiando|de risa|por)\b)",
        example="Quiero matarme",
        not_after=_ES_OTHER_BEFORE,
    ),
    _rule(
        _ES,
        _SUICIDE,
        "quitarme_la_vida",
        r"\bquitarme la vida\b|\bme <g2>quitar la vida\b"
        r"|\b(?:acabar|terminar) con mi vida\b|\bponer(?:le)? fin a mi vida\b"
        r"|\bacabar con todo\b(?! (?:el|la|los|las|lo|mi|tu|su|este|esta|estos|estas|eso)\b)",
        example="He pensado en quitarme la vida",
    ),
    _rule(
        _ES,
        _SUICIDE,
        "quiero_morir",
        r"\b(?:quiero|quisiera|deseo|prefiero|preferiría|necesito|ganas de) <g1>(?:morir"
        r"|morirme|estar muerto|estar muerta)\b(?! de (?:risa|hambre|sed|ganas|sueño|calor"
        r"|frío|vergüenza|envidia|aburrimiento|miedo|celos|curiosidad|cansancio|amor)\b)"
        r"|\b(?:ojalá|quisiera) (?:estuviera|estar) muert[oa]\b"
        r"|\bestarían? mejor (?:muert[oa]s?|sin mí)\b|\bmejor muert[oa]\b",
        example="Me quiero morir",
    ),
    _rule(
        _ES,
        _SUICIDE,
        "no_quiero_vivir",
        r"\bno (?:<g1>)(?:quiero|quisiera|deseo|tengo ganas de|puedo) (?:seguir )?(?:vivir"
        r"|viviendo|existir|estar viv[oa]|seguir adelante)\b(?! (?:en|con|aquí|ahí|allí|cerca"
        r"|lejos|sol[oa]|junt[oa]s)\b)",
        example="Ya no quiero vivir así",
        negatable=False,
    ),
    _rule(
        _ES,
        _SUICIDE,
        "vida_sin_sentido",
        r"\b(?:mi )?vida no tiene (?:ningún )?sentido\b|\bno tiene sentido (?:vivir|seguir)\b"
        r"|\bno (?:tengo|hay|veo) (?:ninguna |ningún )?(?:razón|razones|motivo|motivos) para"
        r" (?:vivir|seguir)\b|\bno vale la pena (?:vivir|seguir)\b|\bno aguanto (?:más|mas)\b"
        r"|\b(?:sin|pocas|ningunas) ganas de vivir\b",
        example="Mi vida no tiene sentido",
        negatable=False,
    ),
    _rule(
        _ES,
        _SUICIDE,
        "cansado_de_vivir",
        r"\b(?:cansad[oa]|hart[oa]) de (?:vivir|la vida|existir)\b",
        example="Estoy cansada de vivir",
        personless=True,
    ),
    _rule(
        _ES,
        _SUICIDE,
        "metodo",
        r"\btirarme (?:de un puente|desde un puente|por la ventana|por el balcón|al tren"
        r"|a las vías|bajo un tren|del edificio|de la azotea)\b|\bahorcarme\b"
        r"|\bcortarme las venas\b|\btomarme (?:todas (?:las|mis) |un bote de |una caja de )"
        r"(?:pastillas|píldoras|medicamentos|somníferos)\b|\bsobredosis\b",
        example="Pienso en tirarme de un puente",
    ),
    # ---------------------------------------------------------------- Spanish: self-harm
    _rule(
        _ES,
        _SELF_HARM,
        "hacerme_dano",
        r"\b(?:hacerme|me hago|me haré|me hice) daño\b(?! (?:en|al|jugando|corriendo|con el)\b)"
        r"|\b(?:lastimarme|herirme|autolesionarme|me lastimo|me autolesiono|me hiero)\b"
        r"|\bcortarme\b(?! (?:el|la|los|las|un|una) (?:pelo|cabello|flequillo|uñas|barba|puntas"
        r"|dedo|melena)\b)(?! las venas\b)|\bme corto (?:los brazos|las piernas|las muñecas"
        r"|la piel)\b|\bme estoy cortando\b(?! (?:el|la|los|las)\b)",
        example="Tengo ganas de hacerme daño",
        not_after=_ES_OTHER_BEFORE,
    ),
    _rule(
        _ES,
        _SELF_HARM,
        "autolesion",
        r"\bautolesi(?:ón|ones|va|vas|vo|vos)\b",
        example="Volví a la autolesión",
        personless=True,
        mention=True,
    ),
    # ---------------------------------------------------------------- Spanish: harm to others
    _rule(
        _ES,
        _HARM_OTHERS,
        "matar_a_alguien",
        r"\b(?:voy a|quiero|vamos a|pienso|tengo ganas de|podría|quisiera) <g1>(?:matarlos?"
        r"|matarlas?|matarle|lastimarlos?|lastimarlas?|lastimarle|hacerles? daño|apuñalarlos?"
        r"|apuñalarlas?|golpearlos?|golpearlas?)\b"
        r"|\b(?:matar|lastimar|apuñalar|hacerle daño) a (?:alguien|mi <w>|mis <w>"
        r"|todos|esa persona|ese tipo)\b|\b(?:lo|la|los|las|le) (?:voy|vamos) a (?:matar"
        r"|lastimar|apuñalar)\b",
        example="Voy a matarlo",
    ),
    # ---------------------------------------------------------------- Spanish: danger
    _rule(
        _ES,
        _DANGER,
        "no_estoy_a_salvo",
        r"\bno estoy a salvo\b|\bno me siento (?:a salvo|segur[oa])\b"
        r"(?! (?:de|con la decisión|con mi decisión)\b)|\bestoy en peligro\b"
        r"|\b(?:temo|miedo) por mi vida\b|\bmi vida (?:está|corre) (?:en )?peligro\b",
        example="No estoy a salvo en casa",
        negatable=False,
    ),
    _rule(
        _ES,
        _DANGER,
        "me_va_a_matar",
        r"\b(?:me (?:va|van) a|me quieren?|me amenazó con|me amenaza con) (?:matar|pegar"
        r"|golpear|violar|hacer daño|lastimar|estrangular)\b"
        r"|\b(?:va a|van a|quieren?|amenazó con|amenaza con|intentó|trató de) (?:matarme"
        r"|pegarme|golpearme|violarme|hacerme daño|lastimarme|estrangularme)\b"
        r"|\b(?:<es_who> )?me (?:pega|golpea|viola|maltrata|amenaza|está pegando)\b",
        example="Mi marido me va a matar",
    ),
    # ---------------------------------------------------------------- Dutch: suicide
    _rule(
        _NL,
        _SUICIDE,
        "zelfmoord",
        r"\bzelfmoord(?:gedachten|gedachte|poging|pogingen|neigingen|plannen)?\b"
        r"|\bsuïcid(?:e|aal|ale)\b|\bsuïcidegedachten\b",
        example="Ik heb zelfmoordgedachten",
        personless=True,
        mention=True,
    ),
    _rule(
        _NL,
        _SUICIDE,
        "van_kant_maken",
        r"\b(?:mezelf|me|mijzelf) <g2>(?:van kant (?:te )?maken|(?:te )?doden|om ?het leven"
        r" (?:te )?brengen|ophangen|op te hangen|(?:te )?vermoorden|iets aan ?(?:te )?doen)\b"
        r"|\bmaak (?:mezelf|me) <g1>van kant\b",
        example="Ik wil mezelf van kant maken",
        not_after=_NL_OTHER_BEFORE,
    ),
    _rule(
        _NL,
        _SUICIDE,
        "dood_willen",
        r"\b(?:wil|wilde|wou|zou willen|zou liever|wens|liefst) <nl_g2_self>dood\b"
        r"(?! (?:van|moe|op)\b)|\bdood (?:te )?(?:willen|wil|wilde)\b"
        r"|\b(?:wil|wou|zou willen) <nl_g2_self>(?:sterven|doodgaan|dood gaan)\b",
        example="Ik wil gewoon dood",
    ),
    _rule(
        _NL,
        _SUICIDE,
        "niet_meer_leven",
        r"\bniet meer (?:willen )?(?:leven|verder ?leven|bestaan|wakker (?:willen )?worden"
        r"|hier (?:willen )?zijn)\b(?! (?:in|met|bij|zonder)\b)|\bwil (?:er )?niet meer zijn\b"
        r"|\bgeen zin meer (?:in (?:het|mijn) leven|om te leven|in leven)\b"
        r"|\b(?:het )?leven heeft geen zin(?: meer)?\b|\bgeen reden (?:meer )?om te leven\b",
        example="Ik wil niet meer leven",
        negatable=False,
    ),
    _rule(
        _NL,
        _SUICIDE,
        "levensmoe",
        r"\blevensmoe\b",
        example="Ik ben zo levensmoe",
        personless=True,
    ),
    _rule(
        _NL,
        _SUICIDE,
        "einde_aan_leven",
        r"\ber (?:een )?eind(?:e)? aan (?:te )?(?:willen )?maken\b"
        r"|\been eind(?:e)? aan mijn leven (?:te )?maken\b|\bmaak er een eind(?:e)? aan\b",
        example="Ik wil er een einde aan maken",
    ),
    _rule(
        _NL,
        _SUICIDE,
        "methode",
        r"\b(?:voor (?:de|een) trein|van (?:een|de) brug|van het dak|van een flat|uit het raam)"
        r" <g1>(?:te )?(?:springen|gooien)\b|\b(?:spring|gooi mezelf|gooi me) (?:voor (?:de"
        r"|een) trein|van (?:een|de) brug|van het dak|uit het raam)\b|\b(?:al mijn|alle"
        r"|een hele strip|een doosje|te veel) (?:pillen|tabletten|medicijnen|slaappillen)"
        r" (?:in ?nemen|slikken|te slikken|geslikt|ingenomen)\b|\boverdosis\b",
        example="Ik denk erover voor de trein te springen",
    ),
    # ---------------------------------------------------------------- Dutch: self-harm
    _rule(
        _NL,
        _SELF_HARM,
        "mezelf_pijn_doen",
        r"\b(?:mezelf|me|mijzelf) <g2>(?:pijn (?:te )?doen|beschadigen|te beschadigen|snijden"
        r"|te snijden|krassen|te krassen|verwonden|te verwonden|branden|te branden)\b"
        r"(?! (?:aan|bij het)\b)|\b(?:snij|snijd|kras|beschadig|verwond) (?:mezelf|me|mijzelf)\b"
        r"|\b(?:snijden|snij|snijd|krassen|kerven) in (?:mezelf|mijzelf|mijn (?:armen|arm|benen"
        r"|been|huid|polsen|pols))\b",
        example="Ik wil mezelf pijn doen",
        not_after=_NL_OTHER_BEFORE,
    ),
    _rule(
        _NL,
        _SELF_HARM,
        "zelfbeschadiging",
        r"\bzelfbeschadiging\b|\bzelfverwonding\b|\bautomutilatie\b|\bzelfbeschadigend(?:e)?\b",
        example="Ik worstel weer met zelfbeschadiging",
        personless=True,
        mention=True,
    ),
    # ---------------------------------------------------------------- Dutch: harm to others
    _rule(
        _NL,
        _HARM_OTHERS,
        "iemand_vermoorden",
        r"\b(?:ga|gaan|wil|zal|zou|kan|kon) <g1>(?:hem|haar|ze|iemand|jou|je|hen|hun"
        r"|mijn <w>|iedereen) <g2>(?:vermoorden|doden|dood ?maken|neersteken|neerschieten"
        r"|pijn doen|iets aandoen|wurgen|slaan|in elkaar slaan)\b",
        example="Ik ga hem vermoorden",
    ),
    # ---------------------------------------------------------------- Dutch: danger
    _rule(
        _NL,
        _DANGER,
        "niet_veilig",
        r"\bik ben (?:hier |thuis )?niet (?:meer )?veilig\b"
        r"|\bik voel me (?:hier |thuis )?niet (?:meer )?veilig\b|\bik ben in (?:levens)?gevaar\b"
        r"|\bbang voor mijn leven\b|\bmijn leven is in gevaar\b",
        example="Ik ben thuis niet veilig",
        negatable=False,
    ),
    _rule(
        _NL,
        _DANGER,
        "hij_wil_me",
        r"\b<nl_who> <g2>(?:gaat|wil|zal|dreigt|dreigde|probeert|probeerde|heeft gedreigd),? <g1>"
        r"(?:me|mij) <g2>(?:te )?(?:vermoorden|doden|dood ?maken|slaan|pijn (?:te )?doen"
        r"|verkrachten|wurgen|iets aan (?:te )?doen)\b"
        r"|\b<nl_who> (?:slaat|mishandelt|bedreigt|wurgt|verkracht|schopt) (?:me|mij)\b",
        example="Mijn man dreigt me te vermoorden",
    ),
)

# --------------------------------------------------------------------------------------------
# Suppression cues (all languages together: cheap, and messages mix languages)
# --------------------------------------------------------------------------------------------

_NEGATION_WINDOW = 4


def _words(*lines: str) -> frozenset[str]:
    return frozenset(word for line in lines for word in line.split())


_NEGATIONS = _words(
    "not no never nor neither cannot dont doesnt didnt wont wouldnt couldnt cant shouldnt isnt",
    "arent wasnt werent havent hasnt hadnt aint mustnt neednt",  # and anything ending in n't
    "nicht nie niemals kein keine keinen keinem keiner keines nimmer weder",
    "ne n pas jamais aucun aucune ni non nullement",  # and anything starting with n'
    "nunca jamas tampoco ningun ninguna ninguno",
    "niet nooit geen noch",
)
# "no one knows", "no matter what": not a negation of what follows.
_NOT_NEGATING_AFTER_NO = _words("one matter idea doubt wonder")
# Words that end the negation look-back: what follows them is a new thought, or ambivalence
# ("I don't know if I want to live", "I can't stop thinking about killing myself").
_BARRIERS = _words(
    "and so because cause cuz since if whether why when how than unless until except sure",
    "know knows knew stop stopping help quit",
    "und weil denn ob wenn warum als weiss weisz aufhoren aufhoeren",
    "et car parce si pourquoi quand sais arrete arreter",
    "y porque cuando se dejar deja",
    "omdat wanneer waarom weet stoppen ophouden",
)
_FIRST_PERSON = _words(
    "i me myself im ive mine",
    "ich mich mir",
    "je j moi m veux suis pense vais",
    "yo quiero pienso estoy tengo siento voy puedo necesito soy",
    "ik mij mezelf mijzelf",
)
_THIRD_PERSON = _words(
    "he she they him his her them their friend friends brother sister mom mum mother dad",
    "father parent parents son daughter cousin uncle aunt grandpa grandma grandfather",
    "grandmother husband wife partner boyfriend girlfriend colleague coworker classmate",
    "roommate neighbor neighbour student students patient patients client clients people",
    "someone somebody kid kids child children teen teens teenager teenagers character",
    "celebrity singer actor actress man woman boy girl guy person therapist doctor nurse",
    "psychiatrist psychologist teacher",
    "er sie ihn ihm freund freundin bruder schwester mutter vater mama papa sohn tochter",
    "cousine onkel tante oma opa kollege kollegin nachbar nachbarin mann frau leute jemand",
    "kinder patientin",
    "il elle ils elles lui eux ami amie amis frere soeur mere pere fils fille oncle mari",
    "femme copain copine collegue voisin voisine gens quelqu enfant enfants",
    "ella ellos ellas amigo amiga amigos hermano hermana madre padre hijo hija primo prima",
    "tio tia abuelo abuela esposo esposa marido novio novia companero companera vecino",
    "vecina gente alguien nino nina",
    "hij zij ze hem haar hun vriend vriendin broer zus moeder vader zoon dochter neef oom",
    "vrouw collega buurman buurvrouw mensen iemand kinderen",
)

_MENTION_BEFORE = _compile(
    r"(?:\b(?:career|social|political|professional|commercial|electoral|financial|brand"
    r"|assisted|physician-assisted|mass|celebrity|teen|teenage|youth|copycat|cult|ritual"
    r"|opioid|fentanyl|heroin|drug|accidental)"
    r"|\b(?:rates?|prevention|causes?|history|statistics|stigma|signs|warning signs|epidemic"
    r"|awareness|myths?|facts) (?:of|on|about|around)"
    r"|\b(?:lost|losing) (?:my|a|our|his|her|their|two|three) <g2>to"
    r"|\b(?:died|dies|death|deaths|passed away|bereaved) (?:by|of|from|through|after)"
    r"|\b(?:film|movie|book|documentary|article|song|podcast|show|series|episode|lecture|essay"
    r"|paper|report|course|class|training|seminar|workshop|study|research|news|story|novel"
    r"|poem|video|play|webinar|presentation|campaign|conference|module|chapter|post|leaflet"
    r"|brochure|poster)s? <g2>(?:about|on|regarding)"
    r"|\b(?:film|buch|artikel|doku|dokumentation|dokumentarfilm|vortrag|serie|lied|bericht"
    r"|studie|seminar|kurs|podcast|video|roman|folge|referat|präsentation) <g2>(?:über"
    r"|zum thema)|\b(?:rate|prävention|ursachen|statistik) (?:von|des|der|zum)"
    r"|\b(?:taux|prévention|causes?|statistiques?|histoire|sujet|thème) (?:de|du|des|sur)"
    r"|\b(?:film|livre|article|documentaire|chanson|podcast|série|émission|conférence|cours"
    r"|formation|étude|reportage|roman|vidéo|exposé)s? <g2>(?:sur|à propos du?|au sujet du?)"
    r"|\b(?:tasas?|prevención|causas?|estadísticas?|historia|tema) (?:de|del|sobre)"
    r"|\b(?:película|libro|artículo|documental|canción|podcast|serie|programa|charla"
    r"|conferencia|curso|taller|estudio|reportaje|novela|vídeo|video)s? <g2>(?:sobre"
    r"|acerca del?)"
    r"|\b(?:film|boek|artikel|documentaire|lied|podcast|serie|programma|lezing|cursus|studie"
    r"|onderzoek|video|reportage|spreekbeurt) <g2>over|\b(?:preventie|cijfers) (?:van|op))"
    r" (?:(?:the|a|an|le|la|les|l'|el|los|las|het|een|der|die|das|den|dem) ?)?$"
)
_MENTION_AFTER = _compile(
    r"[ -]+(?:rates?|prevention|awareness|statistics|stats|research|study|studies|squad"
    r"|bomb\w*|attacks?|missions?|doors?|king|sprints?|drills?|figures|data|numbers|trends?"
    r"|month|week|day|ribbon|walk|training|policy|policies|crisis|epidemic|deaths?|reversal"
    r"|prävention|rate|statistik|forschung|taux|prévention|assistée?|collectif|asistido"
    r"|tasa|prevención|preventie|cijfers)\b"
)
_PAST = _compile(
    r"\b(?:(?:(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|many|several|a few"
    r"|few|some|a couple of|couple of) )?(?:years?|months?|decades?) ago|long (?:time )?ago"
    r"|years back|when i was (?:\d+|a (?:kid|child|teen|teenager|student)|younger|little|young"
    r"|small|in (?:school|high school|college|uni|university))|as a (?:kid|child|teen|teenager)"
    r"|in (?:high school|middle school|college|my teens|my twenties)"
    r"|back (?:then|in (?:the day|\d{4}|school|high school|college))|in (?:19|20)\d\d|used to"
    r"|vor (?:\d+ |vielen |einigen |ein paar |zwei |drei |zehn )?(?:jahren|monaten"
    r"|jahrzehnten)|vor langer zeit|als ich (?:\d+|jung|jünger|klein|ein kind|jugendlicher"
    r"|jugendliche|teenager|in der schule)|in meiner (?:jugend|kindheit|schulzeit)|früher"
    r"|damals|il y a (?:\d+|quelques|plusieurs|des|deux|trois|dix|longtemps|bien longtemps)"
    r"(?: (?:ans|années|mois))?|quand j'?étais (?:petite?|jeune|ado|adolescente?|enfant"
    r"|au lycée|au collège)|autrefois|à l'époque|dans mon enfance|dans ma jeunesse"
    r"|hace (?:\d+ |muchos |varios |unos |dos |tres |diez )?(?:años|meses|mucho tiempo)"
    r"|cuando (?:era|tenía) (?:\d+|niñ[oa]|joven|adolescente|pequeñ[oa]|chic[oa])"
    r"|de (?:niñ[oa]|joven|adolescente|pequeñ[oa])|en mi (?:infancia|juventud|adolescencia)"
    r"|(?:\d+ |jaren |een paar |enkele |twee |drie |vele |lang )(?:jaar |jaren |maanden |tijd )?"
    r"geleden|toen ik (?:\d+|jong|klein|een kind|tiener|puber)(?: jaar)? was|vroeger|destijds)\b"
)
_RECENT = _compile(
    r"\b(?:again|still|now|today|tonight|lately|recently|currently|these days|this week"
    r"|every day|right now|started|starting|relaps\w*|wieder|immer noch|noch immer|jetzt|heute"
    r"|gerade|momentan|zurzeit|derzeit|neuerdings|encore|de nouveau|à nouveau|maintenant"
    r"|aujourd'hui|en ce moment|ce soir|récemment|toujours|otra vez|de nuevo|todavía|aún|ahora"
    r"|hoy|esta noche|últimamente|sigo|sigue|weer|opnieuw|nog steeds|nu|vandaag|vanavond"
    r"|tegenwoordig|laatst|sinds kort)\b"
)

# Common words, to tell which language a message is written in.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and i you to is it my of that this with not but want just have was be so what am",
        "are for feel myself don dont really anymore can cant",
    ),
    "de": _words(
        "ich und nicht das der ist es mich mir ein eine zu mit auf aber will bin habe nur noch",
        "mehr mein meine sich auch wenn dass weil wie kann mal nichts leben",
    ),
    "fr": _words(
        "je et le les des une ne pas est suis moi mon ma que qui pour avec mais plus tout vie",
        "veux j c n ai sais envie du au ca",
    ),
    "es": _words(
        "yo y el los las que no es estoy mi con para pero quiero muy todo una lo por tengo vida",
        "ya mas del se como esta porque nada",
    ),
    "nl": _words(
        "ik en het een niet mijn mezelf wil van dat met op maar ben heb voor zijn er te geen nog",
        "ook wat meer leven echt mij wel naar hij kan",
    ),
}

# --------------------------------------------------------------------------------------------
# Anchors: where each rule can start
# --------------------------------------------------------------------------------------------


def _trie(words: list[str]) -> str:
    """A regex matching the longest of ``words`` that starts where it is tried."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in sorted(groups.items()):
        longer = [rest for rest in rests if rest]
        if not longer:
            branches.append(re.escape(first))
        elif len(longer) < len(rests):  # ``first`` is itself a word: the rest is optional
            branches.append(re.escape(first) + "(?:" + _trie(longer) + ")?")
        else:
            branches.append(re.escape(first) + _trie(longer))
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _build_index(
    rules: tuple[_Rule, ...],
) -> tuple[re.Pattern[str], dict[str, tuple[tuple[int, ...], re.Pattern[str]]]]:
    """The trigger regex; for each anchor, the rules to try where the trigger finds it, and
    one regex matching where any of them does (most places, none does)."""
    anchors = sorted({anchor for rule in rules for anchor in rule.anchors})
    # The trigger finds the longest anchor at a word start; the rules to try there are those
    # of that anchor and of every shorter anchor it starts with ("im" also starts with "i").
    alternatives_at: dict[str, list[tuple[int, str]]] = {}
    for number, rule in enumerate(rules):
        for alternative, starts in rule.alternatives:
            for start in starts:
                alternatives_at.setdefault(start, []).append((number, alternative))
    compiled: dict[str, re.Pattern[str]] = {}
    index: dict[str, tuple[tuple[int, ...], re.Pattern[str]]] = {}
    for anchor in anchors:
        # Alternatives that can start at a word beginning with ``anchor``, in rule order.
        found = sorted(
            {
                item
                for end in range(1, len(anchor) + 1)
                for item in alternatives_at.get(anchor[:end], ())
            }
        )
        pattern = "|".join(dict.fromkeys(alternative for _, alternative in found))
        if pattern not in compiled:
            compiled[pattern] = re.compile(pattern)
        index[anchor] = (tuple(dict.fromkeys(number for number, _ in found)), compiled[pattern])
    # "\W(...)" on the text after a space finds the same word starts as "\b(...)", faster.
    return re.compile(r"\W(" + _trie(anchors) + ")"), index


_TRIGGER, _RULES_AT = _build_index(_RULES)
_UNANCHORED = tuple(i for i, rule in enumerate(_RULES) if rule.unanchored is not None)
if len({rule.rule_id for rule in _RULES}) != len(_RULES):
    raise ValueError("crisis rule ids must be unique")

# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def _clause(s: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the clause around ``s[start:end]``."""
    clause_start, clause_end = 0, len(s)
    for brk in _CLAUSE_BREAK.finditer(s):
        if brk.end() <= start:
            clause_start = brk.end()
        elif brk.start() >= start:
            clause_end = brk.start()
            break
    return clause_start, max(clause_end, end)


def _is_negation(word: str, following: str) -> bool:
    if word == "no" and following in _NOT_NEGATING_AFTER_NO:
        return False
    return word in _NEGATIONS or word.endswith("n't") or word.startswith("n'")


def _negated(before: str, phrase: str) -> bool:
    """A negation cue shortly before the phrase (same clause) or inside it."""
    following = ""
    for raw in reversed(_TOKEN.findall(before)[-_NEGATION_WINDOW:]):
        token = raw.strip("'")
        if token in _BARRIERS:
            break
        if _is_negation(token, following):
            return True
        following = token
    return any(_is_negation(token.strip("'"), "") for token in _TOKEN.findall(phrase))


def _about_someone_else(clause: str) -> bool:
    words = _WORD.findall(clause)
    return any(w in _THIRD_PERSON for w in words) and not any(w in _FIRST_PERSON for w in words)


def _suppressed(rule: _Rule, s: str, match: re.Match[str]) -> bool:
    start, end = match.span()
    clause_start, clause_end = _clause(s, start, end)
    before = s[clause_start:start]
    clause = s[clause_start:clause_end]
    if rule.negatable and _negated(before, match.group()):
        return True
    if rule.not_after is not None and rule.not_after.search(s, max(0, start - 80), start):
        return True
    if rule.mention and (_MENTION_BEFORE.search(before) or _MENTION_AFTER.match(s, end)):
        return True
    if rule.personless and _about_someone_else(clause):
        return True
    return bool(_PAST.search(clause)) and not _RECENT.search(clause)


def _scan(s: str) -> list[tuple[_Rule, int]]:
    """Every rule with an unsuppressed match in normalised text ``s``, with its position.

    Each rule is tried only at the word starts where one of its anchors occurs, so most of a
    long benign message is never looked at by most rules.
    """
    found: dict[int, int] = {}
    for hit in _TRIGGER.finditer(" " + s):
        start = hit.start()  # the anchor's offset in ``s`` (the text was shifted by one space)
        indices, any_of = _RULES_AT[hit.group(1)]
        if any_of.match(s, start) is None:
            continue
        for index in indices:
            if index in found:
                continue
            rule = _RULES[index]
            match = rule.anchored.match(s, start) if rule.anchored is not None else None
            if match is not None and not _suppressed(rule, s, match):
                found[index] = start
    for index in _UNANCHORED:
        rule = _RULES[index]
        if rule.unanchored is None or index in found:
            continue
        pos = 0
        while (match := rule.unanchored.search(s, pos)) is not None:
            if not _suppressed(rule, s, match):
                found[index] = match.start()
                break
            pos = match.start() + 1
    return [(_RULES[index], start) for index, start in sorted(found.items())]


def _language_ranks(s: str) -> dict[str, int]:
    words = _WORD.findall(s)
    scores = {lang: sum(w in _STOPWORDS[lang] for w in words) for lang in LANGUAGES}
    ordered = sorted(LANGUAGES, key=lambda lang: -scores[lang])  # stable: ties keep order
    return {lang: rank for rank, lang in enumerate(ordered)}


def detect_crisis(text: str) -> CrisisMatch | None:
    """Return why ``text`` reads as crisis language, or ``None``.

    Of several matches the most severe category wins (suicide, danger, harm to others,
    self-harm), then the message's likely language, then the earliest. See the module
    docstring for how it works and what it cannot do.
    """
    # A false alarm costs a therapist a glance; a miss can cost a life. Where the rules are
    # unsure (ambiguous first-person statements) they flag.
    if not text:
        return None
    s = _normalise(text)
    found = _scan(s)
    if not found:
        return None
    ranks = _language_ranks(s) if len({rule.language for rule, _ in found}) > 1 else {}
    rule, _ = min(
        found,
        key=lambda item: (_SEVERITY[item[0].category], ranks.get(item[0].language, 0), item[1]),
    )
    return CrisisMatch(category=rule.category, language=rule.language, rule=rule.rule_id)
