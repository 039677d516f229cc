#!/usr/bin/env python3
"""Soak: mixed real traffic beside hostile clients, against one release server.

Legitimate clients loop over reads (GetClient, GetPromissory via PrintPromissory's note,
GetReplies polling), writes (AddClient, CreatePromissory), prints (PrintPromissory) and
payments (PayToClientAccount), each with fresh identifiers, and count every answer that is
not HTTP 200 with Result Code 0 as an error. Hostile clients meanwhile send bodies they
never finish, unfinished headers, pipelined requests they never read, wrong passwords for
unknown users, NUL characters and garbage. Every SAMPLE seconds the server's RSS and open
descriptors are recorded.

Fails (exit 1) if a legitimate call errors, RSS keeps growing (the last third's mean above
the middle third's by more than 15% and 40 MiB), or descriptors leak (more open 10 s after
the hostile clients stop than before they started, plus 16).

Usage: bench/soak.py SECONDS   (bench/soak.sh sets up the server and calls this)
Environment: PORT, SERVER_PID, LEGIT=8 (legitimate threads), SAMPLE=5.
"""

import http.client
import os
import socket
import sys
import threading
import time

PORT = int(os.environ["PORT"])
PID = int(os.environ["SERVER_PID"])
LEGIT = int(os.environ.get("LEGIT", "8"))
SAMPLE = float(os.environ.get("SAMPLE", "5"))
HOST = "127.0.0.1"
NS = "urn:allps:ws:v1"
AUTH = ("<soap:Header><AuthHeader xmlns=\"urn:allps:ws:v1\"><UserName>{user}</UserName><Password>{password}</Password>"
        "<ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header>")


def envelope(body, user="demo", password="demo-password"):
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
            + AUTH.format(user=user, password=password) + "<soap:Body>" + body + "</soap:Body></soap:Envelope>")


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fds():
    return len(os.listdir(f"/proc/{PID}/fd"))


class Legit:
    def __init__(self, index):
        self.index = index
        self.conn = None
        self.latencies = []
        self.errors = []
        self.n = 0

    def post(self, op, body):
        payload = envelope(body).encode()
        started = time.monotonic()
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
                self.conn.request("POST", "/allps", body=payload, headers={
                    "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f"\"{NS}/{op}\""})
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (OSError, http.client.HTTPException) as e:
                self.conn = None
                if attempt == 1:  # a keep-alive connection closed under us is retried once
                    self.errors.append(f"{op}: {e}")
                    return None
        self.latencies.append(time.monotonic() - started)
        if response.status != 200 or "<Code>0</Code>" not in text:
            self.errors.append(f"{op}: HTTP {response.status} {text[:300]}")
            return None
        return text

    def run(self, stop):
        i = self.index
        while time.monotonic() < stop:
            self.n += 1
            k = f"{i:02d}X{self.n:06d}"
            self.post("GetClient", f"<GetClient xmlns=\"{NS}\"><ClientNumber>C1001</ClientNumber></GetClient>")
            self.post("GetReplies", f"<GetReplies xmlns=\"{NS}\"><SinceSequence>0</SinceSequence><MaxCount>50</MaxCount></GetReplies>")
            client = f"S{k}"[:20]
            self.post("AddClient", f"<AddClient xmlns=\"{NS}\"><ClientNumber>{client}</ClientNumber><EmployerCode>EMP001</EmployerCode>"
                      f"<FirstName>Soak</FirstName><Surname>Tester</Surname><IdType>PASSPORT</IdType><IdNumber>P{k}</IdNumber>"
                      "<DateOfBirth>1985-03-14</DateOfBirth><Gender>F</Gender><CellphoneNumber>0821234567</CellphoneNumber></AddClient>")
            text = self.post("CreatePromissory", f"<CreatePromissory xmlns=\"{NS}\"><ClientNumber>C1001</ClientNumber>"
                             f"<ContractReference>R{k}</ContractReference><PaymentStream>NAEDO</PaymentStream>"
                             "<BankBranchCode>470010</BankBranchCode><AccountNumber>1376543212</AccountNumber><AccountType>SAVINGS</AccountType>"
                             "<InstalmentAmount>850.00</InstalmentAmount><NumberOfInstalments>6</NumberOfInstalments><Frequency>MONTHLY</Frequency>"
                             "<FirstActionDate>2026-11-26</FirstActionDate><TrackingDays>32</TrackingDays></CreatePromissory>")
            if text and "<PromissoryNumber>" in text:
                note = text.split("<PromissoryNumber>")[1].split("<")[0]
                self.post("GetPromissory", f"<GetPromissory xmlns=\"{NS}\"><PromissoryNumber>{note}</PromissoryNumber></GetPromissory>")
                if self.n % 5 == 0:
                    self.post("PrintPromissory", f"<PrintPromissory xmlns=\"{NS}\"><PromissoryNumber>{note}</PromissoryNumber></PrintPromissory>")
            self.post("PayToClientAccount", f"<PayToClientAccount xmlns=\"{NS}\"><ClientNumber>C1001</ClientNumber>"
                      f"<PaymentReference>PAY-{k}</PaymentReference><Payment><AccountId>1</AccountId><Amount>100.00</Amount></Payment></PayToClientAccount>")


