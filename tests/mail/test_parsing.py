"""The inbound mail parser: samples from the common clients, charsets, limits and robots."""

from __future__ import annotations

import base64
import email
import email.policy
import os
import pickle
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from confide.mail.parsing import (
    MailLimits,
    ParsedMail,
    RejectedMail,
    dmarc_verdict,
    html_to_text,
    parse_headers,
    parse_mail,
    strip_quoted,
)

SAMPLES = Path(__file__).parent / "samples"
TOKEN = "reply+4f3a9c2e7b1d4e6f8a0b2c4d6e8f0a1b@confide.example.org"
HEAD = (
    b"From: Cam Client <cam@example.org>\r\n"
    b"To: reply+abc@confide.example.org\r\n"
    b"Subject: Re: hello\r\n"
    b"Message-ID: <t-1@example.org>\r\n"
)
# Generous for a loaded two-core machine; each case takes well under half of it when idle.
BUDGET_SECONDS = 2.0


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def timed(call: Callable[[], object]) -> tuple[float, object]:
    """Run `call`; return the seconds taken and its result or the RejectedMail it raised."""
    start = time.perf_counter()
    try:
        result: object = call()
    except RejectedMail as rejected:
        result = rejected
    return time.perf_counter() - start, result


def rejected(call: Callable[[], object]) -> RejectedMail:
    with pytest.raises(RejectedMail) as caught:
        call()
    return caught.value


def html_part(name: str) -> str:
    message = email.message_from_bytes(sample(name), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("html",))
    assert isinstance(body, EmailMessage)
    content = body.get_content()
    assert isinstance(content, str)
    return content


# -- samples from the common clients ---------------------------------------------------------

GMAIL_TEXT = (
    "Hi Robin,\n\n"
    "Thanks for the exercise. I tried the breathing practice twice this week \u2013 it\n"
    "helped most before the meeting on Monday.\n\n"
    "I'm not sure about Friday yet, I'll let you know tomorrow.\n\n"
    "Cam"
)
OUTLOOK_TEXT = (
    "Dear Robin,\n\n"
    "Thank you for your message. Yes, Thursday at 10:00 works for me. "
    "I\u2019m looking forward to it.\n\n"
    "Kind regards,\nDana"
)
OWA_TEXT = (
    "Hello Robin,\n\n"
    "I read the article (https://www.example.com/articles/sleep-and-worry) you sent & made a "
    "short list:\n\n"
    "- no screens after 22:00\n"
    "- a walk before work\n\n"
    "Does that look realistic to you?\n\n"
    "Alex"
)
APPLE_TEXT = (
    "Hi Robin,\n\n"
    "I\u2019d like to move our session to next week if that\u2019s possible. "
    "This week is very full at work.\n\n"
    "Ren\u00e9"
)
THUNDERBIRD_TEXT = (
    "I noticed that I wrote more on the days when I had slept badly. "
    "It was easier to name the worry once it was on paper.\n\n"
    "Mostly, yes. Twice I went over \u2013 both times on a Sunday evening."
)
IPHONE_TEXT = "Thanks, see you Thursday! I\u2019ll bring the notes."


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gmail_reply.eml", GMAIL_TEXT),
        ("outlook_desktop.eml", OUTLOOK_TEXT),
        ("outlook_web_html_only.eml", OWA_TEXT),
        ("apple_mail.eml", APPLE_TEXT),
        ("thunderbird_inline.eml", THUNDERBIRD_TEXT),
        ("mobile_iphone.eml", IPHONE_TEXT),
    ],
)
def test_it_keeps_only_the_new_text_of_each_clients_reply(name: str, text: str) -> None:
    parsed = parse_mail(sample(name))

    assert parsed.text == text
    assert parsed.attachments == ()
    assert parsed.auto_submitted is False
    assert parsed.to_addresses == (TOKEN,)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gmail_reply.eml", GMAIL_TEXT.replace(" it\nhelped", " it helped")),
        ("outlook_desktop.eml", OUTLOOK_TEXT),
        ("apple_mail.eml", APPLE_TEXT),
    ],
)
def test_it_reads_the_html_version_of_each_reply_to_the_same_text(name: str, text: str) -> None:
    assert strip_quoted(html_to_text(html_part(name))) == text


