"""Connections (current surface): OAuth authorize against a fake Google Drive, redirect URIs, imports into assets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from helpers import wait_status

from tests.emulator.conftest import client_for
from twelvelabs_emulator import Emulator


def _account(samples: Path, **files: dict[str, str]) -> dict[str, object]:
    return {
        "external_id": "drive-user-1",
        "display_name": "ann@example.com",
        "files": {
            "vid": {"path": str(samples / "videos" / "ocean-waves.mp4")},
            "img": {"path": str(samples / "media" / "still.jpg"), "filename": "holiday.jpg"},
            "secret": {"reject": "source_not_authorized"},
            "doc": {"path": str(samples.parent.parent / "README.md")},
            **files,
        },
    }


def connect(api: httpx.Client, custom_id: str | None = "user-42", **consent: str) -> str:
    body = {"provider": "google_drive", "redirect_uri": "https://app.example.com/oauth/done"}
    if custom_id is not None:
        body["custom_id"] = custom_id
    r = api.post("/connections:authorize", json=body)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"authorize_url", "state"}
    consent_answer = httpx.get(httpx.URL(r.json()["authorize_url"]).copy_merge_params(consent), follow_redirects=False)
    assert consent_answer.status_code == 302
    location = urlsplit(consent_answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://app.example.com/oauth/done"
    query = parse_qs(location.query)
    assert query["status"] == ["ok"] and query.get("custom_id") == ([custom_id] if custom_id else None)
    return query["connection_id"][0]


@pytest.fixture()
def emu(make_emulator: Callable[..., Emulator], samples: Path) -> Emulator:
    return make_emulator(surface="current", drive_accounts=[_account(samples)])


def test_connection_lifecycle(emu: Emulator) -> None:
    with client_for(emu) as api:
        connection_id = connect(api)
        conn = api.get(f"/connections/{connection_id}").json()
        assert conn["status"] == "active" and conn["provider"] == "google_drive" and conn["custom_id"] == "user-42"
        assert conn["account"] == {"external_id": "drive-user-1", "display_name": "ann@example.com"}
        assert set(conn) == {"_id", "provider", "status", "custom_id", "account", "scopes", "connected_at"}
        listed = api.get("/connections").json()
        assert [c["_id"] for c in listed["data"]] == [connection_id] and listed["page_info"]["total_results"] == 1
        token = api.post(f"/connections/{connection_id}/picker-token").json()
        assert token["access_token"] and token["expires_in"] > 0 and token["scope"] == " ".join(conn["scopes"])
        assert "last_used_at" in api.get(f"/connections/{connection_id}").json()
        # the provider side expires the grant: picker tokens and imports are refused with 409
        httpx.post(f"{emu.admin_url}/connections/{connection_id}/status", json={"status": "expired"})
        assert api.post(f"/connections/{connection_id}/picker-token").status_code == 409
        r = api.post(f"/connections/{connection_id}/imports", json={"items": [{"source_id": "vid"}]})
        assert r.status_code == 409 and r.json()["code"] == "connection_not_active"
        assert connect(api, custom_id=None) == connection_id  # authorizing again reconnects the same account
        assert api.get(f"/connections/{connection_id}").json()["status"] == "active"
        assert api.delete(f"/connections/{connection_id}").status_code == 204
        assert api.get(f"/connections/{connection_id}").status_code == 404
        assert api.post(f"/connections/{connection_id}/picker-token").status_code == 404


def test_authorize_errors_and_denial(emu: Emulator) -> None:
    with client_for(emu) as api:
        for body, field in [
            ({"provider": "dropbox", "redirect_uri": "https://a.example.com/"}, "provider"),
            ({"provider": "google_drive", "redirect_uri": "not a uri"}, "redirect_uri"),
            ({"provider": "google_drive"}, "redirect_uri"),
        ]:
            r = api.post("/connections:authorize", json=body)
            assert r.status_code == 400 and field in r.json()["message"], body
        url = api.post(
            "/connections:authorize", json={"provider": "google_drive", "redirect_uri": "https://a.example.com/cb"}
        ).json()["authorize_url"]
        denied = httpx.get(httpx.URL(url).copy_merge_params({"deny": "true"}), follow_redirects=False)
        assert parse_qs(urlsplit(denied.headers["Location"]).query) == {"error": ["access_denied"]}
        assert httpx.get(url, follow_redirects=False).status_code == 400  # a state is used once
        assert api.get("/connections").json()["data"] == []


def test_redirect_uris(emu: Emulator) -> None:
    with client_for(emu) as api:
        r = api.post("/connections/redirect-uris", json={"redirect_uri": "https://app.example.com/oauth/done"})
        assert r.status_code == 201 and set(r.json()) == {"_id", "redirect_uri", "created_at"}
        uri_id = r.json()["_id"]
        assert (
            api.post(
                "/connections/redirect-uris", json={"redirect_uri": "https://app.example.com/oauth/done"}
            ).status_code
            == 409
        )
        for bad in ("http://app.example.com/cb", "https://localhost/cb", "https://*.example.com/cb"):
            r = api.post("/connections/redirect-uris", json={"redirect_uri": bad})
            assert r.status_code == 422 and r.json()["code"] == "redirect_uri_invalid", bad
        assert [u["_id"] for u in api.get("/connections/redirect-uris").json()["data"]] == [uri_id]
        # with one registered, authorize only accepts registered URIs
        r = api.post(
            "/connections:authorize", json={"provider": "google_drive", "redirect_uri": "https://other.example.com/cb"}
        )
        assert r.status_code == 400 and "registered" in r.json()["message"]
        connect(api)  # the registered one works
        assert api.delete(f"/connections/redirect-uris/{uri_id}").status_code == 204
        assert api.delete(f"/connections/redirect-uris/{uri_id}").status_code == 404


def test_imports(make_emulator: Callable[..., Emulator], samples: Path) -> None:
    broken = {"flaky": {"path": str(samples / "bad" / "not-a-video.mp4"), "filename": "flaky.mp4"}}
    emu = make_emulator(surface="current", drive_accounts=[_account(samples, **broken)])
    with client_for(emu) as api:
        connection_id = connect(api)
        imports = f"/connections/{connection_id}/imports"
        r = api.post(
            imports, json={"items": [{"source_id": s} for s in ("vid", "secret", "doc", "gone", "flaky", "img")]}
        )
        assert r.status_code == 202, r.text
        result = r.json()
        assert result["has_failures"] is True
        actions = {i["source_id"]: i["action"] for i in result["items"]}
        assert actions == {
            "vid": "created",
            "secret": "rejected",
            "doc": "rejected",
            "gone": "rejected",
            "flaky": "created",
            "img": "created",
        }
        codes = {i["source_id"]: i["error"]["code"] for i in result["items"] if i["action"] == "rejected"}
        assert codes == {
            "secret": "source_not_authorized",
            "doc": "unsupported_media_type",
            "gone": "source_unavailable",
        }
        by_id = {i["source_id"]: i for i in result["items"]}
        assert by_id["vid"]["status"] == "processing" and "error" not in by_id["vid"]
        assert set(by_id["secret"]) == {"source_id", "action", "error"}
        asset = wait_status(api, f"/assets/{by_id['vid']['asset_id']}")
        assert asset["status"] == "ready" and asset["method"] == "connector"
        assert asset["source"] == {
            "type": "connector",
            "details": {
                "provider": "google_drive",
                "source_id": "vid",
                "original_filename": "ocean-waves.mp4",
                "source_link": "https://drive.google.com/file/d/vid/view",
            },
        }
        assert wait_status(api, f"/assets/{by_id['img']['asset_id']}")["filename"] == "holiday.jpg"
        assert wait_status(api, f"/assets/{by_id['flaky']['asset_id']}")["status"] == "failed"

        # item status is read live; the detail keeps request order
        detail = api.get(f"{imports}/{result['_id']}").json()
        assert [i["source_id"] for i in detail["items"]] == ["vid", "secret", "doc", "gone", "flaky", "img"]
        assert {i["source_id"]: i.get("status") for i in detail["items"]}["vid"] == "ready"
        assert detail["item_count"] == 6 and detail["custom_id"] == "user-42" and detail["provider"] == "google_drive"

        # the owner fixes the Drive file: importing it again retries; an imported file is skipped
        fixed = _account(samples, flaky={"path": str(samples / "videos" / "forest-walk.mp4"), "filename": "flaky.mp4"})
        assert httpx.post(f"{emu.admin_url}/drive-accounts", json=fixed).status_code == 201
        again = api.post(imports, json={"items": [{"source_id": "vid"}, {"source_id": "flaky"}]}).json()
        assert again["has_failures"] is False
        assert [(i["action"], i["asset_id"]) for i in again["items"]] == [
            ("skipped", by_id["vid"]["asset_id"]),
            ("retried", by_id["flaky"]["asset_id"]),
        ]
        assert wait_status(api, f"/assets/{by_id['flaky']['asset_id']}")["status"] == "ready"

        listed = api.get(imports).json()["data"]
        assert [i["_id"] for i in listed] == [again["_id"], result["_id"]]
        assert set(listed[0]) == {"_id", "connection_id", "provider", "custom_id", "item_count", "created_at"}
        # a deleted asset drops out of the items
        assert api.delete(f"/assets/{by_id['img']['asset_id']}").status_code == 204
        detail = api.get(f"{imports}/{result['_id']}").json()
        assert len(detail["items"]) == 5 and detail["item_count"] == 6

        for body, field in [
            ({"items": []}, "items"),
            ({"items": [{"source_id": "a"}, {"source_id": "a"}]}, "items[1]"),
            ({"items": [{"source_id": str(n)} for n in range(101)]}, "items"),
        ]:
            r = api.post(imports, json=body)
            assert r.status_code == 400 and field in r.json()["message"], body
        all_rejected = api.post(imports, json={"items": [{"source_id": "nope"}]})
        assert all_rejected.status_code == 202 and all_rejected.json()["has_failures"] is True
        assert api.get(f"{imports}/{'0' * 24}").status_code == 404
        assert api.get(f"/connections/{'0' * 24}/imports").status_code == 404
