"""Reading inbound mail for email therapy: pure functions from raw bytes to a room reply.

Nothing here touches the database or Django settings; every function is safe to call on bytes
from a stranger, and any bad input raises RejectedMail with a reason its sender can read.
"""

from .headers import HeaderInfo, dmarc_verdict, parse_headers
from .html import html_to_text
from .limits import MailLimits, RejectedMail
from .message import ParsedAttachment, ParsedMail, parse_mail
from .quotes import strip_quoted

__all__ = [
    "HeaderInfo",
    "MailLimits",
    "ParsedAttachment",
    "ParsedMail",
    "RejectedMail",
    "dmarc_verdict",
    "html_to_text",
    "parse_headers",
    "parse_mail",
    "strip_quoted",
]
