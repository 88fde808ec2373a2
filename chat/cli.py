"""The `ecolink` command: serve, migrate, create-admin, set-role, export, audit, import-library, seed-projects,
reindex, backup, restore, mail-test, openapi."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Annotated, Any, Optional, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from chat.config import Settings

app = typer.Typer(
    help="EcoLink chat: the real-time chat and forum server of the EC-Link platform.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
T = TypeVar("T")


def load_settings(**overrides: Any) -> Settings:
    """Settings from ECOLINK_* variables, with CLI options on top; exits with a clear message
    (naming the variable, never its value) when one is invalid."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            name = "ECOLINK_" + "_".join(str(part) for part in error["loc"]).upper()
            err.print(f"[red]configuration error:[/] {name}: {error['msg']}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (env ECOLINK_HOST; default 127.0.0.1)")] = None,
    port: Annotated[Optional[int], typer.Option(min=0, max=65535, help="Port (env ECOLINK_PORT; default 8000)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (nodes) sharing the port; >1 needs PostgreSQL and Redis")] = 1,
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder for the embedded database (env ECOLINK_DATA_DIR; default ./data)")] = None,
) -> None:
    """Run a node: the HTTP API and the WebSocket hub."""
    import uvicorn

    from chat import logs

    settings = load_settings(host=host, port=port, data_dir=data_dir)
    if workers > 1 and not (settings.database_url and settings.redis_url):
        err.print("[red]--workers > 1 needs ECOLINK_DATABASE_URL and ECOLINK_REDIS_URL:[/] "
                  "each worker is a node, and nodes share history and fan-out only through "
                  "PostgreSQL and Redis.")
        raise typer.Exit(2)
    # Worker processes read their settings from the environment.
    for name, value in (("ECOLINK_HOST", host), ("ECOLINK_PORT", port), ("ECOLINK_DATA_DIR", data_dir)):
        if value is not None:
            os.environ[name] = str(value)
    logs.configure(settings.log_level, settings.log_json)
    # uvicorn re-raises the SIGTERM it handled once its graceful shutdown is done, which ends
    # the process "killed by SIGTERM" (exit 143 under Docker) after a clean drain: exit 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    from chat.transport.server import node_config

    config = node_config(
        "chat.transport.app:app_from_env",
        settings,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=True,  # trusts FORWARDED_ALLOW_IPS (default 127.0.0.1)
        timeout_graceful_shutdown=10,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    # Several workers share one listening socket that uvicorn binds without TCP_NODELAY
    # (asyncio only sets it on sockets created with proto IPPROTO_TCP); accepted sockets
    # inherit it from the listener on Linux, and without it small writes wait ~40 ms for
    # delayed ACKs. So bind it here, set the option, and hand it to uvicorn's supervisor.
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


def _run_against_store(run: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a store command; a store that cannot be reached or a refused input is one clear
    line on stderr (never the URL, which may hold a password) and exit code 2."""
    from chat.errors import ChatError

    try:
        return asyncio.run(run())
    except ChatError as exc:
        detail = f" {exc.details}" if exc.details else ""
        err.print(f"[red]{exc.message}[/]{detail}", markup=True, highlight=False)
    except OSError as exc:
        err.print(f"[red]cannot reach the database:[/] {type(exc).__name__}: {exc.strerror or exc}")
    except Exception as exc:  # the driver's own errors, e.g. a database that does not exist
        err.print(f"[red]database error:[/] {type(exc).__name__}: {exc}", markup=True, highlight=False)
    raise typer.Exit(2)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@app.command()
def migrate() -> None:
    """Apply pending schema migrations and seed the rooms (safe to run on several nodes)."""
    from chat.store.open import open_store

    settings = load_settings()

    async def run() -> list[str]:
        async with open_store(settings) as store:
            return await store.migrate()

    applied = _run_against_store(run)
    typer.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email")],
    display_name: Annotated[str, typer.Option(help="The admin's display name")],
) -> None:
    """Create an admin account (or make an existing account admin).

    The password comes from ECOLINK_ADMIN_PASSWORD or a hidden prompt, never an argument.
    """
    from chat.accounts.service import AccountService
    from chat.clock import SystemClock
    from chat.store.open import open_store

    settings = load_settings()
    password = os.environ.get("ECOLINK_ADMIN_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )

    async def run() -> None:
        async with open_store(settings) as store:
            await store.migrate()
            accounts = AccountService.from_settings(store, SystemClock(), settings)
            user = await accounts.create_admin(email, password, display_name)
            typer.echo(f"admin: user {user.user_id} <{user.email}>")

    _run_against_store(run)


class RoleChoice(StrEnum):  # typer lists an Enum's values as the option's choices
    admin = "admin"
    moderator = "moderator"
    member = "member"


@app.command("set-role")
def set_role(
    email: Annotated[str, typer.Option(help="The member's email")],
    role: Annotated[RoleChoice, typer.Option(case_sensitive=False, help="The role to grant")],
) -> None:
    """Grant a member a role: admin, moderator or member (the last admin cannot be demoted)."""
    from chat.accounts.profiles import ProfileService
    from chat.store.open import open_store

    settings = load_settings()

    async def run() -> None:
        async with open_store(settings) as store:
            await store.migrate()
            profile = await ProfileService(store).set_role_by_email(email, role.value)
            typer.echo(f"role: user {profile.user_id} is now {profile.role}")

    _run_against_store(run)


export_app = typer.Typer(
    help="Write a transcript (or an archive) to a file or stdout: docs/operations.md, \"Exports\".",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


class FormatChoice(StrEnum):
    markdown = "markdown"
    html = "html"
    pdf = "pdf"
    jsonl = "jsonl"
    csv = "csv"


class LangChoice(StrEnum):
    en = "en"
    zh = "zh"


FormatOption = Annotated[FormatChoice, typer.Option("--format", "-f", case_sensitive=False, help="File format")]
FromOption = Annotated[Optional[str], typer.Option(
    "--from", help="Start: ISO 8601 date or date-time; without an offset, local time in --tz (inclusive)")]
ToOption = Annotated[Optional[str], typer.Option(
    "--to", help="End: ISO 8601 date (that whole day included) or date-time (exclusive)")]
TzOption = Annotated[Optional[str], typer.Option(
    "--tz", help="IANA time zone of the times shown (default: --as's profile zone, else UTC)")]
LangOption = Annotated[Optional[LangChoice], typer.Option(
    "--lang", case_sensitive=False, help="Labels' language (default: from --as's profile, else en)")]
AsOption = Annotated[Optional[str], typer.Option(
    "--as", help="Export as this member (email): only what they may read, as they see it."
                 " Without it: an operator export with staff access")]
OutputOption = Annotated[Optional[Path], typer.Option(
    "--output", "-o", help="File to write (default: stdout)", dir_okay=False, writable=True)]


@export_app.command("room")
def export_room(room: Annotated[str, typer.Argument(help="The room's id")], fmt: FormatOption = FormatChoice.markdown,
                from_: FromOption = None, to: ToOption = None, tz: TzOption = None, lang: LangOption = None,
                as_: AsOption = None, output: OutputOption = None) -> None:
    """A room's transcript (sector, city, direct, topic, news or webinar)."""
    _export("room", room, fmt, from_, to, tz, lang, as_, output)


@export_app.command("topic")
def export_topic(topic: Annotated[str, typer.Argument(help="The topic's or news post's id")],
                 fmt: FormatOption = FormatChoice.markdown, from_: FromOption = None, to: ToOption = None,
                 tz: TzOption = None, lang: LangOption = None, as_: AsOption = None,
                 output: OutputOption = None) -> None:
    """A topic's or news post's transcript: the post, then its replies."""
    _export("topic", topic, fmt, from_, to, tz, lang, as_, output)


@export_app.command("webinar")
def export_webinar(webinar: Annotated[str, typer.Argument(help="The webinar's id")],
                   fmt: FormatOption = FormatChoice.markdown, from_: FromOption = None, to: ToOption = None,
                   tz: TzOption = None, lang: LangOption = None, as_: AsOption = None,
                   output: OutputOption = None) -> None:
    """A webinar's transcript: its chat, questions and polls."""
    _export("webinar", webinar, fmt, from_, to, tz, lang, as_, output)


def _export(scope: str, room_id: str, fmt: FormatChoice, from_: str | None, to: str | None, tz: str | None,
            lang: LangChoice | None, as_email: str | None, output: Path | None) -> None:
    """Run one export against the store (no node needed) and write it; a refusal is one line
    on stderr and exit code 2, and no file is created."""
    from chat import logs
    from chat.clock import SystemClock
    from chat.errors import NotFound
    from chat.export.service import ExportService
    from chat.protocol.frames import is_room_id
    from chat.store.open import open_store

    settings = load_settings()
    logs.configure("warning", settings.log_json)  # logs go to stderr: stdout may be the file
    if not is_room_id(room_id):
        err.print(f"[red]the {scope} id must be 1-64 of a-z, 0-9 and '-'[/]")
        raise typer.Exit(2)
    params = {"format": fmt.value, "from": from_, "to": to, "tz": tz, "lang": lang.value if lang else None}

    async def run() -> tuple[int, str, bool]:
        async with open_store(settings) as store:
            await store.migrate()
            requester = None
            if as_email is not None:
                found = await store.user_credentials(as_email)
                if found is None:
                    raise NotFound("no member has the email given with --as")
                requester = found[0]
            service = ExportService(store, SystemClock(), concurrency=1, page=settings.export_page,
                                    pdf_max_pages=settings.export_pdf_max_pages, pdf_font=settings.pdf_font)
            request = await service.request({k: v for k, v in params.items() if v}, requester)
            export = {"room": service.room, "topic": service.topic, "webinar": service.webinar}[scope]
            transcript = await export(room_id, request, staff_access=requester is None)
            size, name = await _write(transcript.chunks, output, transcript.filename)
            return size, name, bool(getattr(transcript.chunks, "incomplete", False))

    size, name, incomplete = _run_against_store(run)
    if incomplete:
        err.print(f"[red]the export failed after {size} bytes: the output is incomplete (it has no"
                  " digest line); see the log above[/]", highlight=False)
        raise typer.Exit(1)
    if output is not None:
        err.print(f"wrote {size} bytes to {output} (suggested name: {name})", highlight=False)


async def _write(chunks: Any, output: Path | None, name: str) -> tuple[int, str]:
    """Write the chunks to `output` (or stdout), with a progress bar on stderr when stderr is a
    terminal. Returns the bytes written and the transcript's suggested file name."""
    import contextlib
    import sys

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from chat.errors import BadRequest

    size = 0
    with contextlib.ExitStack() as stack:
        try:
            target = stack.enter_context(output.open("wb")) if output is not None else sys.stdout.buffer
        except OSError as exc:
            raise BadRequest(f"cannot write the output file: {exc.strerror or type(exc).__name__}") from None
        progress = None
        if err.is_terminal:
            progress = stack.enter_context(Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                console=err, transient=True))
            task = progress.add_task(name, total=None)
        async for chunk in chunks:
            target.write(chunk)
            size += len(chunk)
            if progress is not None:
                progress.update(task, completed=size)
        target.flush()
    return size, name


@export_app.command("personal")
def export_personal(
    user: Annotated[str, typer.Option(help="The member's email")],
    output: OutputOption = None,
    lang: LangOption = None,
) -> None:
    """A member's personal data archive (a zip), as GET /api/v1/me/export gives them; recorded
    in the audit log as done by the operator."""
    from chat import logs
    from chat.accounts.service import find_account
    from chat.audit.service import AuditLog
    from chat.clock import SystemClock
    from chat.errors import NotFound
    from chat.export.personal import PersonalArchives
    from chat.store.open import open_store

    settings = load_settings()
    logs.configure("warning", settings.log_json)  # logs go to stderr: stdout may be the zip

    async def run() -> tuple[int, str]:
        async with open_store(settings) as store:
            await store.migrate()
            found = await find_account(store, user)
            if found is None:
                raise NotFound("no account with this email")
            clock = SystemClock()
            archive = await PersonalArchives(store, AuditLog(store, clock), clock).archive(
                found[0], lang.value if lang else None, actor=None)
            return await _write(archive.chunks, output, archive.filename)

    size, name = _run_against_store(run)
    if output is not None:
        err.print(f"wrote {size} bytes to {output} (suggested name: {name})", highlight=False)


@export_app.command("compliance")
def export_compliance(
    output: Annotated[Path, typer.Option("--output", "-o", help="The zip file to write", dir_okay=False, writable=True)],
    rooms: Annotated[Optional[str], typer.Option(help="Room ids, comma-separated")] = None,
    all_rooms: Annotated[bool, typer.Option("--all", help="Every sector, city, direct and webinar room")] = False,
    fmt: FormatOption = FormatChoice.markdown, from_: FromOption = None, to: ToOption = None,
    tz: Annotated[Optional[str], typer.Option("--tz", help="IANA time zone of the times shown (default UTC)")] = None,
    lang: Annotated[Optional[LangChoice], typer.Option("--lang", case_sensitive=False, help="Labels' language (default en)")] = None,
) -> None:
    """A compliance export: a zip of one transcript per room (direct conversations included),
    as GET /api/v1/admin/export gives admins; recorded in the audit log as done by the operator
    before the first byte."""
    from chat import logs
    from chat.audit.service import AuditLog
    from chat.clock import SystemClock
    from chat.export.compliance import ComplianceExports, parse_selection
    from chat.export.service import ExportService
    from chat.store.open import open_store

    settings = load_settings()
    logs.configure("warning", settings.log_json)
    params = {"format": fmt.value, "from": from_, "to": to, "tz": tz, "lang": lang.value if lang else None}

    async def run() -> tuple[int, str]:
        selection = parse_selection(rooms, "true" if all_rooms else None)
        async with open_store(settings) as store:
            await store.migrate()
            clock = SystemClock()
            exports = ExportService(store, clock, concurrency=1, page=settings.export_page,
                                    pdf_max_pages=settings.export_pdf_max_pages, pdf_font=settings.pdf_font)
            request = await exports.request({k: v for k, v in params.items() if v}, None)
            archive = await ComplianceExports(store, exports, AuditLog(store, clock)).archive(selection, request)
            return await _write(archive.chunks, output, archive.filename)

    size, _ = _run_against_store(run)
    err.print(f"wrote {size} bytes to {output}", highlight=False)


@app.command()
def audit(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many entries, newest first")] = 50,
) -> None:
    """Print the audit log, newest first: id, time (UTC), who, action, details."""
    import json

    from chat.audit.service import AuditLog
    from chat.clock import SystemClock, iso_ms
    from chat.store.open import open_store

    settings = load_settings()

    async def run() -> None:
        async with open_store(settings) as store:
            await store.migrate()
            log = AuditLog(store, SystemClock())
            before: int | None = None
            left = limit
            while left > 0:
                entries, before = await log.entries(None, before, min(left, 200))
                for entry in entries:
                    who = entry.actor_label if entry.actor_id is None else f"{entry.actor_label} (user {entry.actor_id})"
                    detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
                    typer.echo(f"{entry.audit_id}\t{iso_ms(entry.at_ms)}\t{who}\t{entry.action}\t{detail}")
                left -= len(entries)
                if before is None:
                    break

    _run_against_store(run)


@app.command("import-library")
def import_library(
    folder: Annotated[Path, typer.Argument(help="The folder holding the documents", show_default=False)],
    manifest: Annotated[Path, typer.Option("--manifest", help="Their metadata: a .csv or .yaml file (columns file,"
                                           " title_en, title_zh, description, type, language, year, source,"
                                           " sectors, cities)", show_default=False)],
    as_email: Annotated[Optional[str], typer.Option("--as", help="Email of the moderator or admin the documents are"
                                                    " published by (default: the first admin)")] = None,
) -> None:
    """Load a folder of documents into the knowledge library, published, with a progress bar and
    a report of the rows skipped and why (missing file, type refused, invalid metadata,
    duplicate). Safe to run again. Exit code 0: all imported; 1: some skipped; 2: bad arguments."""
    from datetime import UTC, datetime

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from chat import logs
    from chat.accounts.service import find_account
    from chat.blobs.open import open_blobs
    from chat.clock import SystemClock
    from chat.errors import Forbidden, NotFound
    from chat.library.importer import Importer, ManifestError, read_manifest
    from chat.library.service import LibraryService, is_staff
    from chat.models import User
    from chat.node import files_from_settings
    from chat.store.open import open_store

    if not folder.is_dir():
        err.print("[red]the folder does not exist or is not a folder[/]", highlight=False)
        raise typer.Exit(2)
    try:
        rows = read_manifest(manifest)
    except ManifestError as exc:
        err.print(f"[red]{exc}[/]", markup=True, highlight=False)
        raise typer.Exit(2) from None
    settings = load_settings()
    logs.configure("warning", settings.log_json)

    async def no_room(user: User, room_id: str) -> object:
        raise NotFound("no such room")

    async def run() -> tuple[list[str], list[Any]]:
        async with open_store(settings) as store, open_blobs(settings) as blobs:
            await store.migrate()
            if as_email is not None:
                found = await find_account(store, as_email)
                owner = found[0] if found is not None else None
                if owner is None:
                    raise NotFound("no account with this email")
            else:
                owner = await store.first_admin()
                if owner is None:
                    raise NotFound("there is no admin yet: create one (ecolink create-admin) or give --as")
            if not is_staff(owner):
                raise Forbidden("the documents must be published by a moderator or admin")
            clock = SystemClock()
            files = files_from_settings(store, blobs, clock, no_room, settings)
            importer = Importer(LibraryService(store, files, clock), files, owner, folder,
                                datetime.now(UTC).year)
            with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=err,
                          transient=False) as progress:
                task = progress.add_task("import", total=len(rows))
                return await importer.run(rows, lambda: progress.advance(task))

    imported, skipped = _run_against_store(run)
    out = Console()
    out.print(f"imported {len(imported)} of {len(rows)} documents; skipped {len(skipped)}", highlight=False)
    if skipped:
        table = Table(title="skipped")
        for column in ("row", "file", "reason"):
            table.add_column(column, overflow="fold")
        for item in skipped:
            table.add_row(str(item.line), item.file, item.reason)
        out.print(table)
        raise typer.Exit(1)


