"""The state on the stdin of hooks that run in the container's namespaces."""

import json
import os

from porter_runtime.init import _as_seen_inside


def test_container_namespace_hooks_get_the_pid_the_container_sees():
    host = {"ociVersion": "1.2.0", "id": "c1", "status": "creating", "pid": 4242, "bundle": "/b"}
    seen = json.loads(_as_seen_inside(json.dumps(host)))
    assert seen == {**host, "pid": os.getpid()}
