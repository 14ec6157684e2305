"""The import functions' settings (read like every function's: a field `foo` from the variable `FOO`)."""

from __future__ import annotations

from pydantic import Field

from video_pipeline.models.payloads import Surface
from video_pipeline.settings import FunctionSettings, IngestSettings, NotificationsSetting, ResultsBucketSetting


class ImportsTableSetting(FunctionSettings):
    imports_table: str = Field(min_length=1)


class MediaBucketSetting(FunctionSettings):
    """The bucket a backfill reads: the only one the video pipeline's functions may read (and presign) media from."""

    media_bucket: str = Field(min_length=1)


class ImportRequestSettings(ImportsTableSetting, NotificationsSetting, MediaBucketSetting):
    """`import_request`: a request file under the request prefix -> a validated run, or `import.rejected`."""

    import_state_machine_arn: str = Field(min_length=1)
    import_request_prefix: str = Field(min_length=1)
    max_request_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)


class ImportPrepareSettings(ImportsTableSetting, ResultsBucketSetting, NotificationsSetting, MediaBucketSetting):
    """`import_prepare`: validate, record the run, write the manifest."""

    import_max_concurrency: int = Field(ge=1, le=1000)
    import_request_prefix: str = Field(min_length=1)
    import_inventory_bucket: str = ""  # empty: no inventory reports are read
    twelvelabs_surface: Surface = "current"  # connections imports exist on the current surface only


class ImportItemSettings(IngestSettings, ImportsTableSetting, MediaBucketSetting):
    """`import_item`: the ingest settings (it runs the upload's ingest path), the imports table and the media bucket
    (an integration's imported files must be objects of it)."""


class ImportFinishSettings(ImportsTableSetting, ResultsBucketSetting, NotificationsSetting):
    """`import_finish`: counts, report, run record, `import.completed` / `import.failed`."""

    failures_in_record: int = Field(default=100, ge=0, le=1000)
