"""Operational endpoints over real sockets: /healthz, /readyz, /metrics (the documented series
exist and move when messages flow) and /api/v1/openapi.json (OpenAPI 3.1 covering every
/api/v1 route)."""

from __future__ import annotations

import gc
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Route

from tests.support.client import WsClient, http_client, register
from tests.support.history import eventually
from tests.support.nodes import NodeServer, running_nodes
from tests.support.timing import timeout

ROOM = "water-management"
DOCUMENTED = {  # family name -> type: the series dashboards and alerts rely on
    "ecolink_connections": "gauge",
    "ecolink_joined_rooms": "gauge",
    "ecolink_deliveries": "counter",
    "ecolink_slow_consumer_closes": "counter",
    "ecolink_store_commit_seconds": "histogram",
    "ecolink_broker_lag_seconds": "histogram",
}


async def get(node: NodeServer, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=node.url, timeout=timeout(10)) as http:
        return await http.get(path)


async def samples(node: NodeServer) -> dict[str, float]:
    """Every unlabelled sample of /metrics by name (ecolink_deliveries_total, …_count, …)."""
    response = await get(node, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if not sample.labels or set(sample.labels) == {"le"}:
                key = sample.name + (f"{{le={sample.labels['le']}}}" if sample.labels else "")
                found[key] = sample.value
    return found


async def families(node: NodeServer) -> dict[str, str]:
    text = (await get(node, "/metrics")).text
    return {family.name: family.type for family in text_string_to_metric_families(text)}


async def test_healthz_and_readyz_answer_with_their_checks(backend):
    async with running_nodes(backend()) as [node]:
        health = await get(node, "/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "alive"})
        ready = await get(node, "/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ready"
        assert body["checks"] == {"store": "ok", "broker": "ok", "files": "ok"}
        assert body["node"] == node.node.node_id and body["node"]
        assert (body["rooms"], body["members"]) == (0, 0)
        ann = await register(node.url)
        client = await WsClient.connect(node.ws_url, ann["token"])
        await client.join(ROOM)
        assert {k: (await get(node, "/readyz")).json()[k] for k in ("rooms", "members")} == {
            "rooms": 1, "members": 1}
        await client.close()


async def test_metrics_expose_the_documented_series_and_they_move_with_traffic(backend):
    async with running_nodes(backend()) as [node]:
        kinds = await families(node)
        for name, kind in DOCUMENTED.items():
            assert kinds.get(name) == kind, (name, kinds.get(name))
        before = await samples(node)
        for name in ("ecolink_connections", "ecolink_joined_rooms", "ecolink_deliveries_total",
                     "ecolink_slow_consumer_closes_total", "ecolink_store_commit_seconds_count",
                     "ecolink_broker_lag_seconds_count"):
            assert before[name] == 0, name

        ann, bob = await register(node.url), await register(node.url)
        a = await WsClient.connect(node.ws_url, ann["token"])
        b = await WsClient.connect(node.ws_url, bob["token"], binary=False)
        await a.join(ROOM)
        await b.join(ROOM)
        await b.join("weihai")
        await a.send(ROOM, "metrics move")
        await a.recv_until(lambda f: f["type"] == "ack")
        await b.recv_until(lambda f: f["type"] == "message")
        if not a.messages(ROOM):  # the ack and the own message come in either order
            await a.recv_until(lambda f: f["type"] == "message")
        during = await samples(node)
        assert during["ecolink_connections"] == 2
        assert during["ecolink_joined_rooms"] == 3
        assert during["ecolink_deliveries_total"] == 2  # one message, two members
        assert during["ecolink_store_commit_seconds_count"] == 1  # one group commit
        assert during["ecolink_store_commit_seconds_sum"] > 0
        assert during["ecolink_store_commit_seconds_bucket{le=+Inf}"] == 1
        assert during["ecolink_slow_consumer_closes_total"] == 0

        await b.send_frame({"type": "leave", "room": "weihai"})
        await b.recv_until(lambda f: f["type"] == "left")
        assert (await samples(node))["ecolink_joined_rooms"] == 2
        await a.close()
        await b.close()

        async def all_closed() -> bool:
            now = await samples(node)
            return now["ecolink_connections"] == 0 and now["ecolink_joined_rooms"] == 0

        await eventually(all_closed, "the gauges return to 0 after the clients left")


async def test_broker_lag_is_observed_for_messages_from_another_node(production):
    # A long sweep interval: the message must reach node 2 through Redis, not the store sweep.
    settings = production(sweep_interval_s=60)
    async with running_nodes(settings, production(sweep_interval_s=60)) as [n1, n2]:
        assert (await samples(n2))["ecolink_broker_lag_seconds_count"] == 0
        ann, bob = await register(n1.url), await register(n2.url)
        a = await WsClient.connect(n1.ws_url, ann["token"])
        b = await WsClient.connect(n2.ws_url, bob["token"])
        await a.join(ROOM)
        await b.join(ROOM)
        await a.send(ROOM, "across nodes")
        await b.recv_until(lambda f: f["type"] == "message")
        lag = await samples(n2)
        assert lag["ecolink_broker_lag_seconds_count"] == 1
        # the sending node's own echo is not a lag sample
        assert (await samples(n1))["ecolink_broker_lag_seconds_count"] == 0
        await a.close()
        await b.close()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


async def test_openapi_is_3_1_and_lists_every_api_route(make_settings):
    async with running_nodes(make_settings()) as [node]:
        response = await get(node, "/api/v1/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        doc = response.json()
        api_routes = {(route.path, method.lower())
                      for route in node.app.routes if isinstance(route, Route)
                      and route.path.startswith("/api/v1/") and route.path != "/api/v1/openapi.json"
                      for method in route.methods or () if method != "HEAD"}
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert len(api_routes) >= 6
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    missing = api_routes - documented
    assert not missing, f"routes missing from the OpenAPI document: {sorted(missing)}"
    for path, method in api_routes:
        operation = doc["paths"][path][method]
        assert operation.get("summary"), (path, method)
        assert operation.get("responses"), (path, method)
        assert all(str(status).isdigit() for status in operation["responses"]), (path, method)
    messages = doc["paths"]["/api/v1/rooms/{room}/messages"]["get"]
    assert {p["name"] for p in messages["parameters"]} == {"room", "after", "before", "limit"}
    for ref in refs(doc):
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            assert part in target, f"dangling $ref {ref}"
            target = target[part]
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "cookie"}


async def test_a_node_freezes_what_start_up_allocated(make_settings):
    """ECOLINK_GC_FREEZE (on by default; the tests' nodes turn it off): once the node is open,
    start-up's objects are in the permanent generation that full collections skip."""
    gc.unfreeze()
    try:
        async with running_nodes(make_settings(gc_freeze=True)) as [node]:
            assert gc.get_freeze_count() > 10_000
            async with http_client(node.url) as http:
                assert (await http.get("/readyz")).status_code == 200
    finally:
        gc.unfreeze()
