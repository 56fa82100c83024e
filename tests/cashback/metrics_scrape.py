"""Scraping /metrics in tests: the samples of one scrape, and how much one moved between two."""

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "test-metrics-token"


class Scrape:
    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {family.name: family for family in text_string_to_metric_families(text)}

    def value(self, sample_name: str, **labels: str) -> float:
        """The sample's value, 0 when the series is absent (a counter that never moved)."""
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == sample_name and sample.labels == labels:
                    return sample.value
        return 0.0


def scrape(client) -> Scrape:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return Scrape(response.content.decode())
