"""State machine task: raises FlakyError on the first attempt (Retry), Boom for keys with 'fail' (Catch)."""

import os


class FlakyError(Exception):
    pass


class Boom(Exception):
    pass


def lambda_handler(event, context):
    if event["attempt"] == 0:
        raise FlakyError("first attempt always fails")
    if "fail" in event["key"]:
        raise Boom(f"cannot work on {event['key']}")
    return {"index_id": os.environ["INDEX_ID"], "attempts": event["attempt"] + 1, "function": context.function_name}
