"""GET /api/v1/privacy over real sockets, on both backends: the bundled default in English and
Chinese until the operator writes one; the operator's file (ECOLINK_PRIVACY_FILE, or
privacy.<lang>.txt / privacy.txt in the data folder) once they do, edits showing without a
restart; no sign-in needed; an unknown language reads as English."""

from __future__ import annotations

import httpx

from tests.support.nodes import running_nodes
from tests.support.timing import timeout


async def notice(url: str, lang: str | None = None) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=timeout(10)) as http:
        response = await http.get("/api/v1/privacy", params={"lang": lang} if lang else None)
    assert response.status_code == 200, response.text
    return response.json()


async def test_bundled_default_then_the_operators_files(backend):
    settings = backend()
    async with running_nodes(settings) as [node]:
        en, zh = await notice(node.url), await notice(node.url, "zh")
        assert (en["lang"], en["source"]) == ("en", "default") and "operator" in en["text"]
        assert (zh["lang"], zh["source"]) == ("zh", "default") and "运营方" in zh["text"]
        assert (await notice(node.url, "../../etc/passwd"))["lang"] == "en"

        # The operator writes one notice for everyone, then a Chinese one: read on each request.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / "privacy.txt").write_text("Run by Liuzhou Tram Co. Contact: dpo@example.cn\n")
        assert (await notice(node.url, "zh"))["text"].startswith("Run by Liuzhou Tram Co.")
        (settings.data_dir / "privacy.zh.txt").write_text("由柳州电车公司运营。\n")
        zh = await notice(node.url, "zh")
        assert (zh["source"], zh["text"]) == ("operator", "由柳州电车公司运营。\n")
        assert (await notice(node.url, "en"))["text"].startswith("Run by Liuzhou Tram Co.")


async def test_privacy_file_setting_wins(backend, tmp_path):
    path = tmp_path / "notice.txt"
    path.write_text("Our own notice.\n")
    async with running_nodes(backend(privacy_file=path)) as [node]:
        for lang in ("en", "zh"):
            assert (await notice(node.url, lang))["text"] == "Our own notice.\n"
        path.unlink()  # gone by mistake: the default is served (and a warning logged), not an error
        assert (await notice(node.url))["source"] == "default"
