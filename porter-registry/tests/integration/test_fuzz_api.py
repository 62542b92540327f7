"""Fuzzing the API from the OpenAPI description the registry ships (schemathesis, hypothesis).

Every operation gets schema-valid and malformed requests against a real registry on loopback.
No answer may be a 5xx, and content pushed before the run must come out byte for byte after it.
The run is bounded (`MAX_EXAMPLES` per operation) to stay within about a minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import requests
import schemathesis
from http_client import HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from push_support import EMPTY_CONFIG, Pusher, digest_of
from registry_process import RegistryProcess, running_registry

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 25
KEPT = "kept/base"
LAYERS = (b"kept layer one", b"kept layer two" * 1000)

SCHEMA = schemathesis.openapi.from_dict(
    json.loads(resources.files("porter_registry").joinpath("openapi.json").read_text())
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    data: Path = tmp_path_factory.mktemp("fuzz") / "data"
    with running_registry(data) as process:
        yield process


@pytest.fixture(scope="module")
def kept(registry: RegistryProcess) -> bytes:
    """An image pushed before the fuzz run; it must survive it unchanged."""
    return Pusher(HttpClient(registry.url)).image(KEPT, "v1", LAYERS)


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_gets_a_server_error(case, registry: RegistryProcess, kept: bytes) -> None:
    response = case.call(base_url=registry.url, timeout=30)
    assert response.status_code < 500, case.as_curl_command()


content_ranges = st.one_of(
    st.none(),
    st.builds(lambda a, b: f"{a}-{b}", st.integers(0, 40), st.integers(-2, 40)),
    # Header values with leading or trailing blanks never leave requests, so none are generated.
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20).filter(
        lambda text: text == text.strip()
    ),
)


@given(
    method=st.sampled_from(["PATCH", "PUT"]),
    body=st.binary(max_size=64),
    content_range=content_ranges,
    digest=st.one_of(st.none(), st.sampled_from([digest_of(b""), "sha256:", "x:y"]), st.text()),
)
@settings(
    max_examples=MAX_EXAMPLES * 3,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_chunk_of_an_open_upload_gets_a_server_error(
    registry: RegistryProcess, method: str, body: bytes, content_range, digest
) -> None:
    """Sessions are where state lives; the schema-driven run rarely reaches an open one."""
    started = requests.post(f"{registry.url}/v2/fuzz/uploads/blobs/uploads/", timeout=30)
    location = registry.url + started.headers["Location"]
    headers = {"Content-Type": "application/octet-stream"}
    if content_range is not None:
        headers["Content-Range"] = content_range
    params = {} if digest is None else {"digest": digest}
    response = requests.request(
        method, location, params=params, data=body, headers=headers, timeout=30
    )
    assert response.status_code < 500, (method, content_range, digest, response.text)


def test_content_pushed_before_the_fuzz_run_is_intact(registry: RegistryProcess, kept: bytes):
    manifest = requests.get(f"{registry.url}/v2/{KEPT}/manifests/v1", timeout=30)
    assert manifest.content == kept
    for blob in (EMPTY_CONFIG, *LAYERS):
        response = requests.get(f"{registry.url}/v2/{KEPT}/blobs/{digest_of(blob)}", timeout=30)
        assert response.content == blob
    assert "Traceback" not in registry.log_text()
