"""Photo uploads on after-sales cases: with the request, as added evidence and at inspection;
checked by their bytes, stored under generated names, shown only to those who may see the case."""

from __future__ import annotations

import html
import re
import struct
import zlib
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from aftersales.cases import photos
from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.main import create_app
from aftersales.rules import service as rules

from ..factories import Factory
from ._support import flashed, sign_in
from .test_cases_api import put_order
from .test_cases_pages import act, sent_back, status_on, version_on


def tiny_png() -> bytes:
    """A valid 1 × 1 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = tiny_png()


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(settings: Settings, db: Database, uploads: Path) -> FastAPI:
    return create_app(settings.model_copy(update={"upload_dir": str(uploads)}))


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    """Lina's SO-A at the self-operated shop, Bob's SO-B at pop-a; the self-operated warehouse."""
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-A")
    put_order(factory, db, "SO-B", customer="C2", merchant="pop-a")
    factory.customer_user("lina", "C1")
    factory.customer_user("bob", "C2")
    factory.merchant_user("whouse", "selfop", Role.WAREHOUSE)
    return factory


Files = list[tuple[str, tuple[str, bytes, str]]]


def submit(client: TestClient, token: str, files: Files, order: str = "SO-A") -> Response:
    fields = {"csrf_token": token, "qty_1": "1", "kind": "return_refund", "reason": "defect", "form_key": ""}
    return client.post(f"/orders/{order}/after-sales", data=fields, files=files, follow_redirects=False)


def case_number(answer: Response) -> str:
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/cases/(AS\d+)", answer.headers["location"])
    assert match, answer.headers["location"]
    return match.group(1)


def photo_urls(page: str) -> list[str]:
    return re.findall(
        r'data-testid="case-photo"><img src="(/cases/AS\d+/photos/[0-9a-f]{32}\.png)" [^>]*width="96"', page
    )


def error_on(client: TestClient, answer: Response) -> str:
    return flashed(client, answer)


def test_photos_sent_with_the_request_are_shown_and_served_to_the_customer(
    client: TestClient, shop: Factory, uploads: Path
) -> None:
    token = sign_in(client, "lina")
    form = client.get("/orders/SO-A/after-sales").text
    assert 'enctype="multipart/form-data"' in form and 'hx-params="not photos"' in form
    assert '<input type="file" name="photos" accept="image/jpeg,image/png,image/webp" multiple' in form

    number = case_number(submit(client, token, [("photos", ("../../evil.php", PNG, "text/plain"))]))
    page = client.get(f"/cases/{number}").text
    (url,) = photo_urls(page)
    assert status_on(page) == "awaiting_return" and "已上传图片" in page  # the timeline says so
    stored = list((uploads / number).iterdir())
    assert [p.name for p in stored] == [url.rsplit("/", 1)[1]] and stored[0].read_bytes() == PNG
    assert not list(uploads.rglob("evil*"))  # the client's file name is never used

    served = client.get(url)
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png" and "private" in served.headers["cache-control"]

    sign_in(client, "bob")
    assert client.get(url).status_code == 404  # someone else's case
    sign_in(client, "whouse")
    assert client.get(url).status_code == 200  # the warehouse handling the return


def test_the_preview_ignores_the_file_input(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    fields = {"csrf_token": token, "qty_1": "1", "kind": "return_refund", "reason": "defect"}
    answer = client.post(
        "/orders/SO-A/after-sales/preview", data=fields, files=[("photos", ("a.png", PNG, "image/png"))]
    )
    assert answer.status_code == 200 and 'data-eligible="true"' in answer.text


def test_a_file_that_is_not_an_image_is_refused_with_a_sentence(
    client: TestClient, shop: Factory, uploads: Path
) -> None:
    token = sign_in(client, "lina")
    files: Files = [
        ("photos", ("fine.png", PNG, "image/png")),
        ("photos", ("notes.png", b"just some text, not a picture", "image/png")),
    ]
    answer = submit(client, token, files)
    assert answer.status_code == 422
    assert "Photo 2 is not a JPEG, PNG or WebP image" in html.unescape(answer.text)
    assert "case-submit" in answer.text  # the form again, to choose another photo
    assert not uploads.exists() or not list(uploads.rglob("*.*"))
    assert 'data-testid="case-row"' not in client.get("/cases").text  # no case was opened


def test_too_large_and_too_many_photos_are_refused(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    big = PNG + b"\x00" * (6 * 1024 * 1024)
    answer = submit(client, token, [("photos", ("big.png", big, "image/png"))])
    assert answer.status_code == 422 and "Photo 1 is larger than 5 MB" in html.unescape(answer.text)
    seven: Files = [("photos", (f"{i}.png", PNG, "image/png")) for i in range(7)]
    answer = submit(client, token, seven)
    assert answer.status_code == 422 and "at most 6 photos" in html.unescape(answer.text)


def test_only_generated_names_are_served(client: TestClient, shop: Factory, uploads: Path) -> None:
    token = sign_in(client, "lina")
    number = case_number(submit(client, token, [("photos", ("a.png", PNG, "image/png"))]))
    (uploads / "secret.png").write_bytes(PNG)
    (uploads / number / "planted.png").write_bytes(PNG)
    for name in ("..%2F..%2Fsecret.png", "..%2Fsecret.png", "planted.png", "....png", f"{'0' * 32}.png"):
        assert client.get(f"/cases/{number}/photos/{name}").status_code == 404, name
    assert photos.photo_path(uploads, number, "../secret.png") is None
    assert photos.photo_path(uploads, "..", "secret.png") is None


def test_customers_add_photos_as_evidence(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    number = case_number(submit(client, token, []))
    page = client.get(f"/cases/{number}").text
    assert re.search(r'data-testid="action-add_evidence" enctype="multipart/form-data">.*?name="photos"', page, re.S)
    assert "Choose a photo" in error_on(client, act(client, token, number, "add_evidence"))

    fields = {"csrf_token": token, "action": "add_evidence", "version": version_on(page)}
    files = [("photos", ("a.png", PNG, "image/png")), ("photos", ("", b"", "application/octet-stream"))]
    answer = client.post(f"/cases/{number}/act", data=fields, files=files, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/cases/{number}"
    (url,) = photo_urls(client.get(f"/cases/{number}").text)
    assert client.get(url).content == PNG

    bobs = {"csrf_token": sign_in(client, "bob"), "action": "add_evidence"}  # not Bob's case
    refused = client.post(f"/cases/{number}/act", data=bobs, files=files[:1], follow_redirects=False)
    assert "No case" in error_on(client, refused)


def test_the_warehouse_attaches_inspection_photos(client: TestClient, shop: Factory, uploads: Path) -> None:
    lina = sign_in(client, "lina")
    number = case_number(submit(client, lina, []))
    sent_back(client, lina, number)
    token = sign_in(client, "whouse")
    page = client.get(f"/cases/{number}").text
    assert act(client, token, number, "receive", version=version_on(page)).status_code == 303
    page = client.get(f"/cases/{number}").text
    for action in ("inspect_pass", "inspect_fail"):
        form = re.search(rf'data-testid="action-{action}"[^>]*>.*?</form>', page, re.S)
        assert form and 'enctype="multipart/form-data"' in form.group(0) and 'name="photos"' in form.group(0)

    bad = {"csrf_token": token, "action": "inspect_pass", "version": version_on(page), "note": "完好"}
    refused = client.post(
        f"/cases/{number}/act",
        data=bad,
        files=[("photos", ("x.png", b"GIF89a....", "image/png"))],
        follow_redirects=False,
    )
    assert "Photo 1 is not a JPEG, PNG or WebP image" in error_on(client, refused)
    assert status_on(client.get(f"/cases/{number}").text) == "received" and not (uploads / number).exists()

    files = [("photos", ("x.png", PNG, "image/png"))]
    answer = client.post(f"/cases/{number}/act", data=bad, files=files, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/cases/{number}"
    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "completed" and "完好" in page
    (url,) = photo_urls(page)
    assert client.get(url).content == PNG
    sign_in(client, "lina")  # the customer sees the inspection photo of their case
    page = client.get(f"/cases/{number}").text
    assert photo_urls(page) == [url] and client.get(url).status_code == 200
