"""Routes: `/connections…` (Google Drive data connectors and their imports) of the current surface.

The emulator's "Google Drive" is a set of fake accounts registered through `POST /_emulator/drive-accounts` (or the
`drive_accounts` config): each maps Drive file ids (`source_id`) to a local file or to the rejection an import
gets. `authorize_url` points at `/_emulator/oauth/authorize`, which plays the user's consent: it connects an
account and redirects to `redirect_uri` with `connection_id`, `status=ok` and `custom_id`, like the platform.
"""

from __future__ import annotations

import mimetypes
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from twelvelabs_emulator.clock import new_id, rfc3339, utcnow
from twelvelabs_emulator.downloads import hash_file
from twelvelabs_emulator.errors import ApiError, invalid, not_found, not_provided
from twelvelabs_emulator.httpkit import EmulatorRequest, empty_response, json_response, paginate, parse_json_body
from twelvelabs_emulator.models import (
    ConnectionImportItem,
    ConnectionImportRecord,
    ConnectionRecord,
    DriveAccount,
    ErrorInfo,
    PendingAuthorization,
    RedirectUriRecord,
    State,
)
from twelvelabs_emulator.services import Services

MAX_IMPORT_ITEMS = 100
PICKER_TOKEN_SECONDS = 3600
PICKER_APP_ID = "000000000000"  # Google Cloud project number the Picker needs (fake)
MEDIA_PREFIXES = ("video/", "audio/", "image/")
REJECTION_MESSAGES = {
    "source_unavailable": "The file does not exist in the connected account or is no longer available.",
    "source_not_authorized": "The connected account has not granted access to this file.",
    "unsupported_media_type": "The file is not a supported video, audio or image file.",
    "video_filesize_too_large": "The video file is larger than 10 GB.",
    "audio_filesize_too_large": "The audio file is larger than 4 GB.",
    "media_filesize_too_large": "The image file is larger than 32 MB.",
}
SIZE_LIMITS = {
    "video/": (10 * 1024**3, "video_filesize_too_large"),
    "audio/": (4 * 1024**3, "audio_filesize_too_large"),
    "image/": (32 * 1024**2, "media_filesize_too_large"),
}


class AuthorizeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    provider: str
    redirect_uri: str = Field(min_length=1)
    custom_id: str | None = None


class RedirectUriBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    redirect_uri: str = Field(min_length=1)


class ImportItemIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source_id: str = Field(min_length=1)


class ImportBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[ImportItemIn] = Field(min_length=1, max_length=MAX_IMPORT_ITEMS)


def connection_json(conn: ConnectionRecord) -> dict[str, object]:
    body: dict[str, object] = {"_id": conn.id, "provider": conn.provider, "status": conn.status}
    if conn.custom_id is not None:
        body["custom_id"] = conn.custom_id
    body |= {
        "account": {"external_id": conn.account_external_id, "display_name": conn.account_display_name},
        "scopes": list(conn.scopes),
        "connected_at": rfc3339(conn.connected_at),
    }
    if conn.last_used_at is not None:
        body["last_used_at"] = rfc3339(conn.last_used_at)
    return body


