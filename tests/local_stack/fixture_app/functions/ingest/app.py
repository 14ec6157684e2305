"""SQS (EventBridge S3 events) -> StartExecution, partial batch failures."""

import hashlib
import json
import os
from urllib.parse import unquote_plus

import boto3

sfn = boto3.client("stepfunctions")


def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            s3_event = json.loads(record["body"])
            if s3_event.get("detail-type") != "Object Created":
                continue
            key = unquote_plus(s3_event["detail"]["object"]["key"])
            name = hashlib.sha256(key.encode()).hexdigest()[:40]
            sfn.start_execution(
                stateMachineArn=os.environ["STATE_MACHINE_ARN"],
                name=name,
                input=json.dumps({"key": key, "bucket": s3_event["detail"]["bucket"]["name"]}),
            )
            print(f"started {name} for {key}")
        except Exception as exc:  # report the record as failed, keep going
            print(f"failed {record['messageId']}: {exc!r}")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
