"""Pipeline logic shared by the Lambda handlers (part of the Lambda layer).

One job per module: settings, clients, models, job keys, media sniffing/probing, screening, the DynamoDB store,
the S3 results writer, the SNS notifier, and one logic module per function family.
"""
