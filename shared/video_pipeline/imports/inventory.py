"""An S3 Inventory report (CSV) as the object list of a backfill: no listing of a bucket with millions of keys.

The manifest (`.../manifest.json`) names the source bucket, the CSV columns (`fileSchema`) and the gzipped data files;
keys in the CSV are URL-encoded (AWS: "must be decoded before you can use it"). ORC and Parquet reports are refused.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from video_pipeline.imports.models import ObjectEntry
from video_pipeline.imports.runs import InvalidImportRequestError


@dataclass(frozen=True)
class InventoryManifest:
    bucket: str  # where the report lives
    columns: list[str]
    files: list[str]


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise InvalidImportRequestError(f"inventory_manifest: {uri!r} is not an s3://bucket/key URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def open_manifest(s3: Any, uri: str, *, media_bucket: str, allowed_bucket: str) -> InventoryManifest:
    """Read and check the manifest; InvalidImportRequestError saying what is wrong (the request is then refused)."""
    bucket, key = split_s3_uri(uri)
    if not allowed_bucket:
        raise InvalidImportRequestError(
            "inventory_manifest: this deployment reads no inventory reports (set the ImportInventoryBucket parameter)"
        )
    if bucket != allowed_bucket:
        raise InvalidImportRequestError(
            f"inventory_manifest: reports are read from the bucket {allowed_bucket!r} only, not {bucket!r}"
        )
    try:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404", "AccessDenied", "403"):
            raise InvalidImportRequestError(f"inventory_manifest: cannot read {uri} ({code})") from exc
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidImportRequestError(f"inventory_manifest: {uri} is not a JSON manifest: {exc}") from exc
    if not isinstance(manifest, dict):
        raise InvalidImportRequestError(f"inventory_manifest: {uri} is not an S3 Inventory manifest")
    if manifest.get("fileFormat") != "CSV":
        raise InvalidImportRequestError(
            f"inventory_manifest: the report is {manifest.get('fileFormat')!r}; only CSV inventory reports are read"
        )
    if manifest.get("sourceBucket") != media_bucket:
        raise InvalidImportRequestError(
            f"inventory_manifest: the report lists {manifest.get('sourceBucket')!r}, "
            f"not the media bucket {media_bucket!r}"
        )
    columns = [c.strip() for c in str(manifest.get("fileSchema", "")).split(",")]
    if not {"Key", "ETag"} <= set(columns):
        raise InvalidImportRequestError(
            "inventory_manifest: the report's fileSchema needs the Key and ETag columns (a job is keyed by content)"
        )
    files = [str(f["key"]) for f in manifest.get("files", []) if isinstance(f, dict) and f.get("key")]
    return InventoryManifest(bucket=bucket, columns=columns, files=files)


def _column(row: list[str], index: dict[str, int], name: str) -> str:
    return row[index[name]] if name in index else ""


def inventory_objects(
    s3: Any, manifest: InventoryManifest, media_bucket: str, prefix: str, skip_prefixes: list[str], limit: int | None
) -> Iterator[ObjectEntry]:
    """Every current object of the report under `prefix` (delete markers and old versions left out), streamed."""
    index = {name: i for i, name in enumerate(manifest.columns)}
    count = 0
    for data_key in manifest.files:
        body = s3.get_object(Bucket=manifest.bucket, Key=data_key)["Body"]
        with gzip.GzipFile(fileobj=body) as unzipped:
            for row in csv.reader(io.TextIOWrapper(unzipped, encoding="utf-8", newline="")):
                if len(row) != len(manifest.columns):
                    continue  # not a data row of this schema (AWS writes none; a truncated file would)
                if _column(row, index, "IsDeleteMarker") == "true" or _column(row, index, "IsLatest") == "false":
                    continue  # versioned reports: only the current version of each key
                key = unquote_plus(row[index["Key"]])
                if not key.startswith(prefix) or key.endswith("/") or any(key.startswith(p) for p in skip_prefixes):
                    continue
                size, etag = _column(row, index, "Size"), _column(row, index, "ETag")
                yield ObjectEntry(bucket=media_bucket, key=key, size=int(size) if size else None, etag=etag or None)
                count += 1
                if limit is not None and count >= limit:
                    return
