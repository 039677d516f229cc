#!/usr/bin/env python3
"""Helpers for tests/wsdl/check.sh (Python 3 standard library only).

  wsdl_tool.py extract WSDL OUT.xsd   write the embedded xs:schema as a standalone schema,
                                      re-declaring every namespace in scope at <xs:schema>
  wsdl_tool.py structure WSDL         check the conventions the server and the generated
                                      clients rely on (operation list, messages, bindings,
                                      headers, faults, soapActions, Result first, lists, ...)
  wsdl_tool.py shape WSDL             print every element sequence and simple type, one line each
                                      (tests/wsdl/allps-shape.txt holds the agreed listing)
  wsdl_tool.py expect FILE            print the text after "expect:" in FILE's first comment
"""
import re
import sys
import xml.etree.ElementTree as ET

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS = "http://www.w3.org/2001/XMLSchema"
TNS = "urn:allps:ws:v1"
ADDRESS = "http://localhost:8080/allps"

OPERATIONS = [
    "Login", "AddEmployer", "AddClient", "GetClient", "AddClientAccount", "CreatePromissory",
    "CreateDebiCheckPromissory", "GetPromissory", "CancelPromissory", "EditInstalment",
    "PrintPromissory", "PayToClientAccount", "GetClientCredit", "PrintClientCredit",
    "CreateWallet", "GetWallet", "AssignCard", "PrintCardIssueReceipt", "GetReplies",
]
# Types whose required string values must not be empty (minLength >= 1 or a non-empty pattern).
LIST_WRAPPER_SUFFIX = "ListType"


def q(ns, local):
    return f"{{{ns}}}{local}"


