"""Imports and backfills: bring objects that already exist into the pipeline, one recorded, announced run at a time.

`import-pipeline` (statemachines/import_pipeline.asl.json): `prepare` validates the request, records the run and
writes the manifest of the objects to S3; a Distributed Map hands each object to `item`, which calls the video
ingest path (`video_pipeline.ingest.process_object`: screening, job key, claim, StartExecution) and records the
object's outcome; `finish` counts the outcomes, writes the report and publishes `import.completed` (or
`import.failed` / `import.rejected`). See docs/imports.md.
"""
