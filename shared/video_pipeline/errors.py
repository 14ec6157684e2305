"""Typed errors of the pipeline.

The class name of an exception a Lambda raises becomes the Step Functions `errorType`, so Retry/Catch in the ASL
match these names. Messages start with "<code>: " so `record_failure` can put a machine code on the item.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class. `code` is the machine code stored as `error_code` on a FAILED/REJECTED item."""

    code: str = "pipeline_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        super().__init__(f"{self.code}: {message}")


class ConfigurationError(PipelineError):
    """An environment variable is missing or invalid (raised at cold start)."""

    code = "configuration_error"


class InvalidEventError(PipelineError):
    """The event does not have the shape the function expects (a poison message: it goes to the DLQ)."""

    code = "invalid_event"


class JobNotFoundError(PipelineError):
    """No job item for a job key that the state machine says exists."""

    code = "job_not_found"


class EmbeddingTaskFailedError(PipelineError):
    """TwelveLabs reported the video embedding task as `failed`."""

    code = "embedding_task_failed"


class IndexingTaskFailedError(PipelineError):
    """TwelveLabs reported the indexing task as `failed` (used when the failure must be raised, not returned)."""

    code = "indexing_task_failed"


class AnalysisFailedError(PipelineError):
    """An analysis produced no usable result: the task failed or was canceled, the answer was truncated
    (finish_reason=length) or is not the JSON its schema asks for. `code` says which."""

    code = "analysis_failed"


class RunSupersededError(PipelineError):
    """The execution's run is no longer the job's active run (its object was deleted or overwritten, or a newer run
    started): the step stops before spending anything. The state machine ends such an execution quietly."""

    code = "run_superseded"


class MediaLeaseHeldError(PipelineError):
    """Another delivery of the same image/audio event holds the lease on its /embed call: retried later, so the
    object is embedded (and billed) once."""

    code = "media_lease_held"
