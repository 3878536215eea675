"""The ASGI app (FastAPI): the rater's page, a small JSON API over
:class:`~judgekit.label.campaign.Campaign`, and the campaign's images.

Images are served by item and field (``/image/image_a?item=ID``), never by a path from the
client, so nothing outside the manifest's items can be read; the items themselves refuse paths
outside the manifest's folder. Requests must carry JSON (a cross-site form cannot post here
without a CORS preflight this app never grants) and a localhost Host header (no DNS rebinding).
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations
# at run time, and ``Request`` is imported lazily inside create_app.
import contextlib
import signal
import threading
from importlib import resources
from typing import Any

from ..errors import DataError, MissingDependencyError
from .campaign import HTTP_STATUS, Campaign
from .export import Exporter
from .status import campaign_status


def _fastapi():
    try:
        import fastapi
        import fastapi.responses  # noqa: F401  (fail here, not halfway through building the app)
    except ImportError:
        raise MissingDependencyError("fastapi", "label", "the labelling app") from None
    return fastapi


def page_html() -> str:
    return resources.files("judgekit.label").joinpath("page.html").read_text(encoding="utf-8")


def create_app(campaign: Campaign, exporter: Exporter | None = None):
    fastapi = _fastapi()
    from fastapi import Request
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware.trustedhost import TrustedHostMiddleware

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
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
    html = page_html()
    no_store = {"Cache-Control": "no-store"}

    def fail(status: int, message: str):
        return JSONResponse({"error": message}, status_code=status, headers=no_store)

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

    @app.exception_handler(_HTTP)
    async def _http(request, exc: _HTTP):
        return fail(exc.status, exc.message)

    @app.get("/", response_class=HTMLResponse)
    def index():
        return HTMLResponse(html, headers=no_store)

    @app.get("/api/config")
    def config():
        return call(campaign.config)

    @app.post("/api/join")
    async def join(request: Request):
        d = await body(request)
        return await run_in_threadpool(call, lambda: {"rater": campaign.join(d.get("rater"))})

    @app.get("/api/next")
    def next_task(rater: str = ""):
        return call(campaign.next_task, rater)

    @app.post("/api/answer")
    async def answer(request: Request):
        d = await body(request)
        # SQLite commits (fsync) run in the thread pool, never on the event loop
        return await run_in_threadpool(call, campaign.answer, d.get("rater"), d.get("item"), d.get("dimension"),
                                       d.get("value"), d.get("shown", ""))

    @app.post("/api/undo")
    async def undo(request: Request):
        d = await body(request)
        return await run_in_threadpool(call, campaign.undo, d.get("rater"))

    @app.post("/api/skip")
    async def skip(request: Request):
        d = await body(request)
        return await run_in_threadpool(call, campaign.skip, d.get("rater"), d.get("item"), d.get("reason", ""))

    @app.get("/api/status")
    def status():
        return call(lambda: campaign_status(campaign.store, list(campaign.items.values()), n_boot=200))

    @app.get("/image/{field}")
    def image(field: str, item: str = ""):
        it = campaign.items.get(item)
        if it is None:
            return fail(404, f"no item {item!r}")
        if field not in it.images:
            return fail(404, f"item {item!r} has no {field}")
        if item in campaign.problems:
            return fail(404, campaign.problems[item])
        why = campaign.check_images(it)
        if why:
            return fail(404, why)
        return FileResponse(it.images[field], headers={"Cache-Control": "private, max-age=3600"})

    return app


class _HTTP(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def serve(campaign: Campaign, exporter: Exporter | None, port: int, on_ready=None) -> None:
    """Run the app on 127.0.0.1:``port`` until interrupted (SIGINT/SIGTERM: a clean shutdown
    that writes the labels file a last time)."""
    app = create_app(campaign, exporter)
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError("uvicorn", "label", "the labelling app") from None
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")
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
