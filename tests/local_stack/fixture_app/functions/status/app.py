"""EventBridge 'Step Functions Execution Status Change' target: record the failure."""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["STATE_TABLE"])


def lambda_handler(event, context):
    detail = event["detail"]
    table.put_item(
        Item={
            "pk": f"STATUS#{detail['name']}",
            "status": detail["status"],
            "source": event["source"],
            "detail_type": event["detail-type"],
            "error": str(detail.get("error")),
            "time": event["time"],
        }
    )
    print(json.dumps(event))
