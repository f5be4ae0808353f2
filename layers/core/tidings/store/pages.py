"""Every row of a paginated Query or Scan, with one loop instead of one per call site."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def rows(call: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = call(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
