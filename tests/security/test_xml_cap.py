"""CAP intake refuses what an XML parser should never act on (issue 14, findings 13 and 8):
any DOCTYPE (entities, external DTDs), a UTF-16 document, a body over the limit."""

import pytest

from crisis import cap
from crisis.models import CapAlert, Crisis, TimelineEntry
from tests.crisis.test_cap import GOOD

pytestmark = pytest.mark.django_db

DECL = '<?xml version="1.0" encoding="UTF-8"?>'


def written():
    return (Crisis.objects.count(), CapAlert.objects.count(), TimelineEntry.objects.count())


def post(api_client, body: bytes, content_type="application/xml"):
    return api_client.post("/api/v1/crises/cap/", data=body, content_type=content_type)


def with_doctype(doctype: str, event: str = "Earthquake") -> str:
    return GOOD.replace(DECL, DECL + doctype).replace(
        "<event>Earthquake</event>", f"<event>{event}</event>"
    )


@pytest.mark.parametrize(
    "document",
    [
        with_doctype('<!DOCTYPE alert [<!ENTITY x "Earthquake">]>', "&x;"),
        with_doctype('<!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/hostname">]>', "&x;"),
        with_doctype('<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">'),
        with_doctype("<!DOCTYPE alert>"),
        with_doctype('<!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>', "&b;"),
    ],
    ids=["internal-entity", "external-entity", "external-dtd", "bare-doctype", "nested"],
)
def test_any_doctype_is_refused_and_nothing_is_stored(region, api_client, document):
    api_client.force_authenticate(region.operator_a)
    response = post(api_client, document.encode())
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_cap" and body["details"]["element"] == "alert"
    assert "DOCTYPE" in body["message"]
    assert written() == (0, 0, 0)


def test_a_utf16_document_is_refused_with_a_reason(region, api_client):
    api_client.force_authenticate(region.operator_a)
    utf16 = GOOD.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    response = post(api_client, utf16)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_cap"
    assert "UTF-8" in response.json()["message"]
    # Without a declaration, the byte-order mark says UTF-16 just as well.
    bare = GOOD.replace(DECL, "").encode("utf-16")
    assert post(api_client, bare).status_code == 400
    # Declared Latin-1: refused too, not decoded by guesswork.
    latin = GOOD.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    assert "ISO-8859-1" in post(api_client, latin).json()["message"]
    assert written() == (0, 0, 0)


def test_a_utf8_byte_order_mark_is_fine(region, api_client):
    api_client.force_authenticate(region.operator_a)
    response = post(api_client, b"\xef\xbb\xbf" + GOOD.encode())
    assert response.status_code == 201, response.content
    assert CapAlert.objects.get(direction="received").raw_xml == GOOD


def test_a_document_over_the_limit_is_413_unread(region, api_client):
    api_client.force_authenticate(region.operator_a)
    padding = "<!--" + "x" * cap.MAX_BYTES + "-->"
    response = post(api_client, GOOD.replace("</alert>", padding + "</alert>").encode())
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"
    assert written() == (0, 0, 0)
