"""Reading ``/metrics`` the way Prometheus does (prometheus-client's own parser)."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "test-metrics-token"


class Scrape:
    """One scrape: every sample by name and labels, and the families by name and type."""

    def __init__(self, text: str):
        self.text = text
        self.families = {f.name: f.type for f in text_string_to_metric_families(text)}
        self.samples: dict[tuple[str, frozenset], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, default: float | None = 0.0, **labels) -> float | None:
        """The sample ``name`` with exactly these labels (``default`` if absent)."""
        return self.samples.get((name, frozenset(labels.items())), default)

    def labels_of(self, name: str) -> list[dict]:
        return [dict(labels) for (n, labels) in self.samples if n == name]


def scrape(client, token: str = TOKEN) -> Scrape:
    """``/metrics`` through Django's test client."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return Scrape(response.content.decode())


def scrape_url(base_url: str, token: str = TOKEN) -> Scrape:
    """``/metrics`` of a real server over HTTP."""
    request = urllib.request.Request(
        f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return Scrape(response.read().decode())