@app.command("seed-projects")
def seed_projects(
    file: Annotated[Path, typer.Argument(help="A YAML or JSON list of projects", show_default=False)],
    as_email: Annotated[Optional[str], typer.Option("--as", help="Email of the moderator or admin who creates them"
                                                    " (default: the first admin)")] = None,
) -> None:
    """Create eco-city projects (and their discussion threads) from a file: a list of projects,
    each as the body of POST /api/v1/projects, with `members` as emails. A project whose names
    and city match an existing one is skipped, so a second run changes nothing. Exit code 0: all
    created or there; 1: some refused (each with its reason); 2: bad arguments."""
    import yaml  # type: ignore[import-untyped]

    from chat import logs
    from chat.accounts.service import find_account
    from chat.errors import ChatError, Forbidden, NotFound
    from chat.hub.subscriber import WireFormat
    from chat.node import open_node
    from chat.transport.projects import ProjectBody
    from chat.transport.wire import FORMATS

    try:
        items = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        err.print(f"[red]cannot read the file:[/] {type(exc).__name__}", highlight=False)
        raise typer.Exit(2) from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        err.print("[red]the file must hold a list of projects (mappings)[/]", highlight=False)
        raise typer.Exit(2)
    settings = load_settings()
    logs.configure("warning", settings.log_json)

    async def run() -> tuple[list[str], list[tuple[int, str]]]:
        created: list[str] = []
        refused: list[tuple[int, str]] = []
        formats: list[WireFormat] = list(FORMATS)
        async with open_node(settings, formats) as node:
            if as_email is not None:
                found = await find_account(node.store, as_email)
                if found is None:
                    raise NotFound("no account with this email")
                owner = found[0]
            else:
                first = await node.store.first_admin()
                if first is None:
                    raise NotFound("there is no admin yet: create one (ecolink create-admin) or give --as")
                owner = first
            if owner.role not in ("moderator", "admin"):
                raise Forbidden("projects are created by a moderator or admin")
            for number, item in enumerate(items, 1):
                try:
                    emails = item.get("members") or []
                    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
                        raise ValueError("members must be a list of emails")
                    ids = []
                    for email in emails:
                        account = await find_account(node.store, email)
                        if account is None:
                            raise ValueError("a member's email has no account")
                        ids.append(account[0].user_id)
                    body = ProjectBody.model_validate({**item, "members": ids})
                    name = body.name
                    existing = await node.store.list_projects(owner.user_id, city=body.city, sector=None,
                                                              status=None, after=None, limit=10_000)
                    if any((p.name_en, p.name_zh) == ((name.en or "").strip(), (name.zh or "").strip())
                           for p in existing):
                        continue
                    project = await node.projects.create(owner, body.draft())
                    created.append(project.project_id)
                except ChatError as exc:
                    detail = f" {exc.details}" if exc.details else ""
                    refused.append((number, f"{exc.message}{detail}"))
                except ValidationError as exc:
                    refused.append((number, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                                      for e in exc.errors())))
                except ValueError as exc:
                    refused.append((number, str(exc)))
        return created, refused

    created, refused = _run_against_store(run)
    out = Console()
    out.print(f"created {len(created)} of {len(items)} projects; refused {len(refused)}", highlight=False)
    for number, reason in refused:
        out.print(f"  project {number}: {reason}", highlight=False, markup=False)
    if refused:
        raise typer.Exit(1)


