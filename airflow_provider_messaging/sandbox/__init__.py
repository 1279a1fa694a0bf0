"""Local emulator of the Telesign and Aerialink messaging APIs (no credentials, no network).

It validates requests like the vendors, answers like them, plays each recipient's scenario
(docs/CONTRACTS.md; the last digit of the number picks it) with time scaled down, and posts
callbacks in the vendors' shapes. It deliberately imports nothing else from this package, nor
Airflow, so it can catch mistakes in our own models.

Use ``SandboxServer(SandboxConfig(...)).start()`` in tests and demos, or ``main(argv)`` as a CLI
(options in :mod:`airflow_provider_messaging.sandbox.server`).
"""

from .app import create_app
from .config import SandboxConfig
from .scenarios import Outcome, outcome_for
from .server import SandboxServer, main, serve

__all__ = ["Outcome", "SandboxConfig", "SandboxServer", "create_app", "main", "outcome_for", "serve"]