def test_it_reads_the_gmail_headers() -> None:
    parsed = parse_mail(sample("gmail_reply.eml"))

    assert parsed.from_address == "cam@example.org"
    assert parsed.from_name == "Cam Client"
    assert parsed.subject == 'Re: New message from Robin in "Weekly check-in"'
    assert parsed.message_id == "<CAFx8mZq1Gmail0001@mail.example.org>"
    assert parsed.in_reply_to == "<room-42.msg-1001@confide.example.org>"
    assert parsed.references == (
        "<room-42.msg-1000@confide.example.org>",
        "<room-42.msg-1001@confide.example.org>",
    )


def test_it_decodes_encoded_words_in_names_and_subjects() -> None:
    parsed = parse_mail(sample("apple_mail.eml"))

    assert parsed.from_name == "Ren\u00e9 Roe"
    assert parsed.from_address == "rene@example.org"
    assert parsed.subject == "Re: Reminder: Friday \u2013 14:00"


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.eml")))
def test_parse_headers_agrees_with_parse_mail(name: str) -> None:
    raw = sample(name)
    try:
        full: ParsedMail | RejectedMail = parse_mail(raw)
    except RejectedMail as error:
        full = error
    try:
        headers = parse_headers(raw)
    except RejectedMail as error:
        assert isinstance(full, RejectedMail)
        assert error.reason == full.reason
        return
    assert isinstance(full, ParsedMail)
    assert headers.from_address == full.from_address
    assert headers.to_addresses == full.to_addresses
    assert headers.subject == full.subject
    assert headers.message_id == full.message_id
    assert headers.auto_submitted == full.auto_submitted


# -- attachments -------------------------------------------------------------------------------


def test_it_keeps_attached_files_with_their_declared_names_and_types() -> None:
    parsed = parse_mail(sample("attachments.eml"))

    assert parsed.text == "Here is the filled-in worksheet and a photo of my notes."
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("worksheet.pdf", "application/pdf"),
        ("notes.png", "image/png"),
    ]
    assert parsed.attachments[0].data.startswith(b"%PDF-1.4\n")
    assert parsed.attachments[0].data.endswith(b"%%EOF\n")
    assert parsed.attachments[1].data.startswith(b"\x89PNG\r\n\x1a\n")


def test_an_inline_image_with_a_filename_is_an_attachment_and_the_text_stays() -> None:
    parsed = parse_mail(sample("inline_image.eml"))

    assert parsed.text == (
        "This is my mood chart for the week:\n\n[image: chart.png]\n\nIt dips on Wednesdays."
    )
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("chart.png", "image/png")
    ]


def test_it_decodes_rfc2231_continued_filenames() -> None:
    parsed = parse_mail(sample("rfc2231_filename.eml"))

    assert [a.filename for a in parsed.attachments] == ["Wochenend\u00fcbung \u2013 Notizen.pdf"]
    assert parsed.text == "My notes from the weekend are attached."


def test_it_decodes_encoded_word_filenames() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b'--b\r\nContent-Type: image/jpeg; name="=?utf-8?B?RsO8w59lLmpwZw==?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--b--\r\n"
    )
    parsed = parse_mail(raw)

    assert [(a.filename, a.data) for a in parsed.attachments] == [
        ("F\u00fc\u00dfe.jpg", b"\xff\xd8\xff\xe0\x00\x10")
    ]


def test_a_mail_with_only_an_attachment_is_accepted_with_empty_text() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\n%PDF-1.4\r\n--b--\r\n'
    )
    parsed = parse_mail(raw)

    assert parsed.text == ""
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]


def test_a_text_file_attachment_is_not_read_as_the_reply() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nMy reply.\r\n"
        b"--b\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="diary.txt"\r\n\r\nPrivate diary.\r\n--b--\r\n'
    )
    parsed = parse_mail(raw)

    assert parsed.text == "My reply."
    assert [(a.filename, a.data) for a in parsed.attachments] == [("diary.txt", b"Private diary.")]


# -- senders ---------------------------------------------------------------------------------


def test_it_rejects_a_mail_without_from() -> None:
    error = rejected(lambda: parse_mail(sample("no_from.eml")))

    assert error.code == 554
    assert error.reason == "Your email has no sender (From) address."
    assert rejected(lambda: parse_headers(sample("no_from.eml"))).reason == error.reason


