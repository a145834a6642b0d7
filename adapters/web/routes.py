"""The library's URLs."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from aiohttp import web

from adapters.web import actions, api, insights, oidc, tokens, views


def add_library_routes(app: web.Application) -> None:
    app.router.add_get("/", views.cases_page)
    app.router.add_get(r"/cases/{number}.md", views.case_markdown)
    app.router.add_get(r"/cases/{number}.json", views.case_download_json)
    app.router.add_get("/cases/{number}", views.case_page)
    app.router.add_get("/actions", actions.actions_page)
    app.router.add_post(r"/actions/{ref}/{verb}", actions.action_form)
    app.router.add_get("/map", insights.map_page)
    app.router.add_get("/map.csv", insights.map_csv)
    app.router.add_get("/ledger", insights.ledger_page)
    app.router.add_get("/ledger.csv", insights.ledger_csv)
    app.router.add_get("/people/{person_id}", views.person_page)
    app.router.add_get("/me", views.me_page)
    app.router.add_get("/settings/tokens", tokens.tokens_page)
    app.router.add_post("/settings/tokens", tokens.create_token)
    app.router.add_post(r"/settings/tokens/{token_id}/revoke", tokens.revoke_token)
    oidc.add_routes(app)
    api.add_routes(app)
    app.router.add_static("/static", Path(str(files("adapters.web") / "static")), append_version=False)
