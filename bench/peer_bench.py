"""The peer benchmark: Datasette and conflictdb on the same ACLED rows, side by side, one run.

    .venv/bin/python bench/peer_bench.py [--rows 1000000] [--seconds 10] [--mix-seconds 60]
                                         [--db both|postgresql|sqlite] [--reuse]

What it does (the setup of ../shared/reference/peer-bench.md):
1. builds the file: ACLED's test file copied until --rows rows (bench/acled_copies.py);
2. Datasette 0.65.5 and sqlite-utils in an environment of their own (bench/.peer-venv, never a
   project dependency): `sqlite-utils insert`, the indexes and FTS5 of the reference, then
   `datasette serve`;
3. conflictdb: the same file through `conflictdb import --format acled` into PostgreSQL
   (database `conflictdb_peer`) and SQLite (/tmp/conflictdb-peer.sqlite3), then
   `conflictdb serve --workers 2`, rate limits off;
4. `wrk -t2 -c8 -d<seconds>s --latency` per query pair, the peer first, then conflictdb with
   its response cache off (every request runs its queries: the engine's own speed) and on
   (wrk repeats one URL, so after the first request all are hits: what a dashboard polling
   that URL gets);
5. a mix of the queries at 64 connections for --mix-seconds (errors, p50, p99), cache off and on;
6. one URL repeated with the cache on, and revalidated with If-None-Match (304s);
7. writes bench/results-peer.md.

--reuse keeps databases already loaded with --rows rows (the imports take minutes).
No test asserts a timing: the figures are for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from acled_copies import write_acled_copies  # noqa: E402

PEER_VENV = ROOT / "bench" / ".peer-venv"
PEER_PACKAGES = ["datasette==0.65.5", "sqlite-utils==4.2.1"]
CONFLICTDB = str(ROOT / ".venv" / "bin" / "conflictdb")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/conflictdb_peer"
SQLITE_PATH = Path("/tmp/conflictdb-peer.sqlite3")
REDIS_URL = os.environ.get("CONFLICTDB_REDIS_URL", "redis://127.0.0.1:6379/0")
PEER_PORT, CDB_PORT = 8765, 8766
FAST = "_nocount=1&_nofacet=1&_nosuggest=1&_shape=objects"

# (name, Datasette URL after the host, conflictdb URL): ../shared/reference/peer-bench.md
QUERIES = [
    (
        "list: Syria since 2020, newest first",
        "/peer/events.json?country=Syria&event_date__gte=2020-01-01&_sort_desc=event_date"
        f"&_size=100&{FAST}",
        "/v1/events?country=SY&date_from=2020-01-01&limit=100",
    ),
    (
        "the same list, ACLED API",
        "/peer/events.json?country=Syria&event_date__gte=2020-01-01&_sort_desc=event_date"
        f"&_size=100&{FAST}",
        "/acled/acled/read?country=Syria&event_date=2020-01-01&event_date_where=%3E%3D&limit=100",
    ),
    (
        "bbox",
        "/peer/events.json?latitude__gte=35&latitude__lte=36.5&longitude__gte=35.5"
        f"&longitude__lte=37&_size=100&{FAST}",
        "/v1/events?bbox=35.5,35,37,36.5&limit=100",
    ),
    (
        'full text "airstrike"',
        f"/peer/events.json?_search=airstrike&_size=100&{FAST}",
        "/v1/events?q=airstrike&limit=100",
    ),
    (
        "one event by its ACLED id",
        f"/peer/events.json?event_id_cnty=SYR101631&{FAST}",
        "/acled/acled/read?event_id_cnty=SYR101631",
    ),
    (
        "aggregate month x admin1, Syria",
        "/peer.json?sql=select+substr(event_date,1,7)+m,+admin1,+count(*)+n,+sum(fatalities)+f"
        "+from+events+where+country%3D%27Syria%27+group+by+m,+admin1&_shape=objects",
        "/v1/aggregates?interval=month&group_by=admin1&country=SY",
    ),
]


@dataclass
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers, socket errors and timeouts

    @property
    def cell(self) -> str:
        return f"{self.rps:,.1f}"


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _percentile(out: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+(\S+)\s*$", out, re.M)
    if found is None:
        print(f"wrk printed no {which}% latency:\n{out}", file=sys.stderr)
        return float("nan")
    try:
        return _ms(found.group(1))
    except AttributeError:
        print(f"wrk's {which}% latency {found.group(1)!r} not understood", file=sys.stderr)
        return float("nan")


def wrk(
    url: str, seconds: int, connections: int = 8, script: Path | None = None, header: str = ""
) -> Wrk:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    if header:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    # The "Latency Distribution" lines ("     50%   12.34ms"), not a "+/- Stdev" column.
    p50, p99 = _percentile(out, "50"), _percentile(out, "99")
    errors = 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        errors += int(bad.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return Wrk(rps, p50, p99, requests, errors)


def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
    return python


def load_peer(csv_path: Path, db: Path, rows: int, reuse: bool) -> float:
    if reuse and db.exists():
        with sqlite3.connect(db) as conn:
            if conn.execute("SELECT count(*) FROM events").fetchone()[0] == rows:
                return 0.0
    db.unlink(missing_ok=True)
    utils = str(PEER_VENV / "bin" / "sqlite-utils")
    started = time.perf_counter()
    subprocess.run([utils, "insert", str(db), "events", str(csv_path), "--csv"], check=True)
    for cols in (
        ["event_date"],
        ["country", "event_date"],
        ["event_type"],
        ["latitude", "longitude"],
        ["admin1"],
    ):
        subprocess.run([utils, "create-index", str(db), "events", *cols], check=True)
    subprocess.run(
        [utils, "create-index", str(db), "events", "event_id_cnty", "--unique"], check=True
    )
    subprocess.run(
        [utils, "enable-fts", str(db), "events", "notes", "--fts5", "--create-triggers"],
        check=True,
    )
    return time.perf_counter() - started


def _count(database_url: str) -> int:
    env = {**os.environ, "DATABASE_URL": database_url}
    code = (
        "import asyncio, sqlalchemy as sa\n"
        "from app.core.db import make_sync_engine\n"
        "import os\n"
        "e = make_sync_engine(os.environ['DATABASE_URL'])\n"
        "with e.connect() as c:\n"
        "    print(c.execute(sa.text('SELECT count(*) FROM events')).scalar_one())\n"
    )
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else -1


def load_conflictdb(csv_path: Path, database_url: str, rows: int, reuse: bool) -> float:
    if reuse and _count(database_url) == rows:
        env = {**os.environ, "DATABASE_URL": database_url}  # a reused database, migrated
        subprocess.run([CONFLICTDB, "migrate"], env=env, check=True, capture_output=True)
        return 0.0
    if database_url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
    else:
        name = database_url.rsplit("/", 1)[1]
        for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
            subprocess.run(["psql", PG_ADMIN, "-qc", sql], check=True)
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([CONFLICTDB, "migrate"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [CONFLICTDB, "import", str(csv_path), "--format", "acled", "--progress", "none"],
        env=env,
        check=True,
    )
    return time.perf_counter() - started


class Server:
    def __init__(self, cmd: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        raise RuntimeError(f"server on {port} did not answer; see {log}")

    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def conflictdb_server(database_url: str, cache: bool, workdir: Path, docs: bool = True) -> Server:
    """`docs=False`: without the kept documents of events (app/core/doccache.py) either, so
    that every request writes every event of its page."""
    env = {
        "DATABASE_URL": database_url,
        "CONFLICTDB_RATE_LIMIT_ENABLED": "false",
        "CONFLICTDB_CACHE_ENABLED": "true" if cache else "false",
        "CONFLICTDB_REDIS_URL": REDIS_URL if cache else "",
        "CONFLICTDB_MAX_CONCURRENT_REQUESTS": "1024",
    }
    if not cache:
        env.pop("CONFLICTDB_REDIS_URL")
    if not docs:
        env["CONFLICTDB_DOC_CACHE_MAX_BYTES"] = "0"
    cmd = [CONFLICTDB, "serve", "--port", str(CDB_PORT), "--workers", "2"]
    return Server(cmd, CDB_PORT, env, workdir / f"conflictdb-{int(cache)}{int(docs)}.log")


def warm(base: str, paths: list[str]) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        for path in paths:
            for _ in range(2):
                r = client.get(path)
                if r.status_code != 200:
                    raise RuntimeError(f"{base}{path}: {r.status_code} {r.text[:300]}")


def mix_script(paths: list[str], workdir: Path) -> Path:
    script = workdir / "mix.lua"
    listed = ", ".join('"' + p.replace('"', '\\"') + '"' for p in paths)
    script.write_text(
        f"local paths = {{{listed}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  return wrk.format('GET', paths[(i % #paths) + 1])\n"
        "end\n"
    )
    return script


def machine() -> str:
    load = os.getloadavg()
    pg = subprocess.run(
        ["psql", PG_ADMIN, "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
        f"PostgreSQL {pg}, SQLite {sqlite3.sqlite_version}; load average at the end "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--mix-seconds", type=int, default=60)
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-peer.md"))
    args = parser.parse_args()

    workdir = Path(tempfile.gettempdir()) / "conflictdb-peer"
    workdir.mkdir(exist_ok=True)
    csv_path = workdir / f"acled-copies-{args.rows}.csv"
    if not csv_path.exists():
        write_acled_copies(csv_path, args.rows)
    peer_python()
    peer_db = workdir / "peer.db"
    loads = {
        "Datasette (sqlite-utils insert, indexes, FTS5)": load_peer(
            csv_path, peer_db, args.rows, args.reuse
        )
    }
    databases = []
    if args.db in ("both", "postgresql"):
        databases.append(("PostgreSQL", PG_URL))
    if args.db in ("both", "sqlite"):
        databases.append(("SQLite", f"sqlite+aiosqlite:///{SQLITE_PATH}"))
    for label, url in databases:
        loads[f"conflictdb on {label} (conflictdb import)"] = load_conflictdb(
            csv_path, url, args.rows, args.reuse
        )

    started = dt.datetime.now(dt.UTC)
    peer = Server(
        [
            str(PEER_VENV / "bin" / "datasette"),
            "serve",
            "-i",
            str(peer_db),
            "-p",
            str(PEER_PORT),
            "--setting",
            "sql_time_limit_ms",
            "20000",
            "--setting",
            "max_returned_rows",
            "1000",
        ],
        PEER_PORT,
        {},
        workdir / "datasette.log",
    )
    try:
        warm(peer.base(), [q[1] for q in QUERIES])
        peer_rows = [wrk(peer.base() + q[1], args.seconds) for q in QUERIES]
    finally:
        peer.stop()

    sections: list[str] = []
    for label, url in databases:
        results: dict[bool, list[Wrk]] = {}
        mixes: dict[bool, Wrk] = {}
        repeat: dict[str, Wrk] = {}
        bare = conflictdb_server(url, False, workdir, docs=False)
        try:
            warm(bare.base(), [q[2] for q in QUERIES])
            no_docs = [wrk(bare.base() + q[2], args.seconds) for q in QUERIES]
        finally:
            bare.stop()
        for cache in (False, True):
            server = conflictdb_server(url, cache, workdir)
            try:
                warm(server.base(), [q[2] for q in QUERIES])
                results[cache] = [wrk(server.base() + q[2], args.seconds) for q in QUERIES]
                script = mix_script([q[2] for q in QUERIES], workdir)
                mixes[cache] = wrk(server.base() + "/", args.mix_seconds, 64, script)
                if cache:
                    first = QUERIES[0][2]
                    repeat["repeat"] = wrk(server.base() + first, args.seconds, 8)
                    etag = httpx.get(server.base() + first, timeout=60).headers["etag"]
                    repeat["revalidate"] = wrk(
                        server.base() + first, args.seconds, 8, header=f"If-None-Match: {etag}"
                    )
            finally:
                server.stop()
        lines = [
            f"### conflictdb on {label}",
            "",
            "| query (100 rows unless noted) | Datasette req/s | conflictdb req/s, cache off "
            "| ratio | conflictdb req/s, cache on | ratio | p50 / p99 ms, cache off "
            "| cache and kept documents off | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for (name, _, _), peer_w, off, on, nod in zip(
            QUERIES, peer_rows, results[False], results[True], no_docs, strict=True
        ):
            lines.append(
                f"| {name} | {peer_w.cell} | {off.cell} | {off.rps / peer_w.rps:.2f} "
                f"| {on.cell} | {on.rps / peer_w.rps:.1f} "
                f"| {off.p50_ms:.0f} / {off.p99_ms:.0f} "
                f"| {nod.cell} | {nod.rps / peer_w.rps:.2f} |"
            )
        lines += [
            "",
            "Mix of the six conflictdb URLs, 64 connections, "
            f"{args.mix_seconds} s (`wrk -t2 -c64 --latency -s mix.lua`):",
            "",
            "| cache | req/s | errors | p50 ms | p99 ms | p99 / p50 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for cache in (False, True):
            m = mixes[cache]
            lines.append(
                f"| {'on' if cache else 'off'} | {m.cell} | {m.errors} | {m.p50_ms:.1f} "
                f"| {m.p99_ms:.1f} | {m.p99_ms / m.p50_ms:.1f} |"
            )
        lines += [
            "",
            f"Cache on, the list URL repeated (8 connections, {args.seconds} s): "
            f"{repeat['repeat'].cell} req/s (p50 {repeat['repeat'].p50_ms:.1f} ms, "
            f"{repeat['repeat'].errors} errors); revalidated with If-None-Match (304s): "
            f"{repeat['revalidate'].cell} req/s (p50 {repeat['revalidate'].p50_ms:.1f} ms).",
            "",
        ]
        sections.append("\n".join(lines))

    peer_note = "Datasette 0.65.5 (`datasette serve -i`, its fast flags) on the peer's own file"
    head = [
        "# Peer benchmark: Datasette and conflictdb on the same ACLED rows",
        "",
        f"Command: `.venv/bin/python bench/peer_bench.py --rows {args.rows} "
        f"--seconds {args.seconds} --mix-seconds {args.mix_seconds} --db {args.db}`  ",
        f"Started {started:%Y-%m-%d %H:%M} UTC. Machine: {machine()}.  ",
        f"Data: ACLED's test file copied to {args.rows:,} rows (bench/acled_copies.py). "
        f"{peer_note}; conflictdb `serve --workers 2`, rate limits off. "
        "Load: `wrk -t2 -c8 -d<s>s --latency` per URL, the peer first; every figure of a "
        "table comes from this one run.",
        "",
        "Loading (s; 0 = reused from an earlier run): "
        + ", ".join(f"{k}: {v:.0f}" for k, v in loads.items()),
        "",
        "Cache off: every request runs its statements; the events of a page whose "
        "change_seq has not moved since a request wrote them are not written again (kept "
        "documents, app/core/doccache.py; exact, keyed by change_seq), which repeating one URL "
        "makes every event of its page after the first request. Cache and kept documents "
        "off: every request writes every event too (the engine's own speed). Cache on: "
        "wrk repeats one URL, so after the first request every answer is a hit (exact: keyed "
        "by the data version, see app/core/cache.py), which is what a dashboard polling "
        "that URL gets.",
        "",
    ]
    Path(args.out).write_text("\n".join(head + sections))
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
