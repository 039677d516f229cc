#!/usr/bin/env python3
"""Three allps-ws nodes on one PostgreSQL database (issue 12), real HTTP clients:

1. identical requests sent to all three nodes at once (PayToClientAccount with one
   PaymentReference, AddClient with one ClientNumber): one record, the same answer
   from every node;
2. processors on every node (wallet jobs): every job run exactly once, one reply each;
3. a GetReplies reader polling one node while processors on all nodes commit replies:
   every reply exactly once, strictly increasing (RUNS runs, default 20);
4. kill -9 of one node under writes: every acknowledged write is stored, and retrying
   every attempted request on another node answers OK with one record per request.

Needs ALLPS_TEST_DATABASE_URL (a PostgreSQL server: tests/pg/cluster.sh), psql, and the
binary (ALLPS_BIN, default target/debug/allps-ws). Creates and drops its own database.
Prints one line per check; exits non-zero on the first failure.
"""
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ALLPS_BIN", os.path.join(ROOT, "target/debug/allps-ws"))
BASE = os.environ["ALLPS_TEST_DATABASE_URL"]
RUNS = int(os.environ.get("RUNS", "20"))
PORT0 = int(os.environ.get("MULTINODE_PORT", "18610"))
DBNAME = f"multinode_{os.getpid()}"
URL = BASE.rsplit("/", 1)[0] + "/" + DBNAME
AUTH = ('<soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>demo</UserName>'
        '<Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName>'
        '<OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header>')


def envelope(body):
    return ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
            f'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">{AUTH}<soap:Body>{body}'
            '</soap:Body></soap:Envelope>').encode()


def add_client(number, cell):
    """AddClient; cellphones must not end in the simulator's 0000 (wallet fails) or 1111 (retries)."""
    return envelope(
        f'<AddClient xmlns="urn:allps:ws:v1"><ClientNumber>{number}</ClientNumber>'
        '<EmployerCode>EMP001</EmployerCode><FirstName>Node</FirstName><Surname>Tester</Surname>'
        f'<IdType>PASSPORT</IdType><IdNumber>P{number}</IdNumber><DateOfBirth>1985-03-14</DateOfBirth>'
        f'<Gender>M</Gender><CellphoneNumber>{cell}</CellphoneNumber></AddClient>')


def pay(reference):
    return envelope(
        '<PayToClientAccount xmlns="urn:allps:ws:v1"><ClientNumber>C1001</ClientNumber>'
        f'<PaymentReference>{reference}</PaymentReference><Payment><AccountId>1</AccountId>'
        '<Amount>100.00</Amount></Payment></PayToClientAccount>')


def create_wallet(number):
    return envelope(f'<CreateWallet xmlns="urn:allps:ws:v1"><ClientNumber>{number}</ClientNumber></CreateWallet>')


def get_replies(since):
    return envelope(f'<GetReplies xmlns="urn:allps:ws:v1"><SinceSequence>{since}</SinceSequence>'
                    '<MaxCount>1000</MaxCount></GetReplies>')


