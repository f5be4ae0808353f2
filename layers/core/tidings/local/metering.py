"""Count AWS API calls per service.operation, with botocore's event hooks (tests, benchmarks)."""

from __future__ import annotations

from collections import Counter
from typing import Any


class CallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def attach(self, *clients: Any) -> CallCounter:
        for client in clients:
            client.meta.events.register("before-call", self._count)
        return self

    def detach(self, *clients: Any) -> None:
        for client in clients:
            client.meta.events.unregister("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def total(self, service: str) -> int:
        return sum(n for name, n in self.calls.items() if name.startswith(service + "."))
