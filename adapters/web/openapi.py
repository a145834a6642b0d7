"""The read API's OpenAPI 3.1 document, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from adapters.web.params import PERIOD_PATTERN, WINDOW_PATTERN
from bot.parsing import AREAS, SEVERITIES
from storage.models import CaseStatus

NULLABLE_STRING = {"type": ["string", "null"]}


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


PAGING = [
    _param("page", "page number, from 1", {"type": "integer", "minimum": 1, "maximum": 100000}),
    _param("per_page", "items per page (default 25)", {"type": "integer", "minimum": 1, "maximum": 100}),
]
ERROR = {
    "description": "refused",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _list_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    }


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "200": {"description": "ok", "content": {"application/json": {"schema": schema}}},
        "400": ERROR,
        "401": ERROR,
    }


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "Person": {
        "type": ["object", "null"],
        "properties": {"user_id": {"type": "string"}, "name": NULLABLE_STRING},
    },
    "CaseSummary": {
        "type": "object",
        "required": ["number", "status", "services", "open_actions"],
        "properties": {
            "number": {"type": "integer"},
            "title": NULLABLE_STRING,
            "severity": NULLABLE_STRING,
            "area": NULLABLE_STRING,
            "services": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string"},
            "started": NULLABLE_STRING,
            "resolved": NULLABLE_STRING,
            "published": NULLABLE_STRING,
            "open_actions": {"type": "integer"},
        },
    },
    "Case": {
        "type": "object",
        "required": ["number", "status", "timeline", "actions"],
        "properties": {
            "number": {"type": "integer"},
            "title": NULLABLE_STRING,
            "status": {"type": "string"},
            "timeline": {"type": "object"},
            "minutes": {"type": "object"},
            "symptoms": {"type": "array", "items": {"type": "string"}},
            "diagnostic_path": {"type": "array", "items": {"type": "object"}},
            "root_cause": NULLABLE_STRING,
            "actions": {"type": "array", "items": {"type": "object"}},
            "published": NULLABLE_STRING,
        },
    },
    "Action": {
        "type": "object",
        "required": ["ref", "case", "description", "status", "overdue"],
        "properties": {
            "ref": {"type": "string"},
            "case": {"type": "integer"},
            "description": {"type": "string"},
            "owner": {"$ref": "#/components/schemas/Person"},
            "due": NULLABLE_STRING,
            "kind": NULLABLE_STRING,
            "status": {"type": "string"},
            "area": NULLABLE_STRING,
            "overdue": {"type": "boolean"},
            "snoozed_until": NULLABLE_STRING,
            "closed_at": NULLABLE_STRING,
            "evidence": NULLABLE_STRING,
        },
    },
    "Ledger": {
        "type": "object",
        "required": ["kind", "as_of", "periods", "before_after", "overdue_now"],
        "properties": {
            "kind": {"type": "string", "enum": ["month", "quarter"]},
            "as_of": {"type": "string"},
            "periods": {"type": "array", "items": {"type": "object"}},
            "before_after": {"type": "array", "items": {"type": "object"}},
            "overdue_now": {"type": "integer"},
        },
    },
}


def document(*, local: bool = False) -> dict[str, Any]:
    """In local mode the API needs no token, and the document says so."""
    case_filters = [
        _param(
            "q", "search text, ranked like `similar` (published cases)", {"type": "string", "maxLength": 500}
        ),
        _param("status", "case status", {"type": "string", "enum": [s.value for s in CaseStatus]}),
        _param("severity", "SEV1-SEV4", {"type": "string", "enum": list(SEVERITIES)}),
        _param("area", "capability area", {"type": "string", "enum": list(AREAS)}),
        _param("service", "a service the case touched", {"type": "string", "maxLength": 100}),
        _param(
            "period",
            "2026, 2026-11 or 2026-Q4 (start of the incident)",
            {"type": "string", "pattern": PERIOD_PATTERN},
        ),
        _param("lead", "the case lead's person id", {"type": "integer", "minimum": 1, "maximum": 10**9}),
    ]
    action_filters = [
        _param("status", "default open", {"type": "string", "enum": ["open", "done", "cancelled", "all"]}),
        _param("owner", "the owner's platform user id", {"type": "string", "maxLength": 128}),
        _param(
            "overdue", "only open actions past their due date", {"type": "string", "enum": ["true", "false"]}
        ),
        _param("area", "capability area of the case", {"type": "string", "enum": list(AREAS)}),
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Casebook read API", "version": "1"},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [] if local else [{"bearer": []}],
        "paths": {
            "/api/v1/cases": {
                "get": {
                    "summary": "cases, newest first",
                    "parameters": case_filters + PAGING,
                    "responses": _ok(_list_of("CaseSummary")),
                },
            },
            "/api/v1/cases/{number}": {
                "get": {
                    "summary": "one case, every section",
                    "parameters": [
                        {
                            "name": "number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {**_ok({"$ref": "#/components/schemas/Case"}), "404": ERROR},
                },
            },
            "/api/v1/actions": {
                "get": {
                    "summary": "prevention actions by due date",
                    "parameters": action_filters + PAGING,
                    "responses": _ok(_list_of("Action")),
                },
            },
            "/api/v1/ledger": {
                "get": {
                    "summary": "the value ledger",
                    "parameters": [
                        _param(
                            "window",
                            "as in chat: quarter, 2026-Q1, month 12 ...",
                            {"type": "string", "pattern": WINDOW_PATTERN},
                        )
                    ],
                    "responses": _ok({"$ref": "#/components/schemas/Ledger"}),
                },
            },
        },
    }