def test_a_rejection_keeps_its_code_across_processes() -> None:
    error = pickle.loads(pickle.dumps(RejectedMail("Too big.", code=552)))  # noqa: S301 our own bytes

    assert (error.reason, error.code, str(error)) == ("Too big.", 552, "Too big.")


def test_it_rejects_a_mail_with_two_from_addresses() -> None:
    error = rejected(lambda: parse_mail(sample("two_from.eml")))

    assert error.code == 550
    assert "more than one sender" in error.reason


def test_it_rejects_two_from_headers() -> None:
    raw = b"From: a@example.org\r\nFrom: b@example.org\r\n\r\nhi\r\n"

    assert "more than one sender" in rejected(lambda: parse_mail(raw)).reason


@pytest.mark.parametrize(
    "value",
    [
        b"Cam Client cam@example.org",
        b"<cam@example.org",
        b"<cam@example.org> <robin@example.com>",
        b"cam@",
        b"@example.org",
        b"cam",
        b"<not an address>",
        b"(Cam Client cam@example.org",
    ],
)
def test_it_rejects_an_unreadable_from(value: bytes) -> None:
    error = rejected(lambda: parse_headers(b"From: " + value + b"\r\n\r\nhi"))

    assert error.code == 554
    assert error.reason == "The sender (From) address of your email could not be read."


@pytest.mark.parametrize(
    ("value", "address", "name"),
    [
        (b"cam@Example.ORG", "cam@example.org", ""),
        (b'"Client, Cam" <Cam@example.org>', "cam@example.org", "Client, Cam"),
        (b"cam@example.org (Cam Client)", "cam@example.org", "Cam Client"),
        (b"=?iso-8859-1?q?J=F6rg?= <joerg@example.org>", "joerg@example.org", "J\u00f6rg"),
        (b'"=?utf-8?b?UmVuw6k=?=" <rene@example.org>', "rene@example.org", "Ren\u00e9"),
        (b"Cam\r\n Client <cam@example.org>", "cam@example.org", "Cam Client"),
        (b"J\xc3\xb6rg <joerg@example.org>", "joerg@example.org", "J\u00f6rg"),
    ],
)
def test_it_reads_the_from_address_and_name(value: bytes, address: str, name: str) -> None:
    info = parse_headers(b"From: " + value + b"\r\n\r\nhi")

    assert (info.from_address, info.from_name) == (address, name)


def test_an_address_in_the_display_name_is_not_the_sender() -> None:
    info = parse_headers(b'From: "cam@example.org" <intruder@example.com>\r\n\r\nhi')

    assert info.from_address == "intruder@example.com"
    assert info.from_name == "cam@example.org"


def test_it_lists_to_and_cc_recipients_lowercased_once_each() -> None:
    info = parse_headers(
        b"From: cam@example.org\r\nTo: A <Reply+X@Confide.Example.org>, b@example.com\r\n"
        b"Cc: undisclosed-recipients:;, reply+x@confide.example.org, not valid\r\n\r\n"
    )

    assert info.to_addresses == ("reply+x@confide.example.org", "b@example.com")


def test_it_wraps_a_bare_message_id_in_angle_brackets() -> None:
    info = parse_headers(b"From: cam@example.org\r\nMessage-ID: abc@example.org\r\n\r\n")

    assert info.message_id == "<abc@example.org>"
    assert info.in_reply_to == ""
    assert info.references == ()


# -- robots ----------------------------------------------------------------------------------


def test_an_out_of_office_reply_is_marked_automatic() -> None:
    parsed = parse_mail(sample("auto_reply.eml"))

    assert parsed.auto_submitted is True


@pytest.mark.parametrize(
    "header",
    [
        b"Auto-Submitted: auto-generated",
        b"Auto-Submitted: auto-replied; owner-email=dana@example.com",
        b"Precedence: bulk",
        b"Precedence: junk",
        b"Precedence: list",
        b"X-Autoreply: yes",
        b"X-Autorespond: Out of office",
        b"Return-Path: <>",
        b"List-Id: <therapy.lists.example.org>",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x",
        b"Subject: Automatic reply: your message",
        b"Subject: Out of Office: back on Monday",
        b"Subject: Undelivered Mail Returned to Sender",
    ],
)
def test_robot_markers_make_a_mail_automatic(header: bytes) -> None:
    info = parse_headers(b"From: dana@example.com\r\n" + header + b"\r\n\r\nbody")

    assert info.auto_submitted is True


