# witness-intake: build a virtualenv from the lock, then copy it into a clean runtime
# image that runs as an unprivileged user. Keys and data live on volumes.
FROM python:3.11-slim-bookworm AS build
WORKDIR /build
COPY requirements.lock pyproject.toml README.md ./
COPY app ./app
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.lock \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 intake \
    && useradd --system --uid 10001 --gid intake --home-dir /srv/intake \
       --shell /usr/sbin/nologin intake
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/intake
COPY alembic.ini ./
COPY migrations ./migrations
RUN mkdir -p keys var \
    && chown intake:intake keys var \
    && chmod 0700 keys var
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INTAKE_BIND=0.0.0.0:8000 \
    INTAKE_KEYS_DIR=/srv/intake/keys \
    INTAKE_BLOB_DIR=/srv/intake/var/blobs \
    INTAKE_DATABASE_URL=sqlite:////srv/intake/var/intake.db
USER 10001:10001
VOLUME ["/srv/intake/keys", "/srv/intake/var"]
EXPOSE 8000
# First start: `docker run ... intake server init` once, then the default command.
CMD ["intake", "server", "run"]
