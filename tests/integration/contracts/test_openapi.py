"""The OpenAPI document covers the contracts and figures endpoints (and renders at all)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_contract_and_report_paths_are_documented(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/contracts",
        "/api/v1/contracts/{contract_id}/confirm",
        "/api/v1/reports/sales",
        "/api/v1/reports/sales.csv",
        "/api/v1/reports/targets",
        "/api/v1/exports/ocds.json",
    ):
        assert path in paths, path
    patch = paths["/api/v1/contracts/{contract_id}"]["patch"]
    assert "requestBody" in patch


async def test_every_import_documents_its_file_body(client: AsyncTestClient[Litestar]) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/v1/imports/firms", "/api/v1/imports/agencies", "/api/v1/purchases/import"):
        body = paths[path]["post"]["requestBody"]
        multipart = body["content"]["multipart/form-data"]["schema"]
        assert body["required"] is True and multipart["required"] == ["file"], path
        assert multipart["properties"]["file"] == {
            "type": "string",
            "format": "binary",
            "description": "CSV or XLSX",
        }, path
    raw = paths["/api/v1/purchases/import"]["post"]["requestBody"]["content"]
    assert {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(raw)
