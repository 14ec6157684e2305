"""Pipeline logic shared by the Lambda handlers (part of the Lambda layer).

`handler` (the one way to write a handler), `settings` (one model per function), `secrets`, `clients` (the
container's AWS/TwelveLabs clients and the per-invocation deadline), `models` (one module per boundary), job keys,
media sniffing/probing, screening, the DynamoDB store, the S3 results writer, the SNS notifier, and one logic module
per function family.
"""
