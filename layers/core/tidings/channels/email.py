"""Email digests as raw MIME (multipart/alternative) through SES v2, so the headers are ours."""

from __future__ import annotations

import email.policy
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from botocore.exceptions import ClientError

from tidings import aws
from tidings.channels import SendError
from tidings.digest.render import RenderedEmail
from tidings.feeds.text import one_line

# SES error codes that will not succeed on retry
_PERMANENT = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "BadRequestException",
    "NotFoundException",
}


# RFC 5322 allows 998-character lines; at 78, a long unsubscribe URL would be RFC 2047
# encoded, and mail clients would no longer recognise the List-Unsubscribe header.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True, slots=True)
class Envelope:
    sender: str
    to: str
    digest_id: str  # stable per (subscriber, items): the same digest gets the same Message-ID
    list_id: str
    unsubscribe_url: str
    unsubscribe_mailto: str


def build_message(rendered: RenderedEmail, envelope: Envelope) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["From"] = envelope.sender
    message["To"] = envelope.to
    message["Subject"] = one_line(rendered.subject)
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(envelope.sender)[1].rpartition("@")[2] or "tidings.invalid"
    message["Message-ID"] = f"<{envelope.digest_id}@{domain}>"
    message["List-Id"] = envelope.list_id
    message["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>, <{envelope.unsubscribe_mailto}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return message


def digest_id(subscriber_id: str, item_uids: list[str]) -> str:
    joined = "\n".join([subscriber_id, *sorted(item_uids)])
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


class EmailChannel:
    def __init__(self) -> None:
        self._ses = aws.client("sesv2")

    def send(self, message: EmailMessage, sender: str, to: str) -> str:
        try:
            response = self._ses.send_email(
                FromEmailAddress=sender,
                Destination={"ToAddresses": [to]},
                Content={"Raw": {"Data": message.as_bytes()}},
            )
        except ClientError as err:
            code = err.response["Error"]["Code"]
            raise SendError(f"ses {code}", permanent=code in _PERMANENT) from err
        return str(response["MessageId"])
