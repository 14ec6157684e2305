"""Data connectors: `/connections…` and their imports (2026 reference §13)."""

from __future__ import annotations

from pydantic import Field

from .common import TLModel


class ConnectionStatus:
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ImportAction:
    CREATED = "created"
    SKIPPED = "skipped"
    RETRIED = "retried"
    REJECTED = "rejected"


class AuthorizeResult(TLModel):
    authorize_url: str
    state: str | None = None


class ConnectionAccount(TLModel):
    external_id: str | None = None
    display_name: str | None = None


class Connection(TLModel):
    id: str = Field(alias="_id")
    provider: str | None = None
    status: str | None = None
    custom_id: str | None = None
    account: ConnectionAccount | None = None
    scopes: list[str] | None = None
    connected_at: str | None = None
    last_used_at: str | None = None


class PickerToken(TLModel):
    access_token: str = Field(repr=False)
    expires_in: int | None = None
    scope: str | None = None
    app_id: str | None = None
    developer_key: str | None = Field(default=None, repr=False)


class RedirectUri(TLModel):
    id: str = Field(alias="_id")
    redirect_uri: str
    created_at: str | None = None
    recovered: bool = False


class ImportItemError(TLModel):
    code: str | None = None
    message: str | None = None


class ConnectionImportItem(TLModel):
    source_id: str | None = None
    action: str | None = None
    asset_id: str | None = None
    status: str | None = None
    error: ImportItemError | None = None


class ConnectionImportResult(TLModel):
    """202 answer of POST /connections/{id}/imports."""

    id: str = Field(alias="_id")
    has_failures: bool | None = None
    items: list[ConnectionImportItem] = Field(default_factory=list)


class ConnectionImport(TLModel):
    """`Import` (list item) and `ImportDetail` (retrieve, with items)."""

    id: str = Field(alias="_id")
    connection_id: str | None = None
    provider: str | None = None
    custom_id: str | None = None
    item_count: int | None = None
    created_at: str | None = None
    items: list[ConnectionImportItem] | None = None
