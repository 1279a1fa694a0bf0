"""Airflow plugin: mounts the callback receiver into the Airflow API server under ``/messaging``."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_messaging.receiver.app import create_app


class MessagingPlugin(AirflowPlugin):
    """Serves ``/messaging/telesign/status`` and the other callback routes from the API server."""

    name = "messaging"
    fastapi_apps = [
        {"app": create_app(), "url_prefix": "/messaging", "name": "Messaging callback receiver"},
    ]
