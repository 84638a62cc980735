"""OPTIONS and 405 answers list every method of a path (Litestar's automatic OPTIONS lists only the
first, litestar#4169)."""

from __future__ import annotations

from collections import defaultdict

from tests.factories_ops import fill_path, route_table

SAMPLE_VALUES = {"code": "en", "file_path": "app.css", "path": "openapi.json", "action": "verify"}


def methods_by_path(app) -> dict[str, set[str]]:
    paths: dict[str, set[str]] = defaultdict(set)
    for method, template in route_table(app):
        paths[template].add(method)
    return paths


class TestAllow:
    async def test_options_lists_every_method_of_every_path(self, app, client):
        wrong = []
        for template, methods in sorted(methods_by_path(app).items()):
            response = await client.options(fill_path(template, SAMPLE_VALUES))
            allowed = {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}
            if not methods <= allowed:
                wrong.append(f"{template}: Allow {sorted(allowed)} lacks {sorted(methods - allowed)}")
        assert not wrong, "\n".join(wrong)

    async def test_an_unsupported_method_is_405_with_allow(self, app, client):
        response = await client.delete(fill_path("/api/v1/firms/{organization_id:uuid}", {}))
        assert response.status_code == 405
        assert response.headers["content-type"].startswith("application/problem+json")
        allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
        assert {"GET", "PATCH"} <= allowed


class TestErrorContractInTheDocument:
    async def test_every_api_operation_documents_problem_responses(self, client):
        schema = (await client.get("/schema/openapi.json")).json()
        assert schema["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
        operations = [
            (path, method, operation)
            for path, item in schema["paths"].items()
            if path.startswith("/api/")
            for method, operation in item.items()
            if method in ("get", "post", "put", "patch", "delete")
        ]
        assert operations
        for path, method, operation in operations:
            for status in ("401", "403", "404", "409", "422", "429", "503"):
                content = operation["responses"][status]["content"]
                assert "application/problem+json" in content, f"{method.upper()} {path} {status}"
            assert "Retry-After" in operation["responses"]["429"]["headers"]