REINDEX_PAGE = 500  # entries read from their tables and written to the index at once


@app.command()
def reindex(
    kinds: Annotated[Optional[list[str]], typer.Option(
        "--kind", help="Rebuild only this kind (repeat for several): message, topic, news, question, answer,"
        " document, project. Default: all", show_default=False)] = None,
) -> None:
    """Rebuild the search index from the tables it is made from: the given kinds' entries are
    removed, then written again page by page; published documents get their files' text
    extracted anew. Searches miss the rebuilt kinds until it is done; nodes may keep running.
    Exit code 0: rebuilt; 2: bad arguments or the database could not be used."""
    from chat import logs
    from chat.blobs.open import open_blobs
    from chat.clock import SystemClock
    from chat.errors import NotFound
    from chat.library.service import LibraryService
    from chat.models import SEARCH_KINDS, SearchKind, User
    from chat.node import files_from_settings
    from chat.store.open import open_store

    wanted: list[SearchKind] = []
    for given in kinds or SEARCH_KINDS:
        kind = next((k for k in SEARCH_KINDS if k == given), None)
        if kind is None:
            err.print(f"[red]--kind must be one of {', '.join(SEARCH_KINDS)}[/]", highlight=False)
            raise typer.Exit(2)
        if kind not in wanted:
            wanted.append(kind)
    settings = load_settings()
    logs.configure("warning", settings.log_json)

    async def no_room(user: User, room_id: str) -> object:
        raise NotFound("no such room")

    async def run() -> list[tuple[str, int]]:
        async with open_store(settings) as store, open_blobs(settings) as blobs:
            await store.migrate()
            await store.clear_search_index(tuple(wanted))
            counts: list[tuple[str, int]] = []
            for kind in wanted:
                if kind == "document":
                    clock = SystemClock()
                    library = LibraryService(store, files_from_settings(store, blobs, clock, no_room, settings), clock)
                    # The library service extracts each published document's text again.
                    counts.append((kind, await library.reindex_documents()))
                    continue
                count, after = 0, ""
                while True:
                    # Read and written in one transaction: no delete racing it puts text back.
                    entries = await store.reindex_sources(kind, after, REINDEX_PAGE)
                    count += len(entries)
                    if len(entries) < REINDEX_PAGE:
                        break
                    after = entries[-1].ref_id
                counts.append((kind, count))
            return counts

    for done, count in _run_against_store(run):
        typer.echo(f"{done}: {count} indexed")


