# The project's commands. `just --list` explains each one.
set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes
default:
    @just --list

# Run the narrated walkthrough of the patterns (embedded default: nothing to install)
demo *args:
    uv run python -m demo {{args}}

# Run every test and scenario (pytest arguments pass through, e.g. `just test -k outbox`)
test *args:
    uv run pytest {{args}}

# Run every scenario of features/ (their steps are in tests/bdd/) and print each feature and scenario by name
scenarios *args:
    uv run pytest tests/bdd --gherkin-terminal-reporter -v {{args}}

# Lint and type-check: ruff on everything, mypy --strict on the core, the services and the demo
lint:
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy

# Format the code
fmt:
    uv run ruff check --fix .
    uv run ruff format .

# Build the guide with --strict (no broken link, no missing snippet)
docs:
    NO_MKDOCS_2_WARNING=1 uv run mkdocs build --strict

# Serve the guide locally with live reload
docs-serve:
    NO_MKDOCS_2_WARNING=1 uv run mkdocs serve

# Run the benchmarks (all, or those named) and print the figures next to their peers
bench *args:
    uv run python -m benchmarks {{args}}


# Validate docker-compose.yml offline against the compose specification
compose-check:
    uv run check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

# Start RabbitMQ, PostgreSQL, Jaeger and both services with Docker Compose
up:
    @uv run python -c "from deploy.tokens import describe_secret; print(describe_secret())"
    docker compose up -d --build
    @echo "ordering: http://127.0.0.1:8001   billing: docker compose port billing 8000"
    @echo "traces:   http://127.0.0.1:16686 (Jaeger: pick service ordering, Find Traces, open a POST /orders)"
    @echo "metrics:  GET /metrics on each service; JSON logs: docker compose logs -f ordering billing"

# Stop what `just up` started
down:
    docker compose down

# Run ordering (8001) and billing (8002) in one process on the embedded default
serve:
    uv run python -m demo.serve

# Start both services as local processes on this machine's RabbitMQ and PostgreSQL
up-local *args:
    uv run python deploy/local.py up {{args}}

# Stop what `just up-local` started
down-local:
    uv run python deploy/local.py down

# Print a bearer token for the secret in force: `just token alice`, `just token ops operator`
token sub *roles:
    @uv run python -m deploy.tokens {{sub}} {{roles}}

# Migrate a database to the core's tables plus a service's own (URL, then its versions folder)
migrate url *versions:
    uv run python -m cqrs_ddd_core.adapters.sqlalchemy.migrate {{url}} {{versions}}

# Run the fault-injection suite: services as processes, killed, cut off and fed poison
test-reliability *args:
    uv run pytest -m reliability {{args}}
