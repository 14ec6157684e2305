"""Sleeps past its 1 s Timeout, or raises on request."""

import time


class CustomFailure(Exception):
    pass


def lambda_handler(event, context):
    if event.get("raise"):
        raise CustomFailure("asked to fail")
    print("remaining", context.get_remaining_time_in_millis(), context.memory_limit_in_mb, context.invoked_function_arn)
    time.sleep(event.get("sleep", 5))
    return "woke up"
