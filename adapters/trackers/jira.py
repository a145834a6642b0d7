"""Jira Cloud over REST API v3 (https://developer.atlassian.com/cloud/jira/platform/rest/v3/).

Issue keys are Jira's ("OPS-12"). The marker is in the description and also a label, so
the lookup is an exact JQL match. Closing runs the first transition into the Done category.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapters.trackers.http import JsonClient
from bot.trackers.port import Failure, Issue, IssueUpdate, NewIssue, TrackerError


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document (one paragraph per line)."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]} if line else {"type": "paragraph"}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


class JiraTracker:
    kind = "jira"

    def __init__(self, client: JsonClient, *, site_url: str) -> None:
        self.client = client
        self.site_url = site_url.rstrip("/")

    def _issue(self, item: dict[str, Any]) -> Issue:
        status = ((item.get("fields") or {}).get("status") or {}).get("statusCategory") or {}
        return Issue(
            key=str(item["key"]),
            url=f"{self.site_url}/browse/{item['key']}",
            closed=status.get("key") == "done",
        )

    async def _search(self, jql: str) -> list[Issue]:
        found = await self.client.request(
            "POST", "/rest/api/3/search/jql", json={"jql": jql, "fields": ["status"], "maxResults": 100}
        )
        return [self._issue(item) for item in (found or {}).get("issues", [])]

    async def find(self, target: str, marker: str) -> Issue | None:
        found = await self._search(f'project = "{target}" AND labels = "{_label(marker)}"')
        return found[0] if found else None

    async def create(self, target: str, issue: NewIssue) -> Issue:
        fields: dict[str, Any] = {
            "project": {"key": target},
            "summary": issue.title,
            "issuetype": {"name": "Task"},
            "description": adf(issue.body),
            "labels": [*issue.labels, _label(issue.marker)],
        }
        if issue.due:
            fields["duedate"] = issue.due.isoformat()
        account = await self._account(issue.assignee_email)
        if account:
            fields["assignee"] = {"accountId": account}
        created = await self.client.request("POST", "/rest/api/3/issue", json={"fields": fields})
        return Issue(key=str(created["key"]), url=f"{self.site_url}/browse/{created['key']}")

    async def update(self, target: str, key: str, change: IssueUpdate) -> None:
        path = f"/rest/api/3/issue/{key}"
        if change.due_changed:
            due = change.due.isoformat() if change.due else None
            await self.client.request("PUT", path, json={"fields": {"duedate": due}})
        if change.assignee_changed:
            account = await self._account(change.assignee_email)
            await self.client.request("PUT", f"{path}/assignee", json={"accountId": account})
        if change.close_comment is not None:
            await self.client.request("POST", f"{path}/comment", json={"body": adf(change.close_comment)})
            transitions = await self.client.request("GET", f"{path}/transitions")
            done = [
                t
                for t in (transitions or {}).get("transitions", [])
                if ((t.get("to") or {}).get("statusCategory") or {}).get("key") == "done"
            ]
            if not done:
                raise TrackerError(f"Jira offers {key} no transition to Done", failure=Failure.REJECTED)
            await self.client.request(
                "POST", f"{path}/transitions", json={"transition": {"id": done[0]["id"]}}
            )

    async def closed_since(self, target: str, since: dt.datetime) -> list[Issue]:
        stamp = since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
        return await self._search(
            f'project = "{target}" AND labels = "casebook" AND statusCategory = Done AND updated >= "{stamp}"'
        )

    async def _account(self, email: str | None) -> str | None:
        if not email:
            return None
        found = await self.client.request("GET", "/rest/api/3/user/search", params={"query": email})
        return str(found[0]["accountId"]) if found else None


def _label(marker: str) -> str:
    return marker.replace(":", "-")  # a Jira label: no spaces; kept simple to match exactly
