"""The SMS gateway port and its adapters: a simulated gateway (development, tests, the demo) and
Twilio's Programmable Messaging REST API (POST /2010-04-01/Accounts/{sid}/Messages.json, form
fields To, From, Body, HTTP basic auth with the account SID and auth token; 201 with the message's
`sid`; errors as JSON with a `code`). The base address is a setting, so tests talk to a local
stand-in server on 127.0.0.1. Standard library only (urllib): no new dependency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from aftersales.notifications.settings import NotificationSettings


@dataclass(frozen=True, slots=True)
class SmsOutcome:
    ok: bool
    provider_id: str = ""
    error: str = ""
    permanent: bool = False  # the provider refused this message for good (bad number, opted out)


class SmsGateway(Protocol):
    def send(self, to: str, text: str, key: str) -> SmsOutcome: ...


@dataclass
class SimulatedSms:
    """Accepts every message and remembers it; numbers ending in 0000 are refused for good and
    numbers ending in 9999 fail for a while (the simulator's triggers)."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, to: str, text: str, key: str) -> SmsOutcome:
        if to.endswith("0000"):
            return SmsOutcome(ok=False, error="simulated: not a mobile number", permanent=True)
        if to.endswith("9999"):
            return SmsOutcome(ok=False, error="simulated: carrier busy")
        with self._lock:
            self.sent.append((to, text, key))
            return SmsOutcome(ok=True, provider_id=f"SIM{len(self.sent):08d}")


# Twilio error codes that will not change on a retry (invalid or unreachable 'To', the recipient
# replied STOP, the sender is not allowed): https://www.twilio.com/docs/api/errors
TWILIO_PERMANENT = frozenset({21211, 21212, 21408, 21610, 21612, 21614, 21606, 21659})


@dataclass(frozen=True, slots=True)
class TwilioSms:
    account_sid: str
    auth_token: str
    sender: str
    base_url: str = "https://api.twilio.com"
    timeout: float = 10.0

    def send(self, to: str, text: str, key: str) -> SmsOutcome:
        url = f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{urllib.parse.quote(self.account_sid)}/Messages.json"
        body = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": text}).encode()
        auth = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the address is the operator's setting
            url,
            data=body,
            method="POST",
            headers={
                "Authorization": f"Basic {auth}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                # Twilio ignores a repeated request with the same key for a while (idempotency).
                "I-Twilio-Idempotency-Token": key[:64],
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
                return SmsOutcome(ok=True, provider_id=str(answer.get("sid", "")))
        except urllib.error.HTTPError as exc:
            return _refusal(exc)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return SmsOutcome(ok=False, error=f"twilio unreachable: {exc}")


def _refusal(exc: urllib.error.HTTPError) -> SmsOutcome:
    try:
        answer = json.loads(exc.read() or b"{}")
    except ValueError:
        answer = {}
    code = answer.get("code") if isinstance(answer, dict) else None
    message = answer.get("message", "") if isinstance(answer, dict) else ""
    permanent = exc.code in (400, 404) and (code in TWILIO_PERMANENT or code is None or exc.code == 404)
    if exc.code in (401, 403):
        permanent = False  # our credentials: fixable by the operator, worth the retries
    return SmsOutcome(ok=False, error=f"twilio {exc.code} {code}: {message}"[:2000], permanent=permanent)


_simulated = SimulatedSms()


def gateway_from(settings: NotificationSettings) -> SmsGateway | None:
    """The configured gateway; None when SMS is off (the default)."""
    if settings.sms_provider == "simulated":
        return _simulated
    if settings.sms_provider == "twilio":
        return TwilioSms(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            sender=settings.twilio_from,
            base_url=settings.twilio_base_url,
            timeout=settings.smtp_timeout_seconds,
        )
    return None


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature of a webhook: HMAC-SHA1 with the auth token over the full URL followed by
    each POST parameter's name and value, sorted by name, in base64 (Twilio's security docs)."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signed(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    return bool(auth_token) and hmac.compare_digest(twilio_signature(auth_token, url, params), signature)