@pytest.mark.parametrize(
    "sender", [b"MAILER-DAEMON@mx.example.com", b"postmaster@example.com", b"no-reply@example.com"]
)
def test_a_mail_from_a_robot_address_is_automatic(sender: bytes) -> None:
    assert parse_headers(b"From: " + sender + b"\r\n\r\n").auto_submitted is True


def test_a_null_envelope_sender_makes_a_mail_automatic() -> None:
    raw = b"From: dana@example.com\r\n\r\nhi"

    assert parse_headers(raw, envelope_sender="").auto_submitted is True
    assert parse_headers(raw, envelope_sender="dana@example.com").auto_submitted is False


@pytest.mark.parametrize(
    "header",
    [b"Auto-Submitted: no", b"Subject: Auto insurance: a question", b"Subject: Re: out of office"],
)
def test_a_person_is_not_mistaken_for_a_robot(header: bytes) -> None:
    info = parse_headers(b"From: cam@example.org\r\n" + header + b"\r\n\r\nbody")

    assert info.auto_submitted is False


# -- DMARC -------------------------------------------------------------------------------------

MX = ["mx.confide.example.org"]


def test_a_trusted_dmarc_fail_is_fail() -> None:
    results = [
        "mx.confide.example.org; spf=pass smtp.mailfrom=example.org; "
        "dkim=none; dmarc=fail (p=reject dis=none) header.from=example.org"
    ]

    assert dmarc_verdict(results, trusted_authserv_ids=MX) == "fail"


def test_a_trusted_dmarc_pass_is_pass() -> None:
    results = ["MX.Confide.Example.org 1; dmarc=pass header.from=example.org"]

    assert dmarc_verdict(results, trusted_authserv_ids=MX) == "pass"


def test_untrusted_authentication_results_are_ignored() -> None:
    results = [
        "mx.attacker.example.com; dmarc=pass header.from=example.org",
        "mx.attacker.example.com; dmarc=fail header.from=example.org",
    ]

    assert dmarc_verdict(results, trusted_authserv_ids=MX) == "none"


def test_a_fail_wins_over_a_pass_and_comments_cannot_fake_a_result() -> None:
    assert (
        dmarc_verdict(
            [
                "mx.confide.example.org; dmarc=pass header.from=example.org",
                "mx.confide.example.org; dkim=pass; dmarc=fail header.from=example.org",
            ],
            trusted_authserv_ids=MX,
        )
        == "fail"
    )
    assert (
        dmarc_verdict(
            ['mx.confide.example.org; spf=pass (; dmarc=pass) smtp.mailfrom="x;dmarc=pass"@a'],
            trusted_authserv_ids=MX,
        )
        == "none"
    )


def test_dmarc_none_and_no_headers_are_none() -> None:
    assert dmarc_verdict([], trusted_authserv_ids=MX) == "none"
    assert dmarc_verdict(["mx.confide.example.org; none"], trusted_authserv_ids=MX) == "none"
    assert dmarc_verdict(["mx.confide.example.org; dmarc=none"], trusted_authserv_ids=MX) == "none"


def test_parse_headers_returns_every_authentication_results_header() -> None:
    info = parse_headers(
        b"Authentication-Results: mx.confide.example.org; dmarc=pass\r\n"
        b"From: cam@example.org\r\n"
        b"Authentication-Results: other.example.com;\r\n dmarc=fail\r\n\r\n"
    )

    assert info.authentication_results == (
        "mx.confide.example.org; dmarc=pass",
        "other.example.com; dmarc=fail",
    )


