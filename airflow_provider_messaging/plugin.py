"""Airflow plugin: mounts the callback receiver into the Airflow API server under ``/messaging``,
and adds the *Messages* view (``/messaging/ui/``) to the navigation of Airflow's UI (Browse menu).

The view is an ``external_views`` entry (Airflow 3): with a ``url_route`` the UI renders the page in
an iframe at ``/plugin/messages``, on the same origin, so the browser sends Airflow's ``_token``
login cookie, which the view's endpoints validate themselves (plugin routes are not behind
Airflow's login; see ``receiver/login.py``).
"""

from __future__ import annotations

from airflow_provider_messaging.compat import AirflowPlugin
from airflow_provider_messaging.receiver.app import create_app

URL_PREFIX = "/messaging"


class MessagingPlugin(AirflowPlugin):
    """Serves ``/messaging/telesign/status`` and the other callback routes, and the Messages view."""

    name = "messaging"
    fastapi_apps = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Messaging callback receiver"},
    ]
    external_views = [
        {
            "name": "Messages",
            "href": f"{URL_PREFIX}/ui/",
            "destination": "nav",
            "category": "browse",
            "url_route": "messages",
        },
    ]
