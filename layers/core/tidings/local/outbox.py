"""Write what the emulated stack sent to a folder: emails as .eml/.html/.txt, Slack as JSON."""

from __future__ import annotations

import email
import email.policy
import json
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tidings.local.stack import REGION


@dataclass(slots=True)
class Outbox:
    folder: Path
    emails: list[Path] = field(default_factory=list)
    slack: list[Path] = field(default_factory=list)


def sent_raw_emails() -> list[str]:
    """Every raw message SES accepted in the emulated account, exactly as sent, oldest first."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [m.raw_data for m in backend.sent_messages if hasattr(m, "raw_data")]


def sent_emails() -> list[EmailMessage]:
    return [
        email.message_from_string(raw, policy=email.policy.default) for raw in sent_raw_emails()
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "message"


def write_outbox(folder: Path, slack_posts: list[tuple[str, dict[str, Any]]]) -> Outbox:
    """`slack_posts`: (channel name, posted JSON) in the order they were sent."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in [
        *folder.glob("*.eml"),
        *folder.glob("*.html"),
        *folder.glob("*.txt"),
        *folder.glob("slack-*.json"),
    ]:
        old.unlink()
    outbox = Outbox(folder)
    for number, raw in enumerate(sent_raw_emails(), start=1):
        message = email.message_from_string(raw, policy=email.policy.default)
        stem = folder / f"email-{number:02d}-{_slug(str(message['To']))}"
        stem.with_suffix(".eml").write_text(raw, "utf-8", newline="")
        for part in message.walk():
            if part.get_content_type() == "text/html":
                stem.with_suffix(".html").write_text(part.get_content(), "utf-8")
            elif part.get_content_type() == "text/plain":
                stem.with_suffix(".txt").write_text(part.get_content(), "utf-8")
        outbox.emails.append(stem.with_suffix(".eml"))
    for number, (channel, payload) in enumerate(slack_posts, start=1):
        path = folder / f"slack-{number:02d}-{_slug(channel)}.json"
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")
        outbox.slack.append(path)
    return outbox