# -- strip_quoted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Hallo Robin,\n\ndanke!\n\nAm Di., 1. Dez. 2026 um 18:30 Uhr schrieb Robin Reyes <\n"
            "reply+abc@confide.example.org>:\n\n> Hallo Cam\n",
            "Hallo Robin,\n\ndanke!",
        ),
        (
            "Merci Robin.\n\nLe mar. 1 d\u00e9c. 2026 \u00e0 18:30, Robin Reyes "
            "<robin@example.com> a \u00e9crit\u00a0:\n> Bonjour\n",
            "Merci Robin.",
        ),
        (
            "Dank je.\n\nOp di 1 dec. 2026 om 18:30 schreef Robin Reyes <robin@example.com>:\n\n"
            "> Hoi\n",
            "Dank je.",
        ),
        (
            "Yes.\n\nOn Tue, Dec 1, 2026 at 6:30\u202fPM Robin Reyes via Confide <\n"
            "reply+abc@confide.example.org> wrote:\n\n> Hi\n",
            "Yes.",
        ),
    ],
)
def test_it_strips_attributions_in_several_languages(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def test_it_keeps_a_greeting_above_a_quote() -> None:
    text = "Hi Robin,\n\nOn Tue, 1 Dec 2026 at 18:30, Robin wrote:\n> all of it quoted\n> more\n"

    assert strip_quoted(text) == "Hi Robin,"


def test_it_keeps_inline_answers_and_drops_the_quotes_between_them() -> None:
    text = (
        "On 02/12/2026 19:05, Robin wrote:\n> How was the week?\n\nBetter.\n\n"
        "> Did you sleep?\n> More than before?\n\nYes, seven hours.\n"
    )

    assert strip_quoted(text) == "Better.\n\nYes, seven hours."


def test_it_cuts_at_an_unquoted_earlier_message() -> None:
    text = "Fine by me.\n\nOn Tue, 1 Dec 2026 at 18:30, Robin wrote:\n\nthe old message\n"

    assert strip_quoted(text) == "Fine by me."


def test_it_cuts_outlook_original_message_and_header_blocks() -> None:
    original = "Thanks\n\n-----Original Message-----\nFrom: Robin\nSent: today\n\nold text"
    mobile = (
        "Thanks!\n\nGet Outlook for Android<https://aka.ms/example>\n"
        "________________________________\nFrom: Robin Reyes <robin@example.com>\n"
        "Sent: Tuesday, December 1, 2026 6:30:00 PM\nTo: Cam <cam@example.org>\n"
        "Subject: Hello\n\nOld text"
    )
    german = "Danke\n\nVon: Robin Reyes <robin@example.com>\nGesendet: Dienstag\nAn: Cam\n\nalt"

    assert strip_quoted(original) == "Thanks"
    assert strip_quoted(mobile) == "Thanks!"
    assert strip_quoted(german) == "Danke"


def test_it_cuts_the_signature_after_the_sig_dash() -> None:
    assert strip_quoted("See you then.\n\n-- \nCam Client\n+00 0000 0000\n") == "See you then."
    assert strip_quoted("See you then.\n--\nCam\n") == "See you then."


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from my Galaxy",
        "Get Outlook for iOS",
        "Von meinem iPhone gesendet",
        "Envoy\u00e9 de mon iPhone",
        "Verstuurd vanaf mijn iPhone",
    ],
)
def test_it_drops_mobile_signatures(signature: str) -> None:
    assert strip_quoted(f"On my way.\n\n{signature}\n") == "On my way."


@pytest.mark.parametrize(
    "text",
    [
        "On that topic I wrote: nothing more.\nAnd this stays.",
        "Draw a line:\n______________________________\nand continue",
        "-- this dash line is my own\nand more\n" + "line\n" * 12,
        "From: my point of view it went well.\nAnd I slept.",
    ],
)
def test_it_leaves_ordinary_writing_alone(text: str) -> None:
    assert strip_quoted(text) == text.rstrip("\n")


def test_a_reply_that_is_only_a_quote_is_refused() -> None:
    raw = HEAD + b"\r\nOn Tue, 1 Dec 2026 at 18:30, Robin wrote:\r\n> quoted only\r\n"
    error = rejected(lambda: parse_mail(raw))

    assert error.code == 550
    assert error.reason == "Your email contained no new text above the quoted message."


# -- html_to_text ----------------------------------------------------------------------------


