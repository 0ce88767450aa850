"""A lean Django handler for API requests that authenticate with a personal access token.

A request to /api/ with `Authorization: Bearer ...` and no session cookie needs nothing that
the browser's middleware does: no session, CSRF token, flash messages, login lock-out, or the
redirects that send a page to the second factor or the consent form (the API's token check
refuses an inactive account and a client without current consent itself). Through the full
stack such a request also changed threads five times: Django runs the request-started signal,
the middleware chain, a sync-only middleware's way back to the event loop, the view, and the
response's close each in its own hop. Here the middleware of `settings.API_TOKEN_MIDDLEWARE`
(security headers, CSP, common, the caller's address, frame options) and the view run in one
call on a request thread. Every other request goes to Django's own ASGI handler.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import MiddlewareNotUsed, RequestAborted, RequestDataTooBig
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.urls import set_script_prefix
from django.utils.module_loading import import_string

Scope = dict[str, Any]
ASGIApp = Any


def is_token_api_request(scope: Scope) -> bool:
    """An HTTP request to /api/ with a bearer token and without the session cookie.

    (With the session cookie too, a bad token falls back to the session: the full stack.)
    """
    if scope["type"] != "http" or not scope["path"].startswith("/api/"):
        return False
    cookie = settings.SESSION_COOKIE_NAME.encode() + b"="
    bearer = False
    for name, value in scope["headers"]:
        if name == b"authorization":
            bearer = value[:7].lower() == b"bearer "
        elif name == b"cookie" and cookie in value:
            return False
    return bearer


class TokenAPIHandler(ASGIHandler):
    """Django's ASGI handler with the API middleware, run synchronously in a single hop.

    Runs inside `confide.threads.SyncThreadPool`, which chooses the request thread.
    """

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async: bool = False) -> None:
        """The chain of `settings.API_TOKEN_MIDDLEWARE`, every one of them run synchronously
        (BaseHandler.load_middleware, less the async adaptation)."""
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(settings.API_TOKEN_MIDDLEWARE):
            middleware = import_string(path)
            if not getattr(middleware, "sync_capable", True):
                raise RuntimeError(f"{path} must be able to run synchronously")
            try:
                instance = middleware(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope: Scope, body_file: Any) -> HttpResponseBase:
        """Everything Django does for one request, on the request thread: the started signal,
        the request, the middleware and view, and (unless streaming) the finished signal."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        response: HttpResponseBase
        try:
            request = self.request_class(scope, body_file)
        except UnicodeDecodeError:
            response = HttpResponseBadRequest()
        except RequestDataTooBig:
            response = HttpResponse("413 Payload too large", status=413)
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
        if not response.streaming:
            response.close()  # request_finished: the thread's connection is checked here
        return response


def route_token_api(default: ASGIApp) -> ASGIApp:
    """An ASGI app: token-authenticated API requests to `TokenAPIHandler`, the rest to
    `default` (Django's full ASGI handler)."""
    token_api = TokenAPIHandler()

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if is_token_api_request(scope):
            await token_api(scope, receive, send)
        else:
            await default(scope, receive, send)

    return app
