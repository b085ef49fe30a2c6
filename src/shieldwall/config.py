"""Settings from the environment (``SHIELDWALL_*``) and an optional ``shieldwall.toml``.

Nothing is required: with no settings Shieldwall uses an embedded SQLite database in the user's
data directory. Precedence, highest first: environment, the TOML file named by
``SHIELDWALL_CONFIG`` (or ``./shieldwall.toml`` when it exists; its top-level keys are the
setting names without the prefix, e.g. ``database_url = "..."``), defaults.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shieldwall.errors import InputError

GIB = 1024**3
MIB = 1024**2


def default_home() -> Path:
    return user_data_path("shieldwall", appauthor=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIELDWALL_", extra="forbid")

    home: Path = Field(default_factory=default_home, description="where the embedded store lives")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite at HOME/shieldwall.db"
    )
    max_report_size: int = Field(
        default=3 * GIB // 2, gt=0, description="largest report accepted, in bytes"
    )
    max_inventory_size: int = Field(default=16 * MIB, gt=0)
    max_json_depth: int = Field(default=64, ge=8, le=1000)
    import_batch_size: int = Field(default=1000, ge=1, le=10_000)
    parse_process_min_size: int = Field(
        default=8 * MIB,
        ge=0,
        description="reports this large are parsed by a second process while the first stores",
    )

    max_upload_size: int = Field(
        default=GIB, gt=0, description="largest report the API accepts in one upload, in bytes"
    )
    admin_email: str = Field(
        default="admin@example.com",
        description="the first admin's email, created by `serve` on a store without accounts",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, description="a web session ends after this long without a request"
    )
    session_max_hours: int = Field(
        default=12, ge=1, description="a web session ends this long after login, used or not"
    )
    login_failures_per_account: int = Field(
        default=5, ge=1, description="failed logins for one email within 15 minutes before a wait"
    )
    login_failures_per_address: int = Field(
        default=20, ge=1, description="failed logins from one address within 15 minutes"
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'shieldwall.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_path()
        if path is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))


def _config_path() -> Path | None:
    named = os.environ.get("SHIELDWALL_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise InputError.in_file(
                path, "configuration file named by SHIELDWALL_CONFIG not found"
            )
        return path
    local = Path("shieldwall.toml")
    return local if local.is_file() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        raise InputError.in_file(_config_path(), f"not valid TOML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise InputError(f"setting {name}: {first['msg']}") from exc
