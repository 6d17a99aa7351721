# One image for both services; the command picks the service (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never

RUN pip install --no-cache-dir uv

# The services run as this user, not as root: a flaw in a service then cannot rewrite its own
# code or anything else in the image. Fixed ids, so a mounted volume can be given to them.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
COPY core/pyproject.toml core/README.md ./core/
RUN uv sync --locked --no-dev --no-install-workspace

COPY core ./core
COPY ordering_service ./ordering_service
COPY billing_service ./billing_service
RUN uv sync --locked --no-dev

# Code and environment stay root's (read-only to the service); var/ is the one place it
# writes - the SQLite files when DATABASE_URL is left at its default.
RUN mkdir -p /app/var && chown app:app /app/var

# Inside a container the loopback is the container's own: listen on every interface of it, and
# let the published port (127.0.0.1 in docker-compose.yml) decide who can reach the service.
ENV PATH="/app/.venv/bin:$PATH" \
    HOST=0.0.0.0
USER app:app
EXPOSE 8000
CMD ["python", "-m", "ordering_service"]
