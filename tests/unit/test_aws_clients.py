"""How the shared boto3 clients are configured."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# A request of the wrong type: botocore refuses it before sending, or sends it. Nothing
# leaves the process: a before-send handler answers in the service's place.
PROBE = """
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError
from tidings import aws

class Body:
    def stream(self, **_): yield b""
    def read(self): return b""

sent = []

def answer(**_):
    sent.append(1)
    return AWSResponse("", 400, {}, Body())

sns = aws.client("sns")
sns.meta.events.register("before-send", answer)
try:
    sns.publish(TopicArn=42, Message="x")
except ParamValidationError:
    print("refused before sending")
except Exception:
    print("sent" if sent else "failed otherwise")
"""


@pytest.mark.parametrize(
    ("setting", "outcome"),
    [(None, "refused before sending"), ("on", "refused before sending"), ("off", "sent")],
)
def test_botocore_checks_requests_unless_tidings_client_validation_is_off(setting, outcome):
    env = {k: v for k, v in os.environ.items() if k != "TIDINGS_CLIENT_VALIDATION"}
    env |= {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
    }
    if setting:
        env["TIDINGS_CLIENT_VALIDATION"] = setting
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert probe.stdout.strip() == outcome
