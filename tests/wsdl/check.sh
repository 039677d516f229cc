#!/usr/bin/env bash
# Offline checks of the bundled WSDL, wsdl/allps.wsdl.
#
#   tests/wsdl/check.sh            (from the crate root, or from anywhere)
#
# Needs xmllint (Debian/Ubuntu: apt-get install -y libxml2-utils) and python3 (standard
# library only). No network access: every schema is read from tests/xsd with --nonet.
#
#  1. the WSDL is valid against the WSDL 1.1 schema (tests/xsd/wsdl.xsd), and against
#     wsdl.xsd + the WSDL SOAP 1.1 binding schema (tests/xsd/wsdl-with-soap11.xsd), so the
#     soap:* extension elements are checked strictly. There is no WSDL SOAP 1.2 binding
#     schema in tests/xsd, so soap12:* elements are only checked by step 2 (wsdl.xsd lets
#     extension elements through laxly).
#  2. the conventions the server and generated clients rely on hold (tests/wsdl/wsdl_tool.py
#     structure): the operation list, one `parameters` part per message, AuthHeader on every
#     input but Login's, AllpsFault on every operation, soapActions, Result first, ...
#  3. the schema listing equals tests/wsdl/allps-shape.txt (element order, types, occurrences).
#     After a deliberate change, regenerate it:
#       python3 tests/wsdl/wsdl_tool.py shape wsdl/allps.wsdl > tests/wsdl/allps-shape.txt
#  4. the embedded xs:schema, extracted with its namespaces re-declared, compiles.
#  5. every tests/wsdl/samples/valid/*.xml validates and every samples/invalid/*.xml fails
#     with the error its "expect:" comment names. Files named env-*.xml are SOAP 1.1
#     envelopes, validated with soap-envelope.xsd + the payload schema (Header and Body
#     children are checked because the envelope schema processes them laxly).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WSDL=wsdl/allps.wsdl
XSD=tests/xsd
HERE=tests/wsdl
TOOL="$HERE/wsdl_tool.py"

command -v xmllint >/dev/null || { echo "xmllint not found: apt-get install -y libxml2-utils" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

echo "1. WSDL 1.1 schema validation"
xmllint --nonet --noout --schema "$XSD/wsdl.xsd" "$WSDL" 2>"$tmp/err" \
  || { cat "$tmp/err" >&2; fail "$WSDL is not valid against $XSD/wsdl.xsd"; }
xmllint --nonet --noout --schema "$XSD/wsdl-with-soap11.xsd" "$WSDL" 2>"$tmp/err" \
  || { cat "$tmp/err" >&2; fail "$WSDL is not valid against $XSD/wsdl-with-soap11.xsd"; }

echo "2. conventions"
python3 "$TOOL" structure "$WSDL" || fail "conventions (see above)"

echo "3. shape"
python3 "$TOOL" shape "$WSDL" >"$tmp/shape.txt"
if ! diff -u "$HERE/allps-shape.txt" "$tmp/shape.txt" >"$tmp/shape.diff"; then
  cat "$tmp/shape.diff" >&2
  fail "schema shape differs from $HERE/allps-shape.txt (regenerate it if the change is deliberate)"
fi

echo "4. embedded schema compiles"
python3 "$TOOL" extract "$WSDL" "$tmp/types.xsd"
cp "$XSD/soap-envelope.xsd" "$tmp/soap-envelope.xsd"
cat >"$tmp/envelope-and-types.xsd" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:allps:test:envelope">
  <xs:import namespace="http://schemas.xmlsoap.org/soap/envelope/" schemaLocation="soap-envelope.xsd"/>
  <xs:import namespace="urn:allps:ws:v1" schemaLocation="types.xsd"/>
</xs:schema>
EOF
echo '<GetClient xmlns="urn:allps:ws:v1"><ClientNumber>C1</ClientNumber></GetClient>' >"$tmp/tiny.xml"
xmllint --nonet --noout --schema "$tmp/types.xsd" "$tmp/tiny.xml" 2>"$tmp/err" \
  || { cat "$tmp/err" >&2; fail "the embedded schema does not compile"; }

schema_for() {
  case "$(basename "$1")" in
    env-*) echo "$tmp/envelope-and-types.xsd" ;;
    *) echo "$tmp/types.xsd" ;;
  esac
}

echo "5. samples"
valid=0
invalid=0
for f in "$HERE"/samples/valid/*.xml; do
  if xmllint --nonet --noout --schema "$(schema_for "$f")" "$f" 2>"$tmp/err"; then
    valid=$((valid + 1))
  else
    cat "$tmp/err" >&2
    fail "$f should be valid"
  fi
done
for f in "$HERE"/samples/invalid/*.xml; do
  expected=$(python3 "$TOOL" expect "$f") || { fail "$f has no expect: comment"; continue; }
  rc=0
  xmllint --nonet --noout --schema "$(schema_for "$f")" "$f" 2>"$tmp/err" || rc=$?
  if [ "$rc" -ne 3 ]; then
    # 3 = validation error; anything else (0 valid, 1 not well-formed, 5 bad schema) is wrong
    cat "$tmp/err" >&2
    fail "$f should fail validation (xmllint rc 3), got rc $rc"
  elif ! grep -qF -- "$expected" "$tmp/err"; then
    cat "$tmp/err" >&2
    fail "$f failed, but not with: $expected"
  else
    invalid=$((invalid + 1))
  fi
done
echo "   $valid valid samples accepted, $invalid invalid samples refused as expected"

if [ "$failures" -ne 0 ]; then
  echo "check.sh: $failures failure(s)" >&2
  exit 1
fi
echo "check.sh: OK"
