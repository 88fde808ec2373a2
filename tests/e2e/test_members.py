"""Profiles, the member directory and roles over real sockets, on both backends: the happy
paths, and bad input that gets a clear error naming the field, never echoing the value, and
changing nothing (invariant 7)."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.support.cli import cli_env, ecolink, ecolink_in_process
from tests.support.client import bearer, http_client, register
from tests.support.nodes import NodeServer, running_nodes

MARK = "Leak-Mark-7f3"  # put into bad values; must never come back


async def call(node: NodeServer, method: str, path: str, token: str | None = None,
               **kwargs: Any) -> httpx.Response:
    headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
    async with http_client(node.url) as http:
        return await http.request(method, path, headers=headers, **kwargs)


async def make_admin(node: NodeServer, account: dict[str, Any]) -> None:
    await node.node.store.set_role(account["user"]["id"], "admin")


FULL = {
    "display_name": "Liu Yang 刘洋",
    "affiliation": "city",
    "organisation": "柳州市住房和城乡建设局",
    "country": "cn",
    "city": "Liuzhou",
    "sectors": ["green-transport", "urban-renewal", "green-transport"],
    "languages": ["zh-hans", "en"],
    "time_zone": "Asia/Shanghai",
    "bio": "Electric buses 🚌\nand 城市更新　projects.",
}


async def test_members_read_and_edit_their_own_profile(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        mine = await call(node, "GET", "/api/v1/me/profile", ann["token"])
        assert mine.status_code == 200
        assert mine.json()["profile"] == {
            "id": ann["user"]["id"], "display_name": "Ann", "role": "member",
            "affiliation": "other", "organisation": "", "country": "", "city": "",
            "sectors": [], "languages": [], "time_zone": None, "bio": "", "alt_name": "",
            "joined_at": mine.json()["profile"]["joined_at"], "email": ann["user"]["email"]}

        updated = await call(node, "PATCH", "/api/v1/me/profile", ann["token"], json=FULL)
        assert updated.status_code == 200, updated.text
        profile = updated.json()["profile"]
        assert profile["display_name"] == "Liu Yang 刘洋" and profile["country"] == "CN"
        assert profile["sectors"] == ["green-transport", "urban-renewal"]  # de-duplicated
        assert profile["languages"] == ["en", "zh-Hans"]  # canonical case
        assert profile["bio"] == FULL["bio"] and profile["email"] == ann["user"]["email"]
        assert (await call(node, "GET", "/api/v1/me/profile", ann["token"])).json()["profile"] == profile

        # A partial update leaves the rest alone; "" clears a text field.
        partial = await call(node, "PATCH", "/api/v1/me/profile", ann["token"],
                             json={"city": "", "time_zone": "Europe/Berlin", "languages": []})
        assert partial.status_code == 200
        expected = {**profile, "city": "", "time_zone": "Europe/Berlin", "languages": []}
        assert partial.json()["profile"] == expected
        me = (await call(node, "GET", "/api/v1/me", ann["token"])).json()["user"]
        assert me["name"] == "Liu Yang 刘洋"

        # Others see the public profile: everything but the email.
        public = await call(node, "GET", f"/api/v1/members/{ann['user']['id']}", bob["token"])
        assert public.status_code == 200
        assert public.json()["member"] == {k: v for k, v in expected.items() if k != "email"}
        assert ann["user"]["email"] not in public.text
        # Bob's own update does not touch Ann's profile.
        await call(node, "PATCH", "/api/v1/me/profile", bob["token"], json={"city": "Delft"})
        again = await call(node, "GET", f"/api/v1/members/{ann['user']['id']}", bob["token"])
        assert again.json()["member"] == public.json()["member"]


BAD_PATCHES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("name not a string", {"display_name": 5}, {"display_name"}),
    ("blank name", {"display_name": "   "}, {"display_name"}),
    ("name too long", {"display_name": MARK * 10}, {"display_name"}),
    ("name null", {"display_name": None}, {"display_name"}),
    ("unknown affiliation", {"affiliation": MARK}, {"affiliation"}),
    ("affiliation as a list", {"affiliation": ["expert"]}, {"affiliation"}),
    ("country not a code", {"country": MARK}, {"country"}),
    ("unassigned country code", {"country": "XX"}, {"country"}),
    ("country as a number", {"country": 86}, {"country"}),
    ("country folding to a code", {"country": "ß"}, {"country"}),  # "ß".upper() == "SS"
    ("city too long", {"city": MARK * 7}, {"city"}),
    ("city with a newline", {"city": f"Liu\n{MARK}"}, {"city"}),
    ("organisation too long", {"organisation": "x" * 129}, {"organisation"}),
    ("sectors as a string", {"sectors": "green-transport"}, {"sectors"}),
    ("unknown sector", {"sectors": ["green-transport", MARK]}, {"sectors"}),
    ("a city room as sector", {"sectors": ["liuzhou"]}, {"sectors"}),
    ("sector not a string", {"sectors": [7]}, {"sectors"}),
    ("language not a tag", {"languages": [f"{MARK}"]}, {"languages"}),
    ("language as a string", {"languages": "en"}, {"languages"}),
    ("too many languages", {"languages": ["en", "de", "fr", "it", "es", "pt", "nl", "pl",
                                          "sv", "da", "fi"]}, {"languages"}),
    ("unknown time zone", {"time_zone": f"Mars/{MARK}"}, {"time_zone"}),
    ("offset as time zone", {"time_zone": "+08:00"}, {"time_zone"}),
    ("time zone as a number", {"time_zone": 8}, {"time_zone"}),
    ("alt name not a string", {"alt_name": 5}, {"alt_name"}),
    ("alt name too long", {"alt_name": MARK * 10}, {"alt_name"}),
    ("alt name a staff name", {"alt_name": "管理员"}, {"alt_name"}),
    ("bio too long", {"bio": MARK + "x" * 1000}, {"bio"}),
    ("bio with a control character", {"bio": f"{MARK}\x00"}, {"bio"}),
    ("bio as an object", {"bio": {"text": MARK}}, {"bio"}),
    ("role", {"role": "admin"}, {"role"}),
    ("email", {"email": f"{MARK}@example.test"}, {"email"}),
    ("unknown field", {"timezone": "Asia/Shanghai"}, {"timezone"}),
    ("several at once", {"bio": 1, "time_zone": "Nowhere", "city": "Liuzhou"}, {"bio", "time_zone"}),
]


async def test_bad_profile_fields_get_422_naming_each_field_and_change_nothing(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "Ann")
        before = (await call(node, "PATCH", "/api/v1/me/profile", ann["token"], json=FULL)).json()
        for name, body, fields in BAD_PATCHES:
            response = await call(node, "PATCH", "/api/v1/me/profile", ann["token"], json=body)
            assert response.status_code == 422, (name, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid" and set(error["details"]) == fields, (name, error)
            assert MARK not in response.text, name
        for content, why in ((b"{not json", "not JSON"), (b"[1, 2]", "not an object")):
            response = await call(node, "PATCH", "/api/v1/me/profile", ann["token"], content=content,
                                  headers={"Content-Type": "application/json"})
            assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request", why
        plain = await call(node, "PATCH", "/api/v1/me/profile", ann["token"], content=b"city=x")
        assert plain.status_code == 400
        huge = await call(node, "PATCH", "/api/v1/me/profile", ann["token"], json={"bio": "x" * 70_000})
        assert huge.status_code == 413
        assert (await call(node, "PATCH", "/api/v1/me/profile", json={"city": "x"})).status_code == 401
        assert (await call(node, "GET", "/api/v1/me/profile")).status_code == 401
        after = await call(node, "GET", "/api/v1/me/profile", ann["token"])
        assert after.json() == before


async def test_a_cookie_profile_edit_from_a_foreign_origin_is_refused(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "Ann")
        cookie = {"Cookie": f"ecolink_session={ann['token']}"}
        foreign = await call(node, "PATCH", "/api/v1/me/profile", json={"city": "Evil"},
                             headers={**cookie, "Origin": "https://evil.example"})
        assert foreign.status_code == 403
        own = await call(node, "PATCH", "/api/v1/me/profile", json={"city": "Hefei"},
                         headers={**cookie, "Origin": node.url})
        assert own.status_code == 200 and own.json()["profile"]["city"] == "Hefei"


async def test_the_directory_filters_searches_and_pages(backend):
    async with running_nodes(backend()) as [node]:
        people = {
            "Anna Schmidt": {"affiliation": "expert", "city": "Munich", "country": "DE",
                             "sectors": ["green-transport"], "languages": ["de", "en"],
                             "organisation": "Technische Universität München"},
            "王芳": {"affiliation": "city", "city": "Liuzhou", "country": "CN",
                    "sectors": ["green-transport", "urban-renewal"], "languages": ["zh-Hans"],
                    "organisation": "柳州市交通运输局"},
            "bert Jansen": {"affiliation": "expert", "city": "liuzhou", "country": "NL",
                            "sectors": ["water-management"], "languages": ["nl", "en", "zh"]},
            "Chen Li": {"affiliation": "academic", "city": "Hefei", "sectors": ["clean-energy"],
                        "languages": ["zh", "en"], "organisation": "USTC"},
        }
        accounts = {}
        for name, fields in people.items():
            accounts[name] = await register(node.url)  # its email is made from the name
            response = await call(node, "PATCH", "/api/v1/me/profile", accounts[name]["token"],
                                  json={"display_name": name, **fields})
            assert response.status_code == 200, response.text
        token = accounts["Chen Li"]["token"]

        async def names(query: str) -> list[str]:
            response = await call(node, "GET", f"/api/v1/members?{query}", token)
            assert response.status_code == 200, (query, response.text)
            return [m["display_name"] for m in response.json()["members"]]

        everyone = ["Anna Schmidt", "bert Jansen", "Chen Li", "王芳"]
        assert await names("") == everyone  # case-insensitive by name, then id
        assert await names("sector=green-transport") == ["Anna Schmidt", "王芳"]
        assert await names("sector=green-transport&affiliation=expert") == ["Anna Schmidt"]
        assert await names("city=LIUZHOU") == ["bert Jansen", "王芳"]
        assert await names("city=Liuzhou&language=zh") == ["bert Jansen", "王芳"]  # zh-Hans too
        assert await names("language=EN&affiliation=academic") == ["Chen Li"]
        assert await names("q=schmidt") == ["Anna Schmidt"]
        assert await names("q=%E6%9F%B3%E5%B7%9E") == ["王芳"]  # 柳州, in the organisation
        assert await names("q=王") == ["王芳"]
        assert await names("q=münchen") == ["Anna Schmidt"]
        assert await names("q=ustc&city=Hefei&sector=clean-energy&language=zh&affiliation=academic") == ["Chen Li"]
        assert await names("sector=solid-waste") == []
        assert await names("sector=&city=&q=") == everyone  # empty values count as absent
        listed = (await call(node, "GET", "/api/v1/members", token)).json()
        assert listed["next"] is None
        assert all("email" not in member for member in listed["members"])

        # Paging: `next` leads through every member exactly once.
        seen, after = [], None
        while True:
            query = "limit=1" + (f"&after={after}" if after else "")
            page = (await call(node, "GET", f"/api/v1/members?{query}", token)).json()
            seen += [m["display_name"] for m in page["members"]]
            after = page["next"]
            if after is None:
                break
        assert seen == everyone
        page = (await call(node, "GET", "/api/v1/members?limit=2&sector=green-transport", token)).json()
        assert [m["display_name"] for m in page["members"]] == ["Anna Schmidt", "王芳"]


def cursor(doc: str) -> str:
    return base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")


BAD_QUERIES: list[tuple[str, str]] = [
    ("sector=mars", "sector"),
    ("sector=liuzhou", "sector"),
    ("affiliation=boss", "affiliation"),
    ("language=english", "language"),
    ("language=zh_CN", "language"),
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=ten", "limit"),
    ("limit=-1", "limit"),
    ("limit=%EF%BC%91", "limit"),  # a full-width digit one
    ("limit=1e2", "limit"),
    ("limit=99999999999999999999999", "limit"),
    ("after=not-a-cursor", "after"),
    ("after=" + cursor('["ann"]'), "after"),
    ("after=" + cursor('["ann", "5"]'), "after"),
    ("after=" + cursor('["ann", true]'), "after"),
    ("after=" + cursor('{"a": 1}'), "after"),
    ("after=" + "A" * 600, "after"),
    ("sector=green-transport&sector=clean-energy", "sector"),
    ("sector=&sector=clean-energy", "sector"),
    ("q=" + "x" * 65, "q"),
    ("q=a%00b", "q"),
    ("city=" + "y" * 65, "city"),
]


async def test_bad_directory_queries_get_400_naming_the_parameter(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "Ann")
        for query, parameter in BAD_QUERIES:
            response = await call(node, "GET", f"/api/v1/members?{query}", ann["token"])
            assert response.status_code == 400, (query, response.text)
            error = response.json()["error"]
            assert error["code"] == "bad_request" and f"'{parameter}'" in error["message"], (query, error)
        assert (await call(node, "GET", "/api/v1/members")).status_code == 401
        # Unknown parameters are ignored, as everywhere in the API.
        assert (await call(node, "GET", "/api/v1/members?colour=green", ann["token"])).status_code == 200
        for path, status in (("/api/v1/members/abc", 400), ("/api/v1/members/0", 400),
                             ("/api/v1/members/-3", 400), ("/api/v1/members/%C2%B2", 400),
                             ("/api/v1/members/99999999999999999999", 400),
                             ("/api/v1/members/424242", 404)):
            response = await call(node, "GET", path, ann["token"])
            assert response.status_code == status, (path, response.text)


async def test_admins_grant_roles_and_nobody_else_can(backend):
    async with running_nodes(backend()) as [node]:
        root, ann, bob = [await register(node.url, name) for name in ("Root", "Ann", "Bob")]
        await make_admin(node, root)
        ann_role = f"/api/v1/members/{ann['user']['id']}/role"
        # Members and moderators get 403, whatever the target or body.
        for body in ({"role": "admin"}, {"role": MARK}, {}):
            refused = await call(node, "PUT", ann_role, bob["token"], json=body)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
            assert MARK not in refused.text
        refused = await call(node, "PUT", "/api/v1/members/424242/role", bob["token"], json={"role": "admin"})
        assert refused.status_code == 403
        assert (await call(node, "PUT", ann_role, ann["token"], json={"role": "admin"})).status_code == 403
        assert (await call(node, "PUT", ann_role, json={"role": "admin"})).status_code == 401

        granted = await call(node, "PUT", ann_role, root["token"], json={"role": "moderator"})
        assert granted.status_code == 200, granted.text
        assert granted.json()["member"]["role"] == "moderator" and "email" not in granted.json()["member"]
        me = (await call(node, "GET", "/api/v1/me", ann["token"])).json()["user"]
        assert me["role"] == "moderator"  # the same session sees its new role
        listed = (await call(node, "GET", "/api/v1/members?q=ann", bob["token"])).json()["members"]
        assert [m["role"] for m in listed] == ["moderator"]
        # A moderator cannot grant roles either.
        bob_role = f"/api/v1/members/{bob['user']['id']}/role"
        assert (await call(node, "PUT", bob_role, ann["token"], json={"role": "moderator"})).status_code == 403

        for body, field in (({"role": "owner"}, "role"), ({"role": None}, "role"), ({}, "role"),
                            ({"role": ["admin"]}, "role")):
            bad = await call(node, "PUT", ann_role, root["token"], json=body)
            assert bad.status_code == 422 and set(bad.json()["error"]["details"]) == {field}, body
        unknown = await call(node, "PUT", "/api/v1/members/424242/role", root["token"], json={"role": "admin"})
        assert unknown.status_code == 404
        assert (await call(node, "PUT", "/api/v1/members/x/role", root["token"],
                           json={"role": "admin"})).status_code == 400

        # The last admin cannot step down; after making another admin they can.
        root_role = f"/api/v1/members/{root['user']['id']}/role"
        last = await call(node, "PUT", root_role, root["token"], json={"role": "member"})
        assert last.status_code == 409 and last.json()["error"]["code"] == "conflict"
        assert (await call(node, "PUT", ann_role, root["token"], json={"role": "admin"})).status_code == 200
        down = await call(node, "PUT", root_role, root["token"], json={"role": "member"})
        assert down.status_code == 200 and down.json()["member"]["role"] == "member"
        # Roles are read per request: the demoted admin's session can no longer grant.
        assert (await call(node, "PUT", bob_role, root["token"], json={"role": "admin"})).status_code == 403


async def test_the_cli_sets_roles_on_the_running_nodes_store(backend):
    settings = backend()
    async with running_nodes(settings) as [node]:
        ann = await register(node.url, "Ann")
        env = cli_env(ECOLINK_DATABASE_URL=settings.database_url) if settings.database_url \
            else cli_env(ECOLINK_DATA_DIR=str(settings.data_dir))
        email = ann["user"]["email"]
        done = await ecolink("set-role", "--email", email.upper(), "--role", "moderator", env=env)
        assert done.code == 0, done.out
        assert f"user {ann['user']['id']} is now moderator" in done.out
        me = (await call(node, "GET", "/api/v1/me", ann["token"])).json()["user"]
        assert me["role"] == "moderator"
        promoted = await ecolink("set-role", "--email", email, "--role", "admin", env=env)
        assert promoted.code == 0, promoted.out
        last = await ecolink("set-role", "--email", email, "--role", "member", env=env)
        assert last.code == 2 and "last admin" in last.out and "Traceback" not in last.out
        unknown = await ecolink("set-role", "--email", "nobody@example.test", "--role", "admin", env=env)
        assert unknown.code == 2 and "no account with this email" in unknown.out
        bad = ecolink_in_process("set-role", "--email", email, "--role", "owner", env=env)  # the parser's
        assert bad.code == 2 and "Invalid value for '--role'" in bad.out
        assert (await call(node, "GET", "/api/v1/me", ann["token"])).json()["user"]["role"] == "admin"
