"""A small CDS Hooks service (an ASGI app on Starlette), started with one command::

    posterior-knee-cds                  # http://127.0.0.1:8765/cds-services

Routes: ``GET /cds-services`` (discovery), ``POST /cds-services/posterior-knee`` (the
``patient-view`` hook: one card from the prefetched interview) and
``POST /Questionnaire/$next-question`` (SDC: the adaptive interview, one question at a
time). It needs the ``service`` extra (``pip install posterior-knee[service]``). It has
no authentication: it listens on 127.0.0.1 by default; put it behind a proxy that checks
the EHR's JSON Web Token before exposing it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import PosteriorKneeError
from .cds import SERVICE_ID, discovery, hook_response
from .sdc import next_question

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["create_app", "main"]

DEFAULT_PORT = 8765


def create_app(model: Model | None = None):
    """The ASGI app (Starlette), answering with ``model`` (None: the shipped priors).

    Examples
    --------
    >>> from starlette.testclient import TestClient
    >>> client = TestClient(create_app())
    >>> client.get("/cds-services").json()["services"][0]["id"]
    'posterior-knee'
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def body(request: Request):
        try:
            return json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as problem:
            raise PosteriorKneeError(f"the request body is not JSON ({problem})") from None

    async def services(request: Request) -> JSONResponse:
        return JSONResponse(discovery())

    async def hook(request: Request) -> JSONResponse:
        if request.path_params["service"] != SERVICE_ID:
            return error(404, f"no CDS service {request.path_params['service']!r}; "
                              f"this server offers {SERVICE_ID!r}")
        try:
            return JSONResponse(hook_response(await body(request), model))
        except PosteriorKneeError as problem:
            return error(400, str(problem))

    async def next_item(request: Request) -> JSONResponse:
        try:
            return JSONResponse(next_question(await body(request), model),
                                media_type="application/fhir+json")
        except PosteriorKneeError as problem:
            return error(400, str(problem))

    # CDS Hooks clients (the sandbox among them) call from the browser
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                      allow_headers=["Authorization", "Content-Type"])
    return Starlette(routes=[
        Route("/cds-services", services, methods=["GET"]),
        Route("/cds-services/{service}", hook, methods=["POST"]),
        Route("/Questionnaire/$next-question", next_item, methods=["POST"]),
    ], middleware=[cors])


def main(argv: Sequence[str] | None = None) -> int:
    """``posterior-knee-cds``: serve the app with uvicorn."""
    parser = argparse.ArgumentParser(
        prog="posterior-knee-cds",
        description="Serve posterior-knee as a CDS Hooks service (and SDC "
        "$next-question). Decision support only: it does not replace a clinician.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--priors", metavar="DIR",
                        help="folder of CSV files to use instead of the shipped priors")
    args = parser.parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        print("posterior-knee-cds needs the service extra: "
              "pip install 'posterior-knee[service]'", file=sys.stderr)
        return 1
    from ..knowledge.base import load_knowledge_base
    from ..model import Model

    try:
        model = Model(load_knowledge_base(args.priors))
        app = create_app(model)
    except PosteriorKneeError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    except ImportError:
        print("posterior-knee-cds needs the service extra: "
              "pip install 'posterior-knee[service]'", file=sys.stderr)
        return 1
    print(f"posterior-knee CDS Hooks service on http://{args.host}:{args.port}/cds-services "
          "(Ctrl+C to stop)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
