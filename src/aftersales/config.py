"""Settings read from the environment (prefix AFTERSALES_) or a .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftersales.kit import secret_file

# Keys published with earlier releases as defaults: anyone could sign cookies with them.
PUBLISHED_SECRETS = frozenset({"dev-secret-change-me"})
SECRETS_FILE = "secrets.json"
# Settings holding secrets: made at random on a default install, required in production.
GENERATED_SECRETS = ("secret_key", "refund_gateway_callback_secret")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///./var/aftersales.db"
    # Empty: made at random on first start and kept in data_dir/secrets.json (refused in production).
    secret_key: str = ""
    # The refunds context's setting (aftersales.refunds.settings), here because it is a secret too.
    refund_gateway_callback_secret: str = ""
    # Where the install keeps what it makes for itself (the generated secrets).
    data_dir: str = "./var"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    language: Literal["zh-CN", "en"] = "zh-CN"
    # Huey's queue: a SQLite file by default, Redis when a redis:// URL is given.
    queue_url: str = "sqlite:///./var/queue.db"
    queue_immediate: bool = False
    # Live page updates (SSE): in-process by default; a redis:// URL fans them out across processes.
    live_redis_url: str = ""
    log_json: bool = True
    log_level: str = "INFO"
    login_max_failures: int = 5
    login_window_seconds: int = 900
    session_max_age_seconds: int = 60 * 60 * 12
    # Cookies marked Secure in production, where TLS terminates in front of us.
    cookie_secure: bool = False
    # Notifications: the SMTP relay for customer emails, and the site's address for links in them.
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_from: str = "Aftersales <no-reply@aftersales.localhost>"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = 10.0
    public_url: str = "http://localhost:8000"
    # Mail in: `aftersales mail-in` listens here for the support address's mail (behind the MX).
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = 2525
    mail_in_address: str = ""
    # Photos uploaded to cases, one folder per case.
    upload_dir: str = "./var/uploads"
    # Request bodies: JSON and forms up to max_body_bytes; the addresses that take photos (6 of
    # at most 5 MB each, plus the form) up to max_upload_bytes. Larger bodies get 413.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # Carrier scans stamped later than now by more than this are refused as from the future.
    logistics_clock_skew_seconds: int = Field(default=300, ge=0, le=86400)
    # The worker process serves its own Prometheus metrics (the scans' failures and escalations
    # are counted there) at http://HOST:PORT/metrics; port 0 turns it off.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 9464

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Asia/Shanghai") from exc
        return value

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        published = [name for name in GENERATED_SECRETS if getattr(self, name) in PUBLISHED_SECRETS]
        if published:
            raise ValueError(
                f"{_env_names(published)} is a key published with Aftersales, so anyone can sign with it; "
                "unset it (a random one is made and kept in the data folder) or set your own"
            )
        if self.env == "production":
            missing = [name for name in GENERATED_SECRETS if len(getattr(self, name)) < 32]
            if missing:
                raise ValueError(
                    f"in production (AFTERSALES_ENV=production) set {_env_names(missing)} to a random string of "
                    "at least 32 characters (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            return self
        unset = [name for name in GENERATED_SECRETS if not getattr(self, name)]
        if unset:
            path = Path(self.data_dir) / SECRETS_FILE
            try:
                made = secret_file.load_or_create(path, unset)
            except OSError as exc:
                raise ValueError(
                    f"cannot keep generated secrets in {path} ({exc.strerror}): make AFTERSALES_DATA_DIR writable "
                    f"or set {_env_names(unset)}"
                ) from exc
            for name in unset:
                setattr(self, name, made[name])
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_data_dirs(self) -> None:
        for url in (self.database_url, self.queue_url):
            if url.startswith("sqlite:///") and not url.endswith(":memory:"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _env_names(names: list[str]) -> str:
    return " and ".join(f"AFTERSALES_{name.upper()}" for name in names)


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
