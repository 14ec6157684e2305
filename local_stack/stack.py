"""`LocalStack`: moto server + TwelveLabs emulator + the deployed template + scheduler, as one context manager."""

from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import boto3
from botocore.config import Config

from local_stack.config import StackConfig
from local_stack.deploy import DeployedStack, deploy
from local_stack.emulator import EmulatorHandle, TwelveLabsEndpoint, real_endpoint, use_emulator
from local_stack.moto_server import FAKE_CREDENTIALS, MotoServerProcess, ServerInfo
from local_stack.scheduler import ScheduleRunner


class LocalStack:
    """Runs the project's SAM template on moto with the real handlers.

    with LocalStack(StackConfig(...)) as stack:
        stack.outputs, stack.client("s3"), stack.function_log("ingest"), ...
    """

    def __init__(self, config: StackConfig | None = None, server_output: IO[str] | None = None) -> None:
        self.config = config or StackConfig()
        self._server_output = server_output
        self._moto: MotoServerProcess | None = None
        self._emulator: EmulatorHandle | None = None
        self._scheduler: ScheduleRunner | None = None
        self._clients: dict[str, Any] = {}
        self.server: ServerInfo | None = None
        self.twelvelabs: TwelveLabsEndpoint | None = None
        self.deployed: DeployedStack | None = None
        self.secret_arn: str | None = None
        self.timings: dict[str, float] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        cfg = self.config
        started = time.monotonic()
        logs_dir = cfg.state_dir / "logs"
        if logs_dir.exists():
            shutil.rmtree(logs_dir)  # logs of this run only
        logs_dir.mkdir(parents=True)
        try:
            self._moto = MotoServerProcess(
                cfg.state_dir,
                cfg.region,
                [Path(d).resolve() for d in cfg.layer_dirs],
                echo_errors=cfg.echo_errors,
                output=self._server_output,
                start_timeout=cfg.start_timeout_seconds,
                concurrency=(
                    cfg.lambda_concurrency_per_function,
                    cfg.lambda_concurrency_total,
                    cfg.lambda_concurrent_inits,
                ),
            )
            self.server = self._moto.start()
            self.timings["moto"] = time.monotonic() - started
            webhook_secret = cfg.webhook_secret or secrets.token_hex(16)
            if use_emulator(cfg.emulator):
                self._emulator = EmulatorHandle(
                    cfg.api_key,
                    self.server.gateway_url,
                    webhook_secret,
                    cfg.processing_seconds,
                    surface=cfg.parameters.get("TwelveLabsSurface", "current"),
                )
                self.twelvelabs = self._emulator.start()
            else:
                self.twelvelabs = real_endpoint(webhook_secret, cfg.api_key)
            self.timings["emulator"] = time.monotonic() - started
            self.secret_arn = self.client("secretsmanager").create_secret(
                Name=f"{cfg.stack_name}/twelvelabs",
                SecretString=json.dumps(
                    {"api_key": self.twelvelabs.api_key, "webhook_secret": self.twelvelabs.webhook_secret}
                ),
            )["ARN"]
            parameters = {"TwelveLabsSecretArn": self.secret_arn, "TwelveLabsBaseUrl": self.twelvelabs.base_url}
            parameters.update(cfg.parameters)
            self.deployed = deploy(
                cfg.template_path(),
                cfg.stack_name,
                parameters,
                self.client,
                cfg.region,
                timeout=cfg.deploy_timeout_seconds,
            )
            self.timings["deploy"] = time.monotonic() - started
            self._scheduler = ScheduleRunner(self.client, cfg.region, cfg.schedule_seconds).start()
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stop everything this stack started; safe to call twice."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.stop(timeout=0)  # signal now, join after moto is gone
        emulator, self._emulator = self._emulator, None
        if emulator is not None:
            emulator.stop()
        moto, self._moto = self._moto, None
        if moto is not None:
            moto.stop()
        if scheduler is not None:
            scheduler.stop(timeout=30)
        self._clients.clear()

    # -- API --------------------------------------------------------------------------------
    def _require(self) -> DeployedStack:
        if self.deployed is None:
            raise RuntimeError("the local stack is not running")
        return self.deployed

    @property
    def outputs(self) -> dict[str, str]:
        return dict(self._require().outputs)

    @property
    def moto_url(self) -> str:
        if self.server is None:
            raise RuntimeError("the local stack is not running")
        return self.server.moto_url

    @property
    def webhook_url(self) -> str:
        """The webhook Function URL (Outputs.WebhookUrl; before the deploy, the first Function URL's address)."""
        if self.deployed is not None and self.deployed.outputs.get("WebhookUrl"):
            return self.deployed.outputs["WebhookUrl"]
        if self.server is None:
            raise RuntimeError("the local stack is not running")
        return self.server.gateway_url

    @property
    def emulator_base_url(self) -> str | None:
        return self.twelvelabs.base_url if self.twelvelabs else None

    @property
    def emulator_admin_url(self) -> str | None:
        return self.twelvelabs.admin_url if self.twelvelabs else None

    @property
    def logs_dir(self) -> Path:
        return self.config.state_dir / "logs"

    def client(self, service: str) -> Any:
        """A boto3 client bound to the moto endpoint (fake credentials, the stack's region)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.moto_url,
                region_name=self.config.region,
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
                # put_object waits for the S3 -> EventBridge -> SQS -> Lambda chain moto runs inline.
                config=Config(read_timeout=900, retries={"max_attempts": 2}),
            )
        return self._clients[service]

    def function_name(self, name: str) -> str:
        """Physical function name for a log name (`ingest`), a logical id or a physical name."""
        deployed = self._require()
        if name in deployed.function_log_names:
            return name
        for physical, log_name in deployed.function_log_names.items():
            if log_name == name:
                return physical
        if deployed.resource_types.get(name) == "AWS::Lambda::Function":
            return deployed.resources[name]
        raise KeyError(f"no function {name!r} in stack {deployed.stack_name}")

    def log_path(self, name: str) -> Path:
        deployed = self._require()
        physical = self.function_name(name)
        return self.logs_dir / f"{deployed.function_log_names.get(physical, physical)}.log"

    def function_log(self, name: str) -> str:
        """Everything the function printed (all invocations so far); '' if it never ran."""
        path = self.log_path(name)
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def run_schedules(self) -> int:
        """Fire every schedule now (tests); returns the number of functions invoked."""
        if self._scheduler is None:
            raise RuntimeError("the local stack is not running")
        return self._scheduler.run_once()

    def describe(self) -> str:
        out = self.outputs
        bucket = out.get("MediaBucketName", "<bucket>")
        return "\n".join(
            [
                f"moto endpoint : {self.moto_url}",
                f"media bucket  : {bucket}",
                f"webhook URL   : {self.webhook_url}",
                f"TwelveLabs    : {self.emulator_base_url}"
                + (" (emulator)" if self.twelvelabs and self.twelvelabs.emulated else ""),
                f"function logs : {self.logs_dir}",
                "upload a video:",
                f"  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={self.config.region} "
                f"aws --endpoint-url {self.moto_url} s3 cp FILE s3://{bucket}/videos/",
            ]
        )
