"""Static checks of the deployment files: docker-compose.yml, deploy/nginx.conf, Dockerfile.

Docker is not run here; these tests read the files and check the wiring that the
production shape depends on (docs/operations.md): both nodes reach PostgreSQL and Redis by
service name, start only after the migrate job succeeded, and sit behind an nginx that
upgrades WebSockets on /ws and is the only peer whose X-Forwarded-For they believe (one test
runs a real node with the file's FORWARDED_ALLOW_IPS against a spoofed header).
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from pathlib import Path
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from chat.config import Settings
from tests.support.nodes import NodeServer
from tests.support.timing import timeout

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_FILE = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"

NODES = ("node1", "node2")
APP_PORT = 8000


# --- docker-compose.yml -------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def _interpolate(value: str) -> str:
    """Resolve `${VAR:-default}` as compose would with VAR unset (`${VAR}` becomes "")."""
    return _INTERPOLATION.sub(lambda m: m.group("default") or "", value)


def _environment(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or a list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else _interpolate(str(v)) for k, v in env.items()}


def _depends_on(service: dict) -> dict[str, str]:
    """depends_on as {service: condition}; the short list form means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _argv(command: str | list | None) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def _healthcheck_text(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return " ".join(test) if isinstance(test, list) else str(test)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def test_compose_defines_all_services(services: dict) -> None:
    for name in ("postgres", "redis", "minio", "mailpit", "migrate", *NODES, "nginx"):
        assert name in services, f"docker-compose.yml has no service {name!r}"


def test_postgres_is_durable_and_checked(services: dict) -> None:
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:15")
    assert "synchronous_commit=on" in _argv(postgres.get("command")), (
        "invariant 1: PostgreSQL must run with synchronous_commit=on"
    )
    assert "pg_isready" in _healthcheck_text(postgres)
    assert any(":/var/lib/postgresql/data" in str(v) for v in postgres.get("volumes", [])), (
        "PostgreSQL data must live on a volume"
    )


def test_redis_is_healthchecked(services: dict) -> None:
    redis = services["redis"]
    assert str(redis["image"]).startswith("redis:7")
    assert "redis-cli" in _healthcheck_text(redis)


@pytest.mark.parametrize("node", NODES)
def test_node_reaches_store_and_broker_by_service_name(services: dict, node: str) -> None:
    env = _environment(services[node])
    database = urlsplit(env.get("ECOLINK_DATABASE_URL", ""))
    assert database.scheme in ("postgresql", "postgres"), env.get("ECOLINK_DATABASE_URL")
    assert database.hostname == "postgres", "ECOLINK_DATABASE_URL must point at the postgres service"
    redis = urlsplit(env.get("ECOLINK_REDIS_URL", ""))
    assert redis.scheme == "redis", env.get("ECOLINK_REDIS_URL")
    assert redis.hostname == "redis", "ECOLINK_REDIS_URL must point at the redis service"


def test_minio_keeps_files_on_a_volume_and_is_checked(compose: dict, services: dict) -> None:
    minio = services["minio"]
    assert _interpolate(str(minio["image"])).startswith("minio/minio:RELEASE."), "pin a release"
    argv = _argv(minio.get("command"))
    assert argv[:2] == ["server", "/data"], argv
    volumes = [str(v) for v in minio.get("volumes", [])]
    named = [v.split(":")[0] for v in volumes if v.endswith(":/data")]
    assert named and named[0] in (compose.get("volumes") or {}), (
        f"MinIO's data must live on a named volume, got {volumes}")
    assert _healthcheck_text(minio) == "CMD mc ready local", "the image has no curl"
    env = _environment(minio)
    assert len(env["MINIO_ROOT_PASSWORD"]) >= 8, "MinIO refuses a root password under 8 characters"


@pytest.mark.parametrize("node", NODES)
def test_node_sends_mail_to_the_local_mail_catcher(services: dict, node: str) -> None:
    env = _environment(services[node])
    mailpit = services["mailpit"]
    assert _interpolate(str(mailpit["image"])).startswith("axllent/mailpit:v"), "pin a release"
    assert [str(p) for p in mailpit.get("ports", [])] == ["127.0.0.1:8025:8025"], "its page: this machine only"
    settings = Settings(_env_file=None, **{k.removeprefix("ECOLINK_").lower(): v for k, v in env.items()
                                          if k.startswith(("ECOLINK_SMTP_", "ECOLINK_PUBLIC_URL"))})
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == ("mailpit", 1025, "none")
    assert settings.smtp_username is None and settings.smtp_password is None
    assert settings.public_base == "http://localhost:8080", "links in emails lead to nginx"


@pytest.mark.parametrize("node", NODES)
def test_node_keeps_files_in_minio(services: dict, node: str) -> None:
    env = _environment(services[node])
    minio = _environment(services["minio"])
    url = urlsplit(env.get("ECOLINK_S3_URL", ""))
    assert (url.scheme, url.hostname, url.port) == ("http", "minio", 9000), env.get("ECOLINK_S3_URL")
    assert env.get("ECOLINK_S3_ACCESS_KEY") == minio["MINIO_ROOT_USER"]
    assert env.get("ECOLINK_S3_SECRET_KEY") == minio["MINIO_ROOT_PASSWORD"]
    assert env.get("ECOLINK_S3_CREATE_BUCKET", "").lower() == "true", "nothing else creates the bucket"
    assert _depends_on(services[node]).get("minio") == "service_healthy"
    settings = Settings(_env_file=None, **{k.removeprefix("ECOLINK_").lower(): v
                                          for k, v in env.items() if k.startswith("ECOLINK_S3_")})
    assert settings.s3_url == "http://minio:9000" and settings.s3_bucket == "ecolink"


@pytest.mark.parametrize("node", NODES)
def test_node_leaves_migrations_to_the_migrate_job(services: dict, node: str) -> None:
    env = _environment(services[node])
    assert env.get("ECOLINK_AUTO_MIGRATE", "").lower() == "false"
    deps = _depends_on(services[node])
    assert deps.get("migrate") == "service_completed_successfully"
    assert deps.get("redis") == "service_healthy"


@pytest.mark.parametrize("node", NODES)
def test_node_healthcheck_uses_readiness(services: dict, node: str) -> None:
    check = _healthcheck_text(services[node])
    assert "/readyz" in check
    assert "curl" not in check, "the slim image has no curl"


def test_nodes_and_migrate_run_the_same_image(services: dict) -> None:
    images = {name: services[name].get("image") for name in ("migrate", *NODES)}
    assert None not in images.values(), images
    assert len(set(images.values())) == 1, f"schema and code must come from one image: {images}"


def test_migrate_runs_ecolink_migrate_after_postgres(services: dict) -> None:
    migrate = services["migrate"]
    assert _argv(migrate.get("command")) == ["ecolink", "migrate"]
    assert _depends_on(migrate).get("postgres") == "service_healthy"
    database = urlsplit(_environment(migrate).get("ECOLINK_DATABASE_URL", ""))
    assert database.hostname == "postgres"
    # A one-shot job: restarting it would keep nodes waiting on "completed successfully".
    assert str(migrate.get("restart", "no")) in ("no", "on-failure")


def test_nginx_publishes_8080_and_mounts_the_conf(services: dict) -> None:
    nginx = services["nginx"]
    assert str(nginx["image"]).startswith("nginx:1.27")
    assert "8080:80" in [str(p) for p in nginx.get("ports", [])]
    mounts = [str(v) for v in nginx.get("volumes", [])]
    assert any(
        m.split(":")[0] in ("./deploy/nginx.conf", "deploy/nginx.conf")
        and m.split(":")[1] == "/etc/nginx/nginx.conf"
        for m in mounts
    ), f"deploy/nginx.conf must be mounted as /etc/nginx/nginx.conf, got {mounts}"
    assert set(NODES) <= set(_depends_on(nginx))


def _nginx_edge_address(compose: dict) -> tuple[str, str]:
    """(network, address) of nginx's one fixed address on a network it shares with the nodes."""
    networks = compose["services"]["nginx"].get("networks") or {}
    assert isinstance(networks, dict), "nginx needs a fixed address (networks: {edge: {ipv4_address}})"
    fixed = [(name, _interpolate(str((spec or {}).get("ipv4_address", ""))))
             for name, spec in networks.items() if (spec or {}).get("ipv4_address")]
    assert len(fixed) == 1, f"nginx must have exactly one fixed address, got {networks}"
    return fixed[0]


def _forwarded_allow_ips(services: dict, node: str) -> list[str]:
    value = _environment(services[node]).get("FORWARDED_ALLOW_IPS", "")
    return [part.strip() for part in value.split(",") if part.strip()]


@pytest.mark.parametrize("node", NODES)
def test_nodes_believe_forwarded_headers_from_nginx_alone(compose: dict, services: dict,
                                                          node: str) -> None:
    """FORWARDED_ALLOW_IPS is nginx's fixed address, on a network the node is on: "*" (or any
    wider range) would let a client pick the address every per-address limit keys on."""
    network, address = _nginx_edge_address(compose)
    trusted = _forwarded_allow_ips(services, node)
    assert trusted == [address], f"{node} trusts {trusted}; only nginx ({address}) may be"
    assert ipaddress.ip_address(address)  # a single address, not a range or "*"
    subnets = [_interpolate(str(entry["subnet"]))
               for entry in compose["networks"][network]["ipam"]["config"]]
    assert any(ipaddress.ip_address(address) in ipaddress.ip_network(net) for net in subnets), (
        f"nginx's address {address} is outside the {network} network {subnets}")
    _assert_nginx_address_never_handed_out(compose["networks"][network]["ipam"]["config"], address)
    node_networks = services[node].get("networks") or []
    assert network in node_networks, f"{node} is not on nginx's network {network}"


def _assert_nginx_address_never_handed_out(config: list[dict], address: str) -> None:
    """Docker gives containers without a fixed address one from the subnet's ip_range (the
    whole subnet without one): each subnet needs an ip_range inside it that leaves nginx's
    address out, or a node started before nginx could be given it and be trusted."""
    for entry in config:
        subnet = ipaddress.ip_network(_interpolate(str(entry["subnet"])))
        assert entry.get("ip_range"), f"subnet {subnet} has no ip_range: nginx's address may be handed out"
        ip_range = ipaddress.ip_network(_interpolate(str(entry["ip_range"])))
        assert ip_range.subnet_of(subnet), f"ip_range {ip_range} is not inside {subnet}"
        assert ipaddress.ip_address(address) not in ip_range, (
            f"nginx's address {address} is in the ip_range {ip_range} Docker hands out")


def test_an_ip_range_that_holds_nginxs_address_is_refused() -> None:
    """The check above can fail: without an ip_range, or with one that holds the address."""
    subnet = "172.30.80.0/24"
    for entry in ({"subnet": subnet}, {"subnet": subnet, "ip_range": "172.30.80.0/25"},
                  {"subnet": subnet, "ip_range": "172.30.81.128/25"}):
        with pytest.raises(AssertionError):
            _assert_nginx_address_never_handed_out([entry], "172.30.80.10")
    _assert_nginx_address_never_handed_out([{"subnet": subnet, "ip_range": "172.30.80.128/25"}],
                                           "172.30.80.10")


async def _login_failures(settings: Settings, trusted: str) -> list[int]:
    """Statuses of five failed logins for one email, each with another client-sent
    X-Forwarded-For, against a node that believes that header from `trusted`."""
    node = NodeServer(settings, proxy_headers=True, forwarded_allow_ips=trusted)
    await node.start()
    try:
        async with httpx.AsyncClient(base_url=node.url, timeout=timeout(10)) as http:
            statuses = []
            for attempt in range(5):
                response = await http.post(
                    "/api/v1/sessions",
                    json={"email": "victim@example.test", "password": "wrong password"},
                    headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
                )
                statuses.append(response.status_code)
        return statuses
    finally:
        await node.stop()


async def test_a_client_sent_x_forwarded_for_is_not_the_address_the_node_sees(
    services: dict, make_settings: Callable[..., Settings]
) -> None:
    """The attack: rotate X-Forwarded-For to dodge the per-address login limit. A node run
    with the compose file's FORWARDED_ALLOW_IPS, reached from an address that is not nginx's
    (this test, on 127.0.0.1), keys every attempt on 127.0.0.1 and refuses once the limit for
    that account from that address (ECOLINK_LOGIN_FAILURES_MAX) is spent."""
    settings = make_settings(login_failures_max=1)
    trusted = ",".join(_forwarded_allow_ips(services, NODES[0]))
    assert await _login_failures(settings, trusted) == [401, 429, 429, 429, 429]
    # What the old FORWARDED_ALLOW_IPS="*" allowed: every attempt from a "new" address.
    settings = make_settings(login_failures_max=1, data_dir=settings.data_dir.with_name("star"))
    assert await _login_failures(settings, "*") == [401] * 5


# --- deploy/nginx.conf --------------------------------------------------------------


class Directive:
    """One nginx directive: its name, arguments and, for a block, its children."""

    def __init__(self, name: str, args: list[str], children: list[Directive] | None) -> None:
        self.name, self.args, self.children = name, args, children

    def find(self, name: str) -> list[Directive]:
        return [d for d in self.children or [] if d.name == name]

    def walk(self):
        for child in self.children or []:
            yield child
            yield from child.walk()

    def __repr__(self) -> str:
        return f"Directive({self.name!r}, {self.args!r})"


_TOKEN = re.compile(r"""\s+|#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#]+)""")


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match, f"nginx.conf: cannot tokenise at offset {pos}: {text[pos:pos + 30]!r}"
        pos = match.end()
        for group in match.groups():
            if group is not None:
                tokens.append(group)
                break
    return tokens


def parse_nginx(text: str) -> Directive:
    """Parse nginx's configuration syntax into a tree (enough for structural checks)."""
    root = Directive("", [], [])
    stack, words = [root], []
    for token in _tokens(text):
        if token == ";":
            assert words, "nginx.conf: empty directive"
            stack[-1].children.append(Directive(words[0], words[1:], None))
            words = []
        elif token == "{":
            assert words, "nginx.conf: block without a name"
            block = Directive(words[0], words[1:], [])
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words and len(stack) > 1, "nginx.conf: unbalanced '}'"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "nginx.conf: unclosed block or directive"
    return root


def _headers(location: Directive) -> dict[str, str]:
    return {d.args[0].lower(): " ".join(d.args[1:]) for d in location.find("proxy_set_header")}


def _single(directives: list[Directive], what: str) -> Directive:
    assert len(directives) == 1, f"expected exactly one {what}, found {directives}"
    return directives[0]


@pytest.fixture(scope="module")
def nginx_conf() -> Directive:
    return parse_nginx(NGINX_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def http(nginx_conf: Directive) -> Directive:
    # Mounted over /etc/nginx/nginx.conf, so the file is a whole configuration.
    assert nginx_conf.find("events"), "a full nginx.conf needs an events block"
    return _single(nginx_conf.find("http"), "http block")


@pytest.fixture(scope="module")
def server(http: Directive) -> Directive:
    return _single(http.find("server"), "server block")


def _location(server: Directive, path: str) -> Directive:
    matches = [d for d in server.find("location") if d.args and d.args[-1] == path]
    return _single(matches, f"location {path}")


def _upstream_servers(http: Directive, name: str) -> list[str]:
    upstream = _single([u for u in http.find("upstream") if u.args == [name]], f"upstream {name}")
    return [d.args[0] for d in upstream.find("server")]


def test_nginx_upstream_lists_both_nodes(http: Directive) -> None:
    upstreams = http.find("upstream")
    assert upstreams, "nginx.conf defines no upstream"
    servers = [s for u in upstreams for s in _upstream_servers(http, u.args[0])]
    for node in NODES:
        assert f"{node}:{APP_PORT}" in servers, f"upstream lacks {node}:{APP_PORT}: {servers}"


def test_nginx_maps_upgrade_to_connection(http: Directive) -> None:
    maps = [m for m in http.find("map") if m.args == ["$http_upgrade", "$connection_upgrade"]]
    entries = {d.name: d.args for d in _single(maps, "map $http_upgrade $connection_upgrade").children}
    assert entries.get("default") == ["upgrade"]
    assert entries.get("") == ["close"]


def test_nginx_ws_location_upgrades(http: Directive, server: Directive) -> None:
    ws = _location(server, "/ws")
    assert _single(ws.find("proxy_http_version"), "proxy_http_version").args == ["1.1"]
    headers = _headers(ws)
    assert headers.get("upgrade") == "$http_upgrade"
    assert headers.get("connection") == "$connection_upgrade"
    assert _single(ws.find("proxy_buffering"), "proxy_buffering").args == ["off"]
    read_timeout = _single(ws.find("proxy_read_timeout"), "proxy_read_timeout").args[0]
    assert read_timeout not in ("60", "60s", "1m"), "WebSockets need a long proxy_read_timeout"
    _assert_proxies_to_nodes(http, ws)


def test_nginx_sends_one_clients_polls_to_one_node(http: Directive, server: Directive) -> None:
    """The long-polling fallback's session lives on one node: its location is sticky per
    client address (docs/operations.md, "Scaling out")."""
    poll = _location(server, "/api/v1/poll")
    target = _single(poll.find("proxy_pass"), "proxy_pass").args[0].removeprefix("http://")
    upstream = _single([u for u in http.find("upstream") if u.args == [target]], f"upstream {target}")
    sticky = [d.args for d in upstream.find("hash")] + [["ip_hash"] for _ in upstream.find("ip_hash")]
    assert sticky and sticky[0][0] in ("$remote_addr", "ip_hash"), sticky
    read_timeout = _single(poll.find("proxy_read_timeout"), "proxy_read_timeout").args[0]
    assert read_timeout.rstrip("s").isdigit() and int(read_timeout.rstrip("s")) > 25, read_timeout


@pytest.mark.parametrize("path", ["/ws", "/", "/api/v1/poll", "/api/v1/uploads", "/api/v1/files"])
def test_nginx_forwards_host_and_client(http: Directive, server: Directive, path: str) -> None:
    location = _location(server, path)
    headers = _headers(location)
    # $http_host, not $host: the node compares Origin with Host, port included.
    assert headers.get("host") == "$http_host"
    # The address nginx saw, never appended to the client's own header: the nodes believe
    # this header (from nginx only), so a client-sent value must not survive it.
    assert headers.get("x-forwarded-for") == "$remote_addr"
    assert headers.get("x-forwarded-proto") == "$scheme"
    _assert_proxies_to_nodes(http, location)


@pytest.mark.parametrize("path", ["/api/v1/uploads", "/api/v1/files"])
def test_nginx_streams_uploads_to_the_node_without_a_cap_of_its_own(server: Directive, path: str) -> None:
    """The node caps uploads while it streams them (ECOLINK_UPLOAD_MAX_MB); nginx's 25m
    default would refuse a one-shot upload, and its request buffering would spool a whole
    upload to disk before the node saw a byte."""
    location = _location(server, path)
    assert _single(location.find("client_max_body_size"), "client_max_body_size").args == ["0"]
    assert _single(location.find("proxy_request_buffering"), "proxy_request_buffering").args == ["off"]


def test_nginx_compresses_the_api_and_client_but_never_the_websocket(server: Directive) -> None:
    # The nodes compress (ECOLINK_HTTP_GZIP); nginx keeps the same types as a fallback and must
    # never strip the client's Accept-Encoding or compress the upgraded connection.
    root = _location(server, "/")
    assert _single(root.find("gzip"), "gzip").args == ["on"]
    types = set(_single(root.find("gzip_types"), "gzip_types").args)
    assert {"text/javascript", "application/json", "text/css"} <= types
    assert _single(root.find("gzip_proxied"), "gzip_proxied").args == ["any"]
    assert _single(root.find("gzip_vary"), "gzip_vary").args == ["on"]
    assert "accept-encoding" not in _headers(root)
    ws = _location(server, "/ws")
    assert [d.args for d in ws.find("gzip")] in ([], [["off"]])


def _assert_proxies_to_nodes(http: Directive, location: Directive) -> None:
    target = _single(location.find("proxy_pass"), "proxy_pass").args[0]
    assert target.startswith("http://"), target
    servers = _upstream_servers(http, target.removeprefix("http://").rstrip("/"))
    assert {f"{node}:{APP_PORT}" for node in NODES} <= set(servers)


def test_nginx_parser_sees_through_comments_and_quotes() -> None:
    tree = parse_nginx('a "x;y"; # b { ;\nc { d \'\'; }\n')
    assert [(d.name, d.args) for d in tree.children] == [("a", ["x;y"]), ("c", [])]
    assert tree.children[1].children[0].args == [""]
    with pytest.raises(AssertionError):
        parse_nginx("http { server { }")


# --- Dockerfile ---------------------------------------------------------------------


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    instructions, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment lines inside a continuation are ignored by Docker
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, "Dockerfile ends inside a line continuation"
    return instructions


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1]:]


