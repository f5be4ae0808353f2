"""AWS writes as a network service: answered after a fixed latency, applied to moto later.

In-process moto makes every AWS call CPU work in the poller's own process (about 9-13 ms of
CPU per UpdateItem or PublishBatch on the benchmark machine), where on AWS a call is a
network wait that other threads overlap. This stand-in shows the poller in that second
world, for the calls a poll makes per feed:

- DynamoDB UpdateItem and SNS PublishBatch are answered at botocore's `before-call` event
  (after the request is serialised, where botocore's own Stubber answers) after sleeping a
  fixed latency (no CPU), with a success: every PublishBatch entry accepted, an empty
  UpdateItem result. Signing and response parsing are skipped, so the client CPU per call
  is a little lower than on AWS.
- each UpdateItem request is kept as serialised and handed to moto's own request handler
  after the poll, untimed, so the emulated table ends in exactly the state the poll would
  have left (the next poll sees the validators and gets 304s);
- everything else (the run-level Query and BatchGetItem) still goes to moto.

The latencies are assumptions, not measurements: see LATENCY.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.models import botocore_stubber

# Assumed round trips of an in-region Lambda to the service; tune here.
LATENCY = {"UpdateItem": 0.010, "PublishBatch": 0.020}
ANSWERED = {("dynamodb", "UpdateItem"), ("sns", "PublishBatch")}


class DeferredWrites:
    def __init__(self, clients: list[Any], latency: dict[str, float] | None = None) -> None:
        self.latency = {**LATENCY, **(latency or {})}
        self.clients = clients
        self.pending: list[dict[str, Any]] = []  # serialised UpdateItem requests
        self._lock = threading.Lock()
        for client in clients:  # last: tidings' CallCounter (also on before-call) counts first
            client.meta.events.register_last("before-call", self._answer)

    def close(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", self._answer)

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, Any] | None:
        if (model.service_model.service_name, model.name) not in ANSWERED:
            return None  # moto answers
        time.sleep(self.latency[model.name])
        http = AWSResponse(params.get("url"), 200, {}, None)  # type: ignore[arg-type]
        if model.name == "UpdateItem":
            with self._lock:
                self.pending.append(params)
            return http, {"ResponseMetadata": {"HTTPStatusCode": 200}}
        entries = params["body"]  # query protocol: the form, not yet encoded
        ids = [
            value
            for key, value in sorted(entries.items())
            if key.startswith("PublishBatchRequestEntries.member.") and key.endswith(".Id")
        ]
        successful = [{"Id": i, "MessageId": str(uuid.uuid4())} for i in ids]
        return http, {
            "Successful": successful,
            "Failed": [],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def apply(self) -> int:
        """Hand the deferred writes to moto, in the order they were made. Returns how many
        moto refused (none, unless the benchmark itself is wrong)."""
        with self._lock:
            pending, self.pending = self.pending, []
        refused = 0
        for params in pending:
            request = AWSPreparedRequest(
                method=params["method"],
                url=params["url"],
                headers=params["headers"],
                body=params["body"],
                stream_output=False,
            )
            answer = botocore_stubber.process_request(request)
            refused += answer is None or answer[0] != 200
        return refused