# ----------------------------------------------------------------------------- extract
def extract(wsdl_path, out_path):
    raw = open(wsdl_path, encoding="utf-8").read()
    # Find the in-scope namespace declarations at the (single) xs:schema element.
    stack, pending, in_scope = [], {}, None
    count = 0
    for event, item in ET.iterparse(wsdl_path, events=("start-ns", "start", "end")):
        if event == "start-ns":
            prefix, uri = item
            pending[prefix] = uri
        elif event == "start":
            stack.append(pending)
            pending = {}
            if item.tag == q(XS, "schema"):
                count += 1
                merged = {}
                for frame in stack:
                    merged.update(frame)
                in_scope = merged
        else:
            stack.pop()
    if count != 1 or in_scope is None:
        sys.exit(f"expected exactly one xs:schema in {wsdl_path}, found {count}")
    xs_prefixes = [p for p, u in in_scope.items() if u == XS and p]
    for prefix in xs_prefixes:
        m = re.search(rf"<{re.escape(prefix)}:schema\b", raw)
        if m:
            end_tag = f"</{prefix}:schema>"
            break
    else:
        sys.exit("cannot find the xs:schema start tag (a default-namespace schema is not supported)")
    end = raw.index(end_tag, m.start()) + len(end_tag)
    text = raw[m.start():end]
    start_tag_end = text.index(">")
    start_tag = text[:start_tag_end]
    declared = set(re.findall(r"\bxmlns(?::([\w.-]+))?\s*=", start_tag))
    extra = "".join(
        f' xmlns{":" + p if p else ""}="{u}"'
        for p, u in sorted(in_scope.items())
        if (p or "") not in declared and p != "xml"
    )
    text = text[:start_tag_end] + extra + text[start_tag_end:]
    ET.fromstring(text)  # must be well-formed on its own
    with open(out_path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        f.write("<!-- extracted from " + wsdl_path + " by tests/wsdl/wsdl_tool.py; do not edit -->\n")
        f.write(text + "\n")


# ----------------------------------------------------------------------------- structure
class Checker:
    def __init__(self, path):
        self.path = path
        self.raw = open(path, encoding="utf-8").read()
        self.root = ET.parse(path).getroot()
        self.errors = []
        self.schema = self.root.find(f"{q(WSDL, 'types')}/{q(XS, 'schema')}")
        self.elements = {e.get("name"): e for e in self.schema.findall(q(XS, "element"))}
        self.simple = {e.get("name"): e for e in self.schema.findall(q(XS, "simpleType"))}
        self.complex = {e.get("name"): e for e in self.schema.findall(q(XS, "complexType"))}

    def err(self, msg):
        self.errors.append(msg)

    def local(self, qname, ctx):
        """Resolve a tns: QName (the only prefix the schema uses for its own components)."""
        if qname is None:
            self.err(f"{ctx}: missing QName")
            return None
        if qname.startswith("tns:"):
            return qname[4:]
        if qname.startswith("xs:"):
            return None
        self.err(f"{ctx}: unexpected QName prefix in {qname!r}")
        return None

    # -- schema helpers
    def seq_children(self, ctype, ctx):
        seqs = list(ctype)
        seqs = [s for s in seqs if s.tag != q(XS, "annotation") and s.tag != q(XS, "anyAttribute")]
        if len(seqs) != 1 or seqs[0].tag != q(XS, "sequence"):
            self.err(f"{ctx}: complexType must hold exactly one xs:sequence")
            return []
        kids = []
        for e in seqs[0]:
            if e.tag != q(XS, "element"):
                self.err(f"{ctx}: xs:sequence may contain only xs:element (found {e.tag})")
                continue
            if e.get("ref") is not None or e.get("nillable") is not None:
                self.err(f"{ctx}: element refs and nillable break wrapped style / XmlSerializer")
            kids.append(e)
        return kids

    def non_empty_type(self, typename):
        """True when the named simple type rejects the empty string."""
        st = self.simple.get(typename)
        if st is None:
            return True  # complex type: not a string
        r = st.find(q(XS, "restriction"))
        if r.get("base") != "xs:string":
            return True
        if r.find(q(XS, "enumeration")) is not None:
            return True
        ml = r.find(q(XS, "minLength"))
        if ml is not None and int(ml.get("value")) >= 1:
            return True
        for p in r.findall(q(XS, "pattern")):
            # XSD regexes used here are plain enough for Python's re.
            if re.fullmatch(p.get("value"), "") is None:
                return True
        return False

    def check_types(self):
        for name, ct in self.complex.items():
            for e in self.seq_children(ct, f"complexType {name}"):
                t = self.local(e.get("type"), f"{name}/{e.get('name')}")
                if t is not None and t not in self.simple and t not in self.complex:
                    self.err(f"{name}/{e.get('name')}: unknown type tns:{t}")
                if t and t.endswith(LIST_WRAPPER_SUFFIX) and e.get("minOccurs") != "0":
                    self.err(f"{name}/{e.get('name')}: list wrappers are minOccurs=0")
            if name.endswith(LIST_WRAPPER_SUFFIX):
                kids = self.seq_children(ct, name)
                if len(kids) != 1 or kids[0].get("minOccurs") != "0" or kids[0].get("maxOccurs") != "unbounded":
                    self.err(f"{name}: a list type holds one child, minOccurs=0 maxOccurs=unbounded")
        for st in self.simple.values():
            r = st.find(q(XS, "restriction"))
            if r is None:
                self.err(f"simpleType {st.get('name')}: must be a restriction")
        money = self.simple.get("Money")
        if money is None:
            self.err("simpleType Money missing")
        else:
            r = money.find(q(XS, "restriction"))
            facets = {c.tag.split("}")[1]: c.get("value") for c in r}
            if r.get("base") != "xs:decimal" or facets != {"totalDigits": "13", "fractionDigits": "2"}:
                self.err(f"Money must be xs:decimal totalDigits 13 fractionDigits 2 only, got {facets}")
        for name in ("AuthHeader", "AllpsFault"):
            if name not in self.elements:
                self.err(f"global element {name} missing")
        ah = self.complex.get("AuthHeaderType")
        if ah is not None:
            names = [e.get("name") for e in self.seq_children(ah, "AuthHeaderType")]
            want = ["UserName", "Password", "ComputerName", "OrgCode", "BranchCode", "TerminalType", "SessionId"]
            if names != want:
                self.err(f"AuthHeaderType children {names} != {want}")
            if any(e.get("minOccurs") != "0" for e in self.seq_children(ah, "AuthHeaderType")):
                self.err("AuthHeaderType: every child is optional")
        res = self.complex.get("ResultType")
        if res is not None:
            got = [(e.get("name"), e.get("type"), e.get("minOccurs")) for e in self.seq_children(res, "ResultType")]
            if got != [("Code", "xs:int", None), ("Message", "xs:string", None), ("Field", "xs:string", "0")]:
                self.err(f"ResultType shape {got}")
        flt = self.complex.get("AllpsFaultType")
        if flt is not None:
            got = [(e.get("name"), e.get("type")) for e in self.seq_children(flt, "AllpsFaultType")]
            if got != [("Code", "xs:string"), ("Message", "xs:string")]:
                self.err(f"AllpsFaultType shape {got}")

    def wrapper(self, name):
        el = self.elements.get(name)
        if el is None:
            self.err(f"global element {name} missing")
            return []
        ct = el.find(q(XS, "complexType"))
        if el.get("type") is not None or ct is None:
            self.err(f"{name}: wrapper elements use an anonymous complexType")
            return []
        return self.seq_children(ct, name)

    def check_wrappers(self):
        expected = set()
        for op in OPERATIONS:
            expected |= {op, op + "Response"}
            req = self.wrapper(op)
            for e in req:
                t = self.local(e.get("type"), f"{op}/{e.get('name')}")
                if t is not None and t not in self.simple and t not in self.complex:
                    self.err(f"{op}/{e.get('name')}: unknown type tns:{t}")
                if e.get("minOccurs", "1") != "0" and t is not None and not self.non_empty_type(t):
                    self.err(f"{op}/{e.get('name')}: required string type tns:{t} accepts the empty string")
            resp = self.wrapper(op + "Response")
            if not resp or resp[0].get("name") != "Result" or resp[0].get("type") != "tns:ResultType" \
                    or resp[0].get("minOccurs", "1") != "1":
                self.err(f"{op}Response: first child must be a required Result of tns:ResultType")
            for e in resp[1:]:
                if e.get("minOccurs") != "0":
                    self.err(f"{op}Response/{e.get('name')}: must be minOccurs=0")
                t = self.local(e.get("type"), f"{op}Response/{e.get('name')}")
                if t is not None and t not in self.simple and t not in self.complex:
                    self.err(f"{op}Response/{e.get('name')}: unknown type tns:{t}")
            for e in req + resp:
                if e.get("name") in ("AuthHeader",):
                    self.err(f"{op}: AuthHeader belongs in the SOAP header, not the body")
        extra = set(self.elements) - expected - {"AuthHeader", "AllpsFault"}
        if extra:
            self.err(f"unexpected global elements: {sorted(extra)}")

    def check_messages(self):
        msgs = {m.get("name"): m for m in self.root.findall(q(WSDL, "message"))}
        want = {"AuthHeaderMessage": ("AuthHeader", "tns:AuthHeader"),
                "AllpsFaultMessage": ("AllpsFault", "tns:AllpsFault")}
        for op in OPERATIONS:
            want[op + "Request"] = ("parameters", f"tns:{op}")
            want[op + "Response"] = ("parameters", f"tns:{op}Response")
        for name, (part, element) in want.items():
            m = msgs.get(name)
            if m is None:
                self.err(f"message {name} missing")
                continue
            parts = m.findall(q(WSDL, "part"))
            if [(p.get("name"), p.get("element"), p.get("type")) for p in parts] != [(part, element, None)]:
                self.err(f"message {name}: want one part {part} element={element}")
        if set(msgs) != set(want):
            self.err(f"unexpected messages: {sorted(set(msgs) - set(want))}")

    def check_port_type(self):
        pts = self.root.findall(q(WSDL, "portType"))
        if [p.get("name") for p in pts] != ["AllpsPortType"]:
            self.err("exactly one portType AllpsPortType")
            return
        ops = pts[0].findall(q(WSDL, "operation"))
        names = [o.get("name") for o in ops]
        if names != OPERATIONS:
            self.err(f"portType operations {names} != {OPERATIONS}")
        for o in ops:
            n = o.get("name")
            kids = [(c.tag.split("}")[1], c.get("name"), c.get("message")) for c in o]
            want = [("documentation", None, None), ("input", None, f"tns:{n}Request"),
                    ("output", None, f"tns:{n}Response"), ("fault", "AllpsFault", "tns:AllpsFaultMessage")]
            if kids != want:
                self.err(f"portType operation {n}: children {kids} != {want}")
            d = o.find(q(WSDL, "documentation"))
            if d is None or len((d.text or "").strip()) < 20:
                self.err(f"portType operation {n}: needs wsdl:documentation")

    def check_binding(self, name, ns, p):
        b = [x for x in self.root.findall(q(WSDL, "binding")) if x.get("name") == name]
        if len(b) != 1:
            self.err(f"binding {name} missing")
            return
        b = b[0]
        if b.get("type") != "tns:AllpsPortType":
            self.err(f"{name}: type must be tns:AllpsPortType")
        sb = b.find(q(ns, "binding"))
        if sb is None or sb.get("transport") != "http://schemas.xmlsoap.org/soap/http" or sb.get("style") != "document":
            self.err(f"{name}: {p}:binding transport/style")
        ops = b.findall(q(WSDL, "operation"))
        if [o.get("name") for o in ops] != OPERATIONS:
            self.err(f"{name}: operations {[o.get('name') for o in ops]} != {OPERATIONS}")
        for o in ops:
            n = o.get("name")
            so = o.find(q(ns, "operation"))
            if so is None or so.get("soapAction") != f"urn:allps:ws:v1/{n}":
                self.err(f"{name}/{n}: soapAction must be urn:allps:ws:v1/{n}")
            if p == "soap12" and (so is None or so.get("soapActionRequired") != "false"):
                self.err(f"{name}/{n}: soap12:operation needs soapActionRequired=\"false\"")
            inp, out = o.find(q(WSDL, "input")), o.find(q(WSDL, "output"))
            for io, label in ((inp, "input"), (out, "output")):
                bodies = [] if io is None else io.findall(q(ns, "body"))
                if len(bodies) != 1 or bodies[0].get("use") != "literal" or bodies[0].get("parts") is not None:
                    self.err(f"{name}/{n}/{label}: one {p}:body use=literal")
            headers = [] if inp is None else [(h.get("message"), h.get("part"), h.get("use"))
                                              for h in inp.findall(q(ns, "header"))]
            want = [] if n == "Login" else [("tns:AuthHeaderMessage", "AuthHeader", "literal")]
            if headers != want:
                self.err(f"{name}/{n}: input headers {headers} != {want}")
            if out is not None and out.findall(q(ns, "header")):
                self.err(f"{name}/{n}: no output headers")
            faults = o.findall(q(WSDL, "fault"))
            got = [(f.get("name"), [(sf.get("name"), sf.get("use")) for sf in f.findall(q(ns, "fault"))])
                   for f in faults]
            if got != [("AllpsFault", [("AllpsFault", "literal")])]:
                self.err(f"{name}/{n}: fault binding {got}")

    def check_service(self):
        svcs = self.root.findall(q(WSDL, "service"))
        if [s.get("name") for s in svcs] != ["AllpsService"]:
            self.err("exactly one service AllpsService")
            return
        s = svcs[0]
        d = s.find(q(WSDL, "documentation"))
        if d is None or "AllpsFault" not in (d.text or "") or "Result" not in (d.text or ""):
            self.err("service documentation must describe AllpsFault and Result/Code")
        ports = [(p.get("name"), p.get("binding")) for p in s.findall(q(WSDL, "port"))]
        if ports != [("AllpsSoap11", "tns:AllpsSoap11Binding"), ("AllpsSoap12", "tns:AllpsSoap12Binding")]:
            self.err(f"service ports {ports}")
        for p, ns in zip(s.findall(q(WSDL, "port")), (SOAP11, SOAP12)):
            a = p.findall(q(ns, "address"))
            if len(a) != 1 or a[0].get("location") != ADDRESS:
                self.err(f"port {p.get('name')}: address must be {ADDRESS}")
        # The server rewrites the address by text substitution: keep each location on one line,
        # and make sure no other attribute is called location.
        locs = re.findall(r'<(soap(?:12)?):address\s+location="([^"\n]*)"\s*/>', self.raw)
        if locs != [("soap", ADDRESS), ("soap12", ADDRESS)]:
            self.err(f"soap:address / soap12:address must each be one line '<p:address location=\"...\"/>': {locs}")
        if len(re.findall(r'\blocation\s*=', self.raw)) != 2:
            self.err("only the two address elements may carry a location attribute")

    def run(self):
        if self.root.tag != q(WSDL, "definitions") or self.root.get("targetNamespace") != TNS:
            self.err("root must be wsdl:definitions with targetNamespace urn:allps:ws:v1")
        if self.schema is None:
            self.err("no xs:schema in wsdl:types")
            return self.errors
        if self.schema.get("targetNamespace") != TNS or self.schema.get("elementFormDefault") != "qualified":
            self.err("xs:schema: targetNamespace urn:allps:ws:v1 and elementFormDefault=qualified")
        if self.raw.count("<xs:schema") != 1 or self.root.find(q(WSDL, "import")) is not None:
            self.err("exactly one inline schema, no imports")
        self.check_types()
        self.check_wrappers()
        self.check_messages()
        self.check_port_type()
        self.check_binding("AllpsSoap11Binding", SOAP11, "soap")
        self.check_binding("AllpsSoap12Binding", SOAP12, "soap12")
        self.check_service()
        return self.errors


def structure(path):
    errors = Checker(path).run()
    for e in errors:
        print(f"  structure: {e}", file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"  structure: {len(OPERATIONS)} operations, messages, bindings and service as agreed")


def occurs(e):
    lo, hi = e.get("minOccurs", "1"), e.get("maxOccurs", "1")
    if hi == "unbounded":
        hi = "*"
    return lo if lo == hi else f"{lo}..{hi}"


def shape(path):
    """A compact, diffable listing of the schema: the contract the server codes against."""
    root = ET.parse(path).getroot()
    schema = root.find(f"{q(WSDL, 'types')}/{q(XS, 'schema')}")
    lines = []

    def seq(ct, indent="  "):
        s = ct.find(q(XS, "sequence"))
        for e in s.findall(q(XS, "element")):
            lines.append(f"{indent}{e.get('name'):<28} {e.get('type'):<30} {occurs(e)}")
        if ct.find(q(XS, "anyAttribute")) is not None:
            lines.append(f"{indent}@##other (any attribute)")

    lines.append("# operations: request wrapper, then response wrapper (children in wire order)")
    for op in root.find(q(WSDL, "portType")).findall(q(WSDL, "operation")):
        for name in (op.get("name"), op.get("name") + "Response"):
            el = [e for e in schema.findall(q(XS, "element")) if e.get("name") == name][0]
            lines.append(f"element {name}")
            seq(el.find(q(XS, "complexType")))
    lines.append("")
    lines.append("# header and fault elements")
    for el in schema.findall(q(XS, "element")):
        if el.get("type"):
            lines.append(f"element {el.get('name')} : {el.get('type')}")
    lines.append("")
    lines.append("# complex types")
    for ct in schema.findall(q(XS, "complexType")):
        lines.append(f"type {ct.get('name')}")
        seq(ct)
    lines.append("")
    lines.append("# simple types")
    for st in schema.findall(q(XS, "simpleType")):
        r = st.find(q(XS, "restriction"))
        enums = [c.get("value") for c in r.findall(q(XS, "enumeration"))]
        if enums:
            desc = "enum " + " ".join(enums)
        else:
            desc = " ".join(f"{c.tag.split('}')[1]}={c.get('value')}" for c in r if c.tag != q(XS, "annotation"))
        lines.append(f"simple {st.get('name'):<24} {r.get('base'):<10} {desc}")
    print("\n".join(lines))


def expect(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"<!--.*?expect:\s*(.*?)\s*-->", text, re.S)
    if not m:
        sys.exit(f"{path}: invalid samples need a comment 'expect: <text of the xmllint error>'")
    print(m.group(1))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "extract" and len(sys.argv) == 4:
        extract(sys.argv[2], sys.argv[3])
    elif cmd == "structure" and len(sys.argv) == 3:
        structure(sys.argv[2])
    elif cmd == "shape" and len(sys.argv) == 3:
        shape(sys.argv[2])
    elif cmd == "expect" and len(sys.argv) == 3:
        expect(sys.argv[2])
    else:
        sys.exit(__doc__)
