"""porterd.cluster.peer_logs: a log query passed on to the node of a task."""

from __future__ import annotations

from porterd.cluster.peer_logs import query_params
from porterd.containers.logs import LogQuery


def test_a_query_is_passed_on_as_the_engine_apis_parameters() -> None:
    query = LogQuery(stdout=True, stderr=False, since_ns=1_700_000_000_000_000_005, tail=3)
    assert query_params(query, follow=True, timestamps=False) == {
        "stdout": "1",
        "stderr": "0",
        "tail": "3",
        "follow": "1",
        "timestamps": "0",
        "since": "1700000000.000000005",
    }


def test_all_lines_and_no_time_bounds_pass_on_as_tail_all_without_since() -> None:
    params = query_params(LogQuery(), follow=False, timestamps=True)
    assert params["tail"] == "all" and "since" not in params and "until" not in params
