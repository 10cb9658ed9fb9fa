-- wrk script for bench/answer_load.py: each request is one customer's one-tap answer,
-- POST /s/<token>/score with that page's CSRF token and session cookie. The jobs file
-- (one "token<TAB>cookie<TAB>csrf" line per invitation) is split between wrk's threads, so
-- no invitation is answered twice. wrk runs for a fixed time; bench/answer_load.py checks
-- that the invitations outlasted it (after the last one a thread only asks /healthz).
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  jobs, next_job = {}, 1
  local n = 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[2]) == id then
      local token, cookie, csrf = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
      table.insert(jobs, wrk.format("POST", "/s/" .. token .. "/score", {
        ["Content-Type"] = "application/json",
        ["X-CSRFToken"] = csrf,
        ["Cookie"] = cookie,
      }, '{"question": "recommend", "score": "9"}'))
    end
    n = n + 1
  end
end

function request()
  local job = jobs[next_job]
  next_job = next_job + 1
  if job == nil then
    return wrk.format("GET", "/healthz")
  end
  return job
end
