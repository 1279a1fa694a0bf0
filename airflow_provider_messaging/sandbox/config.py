"""Settings of the sandbox: credentials it accepts, where it sends callbacks, how fast time runs."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

DEFAULT_TELESIGN_API_KEY = base64.b64encode(b"sandbox-api-key-0123456789").decode("ascii")


@dataclass
class SandboxConfig:
    """Everything the sandbox needs; every field has a usable default.

    Times the vendor expresses in seconds (``fallback_time``, callback retry waits) are multiplied by
    ``time_scale``. Callback URLs left as ``None`` mean "do not send that kind of callback".
    """

    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    telesign_customer_id: str = "12345678-9ABC-DEF0-1234-56789ABCDEF0"
    telesign_api_key: str = DEFAULT_TELESIGN_API_KEY  # base64, like real Telesign keys
    aerialink_username: str = "sandbox"
    aerialink_password: str = "sandbox-secret"
    telesign_status_url: str | None = None
    telesign_inbound_url: str | None = None
    aerialink_status_url: str | None = None  # used when a message carries no callbackURL
    aerialink_inbound_url: str | None = None
    time_scale: float = 0.001
    base_delay_s: float = 0.2
    default_fallback_time_s: float = 600.0  # vendor default unknown; used when a channel has none
    telesign_callback_method: str = "POST"  # the vendor docs also show GET with a body
    callback_headers: dict[str, str] = field(default_factory=dict)
    callback_username: str | None = None  # HTTP Basic on Aerialink callbacks (Telesign ones are HMAC-signed)
    callback_password: str | None = None
    callback_timeout_s: float = 5.0
    callback_max_attempts: int = 4
    callback_retry_waits_s: tuple[float, ...] = (5.0, 10.0, 15.0)
    callback_min_retry_wait_s: float = 0.05
    callback_workers: int = 4
    rcs_sender_id: str = "sandbox_rcs_sender"  # Telesign MO rcs_sender_id
    waba_phone_number: str = "15550000001"  # Telesign MO WhatsApp business number
    sms_sender_id: str = "4442"  # Telesign MO SMS short code
    aerialink_sender: str = "CONVEY"  # Aerialink MO destination (our RCS sender)
    iso_country_code: str = "US"

    def __post_init__(self) -> None:
        try:
            base64.b64decode(self.telesign_api_key, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("telesign_api_key must be a base64 string (as Telesign issues them)") from exc
        if self.time_scale < 0 or self.base_delay_s < 0:
            raise ValueError("time_scale and base_delay_s must not be negative")
        if self.callback_max_attempts < 1:
            raise ValueError("callback_max_attempts must be at least 1")

    @property
    def telesign_key_bytes(self) -> bytes:
        """The HMAC key Telesign signs callbacks with: the API key, base64-decoded."""
        return base64.b64decode(self.telesign_api_key)

    def scaled(self, vendor_seconds: float) -> float:
        """A vendor duration in sandbox seconds."""
        return vendor_seconds * self.time_scale

    def retry_wait(self, attempt: int) -> float:
        """Wait after failed attempt number ``attempt`` (1-based), scaled, at least the minimum."""
        waits = self.callback_retry_waits_s or (0.0,)
        vendor_wait = waits[min(attempt, len(waits)) - 1]
        return max(self.callback_min_retry_wait_s, self.scaled(vendor_wait))
