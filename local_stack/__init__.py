"""Runs the project's SAM template on moto (server mode) with the real Lambda handlers.

from local_stack import LocalStack, StackConfig
with LocalStack(StackConfig(template="template.yaml")) as stack:
    stack.outputs; stack.client("s3"); stack.function_log("ingest")
"""

from local_stack.config import StackConfig
from local_stack.stack import LocalStack

__all__ = ["LocalStack", "StackConfig"]
