"""GitHub Issues over the REST API (https://docs.github.com/rest/issues).

Issue keys are "owner/repo#number". GitHub has no due date field: the due date is in the
body, rewritten when it moves. The marker is looked up with the issue search API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapters.trackers.http import JsonClient
from bot.trackers.port import Issue, IssueUpdate, NewIssue


class GitHubTracker:
    kind = "github"

    def __init__(self, client: JsonClient) -> None:
        self.client = client

    async def find(self, target: str, marker: str) -> Issue | None:
        found = await self.client.request(
            "GET", "/search/issues", params={"q": f'"{marker}" repo:{target} in:body is:issue'}
        )
        for item in (found or {}).get("items", []):
            if marker in (item.get("body") or ""):
                return _issue(target, item)
        return None

    async def create(self, target: str, issue: NewIssue) -> Issue:
        payload: dict[str, Any] = {"title": issue.title, "body": issue.body, "labels": list(issue.labels)}
        login = await self._login(issue.assignee_email)
        if login:
            payload["assignees"] = [login]
        created = await self.client.request("POST", f"/repos/{target}/issues", json=payload)
        return _issue(target, created)

    async def update(self, target: str, key: str, change: IssueUpdate) -> None:
        number = key.rsplit("#", 1)[-1]
        path = f"/repos/{target}/issues/{number}"
        patch: dict[str, Any] = {}
        if change.due_changed:
            patch["body"] = change.body
        if change.assignee_changed:
            login = await self._login(change.assignee_email)
            patch["assignees"] = [login] if login else []
        if change.close_comment is not None:
            await self.client.request("POST", f"{path}/comments", json={"body": change.close_comment})
            patch["state"] = "closed"
            patch["state_reason"] = "not_planned" if change.cancelled else "completed"
        if patch:
            await self.client.request("PATCH", path, json=patch)

    async def closed_since(self, target: str, since: dt.datetime) -> list[Issue]:
        issues: list[Issue] = []
        for page in range(1, 11):
            params = {
                "state": "closed",
                "labels": "casebook",
                "since": since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "per_page": "100",
                "page": str(page),
            }
            batch = await self.client.request("GET", f"/repos/{target}/issues", params=params) or []
            issues += [_issue(target, item) for item in batch if "pull_request" not in item]
            if len(batch) < 100:
                break
        return issues

    async def _login(self, email: str | None) -> str | None:
        """The GitHub user with this (public) email, if GitHub can tell."""
        if not email:
            return None
        found = await self.client.request("GET", "/search/users", params={"q": f"{email} in:email"})
        items = (found or {}).get("items", [])
        return str(items[0]["login"]) if items else None


def _issue(target: str, item: dict[str, Any]) -> Issue:
    return Issue(
        key=f"{target}#{item['number']}", url=str(item["html_url"]), closed=item.get("state") == "closed"
    )
