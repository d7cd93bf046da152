"""Write benchmark: the write path of two checkouts, side by side in one run, over HTTP.

    git -C /work/main worktree add /tmp/ab-before aac9362   (made by the script if missing)
    .venv/bin/python bench/write_bench.py [--before /tmp/ab-before] [--after .] [--seconds 15]
        [--threads 8] [--runs 2] [--db both|postgresql|sqlite] [--out bench/results-writes.md]
        [--json raw.json] [--render raw.json]

For each run, each database and each checkout in turn (before, after, before, after): a fresh
database (a new SQLite file; a PostgreSQL database created here and dropped after), migrated,
seeded and given a write key by that checkout's own CLI, then that checkout's server
(`python -m app.cli serve`, cwd and PYTHONPATH the checkout, this venv's Python). T client
threads (one httpx.Client each) then run each scenario for S seconds:

- creates: POST /v1/events, an inline place, two actors by alias, a claim, fatalities;
- patches: PATCH /v1/events/{id} {"notes": ...} (If-Match: *) over 20 events made beforehand;
- mixed: 90% reads (a list page of 20, one event), 10% writes (half creates, half patches).

Per scenario: requests/s, p50/p95/p99 latency, counts by status ("conn" = connection error or
timeout). Then, read straight from the database: acknowledged creates that are not stored,
stored creates never acknowledged, and for the patches the version bumps and revisions written
against the acknowledged patches (each patch writes its own notes, looked up in the snapshots).
Server tracebacks and "database is locked" lines are counted in each server's log.
This machine is shared and noisy: only figures from one run compare.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
BEFORE_COMMIT = "aac9362"
DEFAULT_BEFORE = Path("/tmp/ab-before")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/"
SCENARIOS = ("creates", "patches", "mixed")
TARGETS = 20


@dataclass
class Sample:
    kind: str  # create, patch, list, get
    status: str  # "201", "500", "conn"
    ms: float


@dataclass
class Acks:
    """What the server acknowledged (2xx) during a scenario."""

    create_ids: list[int] = field(default_factory=list)
    patch_notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def event_body(external_id: str, n: int) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "date_start": "2015-10-08",
        "sub_event_type": "air_drone_strike",
        "summary": f"Air strike {external_id} on a village near Idlib.",
        "notes": f"write bench {n}",
        "fatalities_low": 2,
        "fatalities_best": 3,
        "fatalities_high": 5,
        "place": {
            "name": f"Bench Village {n % 50}",
            "kind": "village",
            "country_code": "SY",
            "admin1": "Idlib",
            "latitude": 35.8 + (n % 50) / 1000,
            "longitude": 36.6,
        },
        "actors": [
            {"actor": "Russian warplanes", "role": "initiator"},
            {"actor": "regime forces", "role": "initiator_support", "status": "reported"},
        ],
        "claims": [
            {
                "source": "Syrian Observatory for Human Rights",
                "kind": "casualties",
                "assertion": f"{external_id}: 3 civilians killed",
            }
        ],
    }


# ---- databases, checkouts, servers ----


def ensure_before(path: Path) -> None:
    if (path / "app").is_dir():
        return
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", str(path), BEFORE_COMMIT], check=True
    )


def describe(tree: Path) -> str:
    head = subprocess.run(
        ["git", "-C", str(tree), "log", "-1", "--format=%h"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no", "app"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head} + uncommitted changes in app/" if dirty else head


def code_digest(tree: Path) -> str:
    """A digest of the checkout's Python code as it is now (others may be editing it)."""
    digest = hashlib.sha256()
    for path in sorted([*(tree / "app").rglob("*.py"), *(tree / "migrations").rglob("*.py")]):
        digest.update(str(path.relative_to(tree)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def tree_env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = str(tree)
    return env


def app_cli(tree: Path, url: str, *args: str) -> str:
    out = subprocess.run(
        [str(PYTHON), "-m", "app.cli", *args, "--database-url", url],
        cwd=tree,
        env=tree_env(tree),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"app.cli {args[0]} failed in {tree}:\n{out.stderr[-3000:]}")
    return out.stdout


def admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def fresh_database(kind: str, name: str, workdir: Path) -> str:
    if kind == "sqlite":
        path = workdir / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    return PG_BASE + name


def drop_database(kind: str, name: str, workdir: Path) -> None:
    if kind == "postgresql":
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / name}.sqlite3{suffix}").unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tree: Path, url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [str(PYTHON), "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--database-url", url],
            cwd=tree,
            env=tree_env(tree),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server in {tree} did not start; see {log}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- the load ----


class Load:
    """One scenario's state shared by the client threads."""

    def __init__(self, scenario: str, base: str, key: str, targets: list[int], reads: list[int]):
        self.scenario = scenario
        self.base = base
        self.key = key
        self.targets = targets
        self.reads = reads
        self.acks = Acks()
        self.errors: dict[str, str] = {}  # "kind status" -> the first such response's body

    def create(self, client: httpx.Client, tid: int, n: int) -> tuple[str, httpx.Response]:
        ext = f"wb-{self.scenario}-{tid}-{n}"
        r = client.post("/v1/events", json=event_body(ext, n))
        if r.status_code == 201:
            with self.acks.lock:
                self.acks.create_ids.append(int(r.json()["id"]))
        return "create", r

    def patch(self, client: httpx.Client, tid: int, n: int, rng: random.Random) -> Any:
        notes = f"wb-{self.scenario}-{tid}-{n}"
        event_id = rng.choice(self.targets)
        r = client.patch(f"/v1/events/{event_id}", json={"notes": notes}, headers={"If-Match": "*"})
        if r.status_code == 200:
            with self.acks.lock:
                self.acks.patch_notes.append(notes)
        return "patch", r

    def one(self, client: httpx.Client, tid: int, n: int, rng: random.Random) -> Any:
        if self.scenario == "creates":
            return self.create(client, tid, n)
        if self.scenario == "patches":
            return self.patch(client, tid, n, rng)
        x = rng.random()
        if x < 0.45:
            return "list", client.get("/v1/events", params={"limit": 20})
        if x < 0.90:
            return "get", client.get(f"/v1/events/{rng.choice(self.reads)}")
        if x < 0.95:
            return self.create(client, tid, n)
        return self.patch(client, tid, n, rng)

    def worker(
        self, tid: int, start: threading.Barrier, stop_at: list[float], out: list[Sample]
    ) -> None:
        rng = random.Random(tid)
        headers = {"X-API-Key": self.key}
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as client:
            start.wait()
            n = 0
            while time.perf_counter() < stop_at[0]:
                n += 1
                t0 = time.perf_counter()
                try:
                    kind, r = self.one(client, tid, n, rng)
                    status = str(r.status_code)
                    if r.status_code >= 300:
                        self.errors.setdefault(f"{kind} {status}", " ".join(r.text[:300].split()))
                except httpx.TransportError as exc:
                    kind, status = "?", "conn"
                    self.errors.setdefault(f"? {status}", repr(exc)[:300])
                out.append(Sample(kind, status, (time.perf_counter() - t0) * 1000))


def run_scenario(load: Load, threads: int, seconds: float) -> tuple[list[Sample], float]:
    start = threading.Barrier(threads + 1)
    stop_at = [float("inf")]
    outs: list[list[Sample]] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(target=load.worker, args=(i, start, stop_at, outs[i]))
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    for w in workers:
        w.join()
    return [s for out in outs for s in out], time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarize(samples: list[Sample], elapsed: float) -> dict[str, Any]:
    ms = [s.ms for s in samples]
    return {
        "requests": len(samples),
        "rps": len(samples) / elapsed,
        "p50": pct(ms, 0.50),
        "p95": pct(ms, 0.95),
        "p99": pct(ms, 0.99),
        "statuses": dict(sorted(Counter(s.status for s in samples).items())),
    }


# ---- what the database holds afterwards ----


def check(url: str, load: Load, targets_before: dict[int, int], rev_start: int) -> dict[str, Any]:
    """Acknowledged writes against what is stored."""
    engine = create_engine(url.replace("+aiosqlite", ""))
    acked = set(load.acks.create_ids)
    with engine.connect() as conn:
        stored = {
            int(row[0])
            for row in conn.execute(
                text("SELECT id FROM events WHERE external_id LIKE :p"),
                {"p": f"wb-{load.scenario}-%"},
            )
        }
        versions = dict(
            conn.execute(
                text(f"SELECT id, version FROM events WHERE id IN ({_ids(load.targets)})")
            ).all()
        )
        revisions = conn.execute(
            text(
                "SELECT event_id, version, snapshot FROM event_revisions "
                f"WHERE id > :r AND operation = 'update' AND event_id IN ({_ids(load.targets)})"
            ),
            {"r": rev_start},
        ).all()
    engine.dispose()
    snap_notes = set()
    for _event_id, _version, snapshot in revisions:
        snap = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
        if isinstance(snap, dict) and snap.get("notes"):
            snap_notes.add(snap["notes"])
    acked_notes = set(load.acks.patch_notes)
    pairs = Counter((int(e), int(v)) for e, v, _ in revisions)
    return {
        "creates_acked": len(acked),
        "creates_acked_missing": len(acked - stored),
        "creates_stored_unacked": len(stored - acked),
        "patches_acked": len(acked_notes),
        "version_bumps": sum(versions[i] - targets_before[i] for i in load.targets),
        "update_revisions": len(revisions),
        "patches_acked_without_revision": len(acked_notes - snap_notes),
        "duplicate_revision_versions": sum(c - 1 for c in pairs.values() if c > 1),
    }


def _ids(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def db_state(url: str, targets: list[int]) -> tuple[dict[int, int], int]:
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        versions = dict(
            conn.execute(
                text(f"SELECT id, version FROM events WHERE id IN ({_ids(targets)})")
            ).all()
        )
        rev = conn.execute(text("SELECT coalesce(max(id), 0) FROM event_revisions")).scalar_one()
    engine.dispose()
    return {int(k): int(v) for k, v in versions.items()}, int(rev)


def log_errors(log: Path) -> dict[str, int]:
    body = log.read_text(errors="replace")
    return {
        # One per request that ended in an unhandled exception (app/core/errors.py logs it).
        "unhandled": body.count("unhandled error on "),
        "tracebacks": body.count("Traceback (most recent call last)"),
        "locked": body.count("sqlite3.OperationalError: database is locked"),
    }


# ---- one checkout on one database ----


def run_one(
    kind: str, label: str, tree: Path, run: int, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    name = f"conflictdb_wb_{label}_{run}"
    url = fresh_database(kind, name, workdir)
    result: dict[str, Any] = {
        "db": kind,
        "checkout": label,
        "run": run,
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        "scenarios": {},
    }
    try:
        app_cli(tree, url, "migrate")
        app_cli(tree, url, "seed")
        key = app_cli(tree, url, "create-key", "bench").splitlines()[0].strip()
        log = workdir / f"{name}-{kind}.log"
        result["code"] = code_digest(tree)
        proc, base = start_server(tree, url, log)
        try:
            with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
                targets = []
                for i in range(TARGETS):
                    r = c.post("/v1/events", json=event_body(f"wb-target-{i}", i))
                    r.raise_for_status()
                    targets.append(int(r.json()["id"]))
                seeded = c.get("/v1/events", params={"limit": 100}).json()["items"]
            reads = sorted({int(e["id"]) for e in seeded} | set(targets))
            for scenario in SCENARIOS:
                load = Load(scenario, base, key, targets, reads)
                before, rev_start = db_state(url, targets)
                samples, elapsed = run_scenario(load, args.threads, args.seconds)
                out = {"all": summarize(samples, elapsed)}
                if scenario == "mixed":
                    out["reads"] = summarize(
                        [s for s in samples if s.kind in ("list", "get")], elapsed
                    )
                    out["writes"] = summarize(
                        [s for s in samples if s.kind in ("create", "patch")], elapsed
                    )
                out["check"] = check(url, load, before, rev_start)
                out["errors"] = load.errors
                result["scenarios"][scenario] = out
                a = out["all"]
                print(
                    f"run {run} {kind} {label} {scenario}: {a['rps']:.1f} req/s, "
                    f"p50/p95/p99 {a['p50']:.0f}/{a['p95']:.0f}/{a['p99']:.0f} ms, "
                    f"{a['statuses']}, {out['check']}",
                    flush=True,
                )
        finally:
            stop_server(proc)
        result["log"] = log_errors(log)
        if result["log"]["tracebacks"] or result["log"]["unhandled"]:
            print(f"run {run} {kind} {label}: server log {log}: {result['log']}", flush=True)
    finally:
        result["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
        if not args.keep:
            drop_database(kind, name, workdir)
    return result


# ---- the report ----


def machine() -> dict[str, str]:
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    engine = create_engine(PG_ADMIN)
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        sync = conn.execute(text("SHOW synchronous_commit")).scalar_one()
    engine.dispose()
    return {
        "cpu": f"{os.cpu_count()} x {cpu} (nproc {os.cpu_count()})",
        "ram": f"{mem_kb // 1024 // 1024} GiB",
        "postgresql": f"{pg} (synchronous_commit={sync})",
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
    }


def ok_share(summary: dict[str, Any]) -> float:
    ok = sum(n for status, n in summary["statuses"].items() if status.startswith("2"))
    return ok / summary["requests"] if summary["requests"] else 0.0


def statuses(d: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in d.items())


def report(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    m = meta["machine"]
    lines = [
        "# Writes: the write path of two checkouts, interleaved",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"- CPU: {m['cpu']}; RAM {m['ram']}",
        f"- PostgreSQL {m['postgresql']}; SQLite {m['sqlite']}; Python {m['python']}",
        f"- before: {meta['before']} ({meta['before_rev']}); after: {meta['after']} "
        f"({meta['after_rev']})",
        f"- {meta['threads']} client threads (one httpx.Client each, in the benchmark's process "
        f"on the same machine), {meta['seconds']:g} s per scenario, one uvicorn worker "
        "(`python -m app.cli serve`); each checkout on its own fresh, migrated, seeded database, "
        f"plus {TARGETS} events made for the patches",
        f"- load average (1, 5, 15 min) at the start: {meta['load_start']}; at the end: "
        f"{meta['load_end']}"
        + (" (above 2: the machine was busy with other work)" if meta["busy"] else ""),
        "- order, with the 1-minute load average as each began and a digest of the checkout's "
        "app/ and migrations/ *.py when its server started: "
        + ", ".join(
            f"{r['db']} {r['checkout']} run {r['run']} ({r['loadavg_start'][0]}, code "
            f"{r.get('code', '?')})"
            for r in results
        ),
        "",
        "Scenarios: creates (POST /v1/events: inline place, two actors by alias, a claim, "
        f"fatalities); patches (PATCH /v1/events/{{id}} notes, If-Match: *, over {TARGETS} "
        "events); mixed (90% reads: a list page of 20 or one event; 10% writes: half creates, "
        'half patches). Status "conn": a connection error or a 60 s timeout.',
        "",
    ]
    for kind, title in (("postgresql", "PostgreSQL"), ("sqlite", "SQLite")):
        rows = [r for r in results if r["db"] == kind]
        if not rows:
            continue
        lines += [
            f"## {title}",
            "",
            "| scenario | checkout | run | req/s | 2xx/s | p50 ms | p95 ms | p99 ms | statuses |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for scenario in SCENARIOS:
            for part in ("all", "reads", "writes"):
                for r in rows:
                    s = r["scenarios"].get(scenario, {}).get(part)
                    if s is None:
                        continue
                    what = scenario if part == "all" else f"{scenario}: {part}"
                    lines.append(
                        f"| {what} | {r['checkout']} | {r['run']} | {s['rps']:.1f} | "
                        f"{s['rps'] * ok_share(s):.1f} | "
                        f"{s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} | "
                        f"{statuses(s['statuses'])} |"
                    )
        lines += [
            "",
            "What the database holds afterwards (acknowledged = the client got a 2xx):",
            "",
            "| scenario | checkout | run | creates acked | acked, not stored | stored, not "
            "acked | patches acked | version bumps | update revisions | acked patches without "
            "a revision | duplicate revision versions |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for scenario in SCENARIOS:
            for r in rows:
                c = r["scenarios"].get(scenario, {}).get("check")
                if c is None:
                    continue
                lines.append(
                    f"| {scenario} | {r['checkout']} | {r['run']} | {c['creates_acked']:,} | "
                    f"{c['creates_acked_missing']} | {c['creates_stored_unacked']} | "
                    f"{c['patches_acked']:,} | {c['version_bumps']:,} | "
                    f"{c['update_revisions']:,} | {c['patches_acked_without_revision']} | "
                    f"{c['duplicate_revision_versions']} |"
                )
        errors = [
            f"- {r['checkout']} run {r['run']}, {scenario}, {what}: `{body}`"
            for r in rows
            for scenario, out in r["scenarios"].items()
            for what, body in out.get("errors", {}).items()
        ]
        if errors:
            lines += ["", "Non-2xx answers (the first body of each kind):", "", *errors]
        lines += [
            "",
            "Server logs: "
            + "; ".join(
                f"{r['checkout']} run {r['run']}: {r['log'].get('unhandled', '?')} requests "
                f"with an unhandled error, {r['log']['tracebacks']} traceback blocks, "
                f"{r['log']['locked']} 'database is locked' lines"
                for r in rows
            ),
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=DEFAULT_BEFORE)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-writes.md")
    parser.add_argument("--json", type=Path, help="Also write the raw figures here.")
    parser.add_argument("--keep", action="store_true", help="Keep the databases and files.")
    parser.add_argument("--render", type=Path, help="Only write --out again from a --json file.")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        args.out.write_text(report(saved["results"], saved["meta"]) + "\n")
        return 0
    if args.before == DEFAULT_BEFORE:
        ensure_before(args.before)
    before, after = args.before.resolve(), args.after.resolve()
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    meta: dict[str, Any] = {
        "command": ".venv/bin/python bench/write_bench.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "before": str(before),
        "after": str(after),
        "before_rev": describe(before),
        "after_rev": describe(after),
        "threads": args.threads,
        "seconds": args.seconds,
        "load_start": ", ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    results: list[dict[str, Any]] = []
    workdir = Path(tempfile.mkdtemp(prefix="write-bench-"))
    print(f"work files in {workdir}", flush=True)
    for run in range(1, args.runs + 1):
        for kind in kinds:
            for label, tree in (("before", before), ("after", after)):
                results.append(run_one(kind, label, tree, run, args, workdir))
    load_end = Path("/proc/loadavg").read_text().split()[:3]
    meta["load_end"] = ", ".join(load_end)
    loads = [float(x) for r in results for x in r["loadavg_start"] + r["loadavg_end"]]
    meta["busy"] = max(loads + [float(x) for x in load_end]) > 2
    text_out = report(results, meta)
    args.out.write_text(text_out + "\n")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(text_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
