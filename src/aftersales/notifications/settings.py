"""Settings of the notifications context: the SMTP relay and the site's public address.

Read from the same AFTERSALES_ environment as everything else. When the application's Settings
(aftersales.config) carries a field of the same name, its value wins, so settings passed to
create_app() in code reach the notifications too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftersales.config import get_settings


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", env_file=".env", extra="ignore")

    # The relay that takes our mail. The default suits a local catcher in development
    # (`python -m aiosmtpd -n -l localhost:1025`); production points it at the real relay.
    smtp_host: str = "localhost"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 1025
    smtp_from: str = "Aftersales <no-reply@aftersales.localhost>"
    # STARTTLS on a plain connection (port 587), or TLS from the first byte (port 465).
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    # Links in emails start with this address.
    public_url: str = "http://localhost:8000"
    # SMS for proactive and marketing messages: off (none), the simulator, or Twilio's REST API.
    sms_provider: Literal["none", "simulated", "twilio"] = "none"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_base_url: str = "https://api.twilio.com"


def notification_settings() -> NotificationSettings:
    app = get_settings()
    overrides = {name: getattr(app, name) for name in NotificationSettings.model_fields if hasattr(app, name)}
    return NotificationSettings(**overrides)
