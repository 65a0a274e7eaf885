"""Interop scenario: the Python cassandra-driver against a running cql-sim cluster.

Usage: scenario.py --port P --expect-hosts N [--protocol 3|4] [--compression lz4]
                   [--shards S --shard-aware-port Q] [--auth USER:PASS] CONTACT_POINT...
Runs with `cassandra-driver` or `scylla-driver` (both are the module `cassandra`); with
`--shards`, also checks the scylla-driver's shard awareness (one connection per shard, some
through the shard-aware port).
Exits 0 when every step matches, 1 with a `FAIL <step>: <why>` line otherwise.
"""
import argparse
import logging
import sys
import time
import traceback
import warnings

from cassandra import AuthenticationFailed, ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT, NoHostAvailable
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, SimpleStatement

KS = "interop_py"

# scylla-driver deprecates ControlConnection.wait_for_schema_agreement, which the scenario checks on purpose.
warnings.filterwarnings("ignore", message=".*wait_for_schema_agreement is deprecated", category=DeprecationWarning)


class Mismatch(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Mismatch(msg)


def step(name):
    print("-- " + name, flush=True)
    return name


def check_shard_awareness(cluster, shards, shard_aware_port):
    """scylla-driver: every host reports its sharding, and the pool reaches one connection per
    shard, those beyond the first through the shard-aware port (bounded wait: the driver opens
    them in the background)."""
    check(hasattr(cluster, "shard_aware_stats"), "this driver has no shard awareness (not scylla-driver?)")
    check(cluster.is_shard_aware(), "driver does not consider the cluster shard-aware")
    deadline = time.monotonic() + 15
    while any(h.sharding_info is None for h in cluster.metadata.all_hosts()):
        missing = [h.address for h in cluster.metadata.all_hosts() if h.sharding_info is None]
        check(time.monotonic() < deadline, f"hosts {missing} have no sharding info")
        time.sleep(0.05)
    for h in cluster.metadata.all_hosts():
        info = h.sharding_info
        check(info.shards_count == shards, f"host {h.address}: shards_count {info.shards_count}")
        check(info.shard_aware_port == shard_aware_port,
              f"host {h.address}: shard-aware port {info.shard_aware_port}, expected {shard_aware_port}")
    while True:
        stats = cluster.shard_aware_stats()
        if all(v["connected"] == shards for v in stats.values()):
            break
        check(time.monotonic() < deadline, f"pools did not reach one connection per shard: {stats}")
        time.sleep(0.05)
    via_port = 0
    for pool in cluster.get_all_pools():
        for shard_id, conn in pool._connections.items():
            check(conn.features.shard_id == shard_id,
                  f"{pool.host.address}: connection for shard {shard_id} is on shard {conn.features.shard_id}")
            via_port += conn.endpoint.port == shard_aware_port
    check(via_port > 0, "no connection went through the shard-aware port")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--expect-hosts", type=int, default=3)
    ap.add_argument("--shards", type=int, default=0,
                    help="check scylla-driver shard awareness for this many shards per node")
    ap.add_argument("--shard-aware-port", type=int, default=0)
    ap.add_argument("--compression", choices=["lz4", "snappy"], help="frame compression (needs the lz4 or python-snappy package)")
    ap.add_argument("--protocol", type=int, default=4, choices=[3, 4, 5])
    ap.add_argument("--auth", help="user:password; also checks that a wrong password is refused")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("contact_points", nargs="+")
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)

    current = "connect"
    cluster = None
    try:
        auth = {}
        if args.auth:
            current = step("authentication: wrong password refused")
            user, password = args.auth.split(":", 1)
            bad = Cluster(contact_points=args.contact_points, port=args.port,
                          protocol_version=args.protocol,
                          execution_profiles={EXEC_PROFILE_DEFAULT: ExecutionProfile(
                              load_balancing_policy=DCAwareRoundRobinPolicy())},
                          auth_provider=PlainTextAuthProvider(user, password + "-wrong"))
            quiet = logging.getLogger("cassandra")
            level = quiet.level
            quiet.setLevel(logging.CRITICAL)  # the driver logs the expected failure as errors
            try:
                bad.connect()
                raise Mismatch("connected with a wrong password")
            except NoHostAvailable as e:
                errors = list(e.errors.values())
                check(errors and all(isinstance(x, AuthenticationFailed) for x in errors),
                      f"expected AuthenticationFailed, got {errors}")
            finally:
                quiet.setLevel(level)
                bad.shutdown()
            auth["auth_provider"] = PlainTextAuthProvider(user, password)

        current = step("connect")
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
            consistency_level=ConsistencyLevel.QUORUM,
            request_timeout=10,
        )
        cluster = Cluster(
            contact_points=args.contact_points,
            port=args.port,
            protocol_version=args.protocol,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            connect_timeout=10,
            control_connection_timeout=10,
            compression=args.compression or False,
            **auth,
        )
        session = cluster.connect()
        if args.compression:
            conn = cluster.control_connection._connection
            check(conn is not None and conn.compressor is not None,
                  f"{args.compression} compression was not negotiated")

        current = step("hosts")
        hosts = cluster.metadata.all_hosts()
        addrs = sorted(h.address for h in hosts)
        check(len(hosts) == args.expect_hosts,
              f"expected {args.expect_hosts} hosts, driver sees {addrs}")
        for h in hosts:
            check(h.is_up is not False, f"host {h.address} is marked down")
            check(h.host_id is not None, f"host {h.address} has no host_id")
            check(h.datacenter, f"host {h.address} has no datacenter")

        current = step("token map")
        tm = cluster.metadata.token_map
        check(tm is not None, "token_map is None")
        check(len(tm.ring) > 0, "token ring is empty")
        owners = set(h.address for h in tm.token_to_host_owner.values())
        check(owners == set(addrs), f"token owners {sorted(owners)} != hosts {addrs}")

        if args.shards:
            current = step("shard awareness")
            check_shard_awareness(cluster, args.shards, args.shard_aware_port)

        current = step("schema: keyspace and table")
        session.execute(f"DROP KEYSPACE IF EXISTS {KS}")
        session.execute(
            f"CREATE KEYSPACE {KS} WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        session.execute(
            f"CREATE TABLE {KS}.kv (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
        session.execute(
            f"CREATE TABLE {KS}.lwt (id int PRIMARY KEY, v text)")

        current = step("schema agreement")
        agreed = cluster.control_connection.wait_for_schema_agreement()
        check(agreed is True, f"control_connection.wait_for_schema_agreement returned {agreed!r}")
        if hasattr(session, "wait_for_schema_agreement"):
            # scylla-driver: asks system.local on every connected host.
            agreed = session.wait_for_schema_agreement(wait_time=10)
            check(agreed is True, f"session.wait_for_schema_agreement returned {agreed!r}")

        current = step("schema metadata")
        ksm = cluster.metadata.keyspaces.get(KS)
        check(ksm is not None, f"keyspace {KS} not in metadata: {sorted(cluster.metadata.keyspaces)}")
        tbl = ksm.tables.get("kv")
        check(tbl is not None, f"table kv not in metadata: {sorted(ksm.tables)}")
        check([c.name for c in tbl.partition_key] == ["pk"], "partition key of kv")
        check([c.name for c in tbl.clustering_key] == ["ck"], "clustering key of kv")
        check(tbl.columns["v"].cql_type == "text", f"type of v: {tbl.columns['v'].cql_type}")
        replicas = cluster.metadata.get_replicas(KS, b"\x00\x00\x00\x01")
        want = min(3, args.expect_hosts)
        check(len(replicas) == want, f"expected {want} replicas for RF 3, got {replicas}")

        current = step("prepared insert and select")
        ins = session.prepare(f"INSERT INTO {KS}.kv (pk, ck, v) VALUES (?, ?, ?)")
        sel = session.prepare(f"SELECT ck, v FROM {KS}.kv WHERE pk = ? AND ck = ?")
        check(len(ins.column_metadata) == 3, f"insert bind markers: {ins.column_metadata}")
        check(ins.routing_key_indexes == [0], f"routing key indexes {ins.routing_key_indexes}")
        session.execute(ins, (1, 1, "one"))
        rows = list(session.execute(sel, (1, 1)))
        check(len(rows) == 1 and rows[0].ck == 1 and rows[0].v == "one",
              f"select returned {rows}")

        current = step("paging 1000 rows, fetch_size 100")
        for ck in range(1000):
            session.execute(ins, (2, ck, f"v{ck}"))
        stmt = session.prepare(f"SELECT ck, v FROM {KS}.kv WHERE pk = ?")
        stmt.fetch_size = 100
        rs = session.execute(stmt, (2,))
        check(len(rs.current_rows) == 100, f"first page has {len(rs.current_rows)} rows")
        check(rs.has_more_pages, "first page says no more pages")
        seen = [r.ck for r in rs]
        check(len(seen) == 1000, f"paged through {len(seen)} rows, expected 1000")
        check(seen == list(range(1000)), "rows not each seen once in clustering order")

        current = step("batch")
        batch = BatchStatement()
        for ck in range(10):
            batch.add(ins, (3, ck, f"b{ck}"))
        batch.add(SimpleStatement(f"INSERT INTO {KS}.kv (pk, ck, v) VALUES (3, 10, 'simple')"))
        session.execute(batch)
        got = {r.ck: r.v for r in session.execute(f"SELECT ck, v FROM {KS}.kv WHERE pk = 3")}
        want = {ck: f"b{ck}" for ck in range(10)}
        want[10] = "simple"
        check(got == want, f"batch rows: {got}")

        current = step("tracing")
        res = session.execute(sel, (1, 1), trace=True)
        trace = res.get_query_trace(max_wait_sec=10)
        check(trace is not None, "no trace")
        check(trace.events, f"trace {trace.trace_id} has no events")
        check(trace.duration is not None, "trace has no duration")

        current = step("lwt")
        lwt = session.prepare(f"INSERT INTO {KS}.lwt (id, v) VALUES (?, ?) IF NOT EXISTS")
        r1 = session.execute(lwt, (7, "first"))
        check(r1.was_applied is True, f"first IF NOT EXISTS: [applied]={r1.was_applied}")
        r2 = session.execute(lwt, (7, "second"))
        check(r2.was_applied is False, f"second IF NOT EXISTS: [applied]={r2.was_applied}")
        row = r2.one()
        check(getattr(row, "v", None) == "first", f"second LWT should return the existing row: {row}")

        current = step("drop keyspace")
        session.execute(f"DROP KEYSPACE {KS}")
        check(cluster.control_connection.wait_for_schema_agreement(), "schema agreement after drop")
    except Mismatch as e:
        print(f"FAIL {current}: {e}", flush=True)
        return 1
    except Exception as e:  # a driver error is a failure of the step, with its traceback
        traceback.print_exc()
        print(f"FAIL {current}: {type(e).__name__}: {e}", flush=True)
        return 1
    finally:
        if cluster is not None:
            cluster.shutdown()
    print("interop scenario: all steps passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
