"""The Dockerfile, compose.yaml, .env.example, app.json and Procfile cannot be built or run here
(no container daemon): they are checked against the CLI and the settings instead."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from adapters.cli import build_parser
from adapters.ops.settings import ServeSettings
from adapters.slack.config import SlackSettings
from adapters.teams.config import TeamsSettings
from adapters.trackers.config import TrackerSettings
from adapters.web.config import WebSettings
from bot.config import EnvSettings, Settings
from bot.drafting.config import DraftingConfig
from bot.reminders.config import ReminderSettings

ROOT = Path(__file__).resolve().parents[2]
MODELS: tuple[type[EnvSettings], ...] = (
    Settings,
    ServeSettings,
    SlackSettings,
    TeamsSettings,
    ReminderSettings,
    DraftingConfig,
    WebSettings,
    TrackerSettings,
)
# Read by the compose file itself (its PostgreSQL password), never by Casebook.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}


def settings() -> set[str]:
    return {
        str(field.validation_alias)
        for model in MODELS
        for field in model.model_fields.values()
        if field.validation_alias
    }


def commands() -> set[str]:
    parser = build_parser()
    [sub] = [a for a in parser._actions if a.dest == "command"]
    return set(sub.choices)  # type: ignore[arg-type]


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert set(env_example()) == settings()


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert [name for name in sorted(settings()) if f"`{name}`" not in readme] == []


def test_env_example_values_are_valid_settings() -> None:
    values = {k: v for k, v in env_example().items() if v}
    for model in MODELS:
        model.from_env(values)  # raises ConfigError naming the variable otherwise
    assert ServeSettings.from_env(values).port == int(values["PORT"])


def test_dockerfile_runs_real_commands_on_the_default_port() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim AS build$", text, re.M), "multi-stage, slim base"
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    user = re.search(r"^USER (\S+)$", text, re.M)
    assert user and user.group(1) not in {"root", "0"}
    assert json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1)) == ["casebook"]  # type: ignore[union-attr]
    [default] = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    check = re.search(r"^HEALTHCHECK .* CMD (\[.+\])$", text, re.M)
    assert check is not None
    probe = json.loads(check.group(1))
    assert probe[0] == "casebook" and {default, probe[1]} <= commands()
    [port] = re.findall(r"^EXPOSE (\d+)$", text, re.M)
    assert int(port) == ServeSettings().port == int(re.search(r"PORT=(\d+)", text).group(1))  # type: ignore[union-attr]
    for name in re.findall(r"^\s+([A-Z_]+)=", text, re.M):
        assert name in settings() | {"PATH", "PYTHONUNBUFFERED"}, name


def test_compose_runs_migrate_once_then_web_and_clock() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "web", "clock"}
    assert services["db"]["image"].startswith("postgres:")
    used = {name: service["command"][0] for name, service in services.items() if "command" in service}
    assert (
        used == {"migrate": "migrate", "web": "serve", "clock": "clock"} and set(used.values()) <= commands()
    )
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "clock"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    web = services["web"]
    assert web["ports"] == [f"{web['environment']['PORT']}:{web['environment']['PORT']}"]
    assert str(web["environment"]["METRICS_PORT"]) in web["expose"]
    for service in (services["migrate"], web, services["clock"]):
        assert service["env_file"] == ".env" and set(service["environment"]) <= settings()
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    variables = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
    assert variables <= COMPOSE_ONLY | settings()


def test_procfile_and_app_json_use_real_commands_and_settings() -> None:
    processes = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert set(processes) == {"release", "web", "clock"}
    for command in processes.values():
        words = shlex.split(command)
        assert words[0] == "casebook" and words[1] in commands()
    app = json.loads((ROOT / "app.json").read_text())
    assert set(app["formation"]) <= set(processes) and set(app["env"]) <= settings()
    script = shlex.split(app["scripts"]["postdeploy"])
    assert script[0] == "casebook" and script[1] in commands()
    assert {check["path"] for checks in app["healthchecks"].values() for check in checks} <= {
        "/healthz",
        "/readyz",
    }
