"""The API reference as a person sees it: Swagger UI at /api/docs in headless Chromium (Debian's
/usr/bin/chromium, which `make test` installs, driven by npm playwright-core from
tests/support/api_docs_page.mjs) lists every operation of the document and runs a "Try it out"
against the same origin; ReDoc at /api/redoc renders every operation; neither page reports an
error or loads anything from another origin."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest
from coordinator.storage import migrate
from devtools.envoy_config import ROOT

from tests.support.api_reference import OPERATIONS, serving_stack

pytestmark = pytest.mark.envoy

CHROMIUM = pathlib.Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
async def served(tmp_path_factory):
    database_url = f"sqlite:///{tmp_path_factory.mktemp('docs-db')}/coordinator.db"
    migrate.upgrade(database_url)
    async with serving_stack(database_url, tmp_path_factory.mktemp("docs-envoy")) as stack:
        yield stack


def test_swagger_ui_lists_every_operation_and_redoc_renders_them(served):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    browsed = subprocess.run(["node", str(ROOT / "tests/support/api_docs_page.mjs"), served.url, "/api"],
                             cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert browsed.returncode == 0, browsed.stderr[-3000:]
    seen = json.loads(browsed.stdout)
    assert sorted(map(tuple, seen["swagger"])) == sorted((o.method, o.path) for o in OPERATIONS)
    assert seen["tryItOut"] == "200"
    assert sorted(seen["redoc"]) == sorted(o.spec["operationId"] for o in OPERATIONS)
    assert seen["errors"] == [] and seen["foreign"] == []
