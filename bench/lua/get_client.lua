-- wrk: GetClient for C1001 with the full AuthHeader credentials in every request, as
-- real clients send them (the fixture request fixtures/get_client/ok/request.xml).
-- Also used against the ceiling, so both sides pay the same wrk-side checking cost.
local dir = os.getenv("BENCH_DIR") or "bench"
dofile(dir .. "/lua/report.lua")

local f = assert(io.open(dir .. "/requests/get_client.xml", "rb"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] = '"GetClient"'
wrk.body = f:read("*a")
f:close()
