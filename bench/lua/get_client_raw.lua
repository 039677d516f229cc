-- wrk: the same GetClient request as get_client.lua, without the response() check
-- (wrk then skips handing every body to Lua). Only used to show what the check costs
-- wrk itself; the compared figures all use get_client.lua.
local dir = os.getenv("BENCH_DIR") or "bench"
local f = assert(io.open(dir .. "/requests/get_client.xml", "rb"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] = '"GetClient"'
wrk.body = f:read("*a")
f:close()

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d code0=-1 other=-1\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
