"""Configuration: every setting is an ECOLINK_* environment variable (docs/operations.md)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECOLINK_", extra="ignore")

    # Where history lives: unset = embedded SQLite in data_dir; postgresql://… = production.
    database_url: str | None = None
    # Fan-out: unset = in-process broker (single node only); redis://… = production.
    redis_url: str | None = None
    redis_prefix: str = "ecolink:"
    # A subscription Redis answers nothing on (not even a PING, sent every third of it) for
    # this long is taken as dead: the node reconnects and backfills (chat/redis/listener.py).
    redis_silence_s: float = Field(default=6.0, ge=0.3, le=300)
    data_dir: Path = Path("data")
    # Folder of pg_dump/pg_restore/psql for `ecolink backup`/`restore`; unset = the newest
    # /usr/lib/postgresql/*/bin, else PATH (chat/backup.py).
    pg_bindir: Path | None = None
    # The browser client's files; unset = web/ beside the package, else ./web (chat/transport/web.py).
    web_dir: Path | None = None
    # The privacy notice the operator wrote (plain text, UTF-8), served by GET /api/v1/privacy;
    # unset = privacy.<lang>.txt or privacy.txt in data_dir, else the bundled default
    # (chat/transport/privacy.py, docs/operations.md "Privacy notice").
    privacy_file: Path | None = None

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Extra origins allowed for cookie-authenticated WebSockets (the node's own always is).
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cookie_secure: bool = False
    session_ttl_days: int = Field(default=30, ge=1)

    # HTTP responses gzip-encoded when the client accepts it and the body is at least this big
    # (chat/transport/app.py, CompressedResponses; never the WebSocket).
    http_gzip: bool = True
    http_gzip_min_bytes: int = Field(default=1024, ge=0)
    # Time a client has to send a request's head (request line and headers, a WebSocket
    # upgrade's too) once connected, or once it starts the next request on a kept-alive
    # connection; then 408 and close (chat/transport/server.py).
    http_header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # Longest pause allowed between two reads of a request body (not a deadline for the whole
    # body, so slow uploads pass); then 408 and close (chat/transport/server.py).
    http_body_timeout_s: float = Field(default=30.0, gt=0, le=600)

    # Who may read /metrics (chat/transport/http.py): clients from these networks, or any
    # client sending `Authorization: Bearer <metrics_token>` when a token is set.
    metrics_allow: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.0/8", "::1"])
    metrics_token: str | None = Field(default=None, min_length=16)

    auto_migrate: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool = True

    # Passwords: argon2id. "cheapest" is for tests and benchmarks only.
    argon2_profile: Literal["rfc9106_low_memory", "cheapest"] = "rfc9106_low_memory"
    # Password hashing runs on its own pool: this many at once, and at most this many more
    # waiting; past that, 503 "busy" at once (chat/accounts/passwords.py).
    password_hash_workers: int = Field(default=2, ge=1, le=64)
    password_hash_queue: int = Field(default=16, ge=0, le=10000)
    # Two-factor sign-in for staff (chat/accounts/two_factor.py, docs/operations.md
    # "Two-factor sign-in"): required → admins and moderators without it are refused every staff
    # action (403 two_factor_setup_required) until they set it up; they may still sign in.
    admin_two_factor: Literal["optional", "required"] = "optional"
    # Login and registration limits (chat/accounts/throttle.py, docs/operations.md "Login and
    # registration limits"), counted in the store, so shared by every node.
    login_failures_max: int = Field(default=5, ge=1, le=1000)
    login_address_failures_max: int = Field(default=20, ge=1, le=100000)
    login_window_s: int = Field(default=900, ge=1, le=86400)
    login_delay_step_s: float = Field(default=0.5, ge=0, le=60)
    login_delay_max_s: float = Field(default=5.0, ge=0, le=60)
    register_per_address_max: int = Field(default=20, ge=1, le=1000000)
    register_window_s: int = Field(default=3600, ge=1, le=7 * 86400)
    # Moderation (docs/operations.md, "Moderator's guide"): reports a member may file per
    # window, counted in the store (every node shares the count).
    reports_per_window: int = Field(default=20, ge=1, le=10000)
    report_window_s: int = Field(default=3600, ge=1, le=7 * 86400)
    # Webinar guests (docs/protocol.md, "Guests (webinars)"): at most this many per client
    # address per window; a guest's session lasts until this long after the webinar's scheduled end.
    guest_per_address_max: int = Field(default=10, ge=1, le=1000000)
    guest_window_s: int = Field(default=3600, ge=1, le=7 * 86400)
    guest_session_after_end_h: int = Field(default=12, ge=1, le=24 * 30)

    # Account recovery (chat/accounts/recovery.py, docs/operations.md "Email verification and
    # password reset"). required: members whose address is not verified cannot post.
    email_verification: Literal["encouraged", "required"] = "encouraged"
    reset_token_min: int = Field(default=60, ge=5, le=24 * 60)
    # Verification and change-of-email links.
    email_token_hours: int = Field(default=48, ge=1, le=30 * 24)
    # Password reset requests: per client address (over it: 429) and per account (over it:
    # the same 202, no mail) per window; verification mails a member may ask for per window.
    reset_per_address_max: int = Field(default=10, ge=1, le=100000)
    reset_per_account_max: int = Field(default=3, ge=1, le=1000)
    verify_resend_max: int = Field(default=3, ge=1, le=1000)
    recovery_window_s: int = Field(default=3600, ge=60, le=7 * 86400)

    # WebSocket limits (docs/protocol.md).
    max_frame_bytes: int = Field(default=65536, ge=1024, le=16 * 1024 * 1024)
    max_body_chars: int = Field(default=10000, ge=1)
    max_joined_rooms: int = Field(default=200, ge=1)
    send_queue_frames: int = Field(default=1024, ge=8)
    replay_limit: int = Field(default=1000, ge=1)
    # A room's event reaches at most this many of its members on this node in one turn of the
    # event loop; a bigger room's fan-out lets other work run between slices (chat/hub/feed.py).
    fan_out_slice: int = Field(default=500, ge=1, le=1_000_000)
    ws_rate_per_s: float = Field(default=50.0, gt=0)
    ws_rate_burst: float = Field(default=100.0, gt=0)
    ws_rate_strikes: int = Field(default=50, ge=1)
    slow_close_timeout_s: float = Field(default=5.0, gt=0)
    # The long-polling fallback (docs/protocol.md, "Long-polling fallback"): how long a GET with
    # nothing to return waits for frames, and how long a session without any GET lives on.
    poll_wait_s: float = Field(default=25.0, gt=0, le=300)
    poll_idle_s: float = Field(default=60.0, gt=0, le=3600)

    # Abuse limits (docs/operations.md, "Abuse limits"), per node: one budget per member over
    # all their sockets and HTTP writes; sockets per member; failed handshakes per address.
    member_rate_per_s: float = Field(default=50.0, gt=0, le=100_000)
    member_rate_burst: float = Field(default=100.0, ge=1, le=100_000)
    max_sockets_per_member: int = Field(default=20, ge=1, le=10_000)
    handshake_failures_max: int = Field(default=30, ge=1, le=100_000)
    handshake_window_s: float = Field(default=60.0, gt=0, le=86_400)
    # New accounts (docs/operations.md, "Limits for new accounts"; chat/rooms/abuse.py): for
    # this many hours after registering (0: no such limits; moderators and admins never), a
    # member's sends take from a smaller budget (per node, like the one above), may hold no
    # link to another site, and may open at most this many direct conversations per day
    # (counted in the store, so for every node at once).
    new_account_hours: float = Field(default=24, ge=0, le=24 * 365)
    new_account_rate_per_s: float = Field(default=0.2, gt=0, le=100_000)
    new_account_burst: float = Field(default=5, ge=1, le=100_000)
    new_account_directs_per_day: int = Field(default=5, ge=0, le=100_000)
    # Spam (chat/rooms/abuse.py): the same text (normalised) from one author may go to at most
    # this many rooms within the window; the next room refuses it (403 `spam`). Counted in the
    # store, so across nodes. Texts shorter than spam_min_chars are not checked; 0 rooms: off.
    spam_max_rooms: int = Field(default=3, ge=0, le=1000)
    spam_window_s: int = Field(default=600, ge=1, le=7 * 86400)
    spam_min_chars: int = Field(default=12, ge=1, le=10_000)
    # Registration proof-of-work (docs/decisions.md, "Registration proof-of-work";
    # chat/accounts/challenge.py): a registration carries a solved challenge needing about
    # 2**bits SHA-256 hashes (0: no challenge asked), valid for challenge_ttl_s, used once.
    registration_pow_bits: int = Field(default=18, ge=0, le=32)
    registration_challenge_ttl_s: int = Field(default=600, ge=30, le=86400)
    # Markdown (chat/rooms/rendering.py): bodies estimated to cost more than render_inline_ms
    # go to render_workers processes (0: none, they are stored as plain text); one that waits
    # behind render_queue others or is not done within render_budget_ms becomes plain text.
    render_workers: int = Field(default=1, ge=0, le=64)
    render_inline_ms: float = Field(default=2.0, ge=0, le=1000)
    render_budget_ms: float = Field(default=250.0, gt=0, le=60_000)
    render_queue: int = Field(default=8, ge=0, le=10_000)

    # Group commit and fan-out.
    group_commit_max: int = Field(default=512, ge=1)
    unsubscribe_linger_s: float = Field(default=2.0, ge=0)
    sweep_interval_s: float = Field(default=2.0, gt=0)
    degraded_poll_s: float = Field(default=0.25, gt=0)
    # Presence and typing (docs/decisions.md, "Presence"): a node's entries outlive its last
    # heartbeat (every ttl/3) by the TTL; clients get at most one presence frame per room per
    # interval; one typing indicator per user and room per typing interval.
    presence_ttl_s: float = Field(default=30.0, ge=0.3, le=3600)
    presence_interval_s: float = Field(default=0.5, ge=0.01, le=60)
    typing_interval_s: float = Field(default=3.0, ge=0, le=60)
    pg_pool_min: int = Field(default=2, ge=1)
    pg_pool_max: int = Field(default=10, ge=1)
    # Webinars (docs/protocol.md, "Webinars"): a live webinar still running this many minutes
    # after its end time is ended by the sweep, which every node runs this often.
    webinar_auto_end_min: int = Field(default=30, ge=0, le=7 * 24 * 60)
    webinar_sweep_s: float = Field(default=30.0, ge=0.05, le=3600)
    # The Q&A board (docs/protocol.md, "The Q&A board"): each node sends at most one `board`
    # frame (vote and poll counts) per webinar per tick; an attendee has at most this many
    # open questions at a time.
    board_tick_ms: int = Field(default=250, ge=10, le=10_000)
    webinar_open_questions: int = Field(default=5, ge=1, le=1000)

    # Transcript exports (docs/protocol.md, "Exports"): at most this many running at once on a
    # node (and one per member on it: 429 export_busy), each reading the room log this many
    # entries per page (memory per export grows with it, not with the room).
    export_concurrency: int = Field(default=4, ge=1, le=256)
    export_page: int = Field(default=500, ge=10, le=10_000)
    # After start-up, gc.freeze() what it allocated (chat/gcfreeze.py). Off only where one
    # process starts many nodes (the tests).
    gc_freeze: bool = True
    # Also freeze what survives each full collection (chat/gcfreeze.py): full collections scan
    # only what was made since the last one, but an object frozen that later dies in a reference
    # cycle is never freed. Off by default until that is bounded (docs/decisions.md).
    gc_freeze_survivors: bool = False
    # Every this many seconds the node hands the C allocator's free memory back to the system
    # (chat/memory.py; docs/reliability.md §6: without it a long-running node's resident memory
    # creeps up by free chunks glibc keeps). 0: never.
    malloc_trim_s: float = Field(default=60.0, ge=0, le=86_400)
    # How often the event loop's lag is measured (chat/looplag.py; the
    # ecolink_event_loop_lag_seconds metric). 0: never.
    loop_lag_interval_s: float = Field(default=0.01, ge=0, le=10)
    # PDF exports (chat/export/formats/pdf.py, docs/operations.md "PDF exports"): the CJK font
    # embedded (a .ttf/.ttc; unset: the system's, chat/export/fonts.py), and the most pages a
    # PDF may have (a longer one is refused with 413 export_too_large, suggesting a range).
    pdf_font: Path | None = None
    export_pdf_max_pages: int = Field(default=3000, ge=1, le=100_000)

    # Files (docs/operations.md, "Files and storage"; chat/files/): the largest upload, the
    # part an upload is cut into (S3's smallest part is 5 MiB; memory per upload is one part),
    # each member's quota (moderators and admins: none), how long unfinished uploads and files
    # attached to nothing live, how long a deleted file's bytes are kept (0: the next sweep),
    # and how often each node sweeps.
    upload_max_mb: int = Field(default=2048, ge=1, le=1024 * 1024)
    upload_part_mb: int = Field(default=8, ge=5, le=512)
    # Parts written to storage at once per node, all uploads together (each joined, hashed and
    # written in threads; the others wait with their one part, and their clients with them).
    upload_part_writes: int = Field(default=2, ge=1, le=64)
    upload_quota_mb: int = Field(default=2048, ge=0, le=1024 * 1024 * 1024)
    upload_expire_hours: float = Field(default=24, gt=0, le=24 * 365)
    file_retention_days: float = Field(default=30, ge=0, le=3650)
    file_sweep_s: float = Field(default=600, ge=0.05, le=86400)
    # Search (docs/operations.md, "Search and its index"). Off: the append writer indexes no
    # message (for measuring what indexing costs a send only: search then misses new messages
    # until `ecolink reindex`).
    search_indexing: bool = True
    # Where members reach the server, for links in emails (issue 15: verification, password
    # reset, unsubscribe, digests), e.g. https://chat.example.org. Unset: http://<host>:<port>
    # of this node (fine on one machine, wrong behind a proxy: set it in production).
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")

    # Email (chat/mail/, docs/operations.md "Email (SMTP)"). smtp_host unset: mail is queued in
    # the store but not sent (logged once at start). security: none (plain, e.g. a local relay
    # or mail catcher), starttls (upgrade, port 587) or tls (implicit TLS, port 465).
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_from: str = Field(default="EcoLink <noreply@localhost>", min_length=3, max_length=320)
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # Retries (SMTP down, 4xx answers): the wait doubles from mail_retry_base_s up to
    # mail_retry_max_s; after mail_max_attempts tries the mail is failed. Each claim leases a
    # mail for mail_lease_s, renewed right before each mail is sent, so it must outlast one send
    # (smtp_timeout_s bounds a whole send); a node that dies while sending lets another retry
    # after it. A node with nothing due looks again at least every mail_poll_s. Sent and failed
    # rows (blanked once done) are deleted after mail_keep_days.
    mail_retry_base_s: float = Field(default=30.0, ge=0.01, le=86400)
    mail_retry_max_s: float = Field(default=3600.0, ge=0.01, le=7 * 86400)
    mail_max_attempts: int = Field(default=10, ge=1, le=1000)
    mail_lease_s: float = Field(default=120.0, ge=0.5, le=86400)
    mail_poll_s: float = Field(default=10.0, ge=0.05, le=3600)
    mail_batch: int = Field(default=20, ge=1, le=1000)
    mail_keep_days: float = Field(default=30.0, ge=0.001, le=3650)
    # Email notifications (chat/mail/notices.py, reminders.py, digests.py; docs/operations.md
    # "Email notifications"): direct messages, mentions and replies still unread after
    # mail_notify_delay_min are mailed, batched (one email per member per delay at most); webinar
    # reminders go mail_webinar_reminder_min before the start; digests after mail_digest_hour in
    # the member's zone. Every node looks for such work every mail_jobs_s (claimed: one node
    # does each piece).
    mail_notify_delay_min: float = Field(default=15.0, ge=0.01, le=7 * 1440)
    mail_webinar_reminder_min: float = Field(default=60.0, ge=0.01, le=7 * 1440)
    mail_digest_hour: int = Field(default=7, ge=0, le=23)
    mail_jobs_s: float = Field(default=60.0, ge=0.05, le=3600)

    # Files' bytes (chat/blobs/, docs/operations.md "Files and storage"): a local folder
    # (unset: <data_dir>/files; several nodes must share it), or, when s3_url is set, a bucket
    # of any S3-compatible store (MinIO, AWS, ...), addressed path-style, created at start-up
    # when missing and s3_create_bucket is on. Keys unset: botocore's own lookup (env, profile).
    files_dir: Path | None = None
    s3_url: str | None = None
    s3_bucket: str = Field(default="ecolink", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    s3_region: str = Field(default="us-east-1", min_length=1)
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_create_bucket: bool = True

    @field_validator("s3_url")
    @classmethod
    def _check_s3_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https:// (unset it for the local folder)")
        if value and "@" in value.split("://", 1)[1].split("/", 1)[0]:
            raise ValueError("must not hold credentials: set ECOLINK_S3_ACCESS_KEY and _SECRET_KEY")
        return value.rstrip("/") if value else None

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        if self.mail_lease_s <= self.smtp_timeout_s:
            raise ValueError("ECOLINK_MAIL_LEASE_S must be more than ECOLINK_SMTP_TIMEOUT_S"
                             " (a claim must outlast one send, or another node sends the mail again)")
        return self

    @field_validator("smtp_host", "smtp_username", "smtp_password", mode="before")
    @classmethod
    def _empty_smtp_is_none(cls, value: object) -> object:
        return value or None

    @property
    def public_base(self) -> str:
        """Where links in emails point: ECOLINK_PUBLIC_URL, else this node's own address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @field_validator("s3_access_key", "s3_secret_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        return value or None

    @property
    def files_path(self) -> Path:
        """The local blob store's folder (ECOLINK_FILES_DIR, default <data_dir>/files)."""
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError("must be comma-separated addresses or networks, e.g."
                                 " 127.0.0.0/8,::1,10.0.0.0/8 (empty: token only)") from None
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        return value or None

    @property
    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(network, strict=False) for network in self.metrics_allow]

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (unset it for embedded SQLite)")
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// (unset it for the in-process broker)")
        return value or None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ecolink.db"
