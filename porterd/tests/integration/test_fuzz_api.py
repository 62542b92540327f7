"""Fuzzing porterd's API from the OpenAPI description generated from its routes.

schemathesis makes schema-valid and malformed requests for every operation and sends them to
a real porterd (in a network namespace of the test's own, so pulls of fuzzed image names
reach nothing) over its unix socket. No answer may be a 5xx: bad input is the client's error.
The run is bounded (`MAX_EXAMPLES` per operation).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from docker.transport import UnixHTTPAdapter
from hypothesis import HealthCheck, settings
from porterd.api.openapi import describe_daemon_api

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from porterd_process import PorterdProcess, running_porterd, unavailable

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

MAX_EXAMPLES = 25
BASE_URL = "http://porterd.invalid"
SCHEMA = schemathesis.openapi.from_dict(describe_daemon_api())


@pytest.fixture(scope="module")
def porterd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PorterdProcess]:
    with running_porterd(tmp_path_factory.mktemp("fuzz")) as process:
        yield process


@pytest.fixture(scope="module")
def session(porterd: PorterdProcess) -> Iterator[requests.Session]:
    session = requests.Session()
    session.mount(BASE_URL, UnixHTTPAdapter(f"http+unix://{porterd.sock}", timeout=30))
    yield session
    session.close()


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_gets_a_server_error(case, session: requests.Session) -> None:
    # Streams (`/events` without `until`, logs that follow) are judged by their head alone.
    request = case.as_transport_kwargs(base_url=BASE_URL)
    with session.request(**request, stream=True, timeout=30) as response:
        assert response.status_code < 500, (case.as_curl_command(), response.status_code)


def test_porterd_logged_no_traceback_during_the_fuzz_run(porterd: PorterdProcess) -> None:
    assert "Traceback" not in porterd.log_text(), porterd.log_text()[-3000:]
