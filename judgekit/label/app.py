"""The ASGI app (FastAPI): the rater's page, a small JSON API over
:class:`~judgekit.label.campaign.Campaign`, the campaign's images, and the operator's page.

Identity: every rater has a secret token. A personal link ``/?token=T`` sets it as a cookie
(HttpOnly, SameSite=Strict) and redirects to ``/``, so the token leaves the address bar; every
API call and image is then checked against it (scripts may send ``Authorization: Bearer T``
instead). Only where the operator invited nobody, and the app listens on this machine only, may a
newcomer join by typing a name, which issues a token for a name not yet taken. The operator's
token opens ``/operator`` and ``/api/status``.

Images are served by a task's opaque handle (``/img/HANDLE/TAG``), never by a path or an item
id from the client, so nothing outside the campaign can be read and nothing a rater receives
names a model. Requests must carry JSON (a cross-site form cannot post here without a CORS
preflight this app never grants) and an allowed Host header (no DNS rebinding).
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations
# at run time, and ``Request`` is imported lazily inside create_app.
import contextlib
import html as _html
import signal
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..errors import DataError, MissingDependencyError
from .campaign import HTTP_STATUS, Campaign, Unauthorized
from .export import Exporter
from .status import campaign_status
from .store import OPERATOR, RATER

#: Names a browser on this machine may use in the Host header.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
RATER_COOKIE, OPERATOR_COOKIE = "jk_label", "jk_label_operator"


@dataclass
class Access:
    """Who may reach the app and how."""

    #: Host header values accepted besides the loopback names (a reverse proxy's public name).
    allowed_hosts: list[str] = field(default_factory=list)
    #: Newcomers may join by typing a name (only without invited raters, and only on loopback).
    open_join: bool = True


def _fastapi():
    try:
        import fastapi
        import fastapi.responses  # noqa: F401  (fail here, not halfway through building the app)
    except ImportError:
        raise MissingDependencyError("fastapi", "label", "the labelling app") from None
    return fastapi


def _asset(name: str) -> str:
    return resources.files("judgekit.label").joinpath(name).read_text(encoding="utf-8")


def page_html() -> str:
    return _asset("page.html")


def message_page(title: str, text: str) -> str:
    """A small page for a rater who cannot go further (no link, a wrong link)."""
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><title>{_html.escape(title)}</title>"
            "<style>body{font:16px/1.5 system-ui,sans-serif;color:#1d2330;background:#f6f7f9;margin:0;padding:12vh 20px}"
            "main{max-width:520px;margin:0 auto;background:#fff;border:1px solid #d9dee7;border-radius:10px;padding:22px 26px}"
            "h1{font-size:19px;margin:0 0 8px}</style></head><body><main id=\"message\">"
            f"<h1>{_html.escape(title)}</h1><p>{_html.escape(text)}</p></main></body></html>")


def create_app(campaign: Campaign, exporter: Exporter | None = None, access: Access | None = None):
    fastapi = _fastapi()
    from fastapi import Request
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    access = access or Access()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if exporter is not None:
            campaign.on_change = exporter.changed
            exporter.start()
        try:
            yield
        finally:
            if exporter is not None:
                exporter.close()  # the final rewrite: the file has every answer when the server stops

    app = fastapi.FastAPI(title="judgekit label", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    hosts = [h for h in LOOPBACK_HOSTS if not h.startswith("[")] + list(access.allowed_hosts)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    page, operator_page = page_html(), _asset("operator.html")
    no_store = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}

    def fail(status: int, message: str):
        return JSONResponse({"error": message}, status_code=status, headers=no_store)

    def token_of(request, cookie: str) -> str:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return request.cookies.get(cookie, "")

    def who(request) -> str:
        return campaign.identify(token_of(request, RATER_COOKIE), RATER)

    def set_cookie(resp, request, name: str, token: str) -> None:
        resp.set_cookie(name, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=180 * 86400, path="/")

    async def body(request) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise _HTTP(415, "send JSON (Content-Type: application/json)")
        try:
            data = await request.json()
        except ValueError:
            raise _HTTP(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise _HTTP(422, "the body must be a JSON object")
        return data

    def call(fn, *args):
        try:
            return JSONResponse(fn(*args), headers=no_store)
        except DataError as exc:
            status = next((s for cls, s in HTTP_STATUS.items() if isinstance(exc, cls)), 400)
            return fail(status, str(exc))

    def as_rater(request, fn, *args):
        """``fn(rater, *args)`` for the rater the request's token names."""
        return call(lambda: fn(who(request), *args))

    @app.exception_handler(_HTTP)
    async def _http(request, exc: _HTTP):
        return fail(exc.status, exc.message)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, token: str = ""):
        if token:
            owner = campaign.store.token_owner(token)
            if owner is None:
                return HTMLResponse(message_page("This link is not valid",
                                                 "This link does not belong to this labelling campaign. Check that you "
                                                 "copied all of it, or ask the organiser for your personal link."),
                                    status_code=403, headers=no_store)
            role = owner[0]
            resp = RedirectResponse("/operator" if role == OPERATOR else "/", status_code=303, headers=no_store)
            set_cookie(resp, request, OPERATOR_COOKIE if role == OPERATOR else RATER_COOKIE, token)
            return resp
        known = campaign.store.token_owner(request.cookies.get(RATER_COOKIE, ""))
        if known is None and not access.open_join:
            return HTMLResponse(message_page("You need your personal link",
                                             "Raters open this page through the personal link the organiser sent them "
                                             "(it ends in ?token=...). Ask the organiser for yours."),
                                status_code=401, headers=no_store)
        return HTMLResponse(page, headers=no_store)

    @app.get("/operator", response_class=HTMLResponse)
    def operator(request: Request):
        owner = campaign.store.token_owner(token_of(request, OPERATOR_COOKIE))
        if owner is None or owner[0] != OPERATOR:
            return HTMLResponse(message_page("Operator only", "Open the operator link that `judgekit label` printed."),
                                status_code=401, headers=no_store)
        return HTMLResponse(operator_page, headers=no_store)

    @app.get("/api/config")
    def config():
        return call(campaign.config)

    @app.get("/api/me")
    def me(request: Request):
        def mine():
            try:
                return {"rater": who(request), "open_join": access.open_join}
            except Unauthorized:
                return {"rater": None, "open_join": access.open_join}
        return call(mine)

    @app.post("/api/join")
    async def join(request: Request):
        d = await body(request)
        if not access.open_join:
            return fail(403, "raters are invited: open the personal link the organiser sent you")
        try:
            name, token = await run_in_threadpool(campaign.claim, d.get("rater"))
        except DataError as exc:
            status = next((s for cls, s in HTTP_STATUS.items() if isinstance(exc, cls)), 400)
            return fail(status, str(exc))
        resp = JSONResponse({"rater": name, "link": f"/?token={token}"}, headers=no_store)
        set_cookie(resp, request, RATER_COOKIE, token)
        return resp

    @app.get("/api/next")
    def next_task(request: Request):
        return as_rater(request, campaign.next_task)

    @app.post("/api/answer")
    async def answer(request: Request):
        d = await body(request)
        # SQLite commits (fsync) run in the thread pool, never on the event loop
        return await run_in_threadpool(as_rater, request, campaign.answer, d.get("task"), d.get("dimension"),
                                       d.get("value"), d.get("shown", ""))

    @app.post("/api/undo")
    async def undo(request: Request):
        await body(request)
        return await run_in_threadpool(as_rater, request, campaign.undo)

    @app.post("/api/skip")
    async def skip(request: Request):
        d = await body(request)
        return await run_in_threadpool(as_rater, request, campaign.skip, d.get("task"), d.get("reason", ""))

    def operator_only(request, fn):
        def run():
            campaign.identify(token_of(request, OPERATOR_COOKIE), OPERATOR)
            return fn()
        return call(run)

    @app.get("/api/status")
    def status(request: Request):
        return operator_only(request, lambda: campaign_status(
            campaign.store, list(campaign.items.values()), n_boot=200, gold=campaign.settings.gold,
            min_seconds=campaign.settings.min_seconds, everyone=campaign.everyone(campaign.labellable())))

    @app.post("/api/restore")
    async def restore(request: Request):
        d = await body(request)
        items = d.get("items")
        return await run_in_threadpool(operator_only, request, lambda: {
            "restored": campaign.restore(None if items == "all" else [str(i) for i in (items or [])])})

    @app.get("/img/{handle}/{tag}")
    def image(request: Request, handle: str, tag: str, full: int = 0):
        try:
            pic = campaign.picture(who(request), handle, tag, full=bool(full))
        except DataError as exc:
            status = next((s for cls, s in HTTP_STATUS.items() if isinstance(exc, cls)), 400)
            return fail(status, str(exc))
        return Response(pic.data, media_type=pic.mime,
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})

    return app


class _HTTP(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def serve(campaign: Campaign, exporter: Exporter | None, port: int, on_ready=None, host: str = "127.0.0.1",
          access: Access | None = None) -> None:
    """Run the app on ``host:port`` until interrupted (SIGINT/SIGTERM: a clean shutdown that
    writes the labels file a last time)."""
    app = create_app(campaign, exporter, access)
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError("uvicorn", "label", "the labelling app") from None
    # proxy_headers: a TLS proxy on this machine says the scheme was https (cookies get Secure).
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
                            proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    server = uvicorn.Server(config)
    if on_ready is not None:
        startup = server.startup

        async def _startup(sockets=None):
            await startup(sockets=sockets)
            if server.started:
                on_ready()

        server.startup = _startup  # type: ignore[method-assign]  # a hook: uvicorn has no on-ready callback
    # uvicorn shuts down cleanly on SIGINT/SIGTERM, then re-raises the signal: turn that into a
    # normal return here, so the command can say where the labels are and exit 0.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if in_main else None
    try:
        server.run()
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


class _Stopped(Exception):
    pass


def _stop(signum, frame):
    raise _Stopped()