def test_html_to_text_drops_head_script_style_and_keeps_structure() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<script>alert(1)</script><p>First&nbsp;para &amp; more</p><p>Second<br>line</p>"
        "<ol><li>one</li><li>two<ul><li>inner</li></ul></li></ol>"
        "<div>Read <a href='https://example.com/a'>this</a> or "
        "<a href='https://example.com/b'>https://example.com/b</a> or "
        "<a href='mailto:cam@example.org'>cam@example.org</a></div></body></html>"
    )

    assert html_to_text(html) == (
        "First para & more\n\nSecond\nline\n\n- one\n- two\n\n  - inner\n\n"
        "Read this (https://example.com/a) or https://example.com/b or cam@example.org"
    )


@pytest.mark.parametrize(
    "quote",
    [
        '<blockquote type="cite"><div>On 1 Dec 2026, Robin wrote:</div>old</blockquote>',
        '<div class="gmail_quote"><div class="gmail_attr">On 1 Dec, Robin wrote:</div>'
        "<blockquote>old</blockquote></div>",
        '<div class="moz-cite-prefix">On 01/12/2026 18:30, Robin wrote:<br></div>'
        '<blockquote type="cite" cite="mid:x@example.org">old</blockquote>',
        '<hr><div id="divRplyFwdMsg"><b>From:</b> Robin</div><div>old</div><p>older</p>',
        '<div class="gmail_signature">Cam | example.org</div>',
    ],
)
def test_html_to_text_drops_quotes_of_the_common_clients(quote: str) -> None:
    assert html_to_text(f"<div>My answer.</div>{quote}") == "My answer."


def test_html_to_text_survives_broken_markup() -> None:
    assert html_to_text("a < b & c <b>bold</b> <unclosed") == "a < b & c bold"
    assert html_to_text("x<!-- never closed") == "x"
    assert html_to_text("<p>one</p></div></div><p>two") == "one\n\ntwo"
    assert html_to_text("<HEAD><TITLE>t</TITLE><BODY>Hi") == "Hi"


# -- charsets and encodings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (b"Content-Type: text/plain; charset=x-no-such-charset\r\n", b"caf\xc3\xa9", "caf\u00e9"),
        (b"Content-Type: text/plain; charset=iso-8859-1\r\n", b"caf\xe9 \x80", "caf\u00e9 \u20ac"),
        (b"Content-Type: text/plain; charset=koi8-r\r\n", b"\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"),
        (b"Content-Type: text/plain; charset=us-ascii\r\n", b"na\xc3\xafve", "na\u00efve"),
        (b"Content-Type: text/plain; charset=utf-8\r\n", b"bad \xff byte", "bad \ufffd byte"),
        (b"Content-Type: text/plain; charset=rot13\r\n", b"plain", "plain"),
        (b"Content-Type: text/plain; charset=idna\r\n", b"plain", "plain"),
        (
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n",
            b"Gr=C3=BC=C3=9Fe, soft=\r\nbreak",
            "Gr\u00fc\u00dfe, softbreak",
        ),
        (
            b"Content-Transfer-Encoding: base64\r\n",
            base64.b64encode("Hallo W\u00f6rld".encode()).rstrip(b"=") + b"!!",
            "Hallo W\u00f6rld",
        ),
        (
            b"",
            b"tab\there\x00nul\x07bell\x1b[31m\r\nnext\rline",
            "tab\theremulbell[31m\nnext\nline",
        ),
    ],
)
def test_it_decodes_charsets_and_transfer_encodings(
    headers: bytes, body: bytes, expected: str
) -> None:
    parsed = parse_mail(HEAD + headers + b"\r\n" + body)

    assert parsed.text == expected.replace("mul", "nul")


def test_text_never_holds_control_characters() -> None:
    body = bytes(range(256)) * 4
    parsed = parse_mail(HEAD + b"Content-Type: text/plain; charset=latin-1\r\n\r\n" + body)

    assert all(ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in parsed.text)


def test_format_flowed_with_delsp_is_unwrapped() -> None:
    raw = HEAD + (
        b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\n"
        b"A long sen \r\ntence that wra \r\nps.\r\n From the start\r\n"
    )

    assert parse_mail(raw).text == "A long sentence that wraps.\nFrom the start"


def test_plain_text_is_preferred_over_html_in_alternative() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--b--\r\n"
    )

    assert parse_mail(raw).text == "plain version"


def test_an_empty_plain_part_falls_back_to_html() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\n\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n--b--\r\n"
    )

    assert parse_mail(raw).text == "html version"


