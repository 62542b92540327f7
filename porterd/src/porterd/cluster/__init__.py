"""Services over many porterd: the cluster's state in etcd, the scheduler, the reconciler.

`etcd` is the client of the cluster store (etcd's v3 JSON gateway); `store` keeps nodes,
services, tasks and the leader there; `scheduler`, `updates` and `autoscale` are pure
decisions; `reconciler` (run by the leader) and `agent` (run by every node) act on them.
"""