def _is_uri(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _connection(st: State, connection_id: str) -> ConnectionRecord:
    conn = st.current.connections.get(connection_id)
    if conn is None:
        raise not_found(connection_id, "connections")
    return conn


def _require_active(conn: ConnectionRecord) -> None:
    if conn.status != "active":
        raise ApiError(409, "connection_not_active", f"The connection {conn.id} is {conn.status}; authorize again.")


def authorize(s: Services, request: EmulatorRequest) -> Response:
    body = parse_json_body(request, AuthorizeBody)
    if body.provider != "google_drive":
        raise invalid("provider", f"{body.provider!r} is not one of google_drive.")
    if not _is_uri(body.redirect_uri):
        raise invalid("redirect_uri", f"{body.redirect_uri!r} is not an http(s) URI.")
    state = secrets.token_urlsafe(24)
    with s.rt.store.mutate() as st:
        registered = {r.redirect_uri for r in st.current.redirect_uris.values()}
        if registered and body.redirect_uri not in registered:
            raise invalid("redirect_uri", "it is not one of the registered redirect URIs.")
        st.current.authorizations[state] = PendingAuthorization(
            state=state, redirect_uri=body.redirect_uri, custom_id=body.custom_id, created_at=utcnow()
        )
    url = f"{s.rt.public_url}/_emulator/oauth/authorize?{urlencode({'state': state})}"
    return json_response({"authorize_url": url, "state": state})


def oauth_consent(s: Services, request: EmulatorRequest) -> Response:
    """Admin: the user's consent screen. `account=<external_id>` picks an account (default: the last registered);
    `deny=true` or no registered account redirects with `error=access_denied`."""
    state = request.args.get("state", "")
    with s.rt.store.mutate() as st:
        pending = st.current.authorizations.pop(state, None)
        if pending is None:
            raise invalid("state", "unknown or already used authorization state.")
        accounts = st.current.drive_accounts
        wanted = request.args.get("account")
        account = accounts.get(wanted) if wanted else (list(accounts.values())[-1] if accounts else None)
        if account is None or request.args.get("deny", "").lower() in ("1", "true"):
            return redirect(
                f"{pending.redirect_uri}{_sep(pending.redirect_uri)}{urlencode({'error': 'access_denied'})}"
            )
        conn = next((c for c in st.current.connections.values() if c.account_external_id == account.external_id), None)
        now = utcnow()
        if conn is None:
            conn = ConnectionRecord(
                id=new_id(),
                seq=st.next_seq(),
                account_external_id=account.external_id,
                account_display_name=account.display_name,
                scopes=list(account.scopes),
                connected_at=now,
            )
            st.current.connections[conn.id] = conn
        conn.status, conn.custom_id, conn.connected_at = "active", pending.custom_id, now
        params = {"connection_id": conn.id, "status": "ok"}
        if pending.custom_id is not None:
            params["custom_id"] = pending.custom_id
    return redirect(f"{pending.redirect_uri}{_sep(pending.redirect_uri)}{urlencode(params)}")


def _sep(uri: str) -> str:
    return "&" if urlsplit(uri).query else "?"


def list_connections(s: Services, request: EmulatorRequest) -> Response:
    with s.rt.store.read() as st:
        items = sorted(st.current.connections.values(), key=lambda c: (c.connected_at, c.seq), reverse=True)
        page, info = paginate(items, request.args)
        return json_response({"data": [connection_json(c) for c in page], "page_info": info})


def retrieve_connection(s: Services, request: EmulatorRequest, connection_id: str) -> Response:
    with s.rt.store.read() as st:
        return json_response(connection_json(_connection(st, connection_id)))


def delete_connection(s: Services, request: EmulatorRequest, connection_id: str) -> Response:
    """Revokes and forgets the connection (afterwards 404); imported assets stay."""
    with s.rt.store.mutate() as st:
        _connection(st, connection_id)
        del st.current.connections[connection_id]
    return empty_response()


def picker_token(s: Services, request: EmulatorRequest, connection_id: str) -> Response:
    with s.rt.store.mutate() as st:
        conn = _connection(st, connection_id)
        _require_active(conn)
        conn.last_used_at = utcnow()
        scopes = " ".join(conn.scopes)
    return json_response(
        {
            "access_token": "ya29.emulator-" + secrets.token_urlsafe(24),
            "expires_in": PICKER_TOKEN_SECONDS,
            "scope": scopes,
            "app_id": PICKER_APP_ID,
            "developer_key": "emulator-developer-key",
        }
    )


def create_redirect_uri(s: Services, request: EmulatorRequest) -> Response:
    body = parse_json_body(request, RedirectUriBody)
    parts = urlsplit(body.redirect_uri)
    host = parts.hostname or ""
    if (
        parts.scheme != "https"
        or not host
        or "*" in body.redirect_uri
        or host == "localhost"
        or host.replace(".", "").isdigit()
    ):
        raise ApiError(
            422,
            "redirect_uri_invalid",
            f"{body.redirect_uri!r} must be an https URI on a public host, without wildcards.",
        )
    with s.rt.store.mutate() as st:
        if any(r.redirect_uri == body.redirect_uri for r in st.current.redirect_uris.values()):
            raise ApiError(409, "redirect_uri_already_exists", f"{body.redirect_uri} is already registered.")
        record = RedirectUriRecord(id=new_id(), seq=st.next_seq(), redirect_uri=body.redirect_uri, created_at=utcnow())
        st.current.redirect_uris[record.id] = record
    return json_response(
        {"_id": record.id, "redirect_uri": record.redirect_uri, "created_at": rfc3339(record.created_at)}, 201
    )


def list_redirect_uris(s: Services, request: EmulatorRequest) -> Response:
    with s.rt.store.read() as st:
        items = sorted(st.current.redirect_uris.values(), key=lambda r: (r.created_at, r.seq), reverse=True)
        page, info = paginate(items, request.args)
        data = [{"_id": r.id, "redirect_uri": r.redirect_uri, "created_at": rfc3339(r.created_at)} for r in page]
    return json_response({"data": data, "page_info": info})


def delete_redirect_uri(s: Services, request: EmulatorRequest, redirect_uri_id: str) -> Response:
    with s.rt.store.mutate() as st:
        if st.current.redirect_uris.pop(redirect_uri_id, None) is None:
            raise not_found(redirect_uri_id, "redirect URIs")
    return empty_response()


def _rejection(source_id: str, code: str) -> ConnectionImportItem:
    return ConnectionImportItem(
        source_id=source_id, action="rejected", error=ErrorInfo(code=code, message=REJECTION_MESSAGES[code])
    )


def _check_file(account: DriveAccount, source_id: str) -> tuple[Path, str] | str:
    """The local file and its original filename, or the rejection code."""
    file = account.files.get(source_id)
    if file is None:
        return "source_unavailable"
    if file.reject is not None:
        return file.reject
    path = Path(file.path or "")
    if not path.is_file():
        return "source_unavailable"
    filename = file.filename or path.name
    kind, _ = mimetypes.guess_type(filename)
    if kind is None or not kind.startswith(MEDIA_PREFIXES):
        return "unsupported_media_type"
    for prefix, (limit, code) in SIZE_LIMITS.items():
        if kind.startswith(prefix) and path.stat().st_size > limit:
            return code
    return path, filename


def _fetch(s: Services, path: Path, filename: str) -> tuple[Path, str]:
    """Copy the Drive file into the emulator's media (a streamed copy, like a download)."""
    target = s.rt.media_dir / f"asset-{new_id()}{PurePosixPath(filename).suffix[:10]}"
    shutil.copyfile(path, target)
    return target, hash_file(target)


def create_import(s: Services, request: EmulatorRequest, connection_id: str) -> Response:
    body = parse_json_body(request, ImportBody)
    seen: set[str] = set()
    for n, item in enumerate(body.items):
        if item.source_id in seen:
            raise invalid(f"items[{n}].source_id", f"{item.source_id!r} is listed twice.")
        seen.add(item.source_id)
    with s.rt.store.mutate() as st:
        conn = _connection(st, connection_id)
        _require_active(conn)
        account = st.current.drive_accounts.get(conn.account_external_id)
        if account is None:
            raise not_provided("a connected Drive account (it was removed from the emulator)")
        account = account.model_copy(deep=True)
        conn.last_used_at = utcnow()
        custom_id = conn.custom_id
        existing = {a.connection_key: a.model_copy() for a in st.current.assets.values() if a.connection_key}
    items: list[ConnectionImportItem] = []
    for item in body.items:
        checked = _check_file(account, item.source_id)
        if isinstance(checked, str):
            items.append(_rejection(item.source_id, checked))
            continue
        path, filename = checked
        key = f"google_drive/{account.external_id}/{item.source_id}"
        earlier = existing.get(key)
        if earlier is not None and earlier.status != "failed":
            items.append(ConnectionImportItem(source_id=item.source_id, action="skipped", asset_id=earlier.id))
            continue
        target, digest = _fetch(s, path, filename)
        if earlier is not None:
            with s.rt.store.mutate() as st:
                old = st.current.assets.get(earlier.id)
                if old is not None:
                    s.rt.remove_file(old.file_path, True)
            s.assets.attach(earlier.id, target, digest)
            items.append(ConnectionImportItem(source_id=item.source_id, action="retried", asset_id=earlier.id))
            continue
        source: dict[str, object] = {
            "type": "connector",
            "details": {
                "provider": "google_drive",
                "source_id": item.source_id,
                "original_filename": filename,
                "source_link": f"https://drive.google.com/file/d/{item.source_id}/view",
            },
        }
        asset = s.assets.create(
            method="connector",
            path=target,
            filename=filename,
            content_hash=digest,
            enable_hls=True,
            enable_thumbnail=True,
            user_metadata=None,
            source=source,
            connection_key=key,
        )
        existing[key] = asset
        items.append(ConnectionImportItem(source_id=item.source_id, action="created", asset_id=asset.id))
    with s.rt.store.mutate() as st:
        record = ConnectionImportRecord(
            id=new_id(),
            seq=st.next_seq(),
            connection_id=connection_id,
            custom_id=custom_id,
            created_at=utcnow(),
            items=items,
        )
        st.current.connection_imports[record.id] = record
        data = [_item_json(st, i) for i in items]
    return json_response(
        {"_id": record.id, "has_failures": any(i.action == "rejected" for i in items), "items": data}, 202
    )


def _item_json(st: State, item: ConnectionImportItem) -> dict[str, object]:
    body: dict[str, object] = {"source_id": item.source_id, "action": item.action}
    if item.asset_id is not None:
        body["asset_id"] = item.asset_id
        asset = st.current.assets.get(item.asset_id)
        if asset is not None:
            body["status"] = asset.status  # read live from the asset
    if item.error is not None:
        body["error"] = item.error.model_dump()
    return body


def _import_json(record: ConnectionImportRecord) -> dict[str, object]:
    body: dict[str, object] = {"_id": record.id, "connection_id": record.connection_id, "provider": record.provider}
    if record.custom_id is not None:
        body["custom_id"] = record.custom_id
    body |= {"item_count": len(record.items), "created_at": rfc3339(record.created_at)}
    return body


def list_imports(s: Services, request: EmulatorRequest, connection_id: str) -> Response:
    with s.rt.store.read() as st:
        _connection(st, connection_id)
        items = sorted(
            (r for r in st.current.connection_imports.values() if r.connection_id == connection_id),
            key=lambda r: (r.created_at, r.seq),
            reverse=True,
        )
        page, info = paginate(items, request.args)
        return json_response({"data": [_import_json(r) for r in page], "page_info": info})


def retrieve_import(s: Services, request: EmulatorRequest, connection_id: str, import_id: str) -> Response:
    with s.rt.store.read() as st:
        _connection(st, connection_id)
        record = st.current.connection_imports.get(import_id)
        if record is None or record.connection_id != connection_id:
            raise not_found(import_id, "imports")
        # Deleted assets drop out of `items` (so `items` may be shorter than `item_count`).
        kept = [i for i in record.items if i.asset_id is None or i.asset_id in st.current.assets]
        return json_response(_import_json(record) | {"items": [_item_json(st, i) for i in kept]})


ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = [
    ("/connections:authorize", ["POST"], authorize),
    ("/connections", ["GET"], list_connections),
    ("/connections/redirect-uris", ["POST"], create_redirect_uri),
    ("/connections/redirect-uris", ["GET"], list_redirect_uris),
    ("/connections/redirect-uris/<redirect_uri_id>", ["DELETE"], delete_redirect_uri),
    ("/connections/<connection_id>", ["GET"], retrieve_connection),
    ("/connections/<connection_id>", ["DELETE"], delete_connection),
    ("/connections/<connection_id>/picker-token", ["POST"], picker_token),
    ("/connections/<connection_id>/imports", ["POST"], create_import),
    ("/connections/<connection_id>/imports", ["GET"], list_imports),
    ("/connections/<connection_id>/imports/<import_id>", ["GET"], retrieve_import),
]
