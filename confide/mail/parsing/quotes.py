"""Keeping only what a person newly wrote in a reply.

Every step is a regular expression over the whole text with bounded backtracking, so the cost
is linear in the text's length even for a 10 MB body of crafted lines; no step loops over
lines in Python.
"""

from __future__ import annotations

import re

from .text import clean_text

__all__ = ["strip_quoted"]

# Horizontal whitespace, including the no-break spaces French clients put before a colon.
_S = r"[^\S\n]"

# "On Tue, 3 Dec 2026 at 10:00, Robin <robin@example.org> wrote:" and its translations. The
# first line must contain a digit (the date), which keeps a sentence like "On that topic I
# wrote:" from counting; the line may be wrapped over up to three lines. Lines are consumed
# possessively and the closing words are checked once, at the line's end, so each attempt
# costs the length of at most three lines.
_OPENERS = r"(?:On|Am|Le|Op|El|Il|Em|Den|W dniu)"
# Each check starts with the cheap question "does this line end in a colon?".
_ENDS_WITH_VERB = (
    r"(?<=:)(?:(?<=wrote:)|(?<=wrote :)|(?<=écrit:)|(?<=écrit :)|(?<=écrit\u00a0:)"
    r"|(?<=écrit\u202f:)|(?<=escribió:)|(?<=scritto:)|(?<=escreveu:))"
)
# German, Dutch, Scandinavian and Polish put the name after the verb: "Am … schrieb Robin:".
# The verb follows the date, so it is on the first line even when the name wraps.
_VERB_BEFORE_NAME = r"(?=[^\n]{0,300}?\b(?:schrieb|schreef|skrev|napisał)\b)"
_WRAPPED_LINES = rf"(?:[^\n]*+\n(?!{_S}*>)){{0,2}}?"
_ATTRIBUTION = (
    rf"^{_S}*{_OPENERS}{_S}(?=[^\d\n]{{0,300}}\d)"
    rf"(?:{_WRAPPED_LINES}[^\n]*+{_ENDS_WITH_VERB}"
    rf"|{_VERB_BEFORE_NAME}{_WRAPPED_LINES}[^\n]*+(?<=:))$"
)
# "Robin wrote:" with no date, only trusted when quoted lines follow.
_SHORT_ATTRIBUTION = (
    rf"^(?!{_S}*>)[^\n]++(?<=:)"
    r"(?:(?<= wrote:)|(?<= schrieb:)|(?<= schreef:)|(?<= écrit:)|(?<= écrit :))"
)
_BEFORE_QUOTE = rf"\n(?=\n*{_S}*>)"
_ATTRIBUTION_BEFORE_QUOTE = re.compile(
    rf"(?:{_ATTRIBUTION}|{_SHORT_ATTRIBUTION}){_BEFORE_QUOTE}", re.MULTILINE
)
_QUOTE_LINE = re.compile(rf"^{_S}*>[^\n]*(?:\n|\Z)", re.MULTILINE)

_HEADER_FROM = r"(?:From|Von|De|Van|Från|Fra|Da|Od|Mittente)"
_HEADER_DATE = r"(?:Sent|Date|Gesendet|Datum|Envoyé|Verzonden|Skickat|Sendt|Inviato|Enviado|Data)"
# Where the rest of the text is the earlier message, not new writing.
_CUT = re.compile(
    "|".join(
        [
            # The attribution line of a quote that was not prefixed with ">".
            _ATTRIBUTION,
            # Outlook and others.
            rf"^{_S}*-{{2,}}{_S}*(?:Original Message|Ursprüngliche Nachricht|Originalnachricht"
            rf"|Message d'origine|Oorspronkelijk bericht|Originalmeddelande|Mensaje original"
            rf"|Messaggio originale|Mensagem original){_S}*-{{2,}}{_S}*$",
            # Outlook's header block: "From: …" with "Sent: …" or "Date: …" on one of the next
            # three lines (Apple Mail's forward header lists Subject before Date).
            rf"^{_S}*\*?{_HEADER_FROM}{_S}?:\*?{_S}[^\n]*\n(?:[^\n]*\n){{0,2}}"
            rf"{_S}*\*?{_HEADER_DATE}{_S}?:",
            # Outlook's separator line, when a header block or nothing follows it.
            rf"^{_S}*_{{20,}}{_S}*(?=\n(?:{_S}*\n){{0,2}}{_S}*\*?[^\s:]{{1,20}}{_S}?:|\s*\Z)",
            # A signature separator that lost its trailing space, only near the end.
            r"^--$(?=(?:\n[^\n]*+){0,8}+\Z)",
        ]
    ),
    re.MULTILINE | re.IGNORECASE,
)
# The signature separator "-- " (RFC 3676 4.3); looked for before trailing spaces are removed.
_SIGNATURE = re.compile(r"^-- $", re.MULTILINE)
_MOBILE_SIGNATURE = re.compile(
    rf"^{_S}*(?:Sent from my [^\n]{{1,40}}|Sent from (?:Mail|Outlook|Yahoo Mail|Proton ?Mail|Gmail)"
    rf"(?: for [^\n]{{1,30}})?|Get Outlook for (?:iOS|Android)[^\n]{{0,60}}"
    rf"|Von meinem [^\n]{{1,40}} gesendet|Gesendet von [^\n]{{1,40}}|Envoyé de mon [^\n]{{1,40}}"
    rf"|Verzonden (?:vanaf|met) (?:mijn )?[^\n]{{1,40}}|Verstuurd vanaf mijn [^\n]{{1,40}}"
    rf"|Enviado desde mi [^\n]{{1,40}}){_S}*(?:\n|\Z)",
    re.MULTILINE | re.IGNORECASE,
)
_TRAILING_SPACE = re.compile(rf"{_S}+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


def strip_quoted(text: str) -> str:
    """The new text of a reply: quotes, attributions, forwarded headers and signatures removed.

    - lines starting with ">" are dropped wherever they are, so an inline (interleaved) answer
      keeps the person's own lines between the quotes;
    - an "On … wrote:" line (also wrapped over two or three lines; German, French, Dutch,
      Spanish, Italian, Portuguese, Scandinavian and Polish forms) is dropped before a quote,
      and anything after it is dropped when the quote that follows is not ">"-prefixed;
    - everything from "-----Original Message-----", an Outlook "From: … Sent: …" block, a
      "____" separator before such a block, or the signature separator "-- " on, is dropped;
    - "Sent from my iPhone", "Get Outlook for Android" and similar lines are dropped.

    A greeting above a quote is kept, so a reply that only says "Thanks!" stays "Thanks!".
    Newlines are normalised, trailing whitespace removed and blank-line runs collapsed.
    """
    text = clean_text(text)
    signature = _SIGNATURE.search(text)
    if signature is not None:
        text = text[: signature.start()]
    # Trailing whitespace goes next: the patterns below expect a line to end in its last word.
    text = _TRAILING_SPACE.sub("", text)
    text = _ATTRIBUTION_BEFORE_QUOTE.sub("", text)
    text = _QUOTE_LINE.sub("", text)
    cut = _CUT.search(text)
    if cut is not None:
        text = text[: cut.start()]
    text = _MOBILE_SIGNATURE.sub("", text)
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")
