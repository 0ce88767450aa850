"""Hypothesis throws arbitrary bytes and structured garbage at the inbound mail parser.

Whatever arrives, the parser answers with a ParsedMail or a RejectedMail, within its time
budget. Hypothesis's own deadline is off (a loaded CI machine makes it flaky); each call is
timed explicitly instead.
"""

from __future__ import annotations

import base64
import quopri
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confide.mail.parsing import (
    HeaderInfo,
    MailLimits,
    ParsedMail,
    RejectedMail,
    dmarc_verdict,
    html_to_text,
    parse_headers,
    parse_mail,
    strip_quoted,
)

SAMPLES = sorted((Path(__file__).parent / "samples").glob("*.eml"))
SAMPLE_BYTES = [path.read_bytes() for path in SAMPLES]
BUDGET_SECONDS = 2.0
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DEFAULT = MailLimits()
# Small limits make every limit reachable with small generated inputs.
SMALL = MailLimits(
    max_bytes=200_000,
    max_parts=12,
    max_depth=3,
    max_decoded_bytes=100_000,
    max_text_chars=2_000,
    max_header_bytes=4_000,
    max_body_chars=50_000,
    max_html_chars=50_000,
    max_html_markup=2_000,
)


def answered(call: Callable[[], object]) -> object:
    """Run `call`; it must return or raise RejectedMail within the budget."""
    start = time.perf_counter()
    try:
        result: object = call()
    except RejectedMail as rejected:
        assert rejected.code in (550, 552, 554)
        assert rejected.reason and "\n" not in rejected.reason
        result = rejected
    assert time.perf_counter() - start < BUDGET_SECONDS
    return result


def check_mail(raw: bytes, limits: MailLimits = DEFAULT) -> None:
    result = answered(lambda: parse_mail(raw, limits=limits))
    if isinstance(result, ParsedMail):
        assert result.from_address == result.from_address.lower()
        assert "@" in result.from_address
        assert len(result.text) <= limits.max_text_chars
        assert result.text == result.text.rstrip()
        assert all(ch in "\n\t" or not _is_control(ch) for ch in result.text)
        assert "\r" not in result.text
        for attachment in result.attachments:
            assert attachment.content_type == attachment.content_type.lower()
            assert not any(_is_control(ch) for ch in attachment.filename)
    else:
        assert isinstance(result, RejectedMail)
    headers = answered(lambda: parse_headers(raw, limits=limits))
    assert isinstance(headers, HeaderInfo | RejectedMail)


def _is_control(ch: str) -> bool:
    return ord(ch) < 32 or 127 <= ord(ch) < 160


# -- strategies ---------------------------------------------------------------------------------

TOKENS = st.sampled_from(
    [
        "cam@example.org", "<cam@example.org>", "Cam", '"Client, Cam"', "(comment", ")", "(a(b)c)",
        ",", ";", ":", "<", ">", "@", "=?utf-8?q?Ren=C3=A9?=", "=?x?b?!!?=", "=?utf-8?b?", "\\",
        '"', " ", "\t", "\r\n ", "\u00e9", "\x00", "reply+abc@confide.example.org", "=?",
    ]
)  # fmt: skip
HEADER_NAMES = st.sampled_from(
    [
        "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Auto-Submitted",
        "Precedence", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
        "Authentication-Results", "Return-Path", "List-Id", "X-Autoreply", "Mime-Version",
    ]
)  # fmt: skip
CHARSETS = st.sampled_from(
    ["utf-8", "us-ascii", "iso-8859-1", "windows-1252", "koi8-r", "shift_jis", "utf-16",
     "utf-7", "x-unknown", "rot13", "idna", "punycode", "zlib", "", '"utf-8', "utf-8'en'"]
)  # fmt: skip
ENCODINGS = st.sampled_from(["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uue", ""])
TYPES = st.sampled_from(
    ["text/plain", "text/html", "image/png", "application/pdf", "message/rfc822", "text/calendar",
     "multipart/mixed", "multipart/alternative", "multipart/related", "multipart/digest", "bogus"]
)  # fmt: skip
BODY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8"), max_size=300
) | st.sampled_from(
    [
        "Hi\n\nOn Tue, 1 Dec 2026 at 18:30, Robin <r@example.org> wrote:\n> q\n",
        "<div>Hi</div><blockquote>q</blockquote><div class=gmail_quote>x</div>",
        "-- \nsig", "> only quote", "</</</<!<![CDATA[<a b='", "&amp;&#0;&#xD800;&#99999999;",
    ]
)  # fmt: skip


def header_value() -> st.SearchStrategy[str]:
    return st.lists(TOKENS | st.text(max_size=10), max_size=12).map("".join)


