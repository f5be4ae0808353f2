"""Read a feed from a file or a URL, for the CLI."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from tidings.feeds.fetch import Fetcher, FetchError


class SourceError(Exception):
    pass


def read_source(source: str, fetcher: Fetcher | None = None) -> tuple[bytes, str, str | None]:
    """(body, url-or-path, content type). URLs are fetched with the poller's own fetcher."""
    if urlsplit(source).scheme in ("http", "https"):
        try:
            result = (fetcher or Fetcher()).fetch(source)
        except FetchError as err:
            raise SourceError(f"{source}: {err}") from None
        if result.status != 200 or result.body is None:
            raise SourceError(f"{source}: HTTP {result.status}")
        return result.body, result.url, result.content_type
    try:
        return Path(source).read_bytes(), source, None
    except OSError as err:
        raise SourceError(f"{source}: {err.strerror}") from None
