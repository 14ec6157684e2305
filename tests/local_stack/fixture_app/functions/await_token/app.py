"""`.waitForTaskToken` task: park the token in DynamoDB; the Function URL resolves it."""

import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["STATE_TABLE"])


def lambda_handler(event, context):
    table.put_item(Item={"pk": f"TOKEN#{event['key']}", "token": event["token"], "status": "WAITING"})
    return {"parked": True}
