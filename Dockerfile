# Casebook: one image for both processes, `casebook serve` (web) and `casebook clock`.
#   docker build -t casebook .
#   docker run --env-file .env -p 3000:3000 casebook            # web
#   docker run --env-file .env casebook clock                   # the reminder clock
# The same commands the README and .ci/run use; tests/ops/test_deploy_files.py keeps them in step.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY prompts ./prompts
RUN python -m venv /opt/casebook && /opt/casebook/bin/pip install --quiet .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/casebook casebook \
    && mkdir /data && chown casebook:casebook /data
COPY --from=build /opt/casebook /opt/casebook
ENV PATH=/opt/casebook/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/casebook.db
# SQLite lives here when no PostgreSQL DATABASE_URL is given (one replica only).
VOLUME /data
USER casebook
WORKDIR /home/casebook
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=6s --start-period=30s --retries=3 CMD ["casebook", "healthcheck"]
ENTRYPOINT ["casebook"]
CMD ["serve"]
