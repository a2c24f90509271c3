FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first (a layer of their own), every file checked against the lock's hashes;
# then the app itself without dependencies (docs/security.md).
COPY requirements-prod.lock ./
RUN pip install --require-hashes -r requirements-prod.lock
COPY pyproject.toml README.md ./
COPY config ./config
COPY core ./core
COPY directory ./directory
COPY deadlines ./deadlines
COPY audit ./audit
COPY idempotency ./idempotency
COPY paging ./paging
COPY rosters ./rosters
COPY crisis ./crisis
COPY hotline ./hotline
COPY humanitarian ./humanitarian
COPY feeds ./feeds
COPY cyber ./cyber
COPY exercises ./exercises
COPY review ./review
COPY attachments ./attachments
COPY records ./records
COPY locale ./locale
COPY manage.py ./
RUN pip install --no-deps .
# The translations, compiled with the project's pure-Python compiler (no gettext in the image).
RUN python -m core.pofiles locale

# Static files are collected at build time (whitenoise serves them).
RUN DEBUG=false SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput -v 0

RUN useradd --system --uid 10001 app && mkdir -p /app/var/metrics && chown -R app /app/var
USER app
EXPOSE 8000
# One access line per request comes from Django (core.requests, with the request id), so
# uvicorn's own is off. uvicorn takes the client's address from X-Forwarded-For only from
# TRUSTED_PROXIES (the same list Django uses; empty trusts nobody), so a shell expands it.
CMD ["sh", "-c", "exec uvicorn config.asgi:application --host 0.0.0.0 --port 8000 --proxy-headers --forwarded-allow-ips \"${TRUSTED_PROXIES:-}\" --ws-max-size 262144 --no-access-log"]
