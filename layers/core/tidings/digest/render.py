"""Jinja rendering of email digests: HTML (autoescaped, CSS inlined) and plain text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from premailer import Premailer

from tidings.digest.compose import Digest


def safe_url(url: str) -> str:
    """Only http(s) links become hrefs: a feed cannot smuggle javascript: or data: URLs."""
    url = url.strip()
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def human_date(iso: str) -> str:
    when = datetime.fromisoformat(iso).astimezone(UTC)
    return f"{when.day} {when:%b %Y, %H:%M} UTC"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tidings.digest", "templates"),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["human_date"] = human_date
    return env


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def inline_css(html: str) -> str:
    """Copy the <style> rules onto each element, for clients (Gmail apps, Outlook) that
    ignore <style>; the block itself stays for those that honour it."""
    return str(
        Premailer(
            html,
            keep_style_tags=True,
            remove_classes=False,
            allow_network=False,  # never fetch a stylesheet while rendering
            disable_validation=True,
            # keep the template's width="600": Outlook ignores max-width and needs it
            disable_basic_attributes=["width"],
            cssutils_logging_level=logging.CRITICAL,
        ).transform()
    )


def render_email(
    digest: Digest, *, unsubscribe_url: str, app_name: str = "tidings"
) -> RenderedEmail:
    context = {
        "digest": digest,
        "unsubscribe_url": unsubscribe_url,
        "app_name": app_name,
        "following": digest.following or f"You receive this from {app_name}.",
    }
    env = environment()
    html = env.get_template("email.html.j2").render(context)
    text = env.get_template("email.txt.j2").render(context)
    return RenderedEmail(subject=digest.subject, html=inline_css(html), text=text)
