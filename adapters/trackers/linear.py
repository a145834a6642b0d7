"""Linear over its GraphQL API (https://developers.linear.app/docs/graphql/working-with-the-graphql-api).

Issue keys are Linear's issue ids (UUIDs). A GraphQL error with code RATELIMITED is a rate
limit; any other is a refused request. Team, label and state ids are looked up once per
adapter (one sync pass).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapters.trackers.http import JsonClient
from bot.trackers.port import Failure, Issue, IssueUpdate, NewIssue, TrackerError

_ISSUE = "id url state { type }"
CLOSED_TYPES = {"completed", "canceled"}


class LinearTracker:
    kind = "linear"

    def __init__(self, client: JsonClient) -> None:
        self.client = client
        self._ids: dict[tuple[str, str], str] = {}

    async def _gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.request("POST", "", json={"query": query, "variables": variables}) or {}
        errors = answer.get("errors") or []
        if errors:
            codes = {(e.get("extensions") or {}).get("code") for e in errors}
            message = "; ".join(str(e.get("message")) for e in errors)[:300]
            if "RATELIMITED" in codes:
                raise TrackerError(f"Linear: {message}", failure=Failure.RATE_LIMITED)
            if "AUTHENTICATION_ERROR" in codes:
                raise TrackerError(f"Linear: {message}", failure=Failure.CREDENTIALS)
            raise TrackerError(f"Linear refused the request: {message}", failure=Failure.REJECTED)
        return dict(answer.get("data") or {})

    async def _team(self, team: str) -> str:
        if ("team", team) not in self._ids:
            data = await self._gql("query($k:String!){teams(filter:{key:{eq:$k}}){nodes{id}}}", {"k": team})
            nodes = data["teams"]["nodes"]
            if not nodes:
                raise TrackerError(f"Linear has no team with key {team}", failure=Failure.REJECTED)
            self._ids[("team", team)] = nodes[0]["id"]
        return self._ids[("team", team)]

    async def _label(self, team: str, name: str) -> str:
        if ("label", name) not in self._ids:
            data = await self._gql(
                "query($n:String!){issueLabels(filter:{name:{eq:$n}}){nodes{id}}}", {"n": name}
            )
            nodes = data["issueLabels"]["nodes"]
            if nodes:
                self._ids[("label", name)] = nodes[0]["id"]
            else:
                made = await self._gql(
                    "mutation($i:IssueLabelCreateInput!){issueLabelCreate(input:$i){issueLabel{id}}}",
                    {"i": {"name": name, "teamId": await self._team(team)}},
                )
                self._ids[("label", name)] = made["issueLabelCreate"]["issueLabel"]["id"]
        return self._ids[("label", name)]

    async def _state(self, team: str, kind: str) -> str:
        if ("state", f"{team}:{kind}") not in self._ids:
            data = await self._gql(
                "query($k:String!,$t:String!){workflowStates(filter:{team:{key:{eq:$k}},type:{eq:$t}}){nodes{id}}}",
                {"k": team, "t": kind},
            )
            nodes = data["workflowStates"]["nodes"]
            if not nodes:
                raise TrackerError(f"Linear team {team} has no {kind} state", failure=Failure.REJECTED)
            self._ids[("state", f"{team}:{kind}")] = nodes[0]["id"]
        return self._ids[("state", f"{team}:{kind}")]

    async def find(self, target: str, marker: str) -> Issue | None:
        data = await self._gql(
            "query($k:String!,$m:String!){issues(filter:{team:{key:{eq:$k}},description:{contains:$m}})"
            f"{{nodes{{{_ISSUE}}}}}}}",
            {"k": target, "m": marker},
        )
        nodes = data["issues"]["nodes"]
        return _issue(nodes[0]) if nodes else None

    async def create(self, target: str, issue: NewIssue) -> Issue:
        values: dict[str, Any] = {
            "teamId": await self._team(target),
            "title": issue.title,
            "description": issue.body,
            "labelIds": [await self._label(target, name) for name in issue.labels],
        }
        if issue.due:
            values["dueDate"] = issue.due.isoformat()
        assignee = await self._user(issue.assignee_email)
        if assignee:
            values["assigneeId"] = assignee
        data = await self._gql(
            f"mutation($i:IssueCreateInput!){{issueCreate(input:$i){{success issue{{{_ISSUE}}}}}}}",
            {"i": values},
        )
        return _issue(data["issueCreate"]["issue"])

    async def update(self, target: str, key: str, change: IssueUpdate) -> None:
        values: dict[str, Any] = {}
        if change.due_changed:
            values["dueDate"] = change.due.isoformat() if change.due else None
        if change.assignee_changed:
            values["assigneeId"] = await self._user(change.assignee_email)
        if change.close_comment is not None:
            await self._gql(
                "mutation($i:CommentCreateInput!){commentCreate(input:$i){success}}",
                {"i": {"issueId": key, "body": change.close_comment}},
            )
            values["stateId"] = await self._state(target, "canceled" if change.cancelled else "completed")
        if values:
            await self._gql(
                "mutation($id:String!,$i:IssueUpdateInput!){issueUpdate(id:$id,input:$i){success}}",
                {"id": key, "i": values},
            )

    async def closed_since(self, target: str, since: dt.datetime) -> list[Issue]:
        data = await self._gql(
            "query($k:String!,$s:DateTimeOrDuration!){issues(first:250,filter:{team:{key:{eq:$k}},"
            'labels:{name:{eq:"casebook"}},state:{type:{in:["completed","canceled"]}},updatedAt:{gte:$s}})'
            f"{{nodes{{{_ISSUE}}}}}}}",
            {"k": target, "s": since.astimezone(dt.UTC).isoformat()},
        )
        return [_issue(node) for node in data["issues"]["nodes"]]

    async def _user(self, email: str | None) -> str | None:
        if not email:
            return None
        data = await self._gql("query($e:String!){users(filter:{email:{eq:$e}}){nodes{id}}}", {"e": email})
        nodes = data["users"]["nodes"]
        return str(nodes[0]["id"]) if nodes else None


def _issue(node: dict[str, Any]) -> Issue:
    state = (node.get("state") or {}).get("type")
    return Issue(key=str(node["id"]), url=str(node["url"]), closed=state in CLOSED_TYPES)
