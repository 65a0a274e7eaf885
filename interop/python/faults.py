"""Fault scenario: the Python cassandra-driver against cql-sim, with faults injected through the
simulator's HTTP+JSON control channel (docs/sim-control.md).

Usage: faults.py --port P --control HOST:PORT CONTACT_POINT...
Needs a cluster of at least 3 nodes started with `--control-port`. Exits 0 when every step
matches, 1 with a `FAIL <step>: <why>` line otherwise. Only the standard library and the driver.
"""
import argparse
import json
import logging
import sys
import time
import traceback
import urllib.request

from cassandra import ConsistencyLevel, OperationTimedOut, Unavailable
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import DCAwareRoundRobinPolicy, FallthroughRetryPolicy
from cassandra.protocol import ServerError

KS = "interop_faults"


class Mismatch(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Mismatch(msg)


def step(name):
    print("-- " + name, flush=True)
    return name


class Control:
    """The simulator's control channel."""

    def __init__(self, addr):
        self.base = "http://" + addr

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def nodes(self):
        return self.call("GET", "/nodes")


def wait_until(what, cond, timeout=30):
    deadline = time.monotonic() + timeout
    while not cond():
        check(time.monotonic() < deadline, f"{what} within {timeout} s")
        time.sleep(0.05)


def expect_error(session, query, kind):
    try:
        session.execute(query)
    except kind as e:
        return e
    raise Mismatch(f"{query!r} succeeded; expected {kind.__name__}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--control", required=True, help="host:port of the control channel")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("contact_points", nargs="+")
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.CRITICAL)
    control = Control(args.control)
    current = "connect"
    cluster = None
    try:
        current = step("connect")
        profile = ExecutionProfile(
            load_balancing_policy=DCAwareRoundRobinPolicy(),
            # Every attempt's error reaches the scenario as the server sent it.
            retry_policy=FallthroughRetryPolicy(),
            consistency_level=ConsistencyLevel.ONE,
            request_timeout=10,
        )
        cluster = Cluster(contact_points=args.contact_points, port=args.port,
                          execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                          connect_timeout=10, control_connection_timeout=10)
        session = cluster.connect()
        session.execute(f"CREATE KEYSPACE IF NOT EXISTS {KS} WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        session.execute(f"CREATE TABLE IF NOT EXISTS {KS}.t (k int PRIMARY KEY, v text)")
        read = f"SELECT v FROM {KS}.t WHERE k = 1"

        current = step("counters count the driver's queries")
        before = sum(n["requests_by_opcode"]["QUERY"] for n in control.nodes())
        for i in range(5):
            session.execute(f"INSERT INTO {KS}.t (k, v) VALUES ({i}, 'v{i}')")
        after = sum(n["requests_by_opcode"]["QUERY"] for n in control.nodes())
        check(after - before >= 5, f"QUERY counters went from {before} to {after}")

        current = step("an injected Unavailable arrives with its details")
        rule = {"match": {"query_contains": f"{KS}.t"},
                "action": {"error": {"unavailable": {"consistency": "QUORUM", "required": 3, "alive": 1}}}}
        control.call("POST", "/nodes/all/faults", rule)
        e = expect_error(session, read, Unavailable)
        check((e.required_replicas, e.alive_replicas) == (3, 1),
              f"required/alive {e.required_replicas}/{e.alive_replicas}")
        check(e.consistency == ConsistencyLevel.QUORUM, f"consistency {e.consistency}")
        control.call("DELETE", "/nodes/all/faults")
        session.execute(read)

        current = step("an injected server error, once")
        rule = {"match": {"query_contains": f"{KS}.t"}, "action": {"error": "server_error"}, "times": 1}
        control.call("POST", "/nodes/all/faults", rule)
        expect_error(session, read, ServerError)
        # Each node had one; the other two fire on the next two attempts at most.
        for _ in range(3):
            try:
                session.execute(read)
                break
            except ServerError:
                pass
        else:
            raise Mismatch("the one-shot server errors kept firing")
        control.call("DELETE", "/nodes/all/faults")

        current = step("a slow cluster times out on the client")
        control.call("POST", "/nodes/all/delay", {"ms": 1500})
        try:
            session.execute(read, timeout=0.3)
            raise Mismatch("a 1.5 s delay did not time out a 0.3 s request")
        except OperationTimedOut:
            pass
        control.call("POST", "/nodes/all/delay", {"ms": 0})
        session.execute(read, timeout=5)

        current = step("a stopped node is seen down, then up again")
        victim = control.nodes()[2]
        ip = victim["address"].rsplit(":", 1)[0]
        host = next(h for h in cluster.metadata.all_hosts() if h.address == ip)
        control.call("POST", "/nodes/2/stop")
        wait_until(f"the driver marks {ip} down", lambda: not host.is_up)
        for i in range(10):
            session.execute(f"SELECT v FROM {KS}.t WHERE k = {i % 5}")
        control.call("POST", "/nodes/2/start")
        wait_until(f"the driver marks {ip} up again", lambda: host.is_up)
        check(control.nodes()[2]["up"], "node 2 is not up after start")
    except Mismatch as e:
        print(f"FAIL {current}: {e}", flush=True)
        return 1
    except Exception as e:  # noqa: BLE001 - any driver error is a failed step
        print(f"FAIL {current}: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc()
        return 1
    finally:
        if cluster is not None:
            cluster.shutdown()
    print("OK faults", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
