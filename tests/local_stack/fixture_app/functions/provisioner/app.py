"""Custom resource: answers CloudFormation on the ResponseURL with Data.IndexId."""

import json
import urllib.request


def lambda_handler(event, context):
    index_id = "idx-" + event["ResourceProperties"]["IndexName"]
    body = json.dumps(
        {
            "Status": "SUCCESS",
            "Reason": "ok",
            "PhysicalResourceId": index_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {"IndexId": index_id},
        }
    ).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"content-type": ""})
    with urllib.request.urlopen(req, timeout=10) as resp:
        print("response sent", resp.status)
