"""Pydantic models, one module per boundary (import the module you need; nothing is re-exported here, so a
handler builds only the models it uses at cold start):

- `events`: what AWS hands a function (S3 events in SQS bodies, Step Functions status events, Function URL
  requests), built on the Powertools Parser models.
- `payloads`: the state machine's small JSON between tasks (inputs and outputs of each task), and the
  configured analyses/embedding options that travel in them.
- `jobs`: the `JobsTable` item and its statuses.
- `notifications`: the SNS message body (schemas in docs/notifications/).
"""
