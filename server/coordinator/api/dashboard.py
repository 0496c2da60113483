"""The participant dashboard's files (web/, built by Vite into DASHBOARD_DIR), served under /app/
on the server's HTTP port; Envoy routes /app/ there and sends / to it.

Why here and not Envoy's direct_response: Vite names its assets by content hash, so the file set
changes with every build; a static route follows it, where Envoy would need its config rendered
again per build. The page itself needs nothing from the server but the API it already serves.

- /app/ (and /app) is index.html, never cached, with a Content-Security-Policy that lets code
  come only from this origin (TON Connect still reaches wallets' bridges and their icons).
- /app/assets/… are the hashed bundles, cached for a year.
- /app/tonconnect-manifest.json is made per request: TON Connect wallets read the app's URL and
  name from it, and the URL is wherever this pool is reached (Envoy's Host and scheme).
"""

from __future__ import annotations

import pathlib

from aiohttp import web

PREFIX = "/app"
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: https:; connect-src 'self' ws: wss: https:; "
                           "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
NOT_BUILT = ("The dashboard is not built on this server: `make run` builds it (npm --prefix web ci && "
             "npm --prefix web run build) and points DASHBOARD_DIR at web/dist.\n")


def routes(directory: str) -> list[web.AbstractRouteDef]:
    """The /app/ routes for a build in `directory`; when there is none, every /app/ path says so."""
    root = pathlib.Path(directory) if directory else None
    if root is None or not (root / "index.html").is_file():
        async def not_built(request: web.Request) -> web.Response:
            return web.Response(status=404, text=NOT_BUILT)
        return [web.get(PREFIX, not_built), web.get(PREFIX + "/{tail:.*}", not_built)]

    index = (root / "index.html").read_bytes()

    async def page(request: web.Request) -> web.Response:
        if request.path == PREFIX:
            raise web.HTTPFound(PREFIX + "/")
        return web.Response(body=index, content_type="text/html", charset="utf-8", headers={
            "Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})

    async def manifest(request: web.Request) -> web.Response:
        scheme = request.headers.get("X-Forwarded-Proto", request.scheme)
        origin = f"{scheme}://{request.host}"
        return web.json_response({"url": f"{origin}{PREFIX}/", "name": "computepool",
                                  "iconUrl": f"{origin}{PREFIX}/icon.png"},
                                 headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})

    async def asset(request: web.Request) -> web.StreamResponse:
        relative = request.match_info["tail"]
        path = (root / relative).resolve()
        if not path.is_file() or root.resolve() not in path.parents:  # no way out of the build
            raise web.HTTPNotFound(text="no such file in the dashboard\n")
        immutable = relative.startswith("assets/")  # content-hashed names
        return web.FileResponse(path, headers={
            "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache",
            "X-Content-Type-Options": "nosniff"})

    return [web.get(PREFIX, page), web.get(PREFIX + "/", page),
            web.get(PREFIX + "/tonconnect-manifest.json", manifest),
            web.get(PREFIX + "/{tail:.+}", asset)]

