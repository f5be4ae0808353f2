"""AWS as a network service: every call of the poller answered after a latency, not by CPU.

In-process moto makes every AWS call CPU work in the poller's own process (moto parses each
update expression and serialises each response in Python: about 0.4 s of CPU for one
BatchGetItem of 100 feeds), where on AWS a call is a network wait that other threads
overlap. This stand-in shows the poller in that second world. It answers at botocore's
`before-send` event, the point where moto itself answers: the request has been serialised and
signed, and the answer is parsed by botocore as usual, so the client's CPU per call is what
it would be against AWS. Only the wait is assumed (LATENCY).

- Writes (UpdateItem, TransactWriteItems, PublishBatch) are answered with success in the
  service's wire format (JSON `{}`; SNS's XML with every entry accepted) and kept; `apply()`
  hands them to moto after the poll, untimed, so the emulated tables end in exactly the state
  the poll left (the next poll sees the validators and gets 304s).
- Reads (Query, BatchGetItem) are answered with moto's own response, which `recording()`
  captured before the poll (the benchmark makes the same requests as the poll will, with the
  same clock). A read that was not captured is answered by moto on the spot, in the timed
  poll, and counted in `misses` (0 when the benchmark is right).

The latencies are assumptions (in-region round trips), not measurements: see LATENCY.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote_plus

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

# Assumed round trips of an in-region Lambda to the service, by operation; tune here.
LATENCY = {
    "Query": 0.010,
    "BatchGetItem": 0.020,
    "UpdateItem": 0.010,
    "TransactWriteItems": 0.040,
    "PublishBatch": 0.020,
}
WRITES = {"UpdateItem", "TransactWriteItems", "PublishBatch"}
_SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


def _response(request: AWSPreparedRequest, status: int, headers: Any, body: bytes) -> AWSResponse:
    return AWSResponse(request.url, status, dict(headers), MockRawResponse(body))  # type: ignore[arg-type]


_ENTRY_ID = re.compile(rb"PublishBatchRequestEntries\.member\.\d+\.Id=([^&]*)")
_ACTION = re.compile(rb"(?:^|&)Action=([^&]*)")


def _sns_accepted(form: bytes) -> bytes:
    """SNS's PublishBatch answer with every entry of the request accepted."""
    ids = [unquote_plus(i.decode()) for i in _ENTRY_ID.findall(form)]
    members = "".join(
        f"<member><Id>{i}</Id><MessageId>{uuid.uuid4()}</MessageId></member>" for i in ids
    )
    return (
        f'<PublishBatchResponse xmlns="{_SNS_XMLNS}"><PublishBatchResult>'
        f"<Successful>{members}</Successful><Failed/></PublishBatchResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</PublishBatchResponse>"
    ).encode()


def _operation(request: AWSPreparedRequest) -> str:
    target = request.headers.get("X-Amz-Target")
    if target:  # DynamoDB's JSON protocol: "DynamoDB_20120810.UpdateItem"
        return str(target if isinstance(target, str) else target.decode()).split(".")[-1]
    action = _ACTION.search(_bytes(request.body))  # SNS's query protocol: "Action=PublishBatch"
    return action.group(1).decode() if action else ""


class NetworkAws:
    def __init__(self, clients: list[Any], latency: dict[str, float] | None = None) -> None:
        self.latency = {**LATENCY, **(latency or {})}
        self.clients = clients
        self.pending: list[AWSPreparedRequest] = []  # writes, in the order they were made
        self.reads: dict[tuple[str, bytes], tuple[int, Any, bytes]] = {}
        self.misses = 0
        self._recording = False
        self._lock = threading.Lock()
        # botocore calls every before-send handler (and takes the first answer), so moto's
        # own handler is taken off these clients: this one asks moto when moto should answer.
        for client in clients:
            client.meta.events.unregister("before-send", botocore_stubber)
            client.meta.events.register("before-send", self._answer)

    def close(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-send", self._answer)
            client.meta.events.register("before-send", botocore_stubber)

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Reads made inside are answered by moto, at once, and kept for the timed poll."""
        self._recording = True
        try:
            yield
        finally:
            self._recording = False

    def _answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        operation = _operation(request)
        body = _bytes(request.body)
        if self._recording:
            self.reads[operation, body] = _moto(request)
            return _response(request, *self.reads[operation, body])
        if operation not in self.latency:
            return _response(request, *_moto(request))
        time.sleep(self.latency[operation])
        if operation in WRITES:
            with self._lock:
                self.pending.append(request)
            if operation == "PublishBatch":
                return _response(request, 200, {"Content-Type": "text/xml"}, _sns_accepted(body))
            return _response(request, 200, {"Content-Type": "application/x-amz-json-1.0"}, b"{}")
        kept = self.reads.get((operation, body))
        if kept is None:
            with self._lock:
                self.misses += 1
            kept = _moto(request)  # on the clock
        return _response(request, *kept)

    def apply(self) -> int:
        """Hand the kept writes to moto, in the order they were made. Returns how many moto
        refused (none, unless the benchmark itself is wrong)."""
        with self._lock:
            pending, self.pending = self.pending, []
        return sum(_moto(one)[0] != 200 for request in pending for one in _single(request))


def _bytes(body: Any) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body or b"")


def _single(request: AWSPreparedRequest) -> list[AWSPreparedRequest]:
    """A TransactWriteItems of Updates as the same UpdateItems, one by one: the same end
    state when none fails (apply() checks), without moto's copy of the whole table for every
    action of a transaction (moto/dynamodb/models, `transact_write_items`)."""
    if _operation(request) != "TransactWriteItems":
        return [request]
    actions = json.loads(_bytes(request.body))["TransactItems"]
    if any(set(action) != {"Update"} for action in actions):
        return [request]
    headers = {**request.headers, "X-Amz-Target": "DynamoDB_20120810.UpdateItem"}
    return [
        AWSPreparedRequest(
            method=request.method,
            url=request.url,
            headers=headers,  # type: ignore[arg-type]
            body=json.dumps(action["Update"]).encode(),
            stream_output=False,
        )
        for action in actions
    ]


def _moto(request: AWSPreparedRequest) -> tuple[int, Any, bytes]:
    answer = botocore_stubber.process_request(request)
    if answer is None:
        raise RuntimeError(f"moto does not answer {request.url}")
    return answer[0], answer[1], _bytes(answer[2])
