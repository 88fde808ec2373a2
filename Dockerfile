# syntax=docker/dockerfile:1
#
# EcoLink chat node image. One image serves every role: `ecolink serve` (the default
# command), `ecolink migrate` (the one-shot schema job in docker-compose.yml) and
# `ecolink create-admin`. Configuration comes from ECOLINK_* environment variables;
# see docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, non-root uid/gid so a bind-mounted data folder can be chowned to match.
RUN groupadd --system --gid 10001 ecolink \
 && useradd --system --uid 10001 --gid ecolink --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin ecolink

# The CJK font PDF exports embed (chat/export/fonts.py; docs/operations.md, "PDF exports"),
# and PostgreSQL's client tools for `ecolink backup` / `ecolink restore` (Debian's, newer than
# or as new as the server, which pg_dump needs; docs/operations.md, "Backups").
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei postgresql-client \
 && rm -rf /var/lib/apt/lists/*

# Install the package (a regular, non-editable install into site-packages).
# pyproject.toml first so this layer is cached until the metadata or the code changes.
# `README.md*` matches nothing harmlessly while the project has no README.
WORKDIR /tmp/src
COPY pyproject.toml README.md* ./
COPY chat ./chat
RUN pip install . \
 && cd / && rm -rf /tmp/src

# The browser client (no build step: static ES modules served by the node itself).
WORKDIR /app
COPY web ./web

# Embedded mode (no ECOLINK_DATABASE_URL) keeps its SQLite file here; mount a volume on
# /data to keep it. Unused when PostgreSQL is configured.
ENV ECOLINK_DATA_DIR=/data
RUN mkdir -p /data && chown ecolink:ecolink /data

USER ecolink:ecolink
EXPOSE 8000

# Liveness only: /healthz answers 200 while the process is alive. Readiness (/readyz:
# store and broker reachable) is checked by the orchestrator, see docker-compose.yml.
# python, not curl: the slim image has no curl. urlopen raises on non-2xx, so exit 1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Exec form: ecolink is PID 1 and receives SIGTERM directly from `docker stop`, which
# starts the graceful shutdown (WebSockets closed with 1012, clients reconnect elsewhere).
CMD ["ecolink", "serve", "--host", "0.0.0.0", "--port", "8000"]
