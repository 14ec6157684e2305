"""Scheduled: count the ticks (and prove the layer is importable, as /opt/python is on Lambda)."""

import os

import boto3
from fixture_layer import GREETING

table = boto3.resource("dynamodb").Table(os.environ["STATE_TABLE"])


def lambda_handler(event, context):
    table.update_item(
        Key={"pk": "TICK"},
        UpdateExpression="ADD ticks :one SET greeting = :g, event_source = :s",
        ExpressionAttributeValues={":one": 1, ":g": GREETING, ":s": event.get("source", "?")},
    )
    return {"ok": True}
