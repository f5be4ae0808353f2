"""template.yaml and the emulated stack are built from the same definitions: prove it."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.conftest import ROOT
from tidings import aws
from tidings.local import stack as local_stack
from tidings.settings import NotifierSettings, PollerSettings, UnsubscribeSettings
from tidings.store.schema import TABLES


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, problems = decode(str(ROOT / "template.yaml"))
    assert not problems, problems
    return parsed


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def test_every_table_in_the_template_is_a_table_of_the_schema_and_back(template):
    declared = resources(template, "AWS::DynamoDB::Table")
    assert set(declared) == {spec.logical_id for spec in TABLES}
    for spec in TABLES:
        table = declared[spec.logical_id]["Properties"]
        assert table["KeySchema"] == spec.key_schema()
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            spec.attribute_definitions(), key=str
        )
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        ttl = table.get("TimeToLiveSpecification")
        assert (ttl or {}).get("AttributeName") == spec.ttl_attribute
        assert table.get("GlobalSecondaryIndexes", []) == spec.global_secondary_indexes()


def test_the_emulated_stack_creates_the_tables_the_template_declares(template, stack):
    dynamodb = aws.client("dynamodb")
    for logical_id, resource in resources(template, "AWS::DynamoDB::Table").items():
        described = dynamodb.describe_table(TableName=stack.table(logical_id))["Table"]
        assert described["KeySchema"] == resource["Properties"]["KeySchema"]
        assert sorted(described["AttributeDefinitions"], key=str) == sorted(
            resource["Properties"]["AttributeDefinitions"], key=str
        )
        declared_indexes = resource["Properties"].get("GlobalSecondaryIndexes", [])
        assert [
            (i["IndexName"], i["KeySchema"]) for i in described.get("GlobalSecondaryIndexes", [])
        ] == [(i["IndexName"], i["KeySchema"]) for i in declared_indexes]


def test_queue_settings_match_the_emulated_stack_and_follow_the_notifier_timeout(template):
    queue = props(template, "DeliveriesQueue")
    notifier_timeout = props(template, "NotifierFunction")["Timeout"]
    assert queue["VisibilityTimeout"] == 6 * notifier_timeout
    assert notifier_timeout == local_stack.NOTIFIER_TIMEOUT
    assert queue["RedrivePolicy"]["maxReceiveCount"] == local_stack.MAX_RECEIVE_COUNT
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeliveriesDeadLetterQueue", "Arn"]
    }
    subscription = props(template, "DeliveriesSubscription")
    assert subscription["RawMessageDelivery"] is True
    assert subscription["TopicArn"] == {"Ref": "ItemsTopic"}


def test_the_emulated_queue_has_the_same_redrive_and_visibility(template, stack):
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["All"]
    )["Attributes"]
    queue = props(template, "DeliveriesQueue")
    assert int(attributes["VisibilityTimeout"]) == queue["VisibilityTimeout"]
    assert '"maxReceiveCount": 5' in attributes["RedrivePolicy"].replace("'", '"')


def test_runtime_architecture_and_tracing_are_set_once_in_globals(template):
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    for name in resources(template, "AWS::Serverless::Function"):
        assert "Runtime" not in props(template, name)


def test_every_function_leaves_request_validation_to_aws(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TIDINGS_CLIENT_VALIDATION"] == "off"
    for name in resources(template, "AWS::Serverless::Function"):
        own = props(template, name).get("Environment", {}).get("Variables", {})
        assert "TIDINGS_CLIENT_VALIDATION" not in own  # set once, in Globals


def test_notifier_reports_partial_batch_failures(template):
    events = props(template, "NotifierFunction")["Events"]
    sqs = next(e["Properties"] for e in events.values() if e["Type"] == "SQS")
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert sqs["MaximumBatchingWindowInSeconds"] > 0


def test_every_function_logs_to_its_own_group_with_retention(template):
    for name in resources(template, "AWS::Serverless::Function"):
        group = props(template, name)["LoggingConfig"]["LogGroup"]["Ref"]
        assert props(template, group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def _statements(policies: list[Any]) -> list[dict[str, Any]]:
    return [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]


def test_no_iam_statement_grants_every_resource(template):
    for name in resources(template, "AWS::Serverless::Function"):
        for statement in _statements(props(template, name).get("Policies", [])):
            assert statement["Resource"] not in ("*", ["*"]), f"{name}: {statement}"


@pytest.mark.parametrize(
    ("function", "settings"),
    [
        ("PollerFunction", PollerSettings),
        ("NotifierFunction", NotifierSettings),
        ("DigestFunction", NotifierSettings),
        ("ApiFunction", UnsubscribeSettings),
    ],
)
def test_each_function_gets_every_required_setting(template, function, settings):
    variables = props(template, function)["Environment"]["Variables"]
    required = [
        f.name.upper()
        for f in fields(settings)
        if f.default is MISSING and f.default_factory is MISSING
    ]
    assert required
    assert set(required) <= set(variables)
    settings.from_env(
        {k: "x" for k in variables} | {"POLL_CONCURRENCY": "4", "POLL_PARSE_PROCESSES": "1"}
    )


def test_the_layer_is_built_by_sam_for_the_function_runtime(template):
    layer = template["Resources"]["CoreLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert layer["Properties"]["ContentUri"] == "layers/core"


def test_functions_get_named_dynamodb_actions_never_crud_or_scan(template):
    for name in resources(template, "AWS::Serverless::Function"):
        policies = props(template, name).get("Policies", [])
        assert not any("DynamoDBCrudPolicy" in p for p in policies if isinstance(p, dict))
        for statement in _statements(policies):
            actions = statement["Action"]
            actions = actions if isinstance(actions, list) else [actions]
            assert not any(a.endswith(":*") or a == "dynamodb:Scan" for a in actions), name


def test_the_items_topic_is_encrypted_with_a_key_only_the_poller_may_use(template):
    assert props(template, "ItemsTopic")["KmsMasterKeyId"] == {"Ref": "ItemsTopicKey"}
    users = [
        name
        for name in resources(template, "AWS::Serverless::Function")
        for statement in _statements(props(template, name).get("Policies", []))
        if statement["Resource"] == {"Fn::GetAtt": ["ItemsTopicKey", "Arn"]}
    ]
    assert users == ["PollerFunction"]
