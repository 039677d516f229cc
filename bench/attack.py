#!/usr/bin/env python3
"""Reproduces issue 10's attacks against the release server and prints figures.

Each attack starts its own server (fresh temporary database, --demo, loopback only),
measures the server's RSS and open descriptors before, during and after, and checks that
legitimate calls are still answered. Usage:

    bench/attack.py [ATTACK ...]      (default: all)
    ATTACKS: bodies headers pipeline fds argon2 lockout timing

Knobs (environment): BIN=target/release/allps-ws PORT=18490 SCALE=1.0 (multiplies the
connection counts; 0.2 for a quick run). Exit status 1 if an attack's bound is broken.
"""

import http.client
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "target/release/allps-ws"))
PORT = int(os.environ.get("PORT", "18490"))
SCALE = float(os.environ.get("SCALE", "1.0"))
HOST = "127.0.0.1"

AUTH = ("<soap:Header><AuthHeader xmlns=\"urn:allps:ws:v1\"><UserName>{user}</UserName>"
        "<Password>{password}</Password><ComputerName>PC</ComputerName><OrgCode>DEMO</OrgCode>"
        "<BranchCode>BR001</BranchCode></AuthHeader></soap:Header>")


def envelope(body, user="demo", password="demo-password"):
    return ("<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
            + AUTH.format(user=user, password=password) + "<soap:Body>" + body + "</soap:Body></soap:Envelope>")


GET_CLIENT = "<GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>C1</ClientNumber></GetClient>"


def n(count):
    return max(1, int(count * SCALE))


