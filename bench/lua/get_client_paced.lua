-- wrk: GetClient as bench/lua/get_client.lua, each connection waiting PACE_MS
-- milliseconds (default 10) after an answer before it sends the next request: a steady
-- integrator load (about 1000 / (PACE_MS + latency) requests a second per connection)
-- rather than as many as the server can answer. bench/collections.sh uses it to measure
-- GetClient alongside a collection morning without starving the engine of CPU.
local dir = os.getenv("BENCH_DIR") or "bench"
dofile(dir .. "/lua/get_client.lua")

local pace = tonumber(os.getenv("PACE_MS") or "10")

function delay()
  return pace
end
