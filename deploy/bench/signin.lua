-- Staff sign-in posts with a wrong password: counts the answers that computed a hash
-- (401) and those the throttle turned away before any hash (429).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")

local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function() hashed, throttled, other = 0, 0, 0 end
response = function(status)
  if status == 401 then hashed = hashed + 1
  elseif status == 429 then throttled = throttled + 1
  else other = other + 1 end
end
done = function(summary, latency)
  local h, t, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("hashed"); t = t + thread:get("throttled"); o = o + thread:get("other")
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "hashed": %d, "throttled": %d, "other": %d, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, h, t, o, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
