"""`ecolink import-library DIR --manifest FILE` as a subprocess on both databases: a small CSV
manifest and three tiny documents made here, the rows it skips and why (missing file, a type the
sniffer refuses, invalid metadata), a safe re-run (duplicates) from a YAML manifest, what the
nodes then serve, and bad arguments refused with exit code 2."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tests.support.cli import cli_env, ecolink, ecolink_in_process
from tests.support.client import call, register
from tests.support.nodes import running_nodes

DOCS = {
    "sponge.txt": b"Sponge city notes: rain gardens and permeable paving.\n",
    "figures.csv": b"city,area_km2\nZhuhai,1736\n",
    "垃圾分类.txt": "垃圾分类指南：可回收物、有害垃圾、厨余垃圾、其他垃圾。\n".encode(),
}
HEADER = ["file", "title_en", "title_zh", "description", "type", "language", "year", "source", "sectors", "cities"]
GOOD_ROWS = [
    ["sponge.txt", "Sponge city notes", "", "Rain where it falls", "guide", "en", "2021", "EC-Link",
     "water-management", "zhuhai;hefei"],
    ["figures.csv", "Zhuhai figures", "珠海数据", "", "data", "both", "2020", "", "", "zhuhai"],
    ["垃圾分类.txt", "", "垃圾分类指南", "", "policy", "zh", "2022", "住建部", "solid-waste", ""],
]


def make_folder(root: Path) -> Path:
    folder = root / "docs"
    folder.mkdir()
    for name, data in DOCS.items():
        (folder / name).write_bytes(data)
    (folder / "tool.exe").write_bytes(b"MZ\x90\x00" + bytes(300))  # a Windows program: refused
    return folder


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def env_for(settings: Any) -> dict[str, str]:
    extra = {"ECOLINK_DATABASE_URL": settings.database_url} if settings.database_url else {}
    # Wide enough that the report's long reasons stay on one line each.
    return cli_env(ECOLINK_DATA_DIR=str(settings.data_dir), COLUMNS="500", **extra)


async def test_import_a_folder_report_skips_and_rerun_safely(backend, tmp_path):
    settings = backend()
    env = env_for(settings)
    folder = make_folder(tmp_path)
    manifest = write_csv(tmp_path / "manifest.csv", GOOD_ROWS + [
        ["absent.txt", "Not there", "", "", "report", "en", "2020", "", "", ""],
        ["tool.exe", "A program", "", "", "other", "en", "2020", "", "", ""],
        ["sponge.txt", "Bad year", "", "", "novel", "en", "1800", "", "mars", ""],
        ["../manifest.csv", "Outside", "", "", "data", "en", "2020", "", "", ""],
    ])
    async with running_nodes(settings) as [node]:
        nobody = await ecolink("import-library", str(folder), "--manifest", str(manifest), env=env)
        assert nobody.code == 2 and "there is no admin yet" in nobody.out, nobody.out
        admin = await register(node.url, "Olga")
        await node.node.profiles.set_role_by_email(admin["user"]["email"], "admin")
        ann = await register(node.url, "Ann")
        member = await ecolink("import-library", str(folder), "--manifest", str(manifest),
                               "--as", ann["user"]["email"], env=env)
        assert member.code == 2 and "moderator or admin" in member.out and ann["user"]["email"] not in member.out

        first = await ecolink("import-library", str(folder), "--manifest", str(manifest), env=env)
        assert first.code == 1, first.out
        assert "imported 3 of 7 documents; skipped 4" in first.out
        assert "missing file" in first.out and "type refused" in first.out
        assert "invalid metadata" in first.out and "type: must be one of" in first.out
        assert "year: must be a year from 1990" in first.out and "sectors: each must be one of" in first.out
        assert first.out.count("missing file") == 2  # absent.txt and the path outside the folder

        listed = (await call(node, "GET", "/api/v1/library?sort=title&lang=en", ann)).json()["documents"]
        assert [d["title"]["en"] or d["title"]["zh"] for d in listed] == ["Sponge city notes", "Zhuhai figures", "垃圾分类指南"]
        assert all(d["state"] == "published" and d["proposed_by"]["name"] == "Olga" for d in listed)
        sponge = listed[0]
        assert (sponge["cities"], sponge["sectors"], sponge["year"], sponge["type"]) == (
            ["zhuhai", "hefei"], ["water-management"], 2021, "guide")
        for doc, name in zip(listed, ["sponge.txt", "figures.csv", "垃圾分类.txt"], strict=True):
            got = await call(node, "GET", f"/api/v1/library/{doc['id']}/download", ann)
            assert got.status_code == 200 and got.content == DOCS[name]
        assert "filename*=UTF-8''%E5%9E%83" in got.headers["content-disposition"]  # the Chinese name kept

        # Again, from YAML: the three are duplicates; a new row is imported.
        (folder / "new.txt").write_bytes(b"a new one\n")
        yaml_manifest = tmp_path / "manifest.yaml"
        yaml_manifest.write_text(
            "documents:\n"
            + "".join(f"  - {{file: '{row[0]}', title_en: '{row[1]}', title_zh: '{row[2]}', type: {row[4]},"
                      f" language: {row[5]}, year: {row[6]}, sectors: '{row[8]}', cities: [{', '.join(c for c in row[9].split(';') if c)}]}}\n"
                      for row in GOOD_ROWS)
            + "  - {file: new.txt, title_en: New one, type: report, language: en, year: 2023}\n", encoding="utf-8")
        second = await ecolink("import-library", str(folder), "--manifest", str(yaml_manifest), env=env)
        assert second.code == 1, second.out
        assert "imported 1 of 4 documents; skipped 3" in second.out and second.out.count("duplicate") == 3
        assert len((await call(node, "GET", "/api/v1/library", ann)).json()["documents"]) == 4

        only_new = tmp_path / "one.csv"
        (folder / "newer.txt").write_bytes(b"newer\n")
        write_csv(only_new, [["newer.txt", "Newer", "", "", "report", "en", "2024", "", "", ""]])
        clean = await ecolink("import-library", str(folder), "--manifest", str(only_new), env=env)
        assert clean.code == 0 and "imported 1 of 1 documents; skipped 0" in clean.out, clean.out


async def test_bad_arguments_exit_2_with_a_clear_message(tmp_path):
    env = cli_env(ECOLINK_DATA_DIR=str(tmp_path / "data"))
    folder = make_folder(tmp_path)
    good = write_csv(tmp_path / "m.csv", GOOD_ROWS)
    (tmp_path / "m.txt").write_text("file\n")
    (tmp_path / "broken.yaml").write_text("documents: [ {file: a\n")
    (tmp_path / "shape.yaml").write_text("just: a mapping\n")
    (tmp_path / "noheader.csv").write_text("a,b\n1,2\n")
    (tmp_path / "latin1.csv").write_bytes("file,title_en\nx.txt,caf\xe9\n".encode("latin-1"))
    cases = [
        ([str(tmp_path / "nope"), "--manifest", str(good)], "the folder does not exist"),
        ([str(folder), "--manifest", str(tmp_path / "absent.csv")], "the manifest file does not exist"),
        ([str(folder), "--manifest", str(tmp_path / "m.txt")], "must be a .csv, .yaml or .yml file"),
        ([str(folder), "--manifest", str(tmp_path / "broken.yaml")], "the YAML manifest is malformed"),
        ([str(folder), "--manifest", str(tmp_path / "shape.yaml")], "must be a list of documents"),
        ([str(folder), "--manifest", str(tmp_path / "noheader.csv")], "needs a header row"),
        ([str(folder), "--manifest", str(tmp_path / "latin1.csv")], "not UTF-8"),
        ([str(folder)], "Missing option '--manifest'"),
        ([str(folder), "--manifest", str(good), "--as", "nobody@example.test"], "no account with this email"),
    ]
    # Each is refused before the database is opened (in this process: argument checks only),
    # except the last, which looks the account up: the real command, as a subprocess.
    results = [ecolink_in_process("import-library", *args, env=env) for args, _ in cases[:-1]]
    results.append(await ecolink("import-library", *cases[-1][0], env=env))
    for (args, message), result in zip(cases, results, strict=True):
        assert result.code == 2 and message in result.out, (args, result.out)
    assert "nobody@example.test" not in results[-1].out
