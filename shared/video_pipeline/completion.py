"""`finalize`: the job is COMPLETED and `video.completed` announces every result URI."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from video_pipeline.clients import Runtime
from video_pipeline.models.payloads import FinalizeInput, FinalizeOutput
from video_pipeline.notifier import announce_once
from video_pipeline.settings import FinalizeSettings
from video_pipeline.store import ACTIVE_STATUSES

logger = Logger(child=True)


def finalize(request: FinalizeInput, runtime: Runtime[FinalizeSettings]) -> FinalizeOutput:
    jobs = runtime.store.require_jobs()
    fields = {"execution_arn": request.execution_arn} if request.execution_arn else {}
    job = jobs.update(
        request.job_key,
        run=request.run,
        status="COMPLETED",
        stage="completed_at",
        set_fields=fields,
        only_if_status_in=ACTIVE_STATUSES,
    )
    if job is None:
        # Already COMPLETED (a retried state), or retired/FAILED meanwhile, or another run's item: never resurrect it.
        job = jobs.require(request.job_key)
    if job.status == "COMPLETED" and job.run == request.run:
        announce_once(runtime.notifier, jobs, "video.completed", job)
    else:
        logger.warning("finalize skipped", extra={"job_key": job.job_key, "status": job.status})
    return FinalizeOutput(job_key=job.job_key, status=job.status, results=job.results)
