"""SNS notifications: one JSON body per event (pointers only) + message attributes for filter policies."""

from __future__ import annotations

from typing import Any

from video_pipeline.errors import ConfigurationError
from video_pipeline.models.jobs import JobItem
from video_pipeline.models.notifications import EventType, PipelineNotification
from video_pipeline.store import JobsStore


class Notifier:
    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, notification: PipelineNotification) -> str:
        if not self._topic_arn:
            raise ConfigurationError("missing environment variable(s): NOTIFICATIONS_TOPIC_ARN")
        attributes = {
            "event_type": {"DataType": "String", "StringValue": notification.event_type},
            "status": {"DataType": "String", "StringValue": notification.status},
        }
        if notification.twelvelabs.index_id:
            attributes["index_id"] = {"DataType": "String", "StringValue": notification.twelvelabs.index_id}
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Message=notification.model_dump_json(),
            MessageAttributes=attributes,
        )
        return str(response["MessageId"])

    def publish_job(self, event_type: EventType, job: JobItem) -> str:
        return self.publish(PipelineNotification.for_job(event_type, job))


def announce_once(notifier: Notifier, jobs: JobsStore, event_type: EventType, job: JobItem) -> bool:
    """Publish `event_type` for this run of the job unless it was already published (retries, duplicate events).

    `job` is the item a fenced write of this run returned: a message only ever follows its run's own write, and it
    names that run. Published first, recorded after: a crash in between repeats the message (at-least-once), never
    loses it.
    """
    if event_type in job.notified:
        return False
    notifier.publish_job(event_type, job)
    jobs.mark_notified(job.job_key, job.run, event_type)
    return True
