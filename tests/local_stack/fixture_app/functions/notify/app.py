"""Publish the outcome to SNS."""

import json
import os

import boto3

sns = boto3.client("sns")


def lambda_handler(event, context):
    sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Message=json.dumps(event, default=str),
        MessageAttributes={"outcome": {"DataType": "String", "StringValue": event["outcome"]}},
    )
    return {"published": event["outcome"]}