@pytest.fixture(scope="module")
def final_stage() -> list[tuple[str, str]]:
    return _final_stage(_dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8")))


def _last(stage: list[tuple[str, str]], keyword: str) -> str | None:
    values = [rest for k, rest in stage if k == keyword]
    return values[-1] if values else None


def test_dockerfile_cmd_serves_on_all_interfaces(final_stage: list[tuple[str, str]]) -> None:
    assert final_stage[0][1].split()[0] == "python:3.11-slim"
    cmd = _last(final_stage, "CMD")
    assert cmd is not None, "the image has no CMD"
    argv = json.loads(cmd)  # exec form, so SIGTERM reaches ecolink itself
    assert argv[:2] == ["ecolink", "serve"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert argv[argv.index("--port") + 1] == str(APP_PORT)
    assert _last(final_stage, "ENTRYPOINT") is None, "an ENTRYPOINT would change what CMD runs"


def test_dockerfile_runs_as_non_root(final_stage: list[tuple[str, str]]) -> None:
    user = _last(final_stage, "USER")
    assert user is not None, "the image runs as root"
    assert user.split(":")[0] not in ("root", "0")


def test_dockerfile_healthcheck_uses_python(final_stage: list[tuple[str, str]]) -> None:
    check = _last(final_stage, "HEALTHCHECK")
    assert check is not None, "the image has no HEALTHCHECK"
    assert "python" in check and "/healthz" in check
    assert "curl" not in check


def test_dockerfile_pip_installs_the_project(final_stage: list[tuple[str, str]]) -> None:
    runs = [rest for k, rest in final_stage if k == "RUN"]
    assert any(re.search(r"\bpip install\b[^&;]*\s\.(\s|$)", run) for run in runs), runs
