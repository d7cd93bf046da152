"""POST /v1/imports (an authenticated upload) and GET /v1/imports/{id} (the job and its report)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import Api
from tests.imports.support import FIXTURES, counts
from tests.support import assert_problem

CURRENT = FIXTURES / "acled-current.csv"


async def upload(api: Api, path: Any, fmt: str, **fields: str) -> httpx.Response:
    return await api.post(
        "/v1/imports",
        files={"file": (path.name, path.read_bytes(), "text/csv")},
        data={"format": fmt, **fields},
    )


async def wait_for(api: Api, location: str, polls: int = 480) -> dict[str, Any]:
    """The job once it has ended (polled four times a second, two minutes at most)."""
    for _ in range(polls):
        response = await api.get(location, headers=api.read_auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("succeeded", "failed"):
            return body
        await asyncio.sleep(0.25)
    raise AssertionError(f"job {location} still {body['status']} after {polls} polls")


async def test_small_file_runs_inline(api: Api) -> None:
    response = await upload(api, CURRENT, "acled")
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "succeeded"
    assert (job["inserted"], job["updated"], job["unchanged"], job["rejected"]) == (6, 0, 0, 0)
    assert (job["format"], job["dataset"], job["filename"]) == (
        "acled",
        "acled",
        "acled-current.csv",
    )
    assert job["rows_read"] == 6
    assert response.headers["Location"] == f"/v1/imports/{job['id']}"
    fetched = await api.get(response.headers["Location"], headers=api.read_auth)
    assert fetched.json() == job
    assert counts(api.database_url)["events"] == 6

    again = (await upload(api, CURRENT, "acled")).json()
    assert (again["inserted"], again["unchanged"]) == (0, 6)


async def test_large_file_runs_as_a_job(api: Api) -> None:
    response = await upload(api, FIXTURES / "ucdp-syria-excerpt.csv", "ucdp", background="true")
    assert response.status_code == 202, response.text
    assert response.json()["status"] in ("queued", "running", "succeeded")
    job = await wait_for(api, response.headers["Location"])
    assert job["status"] == "succeeded", job
    assert (job["inserted"], job["warnings"]) == (6, 1)
    [warning] = job["warning_details"]
    assert (warning["line"], warning["column"], warning["severity"]) == (3, "high", "warning")
    assert job["started_at"] and job["finished_at"]


async def test_rejects_are_reported(api: Api) -> None:
    strict = (await upload(api, FIXTURES / "acled-bad-rows.csv", "acled")).json()
    assert strict["status"] == "failed"
    assert strict["rejected"] == 7 and strict["inserted"] == 0
    assert "nothing was written" in strict["error"]
    first = strict["rejects"][0]
    assert (first["line"], first["column"], first["value"]) == (5, "latitude", "95.5")
    assert first["reason"].startswith("impossible coordinates")
    assert counts(api.database_url)["events"] == 0

    partial = (await upload(api, FIXTURES / "acled-bad-rows.csv", "acled", partial="true")).json()
    assert (partial["status"], partial["inserted"], partial["rejected"]) == ("succeeded", 3, 7)


async def test_unreadable_file_fails_the_job(api: Api) -> None:
    job = (await upload(api, FIXTURES / "events.json", "ucdp")).json()
    assert job["status"] == "failed"
    assert "not a UCDP GED file" in job["error"]


async def test_deletion_list_upload(api: Api) -> None:
    await upload(api, CURRENT, "acled")
    job = (await upload(api, FIXTURES / "acled-deletions.csv", "acled-deletions")).json()
    assert (job["status"], job["deleted"], job["unchanged"]) == ("succeeded", 2, 1)


async def test_writes_need_a_write_key(api: Api) -> None:
    files = {"file": ("a.csv", b"x", "text/csv")}
    anonymous = await api.client.post("/v1/imports", files=files, data={"format": "acled"})
    assert_problem(anonymous, 401, "missing_api_key")
    read_only = await api.post(
        "/v1/imports", files=files, data={"format": "acled"}, headers=api.read_auth
    )
    assert_problem(read_only, 403, "forbidden")


async def test_bad_requests(api: Api) -> None:
    files = {"file": ("a.csv", b"x", "text/csv")}
    body = assert_problem(
        await api.post("/v1/imports", files=files, data={"format": "excel"}),
        422,
        "validation_error",
    )
    assert ["body", "format"] in [e["loc"] for e in body["errors"]]
    assert_problem(await api.get("/v1/imports/999999", headers=api.read_auth), 404, "not_found")
    # A job's report shows file names and rejected values: never without a key.
    assert_problem(await api.get("/v1/imports/999999"), 401, "missing_api_key")
