"""Settings from the environment (``SHIELDWALL_*``) and an optional ``shieldwall.toml``.

Nothing is required: with no settings Shieldwall uses an embedded SQLite database in the user's
data directory. Precedence, highest first: environment, the TOML file named by
``SHIELDWALL_CONFIG`` (or ``./shieldwall.toml`` when it exists; its top-level keys are the
setting names without the prefix, e.g. ``database_url = "..."``), defaults.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from croniter import croniter
from platformdirs import user_data_path
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shieldwall.errors import InputError

GIB = 1024**3
MIB = 1024**2

# Notifier URLs in one string are split at white space, and at commas that start a new URL:
# the commas inside ``smtp://...&to=a@example.com,b@example.com`` stay.
_URL_SEPARATOR = re.compile(r"\s+|,\s*(?=[A-Za-z][A-Za-z0-9+.-]*:)")


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
    policy: Path | None = Field(
        default=None,
        description="a risk policy YAML file; its keys override the defaults that"
        " `shieldwall policy show` prints",
    )
    gate_policy: Path | None = Field(
        default=None,
        description="a gate policy YAML file (what blocks a change); its keys override the"
        " defaults that `shieldwall policy show --gate` prints",
    )
    intel_kev_url: str = Field(
        default="https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
        description="where `intel sync` downloads the KEV catalog",
    )
    intel_epss_url: str = Field(
        default="https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
        description="where `intel sync` downloads the EPSS scores",
    )
    intel_osv_url: str = Field(
        default="https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip",
        description="where `intel sync` downloads an OSV ecosystem ({ecosystem} is its name)",
    )
    intel_ecosystems: list[str] = Field(
        default_factory=lambda: ["PyPI", "npm", "Go", "crates.io", "Maven", "RubyGems", "NuGet"],
        description="the OSV ecosystems `intel sync` downloads, besides those of stored components",
    )
    operator: str | None = Field(
        default=None,
        description="the account email that commands acting for a person (exception"
        " requests and decisions) use when no --as is given",
    )

    # NoDecode: pydantic-settings would read the variable as JSON only; the validator reads
    # JSON or a plain list, which is what people write in an environment file.
    notifiers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="where reminders go: URLs such as log:, webhook+https://..., "
        "slack+https://hooks.slack.com/..., smtp://host:25?from=...&to=...",
    )
    base_url: str | None = Field(
        default=None, description="the server's public URL, used for links in notifications"
    )

    server_url: str | None = Field(
        default=None,
        description="a Shieldwall server: `scan --upload` sends its report there (with"
        " SHIELDWALL_TOKEN) rather than into the local store",
    )
    token: SecretStr | None = Field(
        default=None, description="an API token for server_url (the ingest scope is enough)"
    )
    reminders_cron: str = Field(
        default="0 * * * *",
        description="when `shieldwall serve` (SQLite) or `shieldwall worker` (PostgreSQL) end"
        " expired exceptions and send reminders: a cron expression, empty to turn it off",
    )

    @field_validator("reminders_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        value = value.strip()
        if value and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (five fields: m h dom mon dow)")
        return value

    @field_validator("notifiers", mode="before")
    @classmethod
    def _split_notifiers(cls, value: object) -> object:
        if not isinstance(value, str):
            return value  # a list from TOML or from code
        if value.lstrip().startswith("["):
            return json.loads(value)  # invalid JSON: pydantic reports the ValueError
        return [url for url in _URL_SEPARATOR.split(value.strip()) if url]

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
