-- An independent load generator for the intake: wrk (Debian's package) posting a new signer per request.
--   wrk -t1 -c128 -d20s -s loadtests/wrk/sign.lua http://127.0.0.1:5080 -- PETITION-ID
-- wrk is a closed loop (each connection waits for its answer), so its latencies hide stalls that the
-- open-model scenarios of Petition.LoadTests charge to every request due meanwhile. The last line it
-- prints says how many requests were answered 202; compare it with the petition's COUNT(*) once drained.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  petition = args[1] or error("usage: ... -- PETITION-ID")
  prefix = string.format("wrk-%d-%d", os.time(), id)
  counter = 0
  accepted = 0
  path = "/api/petitions/" .. petition .. "/signatures"
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  local body = string.format('{"name":"Wrk Signer","email":"%s-%d@example.org","country":"GB"}', prefix, counter)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("accepted") end
  io.write(string.format("requests %d, answered 202: %d, non-2xx: %d, socket errors: %d connect, %d read, %d write, %d timeout\n",
    summary.requests, total, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
