"""Stable identity for feed entries: the thing that decides "new" versus "seen"."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

IDENTITY_STRATEGIES = ("auto", "link", "content")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PARAMS = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|mc_cid|mc_eid|_hsenc|_hsmi)$", re.I)


def normalise_link(link: str) -> str:
    """Canonical form of a link, for identity only (the link shown to readers is untouched).

    Lower-cases scheme and host, drops default ports, folds duplicate slashes in the path
    (the ICMPD feed writes `org//news-centre`), drops the fragment and tracking parameters.
    """
    link = link.strip()
    if not link:
        return ""
    parts = urlsplit(link)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the link as the feed wrote it
        return link
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING_PARAMS.match(k)
        ]
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def content_hash(title: str, content: str) -> str:
    return "sha256:" + hashlib.sha256(f"{title}\n{content}".encode()).hexdigest()


def entry_key(entry: Mapping[str, Any], strategy: str = "auto") -> str:
    """guid (unless told not to trust it), else the normalised link, else a content hash."""
    if strategy not in IDENTITY_STRATEGIES:
        raise ValueError(f"identity strategy must be one of {IDENTITY_STRATEGIES}")
    title = str(entry.get("title") or "")
    if strategy == "auto":
        guid = str(entry.get("id") or "").strip()
        if guid:
            return guid
    if strategy in ("auto", "link"):
        link = normalise_link(str(entry.get("link") or ""))
        if link:
            return link
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else str(entry.get("summary") or "")
    return content_hash(title, body)
