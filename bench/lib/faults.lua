-- wrk script of bench/faults.sh: a GET with the API key and the user's token (from the
-- environment), answers tallied as 2xx, 503 with a Circle-shaped body (what the server owes
-- while its database is away), and anything else; printed in done() as FAULTS lines.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LK_API_KEY")
wrk.headers["X-User-Token"] = os.getenv("LK_USER_TOKEN")

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args) ok = 0; c503 = 0; other = 0; other_status = "" end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  elseif status == 503 and body and body:find('"code":%s*%-?%d') and body:find('"message":%s*"') then
    c503 = c503 + 1
  else
    other = other + 1
    if not other_status:find(tostring(status), 1, true) then other_status = other_status .. status .. " " end
  end
end

function done(summary, latency, requests)
  local a, b, c, statuses = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    a = a + t:get("ok"); b = b + t:get("c503"); c = c + t:get("other")
    statuses = statuses .. t:get("other_status")
  end
  local e = summary.errors
  io.write(string.format("FAULTS requests=%d seconds=%.3f ok=%d c503=%d other=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6, a, b, c, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, statuses == "" and "-" or statuses:gsub(" ", ",")))
end
