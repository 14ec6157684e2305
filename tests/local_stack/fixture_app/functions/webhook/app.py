"""Function URL: POST {"key": ..., "result": ...} resolves the parked token."""

import base64
import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["STATE_TABLE"])
sfn = boto3.client("stepfunctions")


def lambda_handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    if event["requestContext"]["http"]["method"] != "POST":
        return {"statusCode": 405, "body": "POST only"}
    data = json.loads(body)
    item = table.get_item(Key={"pk": f"TOKEN#{data['key']}"}).get("Item")
    if not item:
        return {
            "statusCode": 404,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"error": "no token"}),
        }
    sfn.send_task_success(
        taskToken=item["token"],
        output=json.dumps(
            {"result": data["result"], "path": event["rawPath"], "query": event.get("rawQueryString", "")}
        ),
    )
    table.delete_item(Key={"pk": f"TOKEN#{data['key']}"})
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-fixture": "yes"},
        "body": json.dumps({"resolved": data["key"]}),
    }
