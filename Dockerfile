# One image for the api and the worker (`omnijourney api` / `omnijourney worker`).
# Dependencies come from uv.lock only; the `embedded` extra (dev servers) is left out: production
# talks to real Temporal and MongoDB (see docker-compose.yml).
FROM python:3.11-slim

ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONUNBUFFERED=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY domain ./domain
COPY simulator ./simulator
COPY store ./store
COPY connectors ./connectors
COPY activities ./activities
COPY workflows ./workflows
COPY ingestion ./ingestion
COPY api ./api
COPY runtime ./runtime
RUN uv sync --frozen --no-dev --no-editable

RUN useradd --system --uid 10001 --no-create-home omnijourney
USER omnijourney

ENV PATH=/app/.venv/bin:$PATH
EXPOSE 8000
CMD ["omnijourney", "api"]