def test_a_forwarded_message_is_not_read_as_the_reply() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nMy reply.\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: other@example.com\r\nSubject: old\r\n\r\nSomeone else's words.\r\n--b--\r\n"
    )
    parsed = parse_mail(raw)

    assert parsed.text == "My reply."
    assert parsed.attachments == ()


# -- limits and time budgets --------------------------------------------------------------------


def test_it_rejects_a_mail_over_the_raw_size_first() -> None:
    error = rejected(lambda: parse_mail(b"x" * (MailLimits().max_bytes + 1)))

    assert error.code == 552
    assert error.reason == "Your email is too large: the limit is 10 MB."


def test_it_rejects_a_header_section_over_its_limit() -> None:
    raw = HEAD + b"X-Padding: " + b"a" * 70_000 + b"\r\n\r\nhi"

    assert rejected(lambda: parse_headers(raw)).code == 552
    assert rejected(lambda: parse_mail(raw)).code == 552


def test_it_rejects_reply_text_over_max_text_chars() -> None:
    raw = HEAD + b"\r\n" + b"word " * 4_001 + b"\r\n> quoted\r\n"
    error = rejected(lambda: parse_mail(raw))

    assert error.code == 552
    assert error.reason == "Your reply is too long: the limit is 20,000 characters."
    assert parse_mail(HEAD + b"\r\n" + b"word " * 3_999).text.endswith("word")


def test_it_rejects_decoded_payloads_over_the_limit() -> None:
    attachment = (
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=x.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"\0" * 30_000)
    )
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + attachment * 4 + b"--b--"
    limits = MailLimits(max_decoded_bytes=100_000)
    error = rejected(lambda: parse_mail(raw, limits=limits))

    assert error.code == 552
    assert error.reason == "The attachments in your email are too large in total."
    assert len(parse_mail(raw).attachments) == 4


def mime_tree(parts: int) -> bytes:
    body = b"".join(
        b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % index for index in range(parts)
    )
    return HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + body + b"--b--\r\n"


def test_ten_thousand_parts_are_rejected_within_budget() -> None:
    seconds, result = timed(lambda: parse_mail(mime_tree(10_000)))

    assert isinstance(result, RejectedMail)
    assert result.code == 552
    assert result.reason == "Your email has too many parts or attachments: the limit is 50."
    assert seconds < BUDGET_SECONDS
    assert parse_mail(mime_tree(40)).text.startswith("part 0\n\npart 1")


def test_deep_multipart_nesting_is_rejected_within_budget() -> None:
    nested = HEAD + b"".join(
        b"Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n" % (level, level)
        for level in range(1_000)
    )
    seconds, result = timed(lambda: parse_mail(nested + b"Content-Type: text/plain\r\n\r\nhi"))

    assert isinstance(result, RejectedMail)
    assert "nested too deeply" in result.reason
    assert seconds < BUDGET_SECONDS


def test_a_deep_chain_of_forwarded_messages_is_rejected_within_budget() -> None:
    chain = (
        HEAD
        + b"Content-Type: message/rfc822\r\n\r\n"
        + (b"From: x@example.org\r\nContent-Type: message/rfc822\r\n\r\n" * 1_000)
    )
    seconds, result = timed(lambda: parse_mail(chain + b"From: x@example.org\r\n\r\nhi"))

    assert isinstance(result, RejectedMail)
    assert result.code == 552
    assert seconds < BUDGET_SECONDS


def test_a_mime_bomb_of_many_declared_large_parts_is_rejected_within_budget() -> None:
    # Each part claims to be a huge file; 60 empty parts inside one small mail.
    part = (
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=big.bin; size=999999999999\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n\r\n"
    )
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + part * 60 + b"--b--"
    seconds, result = timed(lambda: parse_mail(raw))

    assert isinstance(result, RejectedMail)
    assert result.code == 552
    assert seconds < BUDGET_SECONDS


def test_ten_megabytes_of_garbage_are_rejected_within_budget() -> None:
    garbage = os.urandom(MailLimits().max_bytes)
    for call in (lambda: parse_mail(garbage), lambda: parse_headers(garbage)):
        seconds, result = timed(call)

        assert isinstance(result, RejectedMail)
        assert seconds < BUDGET_SECONDS


