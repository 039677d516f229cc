#!/usr/bin/env bash
# Seeds every fuzz target's corpus with the fixture requests (fuzz/corpus is not
# committed; the fixtures are the seed set).
set -euo pipefail
cd "$(dirname "$0")/.."
for target in xml_parse soap_envelope http_handle; do
    mkdir -p "fuzz/corpus/$target"
    for f in fixtures/*/*/request.xml fixtures/*/*/setup/*.xml; do
        [ -f "$f" ] || continue
        name=$(echo "$f" | tr '/' '_')
        cp "$f" "fuzz/corpus/$target/$name"
    done
done
echo "seeded $(ls fuzz/corpus/xml_parse | wc -l) inputs per target"
