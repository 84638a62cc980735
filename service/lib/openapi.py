"""The error half of the API contract, written into the OpenAPI document.

Every `/api/` operation can answer RFC 9457 problem+json: 400/422 bad
input, 401 not signed in, 403 not allowed, 404 not found or not visible, 409 conflict, 410 a
one-time link used or expired, 429 too many attempts, 503 database unavailable. Litestar
documents only the success response (and its own 400 shape, which our single exception handler
never sends), so clients and schemathesis would see every error as undocumented. This fills them in once, at startup.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar
from litestar.enums import ParamType
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={"field": Schema(type=OpenAPIType.STRING), "message": Schema(type=OpenAPIType.STRING)},
            ),
        ),
    },
    description="RFC 9457 problem details; `errors` lists bad fields of the input.",
)

PROBLEM_STATUSES = {
    "400": "Malformed request (e.g. a body that is not JSON).",
    "401": "Not signed in, or the token expired or was revoked.",
    "403": "Signed in but not allowed (e.g. not staff, organization awaiting verification).",
    "404": "Not found, or not visible to the caller.",
    "409": "Conflict with the current state (duplicate, slot taken, wrong status).",
    "410": "Gone: a one-time link (password reset, email change, invitation) was used, revoked or expired.",
    "422": "Invalid input; `errors` names each field and why.",
    "429": "Too many attempts; retry after `Retry-After` seconds.",
    "503": "The database is unavailable; retry after `Retry-After` seconds.",
}
RETRY_AFTER = OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description="Seconds to wait.")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def problem_response(description: str, retry_after: bool = False) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={"application/problem+json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
        headers={"Retry-After": RETRY_AFTER} if retry_after else None,
    )


def document_problem_responses(app: Litestar) -> None:
    """An `on_startup` hook: add the problem+json responses to every `/api/` operation."""
    openapi = app.openapi_schema
    openapi.components = openapi.components or Components()
    openapi.components.schemas = {**(openapi.components.schemas or {}), "Problem": PROBLEM_SCHEMA}
    for path, item in (openapi.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        for method in METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = dict(operation.responses or {})
            for status, description in PROBLEM_STATUSES.items():
                responses[status] = problem_response(description, retry_after=status in ("429", "503"))
            operation.responses = responses


IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=200),
    description=(
        "Optional, any string of 1–200 characters chosen by the client, unique per intended creation. "
        "The same key with the same request (method, path with query, body) from the same caller within "
        "24 hours creates nothing new and answers the first response again, with `Idempotent-Replayed: true`; "
        "the same key with another request is a 422 naming this header; while the first request with the key "
        "is still being processed, 409 with `Retry-After`. Keys are per caller (user, or client address when "
        "not signed in); a request that failed leaves its key unused."
    ),
)
REPLAYED = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
    description="Present when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
)


def document_idempotency(app: Litestar) -> None:
    """An `on_startup` hook: the `Idempotency-Key` header on every creating POST of the API (the
    handlers `service.lib.idempotency.covers`), found from the routes rather than listed by hand."""
    from litestar.routes import HTTPRoute

    from service.lib.idempotency import covers

    paths = app.openapi_schema.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        item = paths.get(route.path_format)
        operation = item.post if item is not None else None
        if operation is None or not any(covers(handler) for handler in route.route_handlers):
            continue
        parameters = [p for p in operation.parameters or [] if getattr(p, "name", None) != IDEMPOTENCY_KEY.name]
        operation.parameters = [*parameters, IDEMPOTENCY_KEY]
        for status, response in (operation.responses or {}).items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), "Idempotent-Replayed": REPLAYED}


# Import routes read their file from the request themselves, so Litestar cannot infer the body:
# these operation classes describe it (`operation_class=` on the route).
BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
MULTIPART_FILE = OpenAPIMediaType(
    schema=Schema(
        type=OpenAPIType.OBJECT,
        required=["file"],
        properties={"file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="CSV or XLSX")},
    )
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class FileUploadOperation(Operation):
    """The body is multipart/form-data with the file in the field `file`."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="The file (CSV: UTF-8 with or without BOM, or CP949/EUC-KR; or XLSX, first sheet) "
            "in the multipart field `file`, at most 20 MB.",
            content={"multipart/form-data": MULTIPART_FILE},
        )


@dataclass
class FileOrBodyUploadOperation(Operation):
    """As FileUploadOperation, or the raw file as the whole body (text/csv or the XLSX media type)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="The file (CSV: UTF-8 with or without BOM, or CP949/EUC-KR; or XLSX, first sheet) "
            "in the multipart field `file`, or the raw file as the body, at most 20 MB.",
            content={
                "multipart/form-data": MULTIPART_FILE,
                "text/csv": OpenAPIMediaType(schema=BINARY),
                XLSX_TYPE: OpenAPIMediaType(schema=BINARY),
            },
        )
