"""Settings of a local stack (crosses the API boundary: pydantic)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from local_stack.lambda_runtime import (
    DEFAULT_CONCURRENT_INITS,
    DEFAULT_PER_FUNCTION_CONCURRENCY,
    DEFAULT_TOTAL_CONCURRENCY,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STATE_DIR = REPO_ROOT / ".local_stack"


class StackConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: Path = Path("template.yaml")  # relative paths are relative to the repo root
    stack_name: str = "twelvelabs-local"
    parameters: dict[str, str] = Field(default_factory=dict)  # override/extend the computed parameters
    region: str = "us-east-1"
    # TwelveLabs emulator: None = auto (emulator unless TWELVELABS_API_KEY is set and TWELVELABS_BASE_URL is not)
    emulator: bool | None = None
    processing_seconds: float = Field(default=2.0, ge=0)
    api_key: str = "local-api-key"
    webhook_secret: str | None = None  # random when None; shared by the secret and the emulator
    # Functions with a Schedule event run every `schedule_seconds` (moto runs no schedules).
    schedule_seconds: float = Field(default=10.0, gt=0)
    state_dir: Path = DEFAULT_STATE_DIR  # logs, extracted code
    # Stand-ins for the layer at /opt/python (the template's Layers are stripped).
    layer_dirs: list[Path] = Field(default_factory=lambda: [REPO_ROOT / "shared"])
    echo_errors: bool = True  # print each failed Lambda invocation (with its log file) on stderr
    # Warm Lambda workers: concurrent invocations per function and in total; more wait their turn.
    lambda_concurrency_per_function: int = Field(default=DEFAULT_PER_FUNCTION_CONCURRENCY, ge=1)
    lambda_concurrency_total: int = Field(default=DEFAULT_TOTAL_CONCURRENCY, ge=1)
    lambda_concurrent_inits: int = Field(default=DEFAULT_CONCURRENT_INITS, ge=1)  # cold starts at once
    start_timeout_seconds: float = Field(default=60.0, gt=0)
    deploy_timeout_seconds: float = Field(default=120.0, gt=0)

    def template_path(self) -> Path:
        return self.template if self.template.is_absolute() else REPO_ROOT / self.template