PgBindirOption = Annotated[Optional[Path], typer.Option(
    "--pg-bindir", help="Folder of pg_dump/pg_restore/psql (env ECOLINK_PG_BINDIR; default: the newest"
    " /usr/lib/postgresql/*/bin, else PATH)", file_okay=False)]


@app.command()
def backup(
    output: Annotated[Path, typer.Argument(help="The backup file to write", dir_okay=False, show_default=False)],
    pg_bindir: PgBindirOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists")] = False,
) -> None:
    """Back up the database while nodes run: PostgreSQL with pg_dump (custom format), embedded
    SQLite with its online backup API. Covers everything but the files' bytes (ECOLINK_FILES_DIR
    or the S3 bucket): copy those right after (docs/operations.md, "Backups"). Exit code 0:
    written; 2: bad arguments or the backup failed (no file is left behind)."""
    from chat.backup import BackupError, backup_postgres, backup_sqlite

    settings = load_settings(pg_bindir=pg_bindir)
    try:
        if settings.database_url:
            done = backup_postgres(settings.database_url, output, bindir=settings.pg_bindir, force=force)
        else:
            done = backup_sqlite(settings.sqlite_path, output, force=force)
    except BackupError as exc:
        err.print(f"[red]backup refused:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    typer.echo(f"backup: {done.size} bytes to {done.path} in {done.seconds:.2f} s")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `ecolink backup`", dir_okay=False,
                                         show_default=False)],
    pg_bindir: PgBindirOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a target database that is not empty"
                                        " (stop every node first)")] = False,
) -> None:
    """Restore a backup into the database the settings name (ECOLINK_DATABASE_URL, else the
    embedded one in ECOLINK_DATA_DIR), before starting nodes on it. A target that holds tables is
    refused unless --force. Exit code 0: restored; 2: bad arguments or the restore failed
    (PostgreSQL: in one transaction, so the target is left as it was)."""
    from chat.backup import BackupError, restore_postgres, restore_sqlite

    settings = load_settings(pg_bindir=pg_bindir)
    try:
        if settings.database_url:
            done = restore_postgres(file, settings.database_url, bindir=settings.pg_bindir, force=force)
        else:
            done = restore_sqlite(file, settings.sqlite_path, force=force)
    except BackupError as exc:
        err.print(f"[red]restore refused:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    typer.echo(f"restored {file} in {done.seconds:.2f} s; start the nodes (they apply newer migrations)")


@app.command("mail-test")
def mail_test(
    to: Annotated[str, typer.Option(help="Where to send the test mail")],
) -> None:
    """Send one bilingual test mail now, straight through the SMTP settings (ECOLINK_SMTP_*),
    and say whether the server took it: exit 0 sent, 1 refused or unreachable, 2 not set up."""
    from chat.clock import SystemClock
    from chat.mail.letters import Letter, render
    from chat.mail.sender import classify, send_over_smtp
    from chat.models import OutboxMail

    settings = load_settings()
    if not settings.smtp_host:
        err.print("[red]ECOLINK_SMTP_HOST is not set:[/] nodes queue mail but send none")
        raise typer.Exit(2)
    if "@" not in to or any(c.isspace() for c in to) or len(to) > 320:
        err.print("[red]--to must be one email address[/]")
        raise typer.Exit(2)
    letter = Letter("EcoLink test mail", "EcoLink 测试邮件",
                    ("This mail shows that the chat server can send email.",),
                    ("此邮件表明聊天服务器可以发送电子邮件。",))
    rendered = render(letter, None)
    now = SystemClock().now_ms()
    mail = OutboxMail(os.urandom(16).hex(), to, "test", None, None, rendered.subject, rendered.text,
                      rendered.html, {}, "queued", 1, now, 0, now)
    try:
        asyncio.run(send_over_smtp(mail, settings))
    except Exception as exc:
        permanent, reason = classify(exc)
        err.print(f"[red]not sent:[/] {reason} ({'refused for good' if permanent else 'temporary: nodes would retry'})")
        raise typer.Exit(1) from None
    typer.echo(f"sent (Message-ID <{mail.mail_id}@…>) via {settings.smtp_host}:{settings.smtp_port}")


@app.command()
def openapi() -> None:
    """Print the HTTP API's OpenAPI document (the one served at /api/v1/openapi.json)."""
    import json

    from chat.transport.app import create_app
    from chat.transport.openapi import build_schema

    routes = [r for r in create_app(Settings()).routes if getattr(r, "include_in_schema", True)]
    typer.echo(json.dumps(build_schema(routes), indent=2, ensure_ascii=False, sort_keys=True))


def main() -> None:
    app()
