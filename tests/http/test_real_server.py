"""Against a real `conflictdb serve`: an unauthenticated or too large 200 MB body is refused early
without the server's memory growing, long URLs and large or endless heads get 414/431 (not a
reset), keys never reach the log, and an untrusted Host never reaches next_url or Link."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from tests.writes.server import LiveServer, http_client

MB = 1024 * 1024
BODY = 200 * MB
RSS_BOUND_KB = 20 * 1024


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


class RssSampler:
    """The highest VmRSS of a process seen while the block runs (every 10 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_kb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kb(self.pid))


def raw_request(port: int, head: bytes, timeout: float = 30.0) -> bytes:
    """Send a request head, return what the server answered (raises on a reset)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        answer = bytearray()
        while chunk := sock.recv(65536):
            answer.extend(chunk)
        return bytes(answer)


def stream_post(
    port: int, path: str, headers: dict[str, str], total: int = BODY, chunk: int = MB
) -> tuple[int, int, float]:
    """POST `total` bytes chunked, 1 MiB a chunk, while reading the answer on another thread.
    Returns (status, bytes sent, seconds until the answer)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Transfer-Encoding: chunked"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    piece = f"{chunk:x}\r\n".encode() + b"a" * chunk + b"\r\n"
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return send_until_answered(port, head, piece, total // chunk, b"0\r\n\r\n")


def send_until_answered(
    port: int, first: bytes, piece: bytes, pieces: int, last: bytes
) -> tuple[int, int, float]:
    """Send `first`, then `piece` up to `pieces` times and `last`, until the server answers
    (read on another thread). Returns (status, bytes of `piece` sent, seconds until the answer)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(first)
    answer = bytearray()
    answered = threading.Event()
    started = time.monotonic()
    elapsed = [0.0]

    def read() -> None:
        try:
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer.extend(data)
        except OSError:
            pass
        elapsed[0] = time.monotonic() - started
        answered.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    try:
        while sent < pieces * len(piece) and not answered.is_set():
            sock.sendall(piece)
            sent += len(piece)
        if sent >= pieces * len(piece):
            sock.sendall(last)
    except OSError:
        pass  # the server answered and closed the connection: what we want
    reader.join(60)
    sock.close()
    assert answer, "no answer from the server"
    status = int(answer.split(b" ", 2)[1])
    return status, sent, elapsed[0]


def _warm_up(server: LiveServer) -> None:
    """Exercise the same paths once, so that lazy imports do not count as growth."""
    with http_client(server.base_url, timeout=30) as client:
        for _ in range(3):
            client.post("/v1/events", content=b"{}", headers={"Content-Type": "application/json"})
            client.post(
                "/v1/events",
                content=b"a" * (2 * MB),
                headers={**server.write_headers, "Content-Type": "application/json"},
            )
    stream_post(server.process.port, "/v1/events", {}, total=4 * MB)
    stream_post(server.process.port, "/v1/events", server.write_headers, total=4 * MB)


def test_unauthenticated_200_mb_post_is_refused_early(server: LiveServer) -> None:
    pid = server.process.pid
    assert pid is not None
    _warm_up(server)
    before = rss_kb(pid)
    with RssSampler(pid) as rss:
        status, sent, seconds = stream_post(
            server.process.port, "/v1/events", {"Content-Type": "application/json"}
        )
    print(
        f"unauthenticated: {status} after {sent / MB:.0f} MiB sent, {seconds:.2f}s; "
        f"RSS {before} -> peak {rss.peak} kB (+{rss.peak - before} kB)"
    )
    assert status == 401
    assert seconds < 5
    assert rss.peak - before < RSS_BOUND_KB
    # A declared 200 MB (Content-Length) is the same 401 before a byte is read.
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {BODY}\r\n"
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    assert raw_request(server.process.port, head).startswith(b"HTTP/1.1 401")


def test_authenticated_200_mb_json_body_is_413(server: LiveServer) -> None:
    pid = server.process.pid
    assert pid is not None
    _warm_up(server)
    before = rss_kb(pid)
    with RssSampler(pid) as rss:
        status, sent, seconds = stream_post(
            server.process.port,
            "/v1/events",
            {**server.write_headers, "Content-Type": "application/json"},
        )
    print(
        f"authenticated: {status} after {sent / MB:.0f} MiB sent, {seconds:.2f}s; "
        f"RSS {before} -> peak {rss.peak} kB (+{rss.peak - before} kB)"
    )
    assert status == 413
    assert seconds < 10
    assert rss.peak - before < RSS_BOUND_KB
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {BODY}\r\n"
        f"Authorization: {server.write_headers['Authorization']}\r\n"
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    answer = raw_request(server.process.port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"payload_too_large" in answer
    with http_client(server.base_url) as client:
        assert client.get("/healthz").status_code == 200


def test_long_url_is_414_and_large_headers_431(server: LiveServer) -> None:
    port = server.process.port
    url = b"/v1/events?q=" + b"a" * 300_000
    answer = raw_request(port, b"GET " + url + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414"), answer[:200]
    assert b"application/problem+json" in answer and b"uri_too_long" in answer
    big = b"X-Big: " + b"a" * 1_000_000
    answer = raw_request(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"headers_too_large" in answer
    with http_client(server.base_url) as client:
        assert client.get("/healthz").status_code == 200


def test_endless_request_head_is_431_at_the_bound(server: LiveServer) -> None:
    """A head that never ends is refused once past max_request_head_bytes (4 MiB), in
    problem+json, and held in bounded memory (the HTTP parser keeps a head whole otherwise)."""
    pid = server.process.pid
    assert pid is not None
    _warm_up(server)
    before = rss_kb(pid)
    first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    with RssSampler(pid) as rss:
        status, sent, seconds = send_until_answered(
            server.process.port, first, b"a" * MB, 64, b"\r\n\r\n"
        )
    grown = rss.peak - before
    print(f"endless head: {status} after {sent / MB:.0f} MiB, {seconds:.2f}s, +{grown} kB")
    assert status == 431
    assert sent < 64 * MB
    assert grown < RSS_BOUND_KB
    answer = raw_request(
        server.process.port, first + b"a" * (5 * MB) + b"\r\n\r\n"
    )  # sent whole: the refusal names the limit
    assert b"application/problem+json" in answer and b"headers_too_large" in answer
    with http_client(server.base_url) as client:
        assert client.get("/healthz").status_code == 200


def test_keys_and_emails_are_not_logged(server: LiveServer) -> None:
    offset = server.process.log_size()
    with http_client(server.base_url) as client:
        ok = client.get(
            "/acled/acled/read",
            params={"key": server.read_key, "email": "someone@example.org", "limit": 1},
        )
        assert ok.status_code == 200
        client.get("/acled/acled/read", params={"key": "cdb_not_a_real_key", "limit": 1})
        client.get("/v1/events", params={"access_token": "secret-token-value", "limit": 1})
    time.sleep(0.5)
    log = server.process.log_text(offset)
    assert "/acled/acled/read?key=REDACTED" in log
    for secret in (
        server.read_key,
        "someone@example.org",
        "cdb_not_a_real_key",
        "secret-token-value",
    ):
        assert secret not in log


def test_untrusted_host_never_reaches_links(seeded_server: LiveServer) -> None:
    with http_client(seeded_server.base_url) as client:
        for path in ("/v1/events?limit=1", "/v1/changes?limit=1", "/v1/actors?limit=1"):
            response = client.get(path, headers={"Host": "evil.example"})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["next_url"], path
            assert "evil.example" not in body["next_url"]
            assert "evil.example" not in response.headers.get("Link", "")
        trusted = client.get("/v1/actors?limit=1", headers={"Host": "localhost:1234"})
        assert trusted.json()["next_url"].startswith("http://localhost:1234/v1/actors?")
