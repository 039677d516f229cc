#!/usr/bin/env python3
"""The operator console in a real browser (headless Chromium through chromedriver,
spoken to with the W3C WebDriver protocol over the standard library; no Selenium).

The issue's scenario: the demo platform operator logs in, creates an organisation, a
branch and an integration user with the web-services right; a SOAP client logs in with
that user at once; the operator disables the user; the next SOAP call is refused; the
audit log lists the three changes. Then: a SOAP client's work (AddEmployer, AddClient)
appears in the branch's client list with the ID number masked; an organisation
administrator who edits the URL to another organisation gets "Not found"; a form posted
with another organisation's id, and a form posted without its CSRF token, are refused
(posted with the browser's own session cookie); /metrics answers on both listeners.
Screenshots of the main pages are saved and checked to be non-blank PNGs.

Run by tests/browser/run.sh, which starts the server and chromedriver.
"""

import argparse
import base64
import json
import os
import re
import sys
import urllib.error
import urllib.request
import zlib

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
OPERATOR, OPERATOR_PASSWORD = "operator", "operator-password"


class WebDriver:
    def __init__(self, url, chrome, profile):
        self.url = url.rstrip("/")
        args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            f"--user-data-dir={profile}",
        ]
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": chrome, "args": args},
                }
            }
        }
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"webdriver {method} {path}: {e.code} {e.read()[:500]!r}")

    def s(self, path):
        return f"/session/{self.session}{path}"

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def current(self):
        return self.call("GET", self.s("/url"))

    def source(self):
        return self.call("GET", self.s("/source"))

    def title(self):
        return self.call("GET", self.s("/title"))

    def find(self, css):
        return self.call("POST", self.s("/element"), {"using": "css selector", "value": css})[ELEMENT]

    def type(self, css, text):
        self.call("POST", self.s(f"/element/{self.find(css)}/value"), {"text": text})

    def click(self, css):
        self.call("POST", self.s(f"/element/{self.find(css)}/click"), {})

    def cookies(self):
        return self.call("GET", self.s("/cookie"))

    def clear_cookies(self):
        self.call("DELETE", self.s("/cookie"))

    def screenshot(self):
        return base64.b64decode(self.call("GET", self.s("/screenshot")))

    def quit(self):
        try:
            self.call("DELETE", self.s(""))
        except Exception:
            pass


def png_is_not_blank(data):
    """A PNG whose pixels are not (nearly) one colour: the decompressed scanlines hold
    many distinct byte values and no single value dominates."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(chunk[:4], "big"), int.from_bytes(chunk[4:8], "big")
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    counts = {}
    for b in raw[:: max(1, len(raw) // 200000)]:
        counts[b] = counts.get(b, 0) + 1
    top = max(counts.values()) / sum(counts.values())
    return width >= 800 and height >= 500 and len(counts) > 20 and top < 0.999, (
        width,
        height,
        len(counts),
        round(top, 3),
    )


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def soap(endpoint, body):
    return http("POST", endpoint, body.encode(), {"Content-Type": "text/xml; charset=utf-8"})


def login_envelope(org, branch, user, password):
    return f"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <Login xmlns="urn:allps:ws:v1"><UserName>{user}</UserName><Password>{password}</Password><ComputerName>PC-1</ComputerName><OrgCode>{org}</OrgCode><BranchCode>{branch}</BranchCode><TerminalType>NONE</TerminalType></Login>
  </soap:Body>
</soap:Envelope>"""