def hostile(kind, stop, counts):
    junk_head = b"POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
    while time.monotonic() < stop:
        try:
            s = socket.create_connection((HOST, PORT), timeout=2)
            s.settimeout(2)
            if kind == "body":  # 4 MiB declared, 1 MiB sent, then held
                s.sendall(junk_head + b"Content-Length: 4194304\r\n\r\n" + b" " * (1 << 20))
                time.sleep(3)
            elif kind == "headers":  # unfinished headers, trickled
                s.sendall(junk_head)
                for _ in range(30):
                    s.sendall(b"X-Slow: " + b"a" * 4000 + b"\r\n")
                    time.sleep(0.1)
            elif kind == "pipeline":  # requests pipelined, answers never read
                for _ in range(20):
                    s.sendall(b"GET /allps?wsdl HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
            elif kind == "password":  # wrong credentials for users that do not exist
                body = envelope(f"<GetClient xmlns=\"{NS}\"><ClientNumber>C1001</ClientNumber></GetClient>",
                                user="intruder", password="guess").encode()
                s.sendall(junk_head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                s.recv(65536)
            elif kind == "nul":  # a NUL in a value, and garbage
                body = envelope(f"<GetClient xmlns=\"{NS}\"><ClientNumber>C1001\x00</ClientNumber></GetClient>").encode()
                s.sendall(junk_head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                s.recv(65536)
                g = socket.create_connection((HOST, PORT), timeout=2)
                g.sendall(os.urandom(2048))
                g.close()
            counts[kind] = counts.get(kind, 0) + 1
        except OSError:
            counts[kind + "_cut"] = counts.get(kind + "_cut", 0) + 1
            time.sleep(0.05)
        finally:
            try:
                s.close()
            except Exception:
                pass


def main():
    seconds = float(sys.argv[1])
    start_fds, start_rss = fds(), rss_mib()
    stop = time.monotonic() + seconds
    legit = [Legit(i) for i in range(LEGIT)]
    threads = [threading.Thread(target=c.run, args=(stop,)) for c in legit]
    counts = {}
    for kind, n in (("body", 6), ("headers", 6), ("pipeline", 4), ("password", 8), ("nul", 2)):
        threads += [threading.Thread(target=hostile, args=(kind, stop, counts)) for _ in range(n)]
    for t in threads:
        t.start()
    samples = []
    t0 = time.monotonic()
    while time.monotonic() < stop:
        time.sleep(SAMPLE)
        samples.append((time.monotonic() - t0, rss_mib(), fds()))
        print(f"  t={samples[-1][0]:6.0f}s rss={samples[-1][1]:7.1f} MiB fds={samples[-1][2]}", flush=True)
    for t in threads:
        t.join()
    time.sleep(10)
    end_fds, end_rss = fds(), rss_mib()
    lat = sorted(x for c in legit for x in c.latencies)
    errors = [e for c in legit for e in c.errors]
    calls = len(lat) + sum(1 for c in legit for e in c.errors if "HTTP" not in e)
    p = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] * 1000 if lat else float("nan")
    third = max(1, len(samples) // 3)
    mid = sum(s[1] for s in samples[third:2 * third]) / max(1, len(samples[third:2 * third]))
    last = sum(s[1] for s in samples[-third:]) / third
    print(f"legitimate calls: {calls} in {seconds:.0f} s ({calls / seconds:.0f}/s), errors: {len(errors)}")
    print(f"latency p50 {p(.5):.1f} ms, p99 {p(.99):.1f} ms, max {p(1):.1f} ms")
    print(f"hostile connections: {dict(sorted(counts.items()))}")
    print(f"RSS start {start_rss:.0f} MiB, middle third mean {mid:.0f}, last third mean {last:.0f}, after {end_rss:.0f} MiB")
    print(f"fds start {start_fds}, peak {max(s[2] for s in samples)}, 10 s after the end {end_fds}")
    failed = False
    if errors:
        failed = True
        by_op = {}
        for e in errors:
            by_op[e.split(":")[0]] = by_op.get(e.split(":")[0], 0) + 1
        print(f"FAIL: legitimate calls errored: {by_op}, e.g.:")
        for e in errors[:3]:
            print("   ", e[:400].replace("\n", " "))
    if len(samples) >= 6 and last > mid * 1.15 and last - mid > 40:
        failed = True
        print("FAIL: RSS keeps growing")
    if end_fds > start_fds + 16:
        failed = True
        print("FAIL: descriptors leak")
    print("soak: FAILED" if failed else "soak: passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
