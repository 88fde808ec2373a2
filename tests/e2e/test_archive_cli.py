"""`ecolink export personal|compliance` and `ecolink audit` as subprocesses against the
database of running production nodes: the files they write, the audit entries they leave, and
bad arguments refused with exit code 2 and nothing recorded."""

from __future__ import annotations

import io
import json
import zipfile

from tests.e2e.test_archive import check_manifest, jsonl
from tests.support.cli import cli_env, ecolink, ecolink_in_process
from tests.support.client import WsClient, register, send_acked
from tests.support.nodes import running_nodes

ROOM = "water-management"


async def test_the_operator_exports_a_members_archive_and_reads_the_audit_log(production, tmp_path):
    settings = production()
    env = cli_env(ECOLINK_DATABASE_URL=settings.database_url)
    async with running_nodes(settings) as [node]:
        ann = await register(node.url, "Ann")
        a = await WsClient.connect(node.ws_url, ann["token"])
        sent = await send_acked(a, ROOM, "水 and energy", "a1")
        await a.close()

        out = tmp_path / "ann.zip"
        result = await ecolink("export", "personal", "--user", ann["user"]["email"].upper(), "-o", str(out),
                               "--lang", "en", env=env)
        assert result.code == 0, result.out
        assert ann["user"]["email"] not in result.out  # the email is an argument, never echoed
        with zipfile.ZipFile(out) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        check_manifest(files)
        assert [m["id"] for m in jsonl(files["messages.jsonl"])] == [sent["id"]]
        # To stdout when no file is named.
        piped = await ecolink("export", "personal", "--user", ann["user"]["email"], env=env)
        assert piped.code == 0 and piped.stdout_bytes.startswith(b"PK\x03\x04")  # nothing else on stdout
        with zipfile.ZipFile(io.BytesIO(piped.stdout_bytes)) as archive:
            assert json.loads(archive.read("profile.json"))["account"]["id"] == ann["user"]["id"]

        # The parser's refusal in this process; the command's own as a subprocess.
        unknown = await ecolink("export", "personal", "--user", "nobody@example.test", "-o", str(tmp_path / "x.zip"), env=env)
        bad_lang = ecolink_in_process("export", "personal", "--user", ann["user"]["email"], "--lang", "fr",
                                      "-o", str(tmp_path / "x.zip"), env=env)
        for refused, message in ((unknown, "no account with this email"), (bad_lang, "Invalid value for '--lang'")):
            assert refused.code == 2 and message in refused.out, refused.out
            assert not (tmp_path / "x.zip").exists()

        log = await ecolink("audit", "--limit", "10", env=env)
        assert log.code == 0, log.out
        lines = log.stdout.splitlines()
        assert len(lines) == 2  # the two exports; the refused ones left nothing
        assert all("operator (command line)\texport.personal\t" in line for line in lines)
        assert f'"user_id": {ann["user"]["id"]}' in lines[1] and '"lang": "en"' in lines[1]
        zero = ecolink_in_process("audit", "--limit", "0", env=env)  # the parser's refusal
        assert zero.code == 2 and "Invalid value for '--limit'" in zero.out, zero.out


async def test_the_operator_runs_a_compliance_export_of_a_direct_conversation(production, tmp_path):
    from tests.e2e.test_reads import open_direct

    settings = production()
    env = cli_env(ECOLINK_DATABASE_URL=settings.database_url)
    async with running_nodes(settings) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        direct = await open_direct(node, ann, bob)
        a = await WsClient.connect(node.ws_url, ann["token"])
        await send_acked(a, direct, "just between us", "a1")
        await a.close()

    out = tmp_path / "compliance.zip"
    result = await ecolink("export", "compliance", "--rooms", f"{direct},{ROOM}", "--from", "2000-01-01",
                           "--tz", "Europe/Berlin", "--format", "markdown", "--lang", "zh", "-o", str(out), env=env)
    assert result.code == 0, result.out
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = check_manifest(files)
    assert manifest["rooms"] == [direct, ROOM] and manifest["made_by"] == {"id": None, "label": "operator (command line)"}
    assert any(direct in name and b"just between us" in data for name, data in files.items())

    for args, message in ((["--rooms", "no-such-room"], "no such room"),
                          (["--rooms", ROOM, "--format", "docx"], "Invalid value for '--format'"),
                          (["--rooms", ROOM, "--from", "2026-02-01", "--to", "2026-01-01"], "some export parameters are not valid"),
                          (["--rooms", ROOM, "--all"], "not both"), ([], "name the rooms")):
        refused = await ecolink("export", "compliance", *args, "-o", str(tmp_path / "x.zip"), env=env)
        assert refused.code == 2 and message in refused.out, refused.out
        assert not (tmp_path / "x.zip").exists()
    log = await ecolink("audit", env=env)
    assert log.code == 0
    (line,) = log.stdout.splitlines()
    assert "operator (command line)\texport.compliance\t" in line and direct in line
    assert '"time_zone": "Europe/Berlin"' in line and '"from": "1999-12-31T23:00:00.000Z"' in line