class Server:
    def __init__(self, *flags, nofile=None):
        self.dir = tempfile.mkdtemp(prefix="allps-attack.")
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        args = [BIN, "serve", "--listen", f"{HOST}:{PORT}", "--db", os.path.join(self.dir, "a.db"),
                "--demo", "--log-level", "warn", *flags]

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, preexec_fn=limit)
        for _ in range(300):
            try:
                socket.create_connection((HOST, PORT), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("server did not start; see " + self.log.name)

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def log_lines(self, needle):
        self.log.flush()
        with open(self.log.name) as f:
            return sum(needle in line for line in f)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def call(body, timeout=10.0, headers=None):
    """One SOAP POST on a new connection: (status, body text, seconds) or (None, error, s)."""
    started = time.monotonic()
    try:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
        conn.request("POST", "/allps", body=body.encode(),
                     headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
        return response.status, text, time.monotonic() - started
    except OSError as e:
        return None, str(e), time.monotonic() - started


def legit(count=3, timeout=10.0):
    """`count` GetClient calls; returns (answered with a SOAP response, worst seconds)."""
    answered, worst = 0, 0.0
    for _ in range(count):
        status, text, took = call(envelope(GET_CLIENT), timeout)
        worst = max(worst, took)
        if status == 200 and "<Code>" in text:
            answered += 1
    return answered, worst


def raw(data, timeout=2.0):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    if data:
        try:
            s.sendall(data)
        except OSError:
            pass
    return s


FAILURES = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def attack_bodies():
    count, size = n(900), 4 * 1024 * 1024
    print(f"bodies: {count} connections each sending a {size >> 20} MiB body but its last byte")
    srv = Server()
    try:
        base = srv.rss_mib()
        chunk = b" " * (size - 1)
        head = (f"POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                f"Content-Length: {size}\r\n\r\n").encode()
        socks, refused = [], 0
        started = time.monotonic()
        for _ in range(count):
            try:
                s = raw(head, timeout=0.5)
                try:
                    s.sendall(chunk)
                except OSError:
                    refused += 1  # answered 503 and closed, or the send buffer stayed full
                socks.append(s)
            except OSError:
                refused += 1
        peak = srv.rss_mib()
        answered, worst = legit(3)
        print(f"  sent in {time.monotonic() - started:.1f} s; RSS {base:.0f} -> {peak:.0f} MiB; "
              f"{refused} sends cut short; legit {answered}/3 (worst {worst * 1000:.0f} ms)")
        for s in socks:
            s.close()
        time.sleep(10)
        after = srv.rss_mib()
        print(f"  after closing: RSS {after:.0f} MiB, fds {srv.fds()}")
        check(peak < base + 600, f"peak RSS {peak:.0f} MiB stays bounded (< base + 600 MiB)")
        check(answered == 3, "legitimate calls answered during the attack")
        check(after < base + 200, f"memory returned after ({after:.0f} MiB)")
    finally:
        srv.stop()


def attack_headers():
    count = n(1000)
    print(f"headers: {count} connections each sending 362 KiB of unfinished headers; 150 headers; 300 KB header")
    srv = Server()
    try:
        base = srv.rss_mib()
        line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        head = b"POST /allps HTTP/1.1\r\nHost: x\r\n" + line * 362
        socks, cut = [], 0
        for _ in range(count):
            try:
                s = raw(None, timeout=0.5)
                try:
                    s.sendall(head)
                except OSError:
                    cut += 1
                socks.append(s)
            except OSError:
                cut += 1
        peak = srv.rss_mib()
        answered, _ = legit(3)
        print(f"  RSS {base:.0f} -> {peak:.0f} MiB; {cut} cut short; legit {answered}/3")
        for s in socks:
            s.close()
        many = {f"X-H{i}": "v" for i in range(150)}
        status150, _, _ = call(envelope(GET_CLIENT), headers=many)
        status300, _, _ = call(envelope(GET_CLIENT), headers={"X-Big": "a" * 300_000})
        print(f"  150 headers -> {status150}; one 300 KB header -> {status300}")
        check(peak < base + 150, f"peak RSS {peak:.0f} MiB bounded")
        check(answered == 3, "legitimate calls answered")
        check(status150 == 431 and status300 in (431, None), "oversized heads refused with 431")
    finally:
        srv.stop()


def attack_pipeline():
    count = n(200)
    print(f"pipeline: {count} connections pipelining GET ?wsdl and never reading (timeouts 5 s)")
    srv = Server("--write-timeout-secs", "5", "--header-timeout-secs", "5", "--body-timeout-secs", "5")
    try:
        base_fds = srv.fds()
        req = b"GET /allps?wsdl HTTP/1.1\r\nHost: x\r\n\r\n" * 200
        socks = []
        for _ in range(count):
            s = raw(None, timeout=0.2)
            for _ in range(20):
                try:
                    s.sendall(req)
                except OSError:
                    break
            socks.append(s)
        started = time.monotonic()
        while time.monotonic() - started < 30 and srv.fds() > base_fds + 2:
            time.sleep(0.5)
        took = time.monotonic() - started
        print(f"  server fds back to {srv.fds()} (base {base_fds}) {took:.1f} s after the last write; RSS {srv.rss_mib():.0f} MiB")
        check(took < 12, f"stalled connections closed within write timeout + slack ({took:.1f} s)")
        for s in socks:
            s.close()
    finally:
        srv.stop()


def attack_fds():
    count = n(260)
    print(f"fds: open-files limit 256, {count} stalled connections, then 3 legitimate calls")
    srv = Server(nofile=256)
    try:
        socks = []
        for _ in range(count):
            try:
                socks.append(raw(b"POST /allps HTTP/1.1\r\nHost: x\r\n", timeout=0.5))
            except OSError:
                pass
        time.sleep(1)
        answered, worst = legit(3, timeout=25)
        lines = srv.log_lines("accept failed")
        print(f"  legit {answered}/3 (worst {worst:.2f} s); 'accept failed' log lines: {lines}; server fds {srv.fds()}")
        check(answered == 3, "legitimate callers answered under a low descriptor limit")
        check(lines <= 5, "no log flood")
        for s in socks:
            s.close()
    finally:
        srv.stop()


def attack_argon2():
    clients = 64
    print(f"argon2: {clients} clients sending wrong credentials for 10 s; a session caller and a cached caller beside them")
    srv = Server("--lockout-threshold", "0")
    try:
        status, text, _ = call(envelope(GET_CLIENT))  # warms the credential cache
        login = ("<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
                 "<Login xmlns=\"urn:allps:ws:v1\"><UserName>demo</UserName><Password>demo-password</Password>"
                 "<ComputerName>PC</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></Login>"
                 "</soap:Body></soap:Envelope>")
        _, text, _ = call(login)
        session = text.split("<SessionId>")[1].split("<")[0]
        by_session = ("<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                      "<soap:Header><AuthHeader xmlns=\"urn:allps:ws:v1\"><SessionId>" + session +
                      "</SessionId></AuthHeader></soap:Header><soap:Body>" + GET_CLIENT + "</soap:Body></soap:Envelope>")
        stop = time.monotonic() + 10
        outcomes = {}
        wrong_times = []
        lock = threading.Lock()

        def hammer(i):
            while time.monotonic() < stop:
                status, text, took = call(envelope(GET_CLIENT, user=f"user{i}", password="wrong"))
                key = "UNAVAILABLE" if "UNAVAILABLE" in text else ("AUTH_FAILED" if "AUTH_FAILED" in text else str(status))
                with lock:
                    outcomes[key] = outcomes.get(key, 0) + 1
                    wrong_times.append(took)
        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        time.sleep(1)
        session_t, cached_t = [], []
        while time.monotonic() < stop - 0.5:
            session_t.append(call(by_session)[2])
            cached_t.append(call(envelope(GET_CLIENT))[2])
        for t in threads:
            t.join()
        p = lambda xs, q: sorted(xs)[min(len(xs) - 1, int(len(xs) * q))] * 1000
        print(f"  wrong-credential answers: {outcomes}; their p50 {p(wrong_times, .5):.0f} ms")
        print(f"  session caller p50 {p(session_t, .5):.1f} ms p99 {p(session_t, .99):.1f} ms; "
              f"cached caller p50 {p(cached_t, .5):.1f} ms p99 {p(cached_t, .99):.1f} ms")
        check(p(session_t, .99) < 200 and p(cached_t, .99) < 200, "session and cached callers do not wait behind argon2")
    finally:
        srv.stop()


def attack_lockout():
    burst = 300
    print(f"lockout: {burst} concurrent guesses (threshold 5), the right password among them")
    srv = Server("--argon2-queue", "1000")
    try:
        results = [None] * burst
        right = burst // 2
        barrier = threading.Barrier(burst)

        def guess(i):
            password = "demo-password" if i == right else f"guess-{i}"
            body = envelope(GET_CLIENT, password=password)
            barrier.wait()
            results[i] = call(body, timeout=60)
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(burst)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ok = sum(1 for r in results if r[0] == 200 and "<Code>" in r[1])
        failed = sum(1 for r in results if "AUTH_FAILED" in r[1])
        order = sorted(range(burst), key=lambda i: results[i][2])
        rank = order.index(right) + 1
        print(f"  answers: {ok} OK, {failed} AUTH_FAILED; the right password answered {rank} of {burst} "
              f"({'OK' if results[right][0] == 200 and '<Code>' in results[right][1] else 'AUTH_FAILED'})")
        status, text, _ = call(envelope(GET_CLIENT))
        print(f"  right password afterwards: {'AUTH_FAILED (locked)' if 'AUTH_FAILED' in text else status}")
        check(ok + failed == burst, "every guess answered OK or AUTH_FAILED")
        check(ok <= 1, "at most the right password succeeds")
    finally:
        srv.stop()


def attack_timing():
    rounds = 40
    print(f"timing: wrong password for a known user vs an unknown user, {rounds} each, alternating")
    srv = Server("--lockout-threshold", "0")
    try:
        known, unknown = [], []
        for _ in range(rounds):
            known.append(call(envelope(GET_CLIENT, password="wrong"))[2])
            unknown.append(call(envelope(GET_CLIENT, user="nobody", password="wrong"))[2])
        mk, mu = statistics.median(known) * 1000, statistics.median(unknown) * 1000
        print(f"  median known/wrong {mk:.2f} ms, unknown {mu:.2f} ms, difference {mk - mu:+.2f} ms")
        check(abs(mk - mu) < 1.0, "known-user wrong password and unknown user within 1 ms (median)")
    finally:
        srv.stop()


ATTACKS = {
    "bodies": attack_bodies,
    "headers": attack_headers,
    "pipeline": attack_pipeline,
    "fds": attack_fds,
    "argon2": attack_argon2,
    "lockout": attack_lockout,
    "timing": attack_timing,
}

if __name__ == "__main__":
    names = sys.argv[1:] or list(ATTACKS)
    for name in names:
        ATTACKS[name]()
    if FAILURES:
        print(f"{len(FAILURES)} bound(s) broken")
        sys.exit(1)
    print("all bounds held")
