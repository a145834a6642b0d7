"""Local stand-ins for the GitHub REST API, the Jira Cloud REST API and Linear's GraphQL API.

Each keeps issues in memory, records every request (method, path, JSON body) and can fail
on demand: `fail_next(status, headers, times, method)` answers the next matching requests
with that status instead.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    query: dict[str, str]


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    times: int
    method: str | None


@dataclass
class StandIn:
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    server: TestServer | None = None

    def fail_next(
        self, status: int, *, headers: dict[str, str] | None = None, times: int = 1, method: str | None = None
    ) -> None:
        self.failures.append(Failure(status, headers or {}, times, method))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def calls(self, method: str, pattern: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    async def start(self) -> StandIn:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._entry)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _entry(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.requests.append(Recorded(request.method, request.path, body, dict(request.query)))
        for failure in self.failures:
            if failure.times > 0 and failure.method in {None, request.method}:
                failure.times -= 1
                return web.json_response(
                    {"message": "stand-in failure"}, status=failure.status, headers=failure.headers
                )
        return await self.route(request, body)

    async def route(self, request: web.Request, body: Any) -> web.StreamResponse:
        raise NotImplementedError


class GitHub(StandIn):
    """/search/issues, /repos/{o}/{r}/issues[/{n}[/comments]], /search/users."""

    users: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self.users = {"bob@example.com": "bob-gh", "carol@example.com": "carol-gh"}
        self.comments: dict[str, list[str]] = {}

    def close_issue(self, key: str) -> dict[str, Any]:
        self.issues[key]["state"] = "closed"
        return self.issues[key]

    async def route(self, request: web.Request, body: Any) -> web.StreamResponse:
        path, q = request.path, request.query
        if path == "/search/issues":
            phrase = re.search(r'"([^"]+)"', q.get("q", ""))
            items = [i for i in self.issues.values() if phrase and phrase.group(1) in i["body"]]
            return web.json_response({"total_count": len(items), "items": items})
        if path == "/search/users":
            email = q.get("q", "").split()[0]
            login = self.users.get(email)
            return web.json_response({"items": [{"login": login}] if login else []})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues(?:/(\d+))?(/comments)?", path)
        if not m:
            return web.json_response({"message": "Not Found"}, status=404)
        repo, number, comments = m.groups()
        if number is None and request.method == "POST":
            n = len(self.issues) + 1
            issue = {
                "number": n,
                "html_url": f"https://github.example/{repo}/issues/{n}",
                "state": "open",
                **body,
            }
            self.issues[f"{repo}#{n}"] = issue
            return web.json_response(issue, status=201)
        if number is None:
            closed = [i for i in self.issues.values() if i["state"] == q.get("state", "open")]
            return web.json_response(closed)
        key = f"{repo}#{number}"
        if key not in self.issues:
            return web.json_response({"message": "Not Found"}, status=404)
        if comments:
            self.comments.setdefault(key, []).append(body["body"])
            return web.json_response({"id": 1}, status=201)
        self.issues[key].update(body)
        return web.json_response(self.issues[key])


class Jira(StandIn):
    """The Jira Cloud REST v3 endpoints the adapter uses."""

    def __init__(self) -> None:
        super().__init__()
        self.comments: dict[str, list[Any]] = {}

    def close_issue(self, key: str) -> dict[str, Any]:
        self.issues[key]["fields"]["status"] = _jira_status("done")
        return self.issues[key]

    async def route(self, request: web.Request, body: Any) -> web.StreamResponse:
        path = request.path
        if path == "/rest/api/3/search/jql":
            label = re.search(r'labels = "([^"]+)"', body["jql"])
            done_only = "statusCategory = Done" in body["jql"]
            found = [
                i
                for i in self.issues.values()
                if label
                and label.group(1) in i["fields"]["labels"]
                and (not done_only or i["fields"]["status"]["statusCategory"]["key"] == "done")
            ]
            return web.json_response({"issues": found})
        if path == "/rest/api/3/user/search":
            return web.json_response(
                [{"accountId": "acc-bob"}] if request.query["query"] == "bob@example.com" else []
            )
        if path == "/rest/api/3/issue" and request.method == "POST":
            fields = body["fields"]
            key = f"{fields['project']['key']}-{len(self.issues) + 1}"
            self.issues[key] = {"key": key, "fields": {**fields, "status": _jira_status("new")}}
            return web.json_response({"id": str(len(self.issues)), "key": key, "self": ""}, status=201)
        m = re.fullmatch(r"/rest/api/3/issue/([A-Z0-9-]+)(/\w+)?", path)
        if not m or m.group(1) not in self.issues:
            return web.json_response({"errorMessages": ["Issue does not exist"]}, status=404)
        key, tail = m.groups()
        issue = self.issues[key]
        if tail == "/comment":
            self.comments.setdefault(key, []).append(body["body"])
            return web.json_response({"id": "1"}, status=201)
        if tail == "/transitions" and request.method == "GET":
            return web.json_response(
                {
                    "transitions": [
                        {"id": "11", "to": {"statusCategory": {"key": "indeterminate"}}},
                        {"id": "31", "to": {"statusCategory": {"key": "done"}}},
                    ]
                }
            )
        if tail == "/transitions":
            if body["transition"]["id"] == "31":
                issue["fields"]["status"] = _jira_status("done")
            return web.Response(status=204)
        if tail == "/assignee":
            issue["fields"]["assignee"] = {"accountId": body["accountId"]}
            return web.Response(status=204)
        issue["fields"].update(body["fields"])
        return web.Response(status=204)


def _jira_status(category: str) -> dict[str, Any]:
    return {"name": category.title(), "statusCategory": {"key": category}}


class Linear(StandIn):
    """Linear's GraphQL endpoint, for the queries and mutations the adapter sends."""

    def __init__(self) -> None:
        super().__init__()
        self.comments: dict[str, list[str]] = {}
        self.labels: dict[str, str] = {}

    def close_issue(self, key: str) -> dict[str, Any]:
        self.issues[key]["state"] = {"type": "completed"}
        return self.issues[key]

    async def route(self, request: web.Request, body: Any) -> web.StreamResponse:
        query, v = body["query"], body.get("variables") or {}
        if "issueLabelCreate" in query:
            self.labels[v["i"]["name"]] = f"label-{len(self.labels) + 1}"
            return _data({"issueLabelCreate": {"issueLabel": {"id": self.labels[v["i"]["name"]]}}})
        if "issueLabels(" in query:
            found = [{"id": self.labels[v["n"]]}] if v["n"] in self.labels else []
            return _data({"issueLabels": {"nodes": found}})
        if "teams(" in query:
            return _data({"teams": {"nodes": [{"id": "team-eng"}] if v["k"] == "ENG" else []}})
        if "workflowStates(" in query:
            return _data({"workflowStates": {"nodes": [{"id": f"state-{v['t']}"}]}})
        if "users(" in query:
            return _data({"users": {"nodes": [{"id": "user-bob"}] if v["e"] == "bob@example.com" else []}})
        if "issueCreate" in query:
            issue_id = str(uuid.uuid4())
            n = len(self.issues) + 1
            self.issues[issue_id] = {
                "id": issue_id,
                "url": f"https://linear.example/issue/ENG-{n}",
                "state": {"type": "unstarted"},
                **v["i"],
            }
            return _data({"issueCreate": {"success": True, "issue": self.issues[issue_id]}})
        if "commentCreate" in query:
            self.comments.setdefault(v["i"]["issueId"], []).append(v["i"]["body"])
            return _data({"commentCreate": {"success": True}})
        if "issueUpdate" in query:
            issue = self.issues[v["id"]]
            issue.update(v["i"])
            if v["i"].get("stateId") == "state-completed":
                issue["state"] = {"type": "completed"}
            return _data({"issueUpdate": {"success": True}})
        if "issues(" in query:
            if "m" in v:
                nodes = [i for i in self.issues.values() if v["m"] in i["description"]]
            else:
                nodes = [i for i in self.issues.values() if i["state"]["type"] in {"completed", "canceled"}]
            return _data({"issues": {"nodes": nodes}})
        return web.json_response({"errors": [{"message": "unknown query"}]}, status=400)


def _data(data: dict[str, Any]) -> web.Response:
    return web.json_response({"data": data})
