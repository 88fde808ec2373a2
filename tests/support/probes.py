"""Operational probes of a running node over HTTP: /readyz and /metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.support.client import http_client


async def readyz(base_url: str) -> tuple[int, dict[str, Any]]:
    """(status code, body) of GET /readyz."""
    async with http_client(base_url) as http:
        response = await http.get("/readyz")
    return response.status_code, response.json()


async def metric(base_url: str, sample_name: str, labels: dict[str, str] | None = None) -> float:
    """The value of one sample on GET /metrics (0.0 when the sample is absent)."""
    async with http_client(base_url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == sample_name and (labels is None or sample.labels == labels):
                return sample.value
    return 0.0
