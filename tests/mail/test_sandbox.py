"""The parse of an inbound mail runs in a child process that is stopped when it overruns."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from confide.mail.parsing import MailLimits, RejectedMail
from confide.mail.sandbox import parse_within, shutdown


def _mail(size: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Cam Client <cam@example.org>"
    message["To"] = "reply+abc@reply.confide.localhost"
    message["Subject"] = "Re: your room"
    message.set_content("Here is the recording.")
    message.add_attachment(b"\0" * size, maintype="audio", subtype="mpeg", filename="note.mp3")
    return message.as_bytes()


def test_an_overrun_is_returned_and_the_next_mail_parses_in_a_fresh_child() -> None:
    try:
        with pytest.raises(RejectedMail) as refused:
            parse_within(_mail(4_000_000), limits=MailLimits(), seconds=0.000_1)
        assert "took too long" in refused.value.reason and refused.value.code == 554
        parsed = parse_within(_mail(10), limits=MailLimits(), seconds=30)
        assert parsed.text == "Here is the recording."
        assert [a.filename for a in parsed.attachments] == ["note.mp3"]
    finally:
        shutdown()


def test_a_refusal_in_the_child_keeps_its_reason_and_code() -> None:
    try:
        with pytest.raises(RejectedMail) as refused:
            parse_within(_mail(10_000), limits=MailLimits(max_bytes=1_000), seconds=30)
        assert refused.value.code == 552 and "too large" in refused.value.reason
    finally:
        shutdown()