def test_a_header_of_a_hundred_thousand_encoded_words_is_handled_within_budget() -> None:
    words = b" ".join([b"=?utf-8?q?a=C3=A9?="] * 100_000)
    raw = HEAD.replace(b"Subject: Re: hello", b"Subject: " + words) + b"\r\nhi"
    seconds, result = timed(lambda: parse_mail(raw))

    assert isinstance(result, RejectedMail)
    assert result.code == 552
    assert seconds < BUDGET_SECONDS

    roomy = MailLimits(max_header_bytes=4 * 1024 * 1024)
    seconds, result = timed(lambda: parse_mail(raw, limits=roomy))

    assert isinstance(result, ParsedMail)
    assert result.subject == "a\u00e9" * 100_000
    assert seconds < BUDGET_SECONDS


def test_an_enormous_base64_attachment_is_decoded_within_budget() -> None:
    payload = os.urandom(7 * 1024 * 1024)
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nA recording.\r\n"
        b"--b\r\nContent-Type: audio/ogg\r\nContent-Disposition: attachment; filename=a.ogg\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(payload) + b"--b--\r\n"
    )
    seconds, result = timed(lambda: parse_mail(raw))

    assert isinstance(result, ParsedMail)
    assert result.attachments[0].data == payload
    assert seconds < BUDGET_SECONDS


@pytest.mark.parametrize(
    "raw",
    [
        HEAD + b"\r\n" + b"a" * 5_000_000,
        HEAD + b"X-Long: " + b"a" * 5_000_000 + b"\r\n\r\nhi",
        HEAD + b"Content-Type: text/html\r\n\r\n" + b"a" * 5_000_000,
        HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" + b"a" * 5_000_000,
        b"a" * 5_000_000,
    ],
    ids=["body", "header", "html", "part", "no-newline"],
)
def test_a_five_megabyte_line_is_handled_within_budget(raw: bytes) -> None:
    seconds, result = timed(lambda: parse_mail(raw))

    assert isinstance(result, RejectedMail)
    assert result.code in (552, 554)
    assert seconds < BUDGET_SECONDS


ADVERSARIAL_LINES = [
    b"a\n",
    b"On 1 Dec 2026 x wrote\n",
    b"On 1\n",
    b"Am 1 schrieb x\n",
    b"> a\n",
    b"From: a\nx\n",
    b"_" * 25 + b"\n",
    b"--\n",
    b"x wrote:\n\n> q\n",
    b"On 1 Dec\nx\nwrote\n",
    b" \t \n",
]


@pytest.mark.parametrize("unit", ADVERSARIAL_LINES)
def test_a_body_of_crafted_lines_just_under_the_limit_is_handled_within_budget(
    unit: bytes,
) -> None:
    size = MailLimits().max_body_chars - 100
    body = (unit * (size // len(unit) + 1))[:size]
    seconds, _ = timed(lambda: parse_mail(HEAD + b"\r\nhello\r\n" + body))

    assert seconds < BUDGET_SECONDS


@pytest.mark.parametrize(
    "unit",
    [b"<p>", b"<ul><li>", b"<a href=x>y</a>", b"<b>x</b>", b"&amp;", b"</", b"<!--", b"<![CDATA["],
)
def test_html_just_under_the_markup_limit_is_handled_within_budget(unit: bytes) -> None:
    markup = MailLimits().max_html_markup - 100
    html = unit * (markup // max(unit.count(b"<") + unit.count(b"&"), 1))
    seconds, _ = timed(lambda: parse_mail(HEAD + b"Content-Type: text/html\r\n\r\n" + html))

    assert seconds < BUDGET_SECONDS


@pytest.mark.parametrize("unit", ["</", "<!", "<![CDATA[", "<a ", '<a b="', "<!--"])
def test_html_to_text_is_linear_on_inputs_that_are_quadratic_for_html_parser(unit: str) -> None:
    seconds, _ = timed(lambda: html_to_text(unit * (1_000_000 // len(unit))))

    assert seconds < BUDGET_SECONDS


def test_html_over_its_limits_is_refused_before_conversion() -> None:
    raw = HEAD + b"Content-Type: text/html\r\n\r\n" + b"<p>" * 60_000
    error = rejected(lambda: parse_mail(raw))

    assert error.code == 552
    assert "please send it as plain text" in error.reason
