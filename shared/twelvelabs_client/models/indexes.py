"""Indexes (§3)."""

from __future__ import annotations

from pydantic import Field

from .common import Request, TLModel


class ModelName:
    """Known model names; the field stays a plain string so new models parse."""

    MARENGO_2_7 = "marengo2.7"
    PEGASUS_1_2 = "pegasus1.2"


class IndexModel(TLModel):
    """One model of an index: `{model_name, model_options}`."""

    model_name: str
    model_options: list[str] = Field(default_factory=list)


class Index(TLModel):
    id: str = Field(alias="_id")
    index_name: str | None = None
    models: list[IndexModel] = Field(default_factory=list)
    addons: list[str] = Field(default_factory=list)
    video_count: int | None = None
    total_duration: float | None = None
    created_at: str | None = None
    updated_at: str | None = None
    expires_at: str | None = None


class CreatedIndex(TLModel):
    id: str = Field(alias="_id")


class CreateIndexRequest(Request):
    index_name: str = Field(min_length=1)
    models: list[IndexModel] = Field(min_length=1)
    addons: list[str] | None = None


class UpdateIndexRequest(Request):
    index_name: str = Field(min_length=1)
