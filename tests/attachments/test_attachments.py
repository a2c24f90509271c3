"""Attachments on messages, situation updates and requests: limits, type by content,
never served inline, access like the item, TLP-marked, audited."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from attachments.models import Attachment
from audit.models import ReadRecord
from crisis.services import crises as crisis_services
from tests.crisis.factories import activate, report
from tests.hotline.conftest import send
from tests.humanitarian.conftest import make_crisis, make_request
from tests.support.api import assert_error

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'


@pytest.fixture(autouse=True)
def attachment_dir(settings, tmp_path):
    """Attachments stored in a fresh folder per test (the storage API, local disk)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }
    return tmp_path / "attachments"


def stored_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def upload(client, kind, object_id, content=None, name="photo.png", mime="image/png", **extra):
    file = SimpleUploadedFile(name, png_bytes() if content is None else content, mime)
    data = {"kind": kind, "object_id": object_id, "file": file, **extra}
    return client.post("/api/v1/attachments/", data, format="multipart")


def test_a_photo_on_a_message_is_stored_marked_and_downloaded_as_a_file(
    region, line_ab, api_client, attachment_dir
):
    message, _ = send(region.operator_a, line_ab, "see the photo")
    api_client.force_authenticate(region.operator_a)
    created = upload(api_client, "hotline.message", message.pk, name="../../etc/deck.png")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["content_type"] == "image/png" and body["filename"] == "deck.png"
    assert body["tlp"] == "AMBER" and body["tlp_label"] == "TLP:AMBER"  # the message's
    stored = Attachment.objects.get()
    assert stored.file.name.startswith("hotline.message/") and "deck" not in stored.file.name
    assert stored_files(attachment_dir) and storages["attachments"].exists(stored.file.name)

    api_client.force_authenticate(region.operator_b)
    listed = api_client.get(f"/api/v1/attachments/?kind=hotline.message&object_id={message.pk}")
    assert [a["id"] for a in listed.json()] == [stored.pk]
    response = api_client.get(body["download_url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="deck.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-TLP"] == "TLP:AMBER"
    read = ReadRecord.objects.get(what="attachments.download")
    assert read.username == "op-b" and read.object_id == str(stored.pk)
    assert read.details == {"kind": "hotline.message", "object_id": message.pk, "tlp": "AMBER"}


def test_oversize_is_refused_and_nothing_is_kept(
    region, line_ab, api_client, settings, attachment_dir
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    message, _ = send(region.operator_a, line_ab, "a big scan")
    api_client.force_authenticate(region.operator_a)
    response = upload(api_client, "hotline.message", message.pk, PDF + b"0" * 2048, "scan.pdf")
    body = assert_error(response, 413, "too_large")
    assert body["details"]["limit_bytes"] == 1024
    assert not Attachment.objects.exists() and stored_files(attachment_dir) == []


@pytest.mark.parametrize(
    ("content", "name", "mime", "says"),
    [
        (HTML, "photo.jpg", "image/jpeg", "web page"),  # HTML disguised as an image
        (SVG, "map.png", "image/png", "web page"),  # script-carrying SVG named .png
        (b"MZ\x90\x00\x03" + b"\x00" * 64, "form.pdf", "application/pdf", "not a type"),
        (b"name,needs\nKo Lipe,water\n", "needs.xlsx", "text/csv", "not a type"),
        (b"PK\x03\x04" + b"\x00" * 40, "form.docx", "application/zip", "not a type"),
    ],
)
def test_the_type_is_judged_by_content_not_name(
    region, line_ab, api_client, attachment_dir, content, name, mime, says
):
    message, _ = send(region.operator_a, line_ab, "form attached")
    api_client.force_authenticate(region.operator_a)
    body = assert_error(
        upload(api_client, "hotline.message", message.pk, content, name, mime),
        400,
        "unsupported_type",
    )
    assert says in body["message"] and "PDF document" in body["message"]
    assert not Attachment.objects.exists() and stored_files(attachment_dir) == []


def test_an_empty_file_and_bad_fields_are_refused(region, line_ab, api_client):
    message, _ = send(region.operator_a, line_ab, "x")
    api_client.force_authenticate(region.operator_a)
    empty = upload(api_client, "hotline.message", message.pk, b"", "empty.png")
    assert empty.status_code == 400
    assert upload(api_client, "crisis.nothing", message.pk).status_code == 400
    assert upload(api_client, "hotline.message", message.pk, tlp="PINK").status_code == 400
    assert_error(upload(api_client, "hotline.message", 2**40), 404)
    assert not Attachment.objects.exists()


def test_only_the_authors_desk_attaches(region, line_ab, api_client):
    message, _ = send(region.operator_a, line_ab, "mine")
    api_client.force_authenticate(region.operator_b)
    assert_error(upload(api_client, "hotline.message", message.pk), 403, "not_your_item")
    api_client.force_authenticate(region.operator_c)  # not on the line: no such message
    assert_error(upload(api_client, "hotline.message", message.pk), 404)


def test_red_files_stay_with_their_recipients(region, line_ab, api_client):
    red, _ = send(region.operator_a, line_ab, "red photo", tlp="RED")
    amber, _ = send(region.operator_a, line_ab, "amber words")
    api_client.force_authenticate(region.operator_a)
    # A file is never marked wider than its item: CLEAR asked on a RED message is RED.
    on_red = upload(api_client, "hotline.message", red.pk, tlp="CLEAR").json()
    assert on_red["tlp"] == "RED"
    on_amber = upload(api_client, "hotline.message", amber.pk, tlp="RED").json()
    assert on_amber["tlp"] == "RED"
    plain = upload(api_client, "hotline.message", amber.pk).json()

    api_client.force_authenticate(region.operator_b)
    for item in (on_red, on_amber):
        assert api_client.get(item["download_url"]).status_code == 200
    for person in (region.coordinator, region.auditor, region.operator_c):
        api_client.force_authenticate(person)
        for item in (on_red, on_amber):
            assert_error(api_client.get(f"/api/v1/attachments/{item['id']}/"), 404)
            assert_error(api_client.get(item["download_url"]), 404)
    api_client.force_authenticate(region.coordinator)
    listed = api_client.get(f"/api/v1/attachments/?kind=hotline.message&object_id={amber.pk}")
    assert [a["id"] for a in listed.json()] == [plain["id"]]
    assert_error(
        api_client.get(f"/api/v1/attachments/?kind=hotline.message&object_id={red.pk}"), 404
    )


def test_files_on_situation_updates_and_requests(region, protocol, api_client):
    crisis = activate(region, report(region))
    update = crisis_services.post_situation_update(
        by=region.operator_b, desk=region.desk_b, crisis=crisis, conditions="Slick", tlp="RED"
    )
    api_client.force_authenticate(region.operator_b)
    on_update = upload(api_client, "crisis.situation_update", update.pk, PDF, "sitrep.pdf")
    assert on_update.status_code == 201, on_update.content
    assert on_update.json()["content_type"] == "application/pdf"
    assert on_update.json()["tlp"] == "RED"
    api_client.force_authenticate(region.coordinator)
    assert_error(api_client.get(on_update.json()["download_url"]), 404)

    aid_crisis = make_crisis(region, ref="CR-2026-0200")
    request = make_request(region, aid_crisis)
    api_client.force_authenticate(region.operator_a)
    on_request = upload(api_client, "humanitarian.request", request.pk, name="needs.png")
    assert on_request.status_code == 201 and on_request.json()["tlp"] == "GREEN"
    api_client.force_authenticate(region.operator_b)
    assert api_client.get(on_request.json()["download_url"]).status_code == 200
    assert_error(upload(api_client, "humanitarian.request", request.pk), 403, "not_your_item")


def test_the_console_lists_files_with_their_marking(region, line_ab, api_client, client):
    message, _ = send(region.operator_a, line_ab, "photo attached")
    api_client.force_authenticate(region.operator_a)
    made = upload(api_client, "hotline.message", message.pk, name="deck.png", tlp="RED").json()
    client.force_login(region.operator_b)
    page = client.get(reverse("console:line", args=[line_ab.pk])).content.decode()
    assert f'data-attachment="{made["id"]}"' in page and "deck.png" in page
    assert f'href="/api/v1/attachments/{made["id"]}/download/" download' in page
    client.force_login(region.coordinator)
    page = client.get(reverse("console:line", args=[line_ab.pk])).content.decode()
    assert "photo attached" in page and "deck.png" not in page


def test_the_console_attaches_a_file_to_ones_own_message(region, line_ab, client):
    mine, _ = send(region.operator_a, line_ab, "photo follows")
    theirs, _ = send(region.operator_b, line_ab, "not yours")
    client.force_login(region.operator_a)
    page = client.get(reverse("console:line", args=[line_ab.pk])).content.decode()
    assert reverse("console:attach-to-message", args=[line_ab.pk, mine.pk]) in page
    assert reverse("console:attach-to-message", args=[line_ab.pk, theirs.pk]) not in page

    def attach(message, content, name):
        url = reverse("console:attach-to-message", args=[line_ab.pk, message.pk])
        file = SimpleUploadedFile(name, content, "image/jpeg")
        return client.post(url, {"file": file, "tlp": "AMBER+STRICT"}, follow=True)

    done = attach(mine, png_bytes(), "deck.png").content.decode()
    assert "deck.png attached (TLP:AMBER+STRICT)." in done
    assert Attachment.objects.get().tlp == "AMBER+STRICT"
    refused = attach(mine, HTML, "photo.jpg").content.decode()
    assert "a web page or markup" in refused
    refused = attach(theirs, png_bytes(), "x.png").content.decode()
    assert "Only the people of the desk that wrote it" in refused
    assert Attachment.objects.count() == 1
