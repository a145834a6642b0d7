"""Settings models: the environment is read by from_env only, and a bad value names its variable."""

from __future__ import annotations

import pytest

from adapters.ops.settings import ServeSettings
from bot.config import ConfigError, Settings


def test_only_from_env_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEBOOK_MAX_ANSWER_CHARS", "200")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings().max_answer_chars == 4000  # constructed: the caller chooses every value
    assert Settings(max_answer_chars=300).max_answer_chars == 300
    settings = Settings.from_env()
    assert (settings.max_answer_chars, settings.log_level) == (200, "DEBUG")


def test_a_mapping_instead_of_the_environment() -> None:
    serve = ServeSettings.from_env({"PORT": "8080", "HOST": " ", "METRICS_PORT": ""})
    assert (serve.port, serve.host, serve.metrics_port) == (8080, "0.0.0.0", None)  # blank is unset


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "70000"}, "PORT must be between 1 and 65535, not 70000"),
        ({"METRICS_PORT": "metrics"}, "METRICS_PORT must be a whole number, not 'metrics'"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ServeSettings.from_env(env)


def test_a_bad_secret_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"CASEBOOK_SECRET_KEY": "hunter2,hunter3"})
    assert "CASEBOOK_SECRET_KEY" in str(raised.value) and "hunter" not in str(raised.value)


def test_postgres_urls_as_paas_set_them() -> None:
    url = "postgres://u:p@db.example.com:5432/casebook"
    assert Settings.from_env({"DATABASE_URL": url}).database_url == url
    with pytest.raises(ConfigError, match="DATABASE_URL uses 'mysql'"):
        Settings.from_env({"DATABASE_URL": "mysql://db/casebook"})