def post(port, body, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/allps", body, {"Content-Type": "text/xml; charset=utf-8"})
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def ok(answer):
    return answer[0] == 200 and "<Code>0</Code>" in answer[1]


def psql(sql, url=None):
    out = subprocess.run(["psql", url or URL, "-Atqc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def check(condition, what):
    if not condition:
        print(f"FAIL {what}", flush=True)
        raise SystemExit(1)
    print(f"ok   {what}", flush=True)


class Node:
    def __init__(self, index, logdir):
        self.port = PORT0 + index
        self.log = open(os.path.join(logdir, f"node{index}.log"), "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--db", URL, "--log-level", "warn",
             "--wallet-delay-minutes", "0", "--processor-poll-seconds", "1"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"node {index} did not become healthy")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def at_once(requests):
    """Sends (port, body) pairs at the same moment; the answers in order."""
    barrier = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def send(i, port, body):
        barrier.wait()
        answers[i] = post(port, body)

    threads = [threading.Thread(target=send, args=(i, p, b)) for i, (p, b) in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def wait_for(sql, expected, seconds=90):
    deadline = time.time() + seconds
    value = None
    while time.time() < deadline:
        value = psql(sql)
        if value == str(expected):
            return True
        time.sleep(0.3)
    print(f"     waited {seconds} s for {sql!r} = {expected}, last {value}")
    return False


def main():
    psql(f"CREATE DATABASE {DBNAME}", BASE)
    logdir = tempfile.mkdtemp(prefix="allps-multinode.")
    nodes = []
    try:
        subprocess.run([BIN, "admin", "--db", URL, "seed-fixtures"], check=True, capture_output=True)
        # The fixture clients' payout accounts (account 1 of C1001), ids moved past them.
        with open(os.path.join(ROOT, "fixtures/seeds/payout_accounts.sql")) as f:
            psql(f.read())
        for table in ("client_accounts", "wallets"):
            psql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}) + 1, false)")
        # Their organisation and per-organisation numbers, as `admin seed-fixtures` gives them.
        with open(os.path.join(ROOT, "src/store/schema/counters_sync.sql")) as f:
            psql(f.read())
        nodes = [Node(i, logdir) for i in range(3)]
        ports = [n.port for n in nodes]

        # 1. Identical requests to all three nodes at once.
        same, ok_all = 0, True
        for k in range(30):
            answers = at_once([(p, pay(f"MN-PAY-{k}")) for p in ports])
            if not all(ok(a) for a in answers) and ok_all:
                print("     " + " | ".join(a[1][-700:].replace("\n", " ") for a in answers if not ok(a)))
            ok_all &= all(ok(a) for a in answers)
            same += len({a[1] for a in answers}) == 1
        check(ok_all and same == 30, "30 PaymentReferences, each sent to 3 nodes at once: OK and one answer each")
        check(psql("SELECT count(*) FROM credit_payments WHERE payment_reference LIKE 'MN-PAY-%'") == "30",
              "one credit payment per PaymentReference")
        same, ok_all = 0, True
        for k in range(30):
            answers = at_once([(p, add_client(f"MN{k:04d}", f"083{k:05d}57")) for p in ports])
            if (not all(ok(a) for a in answers) or len({a[1] for a in answers}) > 1) and ok_all and same == k:
                print("     " + " | ".join(a[1][-500:].replace("\n", " ") for a in answers))
            ok_all &= all(ok(a) for a in answers)
            same += len({a[1] for a in answers}) == 1
        check(ok_all and same == 30, "30 ClientNumbers, each sent to 3 nodes at once: OK and one answer each")
        check(psql("SELECT count(*) FROM clients WHERE client_number LIKE 'MN%'") == "30",
              "one client per ClientNumber")

        # 2. Processors on every node: wallet jobs run exactly once.
        for k in range(30):
            check_ok = ok(post(ports[k % 3], create_wallet(f"MN{k:04d}")))
            if not check_ok:
                check(False, f"CreateWallet MN{k:04d}")
        done = wait_for("SELECT count(*) FROM wallets w JOIN clients c ON c.id = w.client_id "
                        "WHERE c.client_number LIKE 'MN%' AND w.status = 'ACTIVE'", 30)
        check(done, "30 wallets created by the processors of three nodes")
        twice = psql("SELECT id, kind, subject_id, status, attempts, lease_owner, last_error FROM jobs WHERE attempts > 1")
        if twice:
            print("     " + twice.replace("\n", "\n     "))
        check(not twice, "no job claimed twice (no job with attempts > 1)")
        check(psql("SELECT count(*) FROM (SELECT wallet_number FROM replies WHERE reply_type = 'WALLET_CREATED' "
                   "GROUP BY wallet_number HAVING count(*) > 1) d") == "0", "one WALLET_CREATED reply per wallet")

        # 3. A replies reader during concurrent writes on all nodes, RUNS runs.
        serial = 100
        for run in range(RUNS):
            since = int(psql("SELECT coalesce(max(sequence), 0) FROM replies WHERE branch_id = 1"))
            numbers = []
            for i in range(6):
                numbers.append((f"MR{serial:05d}", f"084{serial:05d}57"))
                serial += 1
            for i, (n, cell) in enumerate(numbers):
                if not ok(post(ports[i % 3], add_client(n, cell))):
                    check(False, f"AddClient {n}")
            numbers = [n for n, _ in numbers]
            seen = []
            stop = threading.Event()

            def reader(port):
                cursor = since
                while True:
                    last = stop.is_set()
                    status, text = post(port, get_replies(cursor))
                    if status != 200:
                        seen.append(("error", status))
                        return
                    for s in re.findall(r"<Sequence>(\d+)</Sequence>", text):
                        seen.append(int(s))
                    cursor = int(re.search(r"<NextSequence>(\d+)</NextSequence>", text).group(1))
                    if last:
                        return
                    time.sleep(0.01)

            t = threading.Thread(target=reader, args=(ports[run % 3],))
            t.start()
            writers = [threading.Thread(target=lambda i=i, n=n: post(ports[i % 3], create_wallet(n)))
                       for i, n in enumerate(numbers)]
            for w in writers:
                w.start()
            for w in writers:
                w.join()
            in_list = ", ".join(f"'{n}'" for n in numbers)
            wait_for(f"SELECT count(*) FROM replies r JOIN clients c ON c.id = r.client_id "
                     f"WHERE r.reply_type = 'WALLET_CREATED' AND c.client_number IN ({in_list})", 6)
            stop.set()
            t.join()
            stored = [int(x) for x in psql(
                f"SELECT sequence FROM replies WHERE branch_id = 1 AND sequence > {since} ORDER BY sequence").split()]
            if seen != stored:
                check(False, f"run {run + 1}: reader saw {seen}, store holds {stored}")
        check(True, f"{RUNS} runs: the reader saw every reply exactly once, in order, while 3 nodes wrote")

        # 4. kill -9 of one node under writes.
        attempted, acked = [], {}
        victim = nodes[2]

        def writer():
            for k in range(100000):
                number = f"MK{k:05d}"
                body = add_client(number, f"085{k:07d}")
                attempted.append((number, body))
                try:
                    answer = post(victim.port, body, timeout=10)
                except OSError:
                    return
                if ok(answer):
                    acked[number] = answer[1]

        w = threading.Thread(target=writer)
        w.start()
        while len(acked) < 40:
            time.sleep(0.01)
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        w.join()
        stored = set(psql("SELECT client_number FROM clients WHERE client_number LIKE 'MK%'").split())
        check(set(acked) <= stored, f"kill -9 after {len(acked)} acknowledged AddClients: all of them stored "
                                    f"({len(attempted)} attempted, {len(stored)} stored)")
        same = True
        for number, body in attempted:
            answer = post(nodes[0].port, body)
            if not ok(answer):
                check(False, f"retry of {number} on another node: {answer[1][:300]}")
            if number in acked and answer[1] != acked[number]:
                same = False
        check(same, "every retry on another node answers OK, acknowledged ones with the same answer")
        check(psql("SELECT count(*) FROM clients WHERE client_number LIKE 'MK%'") == str(len(attempted)),
              "one client per attempted request after the retries")
    finally:
        for n in nodes:
            n.stop()
        try:
            psql(f"DROP DATABASE IF EXISTS {DBNAME} WITH (FORCE)", BASE)
        except subprocess.CalledProcessError:
            pass
    print("multinode: all checks passed")


if __name__ == "__main__":
    random.seed(12)
    main()
