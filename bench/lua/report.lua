-- Shared by the wrk scripts (loaded with dofile): checks every answer and prints one
-- machine-readable line at the end, which bench/run.sh parses.
--
-- An answer counts as "code0" only if it is HTTP 200 and carries <Code>0</Code> (the
-- Result code OK); anything else counts as "other" and the first one is shown on
-- stderr, so a run that mostly measures refusals or faults is obvious.

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

code0 = 0
other = 0

function response(status, headers, body)
  if status == 200 and body and string.find(body, "<Code>0</Code>", 1, true) then
    code0 = code0 + 1
  else
    other = other + 1
    if other == 1 then
      io.stderr:write("first non-OK answer: HTTP " .. status .. "\n" .. tostring(body) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + (t:get("code0") or 0)
    bad = bad + (t:get("other") or 0)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d code0=%d other=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, ok, bad))
end