@st.composite
def header_lines(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(HEADER_NAMES, header_value()), max_size=8))
    rendered = "".join(f"{name}: {value}\r\n" for name, value in lines)
    return rendered.encode("utf-8", "surrogatepass")


def encode_body(text: str, charset: str, encoding: str) -> bytes:
    try:
        data = text.encode(charset.strip("\"'") or "utf-8")
    except (LookupError, UnicodeError, TypeError):
        data = text.encode("utf-8")
    if encoding == "base64":
        return base64.encodebytes(data)
    if encoding == "quoted-printable":
        return quopri.encodestring(data)
    return data


@st.composite
def entity(draw: st.DrawFn, depth: int = 0) -> bytes:
    content_type = draw(TYPES)
    charset = draw(CHARSETS)
    encoding = draw(ENCODINGS)
    headers = draw(header_lines()) if draw(st.booleans()) else b""
    boundary = draw(st.sampled_from(["b", "b1", "=_x", "a b", "", "--", "b" * 80]))
    params = f'; charset="{charset}"' if draw(st.booleans()) else ""
    if content_type.startswith("multipart/"):
        params += f'; boundary="{boundary}"'
    disposition = draw(
        st.sampled_from(
            ["", "attachment", "inline", 'attachment; filename="a.pdf"', "weird",
             "inline; filename*=utf-8''%C3%A9.png",
             "attachment; filename*0*=utf-8''%E2; filename*1*=%80%93.txt"]
        )
    )  # fmt: skip
    head = f"Content-Type: {content_type}{params}\r\nContent-Transfer-Encoding: {encoding}\r\n"
    if disposition:
        head += f"Content-Disposition: {disposition}\r\n"
    if content_type.startswith("multipart/") and depth < 4:
        children = draw(st.lists(entity(depth + 1), max_size=4))
        delimiter = f"--{boundary}".encode()
        body = b"".join(delimiter + b"\r\n" + child + b"\r\n" for child in children)
        if draw(st.booleans()):
            body += delimiter + b"--\r\n"
    elif content_type == "message/rfc822" and depth < 4:
        body = b"From: x@example.org\r\n" + draw(entity(depth + 1))
    else:
        body = encode_body(draw(BODY_TEXT), charset, encoding)
    return headers + head.encode() + b"\r\n" + body


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    sender = draw(
        st.sampled_from([b"From: Cam <cam@example.org>\r\n", b"From: cam@example.org\r\n"])
    )
    raw = sender + draw(header_lines()) + draw(entity())
    if draw(st.booleans()):
        raw = raw[: draw(st.integers(0, len(raw)))]
    if draw(st.booleans()):
        raw = raw.replace(b"\r\n", draw(st.sampled_from([b"\n", b"\r", b"\r\r\n"])))
    return raw


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLE_BYTES)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 50))]
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from([b"\r\n", b"\r\n\r\n", b"--", b"=?", b"<", b"\x00", b">", b";"])
            )
        else:
            del data[position:]
        if not data:
            break
    return bytes(data)


# -- properties -----------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=4_000))
def test_arbitrary_bytes_are_answered(raw: bytes) -> None:
    check_mail(raw)
    check_mail(raw, SMALL)


@FUZZ
@given(header_lines(), st.binary(max_size=500))
def test_garbage_headers_are_answered(headers: bytes, body: bytes) -> None:
    check_mail(headers + b"\r\n" + body)
    check_mail(b"From: cam@example.org\r\n" + headers + b"\r\n" + body)


@FUZZ
@given(mails())
def test_generated_mime_trees_are_answered(raw: bytes) -> None:
    check_mail(raw)
    check_mail(raw, SMALL)


@FUZZ
@given(mutated_samples())
def test_damaged_samples_are_answered(raw: bytes) -> None:
    check_mail(raw)
    check_mail(raw, SMALL)


@FUZZ
@given(st.text(max_size=2_000))
def test_strip_quoted_and_html_to_text_accept_any_text(text: str) -> None:
    stripped = answered(lambda: strip_quoted(text))
    assert isinstance(stripped, str)
    assert all(ch in "\n\t" or not _is_control(ch) for ch in stripped)
    assert isinstance(answered(lambda: html_to_text(text)), str)


@FUZZ
@given(st.lists(header_value() | st.text(max_size=60), max_size=4), st.lists(st.text(max_size=20)))
def test_dmarc_verdict_accepts_any_header_values(values: list[str], trusted: list[str]) -> None:
    verdict = answered(lambda: dmarc_verdict(values, trusted_authserv_ids=trusted))
    assert verdict in ("pass", "fail", "none")
