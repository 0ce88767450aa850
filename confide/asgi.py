"""ASGI entry point: Django for HTTP, Channels for WebSockets."""

from __future__ import annotations

import os
import warnings

# WhiteNoise hands Django a file iterator for static files; under ASGI Django reads it in a
# worker thread and warns on every file. That is the intended behaviour for static files.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confide.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from confide.api.handler import route_token_api  # noqa: E402
from confide.live.auth import RoomSocketAuth  # noqa: E402
from confide.routing import websocket_urlpatterns  # noqa: E402
from confide.threads import SyncThreadPool  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": SyncThreadPool(route_token_api(django_asgi_app)),
        "websocket": RoomSocketAuth(URLRouter(websocket_urlpatterns)),
    }
)
