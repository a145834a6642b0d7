"""Sign in with Slack and Microsoft through stand-in OIDC providers (real HTTP both ways),
tenancy (another workspace's case is a 404), sessions (forged or expired: refused) and API tokens."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.web.session import COOKIE, sign
from storage import repo
from storage.db import Database
from storage.models import UserAlias, utcnow
from tests.conftest import NOW
from tests.web.conftest import csrf_of, seed_script, serving
from tests.web.oidc_standin import CLIENT_ID, CLIENT_SECRET, Standin, start_standin

SECRET = "s" * 40
SLACK_TEAM, OTHER_TEAM = "T0CASEBOOK", "T0OTHER"
ENTRA_TENANT = "6f1c6d0e-0000-4000-8000-00000000abcd"


@pytest.fixture
async def slack_idp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Standin]:
    standin = await start_standin()
    monkeypatch.setenv("SLACK_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SLACK_OIDC_ISSUER", standin.issuer)
    monkeypatch.setenv("CASEBOOK_SESSION_SECRET", SECRET)
    yield standin
    assert standin.server is not None
    await standin.server.close()


def slack_person(team: str, user: str, name: str) -> dict[str, str]:
    return {"sub": user, "name": name, "https://slack.com/team_id": team, "https://slack.com/user_id": user}


async def sign_in(
    client: aiohttp.ClientSession, base: str, provider: str = "slack", next_url: str = "/"
) -> str:
    async with client.get(f"{base}/auth/{provider}/login", params={"next": next_url}) as landed:
        return f"{landed.status} {landed.url.path} " + await landed.text()


async def test_slack_sign_in_shows_only_the_own_workspace(db: Database, slack_idp: Standin) -> None:
    await seed_script(db, platform="slack", tenant=SLACK_TEAM, title="Checkout 502s in team one")
    await seed_script(db, platform="slack", tenant=SLACK_TEAM, title="Second case of team one")
    await seed_script(db, platform="slack", tenant=OTHER_TEAM, title="The other team's only case")
    async with serving(db) as (base, client):
        async with client.get(base + "/cases/2") as anonymous:
            assert anonymous.url.path == "/signin" and "Sign in with Slack" in await anonymous.text()
        slack_idp.identity = slack_person(SLACK_TEAM, "bob", "Bob")
        landed = await sign_in(client, base, next_url="/cases/2")
        assert landed.startswith("200 /cases/2 ") and "Second case of team one" in landed
        token_request = slack_idp.token_requests[-1]
        assert token_request["grant_type"] == "authorization_code" and token_request["code_verifier"]
        async with client.get(base + "/") as listing:
            html = await listing.text()
        assert "team one" in html and "other team" not in html
    async with serving(db) as (base, other):
        slack_idp.identity = slack_person(OTHER_TEAM, "zoe", "Zoe")
        assert (await sign_in(other, base)).startswith("200 / ")
        for path in ("/cases/2", "/cases/2.md", "/cases/2.json"):
            async with other.get(base + path) as hidden:
                assert hidden.status == 404, path
        async with other.get(base + "/actions") as page:
            token = csrf_of(await page.text())
        async with other.post(base + "/actions/2.1/done", data={"csrf": token, "evidence": "x"}) as refused:
            assert "There is no action 2.1" in await refused.text()
        async with other.get(base + "/people/1") as someone_else:
            assert someone_else.status == 404  # person 1 is alice of the first team


async def test_a_workspace_without_casebook_is_refused(db: Database, slack_idp: Standin) -> None:
    async with serving(db) as (base, client):
        slack_idp.identity = slack_person("T0NOBODY", "eve", "Eve")
        landed = await sign_in(client, base)
        assert landed.startswith("403 ") and "not installed in your workspace" in landed


async def test_a_token_signed_by_another_key_or_for_another_nonce_is_refused(
    db: Database, slack_idp: Standin
) -> None:
    from joserfc.jwk import RSAKey

    await seed_script(db, platform="slack", tenant=SLACK_TEAM)
    async with serving(db) as (base, client):
        slack_idp.identity = slack_person(SLACK_TEAM, "bob", "Bob")
        slack_idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        assert (await sign_in(client, base)).startswith("403 ")
        slack_idp.signing_key, slack_idp.nonce_override = None, "replayed"
        assert (await sign_in(client, base)).startswith("403 ")
        async with client.get(base + "/") as still_out:
            assert still_out.url.path == "/signin"


async def test_forged_and_expired_sessions_are_refused(db: Database, slack_idp: Standin) -> None:
    await seed_script(db, platform="slack", tenant=SLACK_TEAM)
    async with serving(db) as (base, client):
        forged = sign(
            {"csrf": "x", "exp": int(time.time()) + 3600, "tenant_id": 1, "person_id": 1}, b"w" * 40
        )
        expired = sign(
            {"csrf": "x", "exp": int(time.time()) - 1, "tenant_id": 1, "person_id": 1}, SECRET.encode()
        )
        for value in (forged, expired, "garbage.value"):
            async with client.get(base + "/cases/1", cookies={COOKIE: value}) as refused:
                assert refused.url.path == "/signin", value
        valid = sign(
            {"csrf": "x", "exp": int(time.time()) + 60, "tenant_id": 1, "person_id": 1}, SECRET.encode()
        )
        async with client.get(base + "/cases/1", cookies={COOKIE: valid}) as accepted:
            assert accepted.status == 200  # the same cookie, rightly signed and in date, is let in


async def test_microsoft_sign_in_maps_the_entra_ids(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    standin = await start_standin(issuer_template=None)
    standin.issuer_template = standin.issuer.replace("127.0.0.1", "127.0.0.1") + "/{tenantid}/v2.0"
    monkeypatch.setenv("MICROSOFT_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MICROSOFT_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("MICROSOFT_OIDC_ISSUER", standin.issuer)
    monkeypatch.setenv("CASEBOOK_SESSION_SECRET", SECRET)
    await seed_script(db, platform="teams", tenant=ENTRA_TENANT, title="Teams tenant case")
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="teams", external_id=ENTRA_TENANT)
        assert tenant.id is not None
        session.add(UserAlias(tenant_id=tenant.id, alias="oid-bob", user_id="bob", updated_at=utcnow()))
    try:
        async with serving(db) as (base, client):
            standin.identity = {"sub": "pairwise", "tid": ENTRA_TENANT, "oid": "oid-bob", "name": "Bob B"}
            landed = await sign_in(client, base, "microsoft", "/me")
            assert landed.startswith("200 /people/")
            assert "Alert when pgbouncer cl_waiting" in landed  # bob's own action: mapped to the Teams id
    finally:
        assert standin.server is not None
        await standin.server.close()


async def test_admins_create_and_revoke_api_tokens(db: Database, slack_idp: Standin) -> None:
    await seed_script(db, platform="slack", tenant=SLACK_TEAM)
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="slack", external_id=SLACK_TEAM)
        assert tenant.id is not None
        await repo.person(session, now=NOW, tenant_id=tenant.id, user_id="alice", is_admin=True)
    async with serving(db) as (base, client):
        async with client.get(base + "/api/v1/cases") as anonymous:
            assert anonymous.status == 401
        slack_idp.identity = slack_person(SLACK_TEAM, "bob", "Bob")
        await sign_in(client, base)
        async with client.get(base + "/settings/tokens") as not_admin:
            assert not_admin.status == 403
    async with serving(db) as (base, client):
        slack_idp.identity = slack_person(SLACK_TEAM, "alice", "Alice")
        await sign_in(client, base)
        async with client.get(base + "/settings/tokens") as page:
            token = csrf_of(await page.text())
        async with client.post(base + "/settings/tokens", data={"csrf": token, "name": "grafana"}) as made:
            html = await made.text()
        secret = html.split('<code class="token">')[1].split("</code>")[0]
        assert secret.startswith("cb_")
        headers = {"Authorization": f"Bearer {secret}"}
        async with aiohttp.ClientSession() as api, api.get(base + "/api/v1/cases", headers=headers) as listed:
            assert listed.status == 200 and (await listed.json())["total"] == 1
        async with db.sessions() as session:
            from storage import api_tokens

            rows = await api_tokens.of_tenant(session, tenant_id=tenant.id)
        assert rows[0].token_hash == api_tokens.digest(secret) and secret not in rows[0].token_hash
        async with client.post(
            base + f"/settings/tokens/{rows[0].id}/revoke", data={"csrf": token}
        ) as revoked:
            assert "revoked" in await revoked.text()
        async with (
            aiohttp.ClientSession() as api,
            api.get(base + "/api/v1/cases", headers=headers) as refused,
        ):
            assert refused.status == 401
