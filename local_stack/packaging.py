"""`sam package`, locally: zip each CodeUri/ContentUri into a moto bucket, inline DefinitionUri files.

Function code goes to `s3://<bucket>/code/<name>/<sha>.zip` where `<name>` is the CodeUri folder
name (e.g. `ingest`); the Lambda runtime names each function's log file after it.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from samtranslator.yaml_helper import yaml_parse

_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".git"}


class PackagedTemplate(BaseModel):
    template: dict[str, Any]
    # logical id of each function -> its log name (CodeUri folder name, or the logical id)
    function_log_names: dict[str, str]


def load_template(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml_parse(text)


def zip_dir(directory: Path) -> bytes:
    """Deterministic zip (sorted, fixed timestamps) so unchanged code keeps its hash."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                full = Path(root) / name
                info = zipfile.ZipInfo(str(full.relative_to(directory)), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                zf.writestr(info, full.read_bytes(), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _local_path(value: Any, base: Path) -> Path | None:
    if isinstance(value, str) and not value.startswith("s3://"):
        return (base / value).resolve()
    return None


def package(template_path: Path, s3: Any, bucket: str) -> PackagedTemplate:
    """Return the template with every local path replaced by an S3 URI or inlined."""
    template = copy.deepcopy(load_template(template_path))
    base = template_path.parent
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    resources: dict[str, Any] = template.get("Resources") or {}
    log_names: dict[str, str] = {}
    code_dirs: dict[str, list[str]] = {}
    for logical_id, res in resources.items():
        if res.get("Type") == "AWS::Serverless::Function":
            props = res.setdefault("Properties", {})
            if "InlineCode" in props or "ImageUri" in props:
                continue
            path = _local_path(props.get("CodeUri", globals_fn.get("CodeUri")), base)
            if path is not None:
                code_dirs.setdefault(str(path), []).append(logical_id)
    uploaded: dict[str, str] = {}
    for logical_id, res in resources.items():
        rtype, props = res.get("Type"), res.get("Properties") or {}
        if rtype == "AWS::Serverless::Function":
            path = _local_path(props.get("CodeUri", globals_fn.get("CodeUri")), base)
            if path is None:
                continue
            name = path.name if len(code_dirs[str(path)]) == 1 else logical_id
            log_names[logical_id] = name
            props["CodeUri"] = _upload(s3, bucket, f"code/{name}", path, uploaded)
        elif rtype == "AWS::Serverless::LayerVersion":
            path = _local_path(props.get("ContentUri"), base)
            if path is not None:
                props["ContentUri"] = _upload(s3, bucket, f"layers/{logical_id}", path, uploaded)
        elif rtype == "AWS::Serverless::StateMachine":
            path = _local_path(props.get("DefinitionUri"), base)
            if path is not None:
                props["Definition"] = load_template(path)
                del props["DefinitionUri"]
        elif rtype == "AWS::Lambda::Function":
            path = _local_path(props.get("Code"), base)
            if path is not None:
                key = _upload(s3, bucket, f"code/{path.name}", path, uploaded).split("/", 3)[3]
                props["Code"] = {"S3Bucket": bucket, "S3Key": key}
                log_names[logical_id] = path.name
        elif rtype == "AWS::StepFunctions::StateMachine":
            path = _local_path(props.get("DefinitionS3Location"), base)
            if path is not None:
                props["DefinitionString"] = path.read_text(encoding="utf-8")
                del props["DefinitionS3Location"]
    return PackagedTemplate(template=template, function_log_names=log_names)


def _upload(s3: Any, bucket: str, prefix: str, path: Path, cache: dict[str, str]) -> str:
    if not path.is_dir():
        raise FileNotFoundError(f"code folder {path} does not exist")
    data = zip_dir(path)
    key = f"{prefix}/{hashlib.sha256(data).hexdigest()[:16]}.zip"
    if key not in cache:
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        cache[key] = f"s3://{bucket}/{key}"
    return cache[key]
