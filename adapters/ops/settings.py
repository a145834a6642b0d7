"""Settings of the web process: where it listens and who may read its metrics."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr

from bot.config import EnvSettings, whole


class ServeSettings(EnvSettings):
    port: Annotated[int, BeforeValidator(whole(1, 65535))] = Field(3000, validation_alias="PORT")
    host: str = Field("0.0.0.0", validation_alias="HOST")
    # /metrics on its own port (no token needed there; keep the port private).
    metrics_port: Annotated[int | None, BeforeValidator(whole(1, 65535))] = Field(
        None, validation_alias="METRICS_PORT"
    )
    # /metrics on PORT, for requests with `Authorization: Bearer <token>`.
    metrics_token: SecretStr | None = Field(None, validation_alias="CASEBOOK_METRICS_TOKEN")
