"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Airflow 3 builds the connection forms from ``conn-fields`` and ``ui-field-behaviour`` here,
without importing the hooks.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_messaging import __version__

_PKG = "airflow_provider_messaging"

_COMMON_CONN_FIELDS: dict[str, Any] = {
    "connect_timeout": {
        "label": "Connect timeout (s)",
        "description": "Seconds to wait for a TCP connection to the vendor (default 5).",
        "schema": {"type": ["number", "null"], "minimum": 0, "default": 5},
    },
    "timeout": {
        "label": "Read timeout (s)",
        "description": "Seconds to wait for the vendor's answer (default 30). "
        "A send that times out here is reported as an unknown outcome and never re-sent blindly.",
        "schema": {"type": ["number", "null"], "minimum": 0, "default": 30},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries of connect errors, 429 and 503 (default 3).",
        "schema": {"type": ["integer", "null"], "minimum": 0, "maximum": 10, "default": 3},
    },
    "rate_limit": {
        "label": "Rate limit (messages/s)",
        "description": "Client-side cap used by bulk sends (default: no cap).",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "sending_policy": {
        "label": "Sending policy (JSON)",
        "description": "Default local-time windows and frequency caps of sends through this connection, "
        'e.g. {"windows": {"MKT": "08:00-21:00"}, "caps": [{"limit": 3, "period": "1d"}]} '
        "(README: Sending policies). An operator's policy= overrides it.",
        "schema": {"type": ["string", "null"]},
    },
}


def _config_option(description: str, default: str | None, *, sensitive: bool = False) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": "string",
        "example": None,
        "default": default,
        "sensitive": sensitive,
    }


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata: connection types, hooks, operators, sensors, triggers, config."""
    return {
        "package-name": "airflow-provider-messaging",
        "name": "Messaging (Telesign, Aerialink)",
        "description": "Send RCS, WhatsApp and SMS through Telesign and Aerialink and wait for delivery.",
        "versions": [__version__],
        # the range pyproject.toml declares and scripts/compat-smoke.sh tests (3.0: SQLAlchemy 1.4)
        "dependencies": ["apache-airflow>=3.1.0"],
        "integrations": [
            {"integration-name": "Telesign", "tags": ["service"]},
            {"integration-name": "Aerialink", "tags": ["service"]},
        ],
        "hooks": [
            {"integration-name": "Telesign", "python-modules": [f"{_PKG}.hooks.telesign"]},
            {"integration-name": "Aerialink", "python-modules": [f"{_PKG}.hooks.aerialink"]},
        ],
        "operators": [
            {"integration-name": "Telesign", "python-modules": [f"{_PKG}.operators.telesign"]},
            {"integration-name": "Aerialink", "python-modules": [f"{_PKG}.operators.aerialink"]},
            {"integration-name": "Telesign", "python-modules": [f"{_PKG}.operators.failover"]},
        ],
        "sensors": [
            {
                "integration-name": "Telesign",
                "python-modules": [f"{_PKG}.sensors.delivery", f"{_PKG}.sensors.inbound"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Telesign",
                "python-modules": [f"{_PKG}.triggers.delivery", f"{_PKG}.triggers.inbound"],
            },
            {"integration-name": "Aerialink", "python-modules": [f"{_PKG}.triggers.inbound_events"]},
        ],
        "notifications": [
            f"{_PKG}.notifications.messaging.TelesignNotifier",
            f"{_PKG}.notifications.messaging.AerialinkNotifier",
        ],
        "connection-types": [
            {
                "connection-type": "telesign",
                "hook-class-name": f"{_PKG}.hooks.telesign.TelesignHook",
                "hook-name": "Telesign",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"login": "Customer ID", "password": "API key", "host": "API host"},
                    "placeholders": {
                        "login": "12345678-9ABC-DEF0-1234-56789ABCDEF0",
                        "password": "base64 API key from the Telesign portal",
                        "host": "https://rest-ww.telesign.com",
                    },
                },
                "conn-fields": dict(_COMMON_CONN_FIELDS),
            },
            {
                "connection-type": "aerialink",
                "hook-class-name": f"{_PKG}.hooks.aerialink.AerialinkHook",
                "hook-name": "Aerialink",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"login": "API user", "password": "API secret", "host": "API host"},
                    "placeholders": {
                        "login": "Aerialink API username",
                        "password": "Aerialink API password",
                        "host": "https://apix5.aerialink.net",
                    },
                },
                "conn-fields": {
                    **_COMMON_CONN_FIELDS,
                    "default_source": {
                        "label": "Default RCS sender",
                        "description": "RCS sender used when an operator gives no source, e.g. CONVEY.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "callback_url": {
                        "label": "Callback URL",
                        "description": "Default callbackURL for delivery status (the receiver's "
                        "/messaging/aerialink/status URL, with ?token=... if a token is configured).",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            },
        ],
        "plugins": [{"name": "messaging", "plugin-class": f"{_PKG}.plugin.MessagingPlugin"}],
        "config": {
            "messaging": {
                "description": "Settings of airflow-provider-messaging: store, callback receiver, waiting.",
                "options": {
                    "store_url": _config_option(
                        "SQLAlchemy URL of the message store. Empty: SQLite file messaging.db in AIRFLOW_HOME.",
                        "",
                        sensitive=True,
                    ),
                    "telesign_conn_id": _config_option(
                        "Connection whose API key verifies Telesign callback signatures.", "telesign_default"
                    ),
                    "callback_token": _config_option(
                        "Shared secret accepted as ?token=... on the callback URLs of the vendors in "
                        "callback_secret_vendors.",
                        "",
                        sensitive=True,
                    ),
                    "callback_username": _config_option("Basic-auth user accepted on callbacks.", ""),
                    "callback_password": _config_option(
                        "Basic-auth password accepted on callbacks.", "", sensitive=True
                    ),
                    "callback_secret_vendors": _config_option(
                        "Vendors whose callback routes accept the shared secret (token or Basic), comma "
                        "separated. Telesign routes always accept Telesign's signature; add telesign here "
                        "only if its callbacks cannot be signed. Default aerialink.",
                        "aerialink",
                    ),
                    "callback_auth_disabled": _config_option(
                        "Accept unauthenticated callbacks (local sandbox only). Default False.", "False"
                    ),
                    "max_callback_bytes": _config_option("Largest callback body accepted (413 above).", "65536"),
                    "poll_interval": _config_option(
                        "Seconds between store reads of the delivery trigger and sensors.", "2"
                    ),
                    "send_lease_seconds": _config_option(
                        "Seconds a reserved send counts as in flight: no other try sends its key meanwhile; "
                        "after it the key counts as an unknown outcome. Longer than a hook's retry budget.",
                        "900",
                    ),
                    "sending_policy": _config_option(
                        "Default sending policy of every send, as JSON: local-time windows per message type "
                        "and frequency caps (README: Sending policies). Connection extras and policy= override it.",
                        "",
                    ),
                },
            }
        },
    }
