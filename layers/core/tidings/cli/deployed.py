"""A deployed tidings stack, found by its CloudFormation outputs, for the ops commands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tidings import aws


class StackNotFound(Exception):
    pass


# field -> the template.yaml output that holds it
OUTPUTS = {
    "feeds_table": "FeedsTableName",
    "subscribers_table": "SubscribersTableName",
    "subscriptions_table": "SubscriptionsTableName",
    "deliveries_queue_url": "DeliveriesQueueUrl",
    "deliveries_dead_letter_queue_url": "DeliveriesDeadLetterQueueUrl",
    "poller_function_name": "PollerFunctionName",
}


@dataclass(frozen=True, slots=True)
class Deployed:
    stack_name: str
    feeds_table: str
    subscribers_table: str
    subscriptions_table: str
    deliveries_queue_url: str
    deliveries_dead_letter_queue_url: str
    poller_function_name: str

    @classmethod
    def find(cls, stack_name: str) -> Deployed:
        try:
            stacks = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as err:
            raise StackNotFound(f"stack {stack_name}: {err.response['Error']['Message']}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        wanted = OUTPUTS
        missing = [key for key in wanted.values() if key not in outputs]
        if missing:
            raise StackNotFound(f"stack {stack_name} lacks outputs: {', '.join(missing)}")
        return cls(stack_name=stack_name, **{name: outputs[key] for name, key in wanted.items()})

    @property
    def slack_secret_prefix(self) -> str:
        """The notifier may read only secrets under this prefix (template.yaml)."""
        return f"{self.stack_name}/slack/"

    def store_webhook(self, subscriber_id: str, url: str) -> str:
        """Keep a Slack webhook URL in Secrets Manager; the subscriber stores only the name."""
        name = self.slack_secret_prefix + subscriber_id
        secrets = aws.client("secretsmanager")
        try:
            secrets.create_secret(Name=name, SecretString=url)
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=name, SecretString=url)
        return name

    def poll_now(self) -> dict[str, Any]:
        response = aws.client("lambda").invoke(
            FunctionName=self.poller_function_name, InvocationType="RequestResponse"
        )
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            raise RuntimeError(f"poller failed: {payload.get('errorMessage', payload)}")
        return dict(payload)