class Run:
    def __init__(self, args):
        self.args = args
        self.console = args.console.rstrip("/")
        self.failures = []
        self.checks = 0

    def check(self, ok, what):
        self.checks += 1
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            self.failures.append(what)

    def shot(self, d, name):
        png = d.screenshot()
        ok, stats = png_is_not_blank(png)
        self.check(ok, f"screenshot {name} is not blank {stats}")
        os.makedirs(self.args.screenshots, exist_ok=True)
        with open(os.path.join(self.args.screenshots, f"{name}.png"), "wb") as f:
            f.write(png)

    def submit(self, d, action, fields, selects=()):
        form = f'form[action="{action}"]'
        for name, value in fields:
            d.type(f'{form} input[name="{name}"]', value)
        for name, value in selects:
            d.click(f'{form} select[name="{name}"] option[value="{value}"]')
        d.click(f"{form} button[type=submit]")

    def login(self, d, who, password):
        d.go(self.console + "/login")
        self.submit(d, "/login", [("login", who), ("password", password)])

    def settle(self, d, condition, seconds=5.0):
        """The page source once `condition(source)` holds (a form's redirect may still be
        loading when the click returns), or the last source after `seconds`."""
        import time

        deadline = time.time() + seconds
        while True:
            src = d.source()
            if condition(src) or time.time() > deadline:
                return src
            time.sleep(0.1)

    def landed(self, d, suffix, seconds=5.0):
        """The current URL once it ends with `suffix`, or the last one after `seconds`."""
        import time

        deadline = time.time() + seconds
        while True:
            url = d.current()
            if url.endswith(suffix) or time.time() > deadline:
                return url
            time.sleep(0.1)

    def session_cookie(self, d):
        return "; ".join(f"{c['name']}={c['value']}" for c in d.cookies())

    def main(self):
        a = self.args
        d = WebDriver(a.driver, a.chrome, a.profile)
        try:
            self.scenario(d)
        finally:
            d.quit()
        print(f"{self.checks - len(self.failures)}/{self.checks} checks passed")
        return 1 if self.failures else 0

    def scenario(self, d):
        c, soap_url = self.console, self.args.soap
        d.go(c + "/")
        self.check(self.landed(d, "/login").endswith("/login"), "an anonymous visit lands on the login page")
        self.shot(d, "login")
        self.login(d, OPERATOR, OPERATOR_PASSWORD)
        landed = self.landed(d, "/orgs")
        self.check(landed.endswith("/orgs"), f"the platform operator lands on Organisations ({landed})")
        if not landed.endswith("/orgs"):
            print(d.source()[:3000])

        # 1. organisation, branch, integration user with the web-services right.
        self.submit(d, "/orgs", [("code", "ACME"), ("name", "Acme Micro Loans")])
        self.check(self.landed(d, "/org/ACME").endswith("/org/ACME"), "organisation ACME created")
        self.submit(d, "/org/ACME/branches", [("code", "HQ"), ("name", "Head office")])
        self.check(">HQ<" in self.settle(d, lambda s: ">HQ<" in s), "branch HQ created")
        self.shot(d, "organisation")
        d.go(c + "/org/ACME/users")
        self.submit(
            d,
            "/org/ACME/users",
            [("user", "clerk"), ("password", "clerk-password-1")],
            selects=[("branch", "HQ"), ("right", "WEB_SERVICES")],
        )
        src = self.settle(d, lambda s: ">clerk<" in s and "WEB_SERVICES" in s)
        self.check(">clerk<" in src and "WEB_SERVICES" in src, "user clerk created with WEB_SERVICES")
        self.shot(d, "users")

        # 2. a SOAP client logs in with it at once.
        status, body = soap(soap_url, login_envelope("ACME", "HQ", "clerk", "clerk-password-1"))
        self.check(status == 200 and "<SessionId>" in body, f"SOAP Login as ACME/clerk succeeds ({status})")

        # 3. the operator disables it; the next SOAP call is refused.
        d.go(c + "/org/ACME/user/clerk")
        self.shot(d, "user")
        d.click('form[action="/org/ACME/user/clerk/disable"] button')
        self.check(
            "Enable user" in self.settle(d, lambda s: "Enable user" in s), "user clerk disabled in the console"
        )
        status, body = soap(soap_url, login_envelope("ACME", "HQ", "clerk", "clerk-password-1"))
        self.check(status != 200 and "USER_DISABLED" in body, f"the next SOAP call is refused ({status})")

        # 4. the audit log lists the changes.
        d.go(c + "/audit")
        src = d.source()
        for action in ["org.add", "branch.add", "user.add", "user.disable"]:
            self.check(f"<td>{action}</td>" in src, f"the audit log lists {action}")
        self.shot(d, "audit")

        # A SOAP client's work appears in the branch's pages (ID number masked).
        for name in ["add_employer", "add_client"]:
            with open(os.path.join("examples/requests", f"{name}.xml")) as f:
                status, body = soap(soap_url, f.read())
            self.check(status == 200 and "<Code>0</Code>" in body, f"SOAP {name} answered OK ({status})")
        d.go(c + "/org/DEMO/branch/BR001/clients")
        src = d.source()
        client = re.search(r'/client/([^"]+)"', src)
        self.check(client is not None, "the client added over SOAP is listed")
        id_number = re.search(r"<IdNumber>(\d+)</IdNumber>", open("examples/requests/add_client.xml").read())
        if id_number:
            self.check(id_number.group(1) not in src, "the ID number is masked")
        self.shot(d, "clients")
        if client:
            d.go(c + f"/org/DEMO/branch/BR001/client/{client.group(1)}")
            self.shot(d, "client")
        d.go(c + "/jobs")
        self.shot(d, "jobs")

        # An administrator of ACME: cannot reach DEMO by editing the URL or a form field.
        d.go(c + "/org/ACME/operators")
        self.submit(d, "/org/ACME/operators", [("login", "acme-admin"), ("password", "acme-admin-pass-1")])
        self.check(
            ">acme-admin<" in self.settle(d, lambda s: ">acme-admin<" in s), "administrator acme-admin created"
        )
        d.clear_cookies()
        self.login(d, "acme-admin", "acme-admin-pass-1")
        self.check(
            self.landed(d, "/org/ACME").endswith("/org/ACME"), "the administrator lands on its organisation"
        )
        for path in ["/org/DEMO", "/org/DEMO/users", "/org/DEMO/branch/BR001/clients", "/orgs", "/jobs"]:
            d.go(c + path)
            src = d.source()
            self.check(
                d.title().startswith("Not found") and "Demo Micro Lender" not in src,
                f"acme-admin editing the URL to {path} gets Not found",
            )
        self.shot(d, "not-found")
        d.go(c + "/org/ACME/users")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', d.source()).group(1)
        cookie = self.session_cookie(d)
        form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        status, _ = http("POST", c + "/org/DEMO/user/demo/disable", f"csrf={token}".encode(), form)
        self.check(status == 404, f"a form posted to another organisation's user is refused ({status})")
        status, _ = http(
            "POST", c + "/operators", f"csrf={token}&login=x&password=long-enough-pw-1&org=DEMO".encode(), form
        )
        self.check(status == 404, f"a form field naming another organisation is refused ({status})")
        status, _ = http("POST", c + "/org/ACME/branches", b"code=NOCSRF&name=x", form)
        self.check(status == 403, f"a form posted without its CSRF token is refused ({status})")
        d.go(c + "/org/ACME")
        self.check(">NOCSRF<" not in d.source(), "nothing was created by the refused form")
        status, body = soap(soap_url, login_envelope("DEMO", "BR001", "demo", "demo-password"))
        self.check("<SessionId>" in body, "DEMO's user still works (the forged disable did nothing)")

        # /metrics on both listeners.
        for url in [soap_url.rsplit("/", 1)[0] + "/metrics", c + "/metrics"]:
            status, body = http("GET", url)
            self.check(
                status == 200 and 'allps_requests_total{operation="Login",kind="result",code="OK"}' in body,
                f"{url} serves the Prometheus text",
            )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--soap", required=True)
    p.add_argument("--console", required=True)
    p.add_argument("--driver", required=True)
    p.add_argument("--chrome", required=True)
    p.add_argument("--profile", required=True)
    p.add_argument("--screenshots", default="docs/console")
    return Run(p.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
