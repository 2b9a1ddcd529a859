"""Load steps with wrk (Debian package ``wrk``) when it is installed; bench/run.py falls back to the
threaded Python generator of bench/harness.py otherwise.

The Lua script sends GET /healthz, or POST /api/v1/encounters with a fresh client UUID per request,
counts 5xx and "database is locked" answers per wrk thread, and prints one JSON line at the end.
"""
import json
import os
import shutil
import subprocess  # nosec B404 - runs wrk on loopback
import tempfile
from datetime import UTC, datetime

SCRIPT = r"""
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local mode, token = os.getenv("WRK_MODE"), os.getenv("WRK_TOKEN")
local shift, now = os.getenv("WRK_SHIFT"), os.getenv("WRK_NOW")
function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919)
  errors5, locked = 0, 0
end

local function uuid4()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function (c)
    return string.format("%x", c == "x" and math.random(0, 15) or math.random(8, 11))
  end))
end

function request()
  if mode ~= "encounters" then
    return wrk.format("GET", "/healthz")
  end
  local body = string.format('{"id":"%s","shift_id":"%s","occurred_at":"%s","sector":"stalingrad",'
    .. '"kind":"anonymous","people_count":1,"sex":"m","age_band":"26_35"}', uuid4(), shift, now)
  return wrk.format("POST", "/api/v1/encounters",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

function response(status, headers, body)
  if status >= 500 then errors5 = errors5 + 1 end
  if body and string.find(body, "database is locked", 1, true) then locked = locked + 1 end
end

function done(summary, latency, requests)
  local e5, lk = 0, 0
  for _, t in ipairs(threads) do
    e5 = e5 + t:get("errors5")
    lk = lk + t:get("locked")
  end
  local s = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
    .. '"non_2xx_3xx":%d,"socket_errors":%d,"5xx":%d,"locked":%d}\n', summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), s.status,
    s.connect + s.read + s.write + s.timeout, e5, lk))
end
"""


def available():
    return shutil.which("wrk") is not None


def run(port, clients, seconds, mode="healthz", token="", shift=""):
    """One wrk step; returns the same keys as bench.run._stats plus non-2xx and socket errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(SCRIPT)
    env = dict(os.environ, WRK_MODE=mode, WRK_TOKEN=token or "", WRK_SHIFT=shift or "",
               WRK_NOW=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    cmd = [shutil.which("wrk"), "-t", str(min(clients, 2)), "-c", str(clients), "-d",
           f"{seconds:g}s", "--timeout", "10s", "-s", fh.name, f"http://127.0.0.1:{port}"]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True,  # nosec B603
                             timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(fh.name)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line[len("WRKJSON "):])
    elapsed = raw["duration_us"] / 1e6 or seconds
    return {"requests": raw["requests"], "rps": round(raw["requests"] / elapsed, 1),
            "p50_ms": round(raw["p50_us"] / 1000, 1), "p99_ms": round(raw["p99_us"] / 1000, 1),
            "5xx": raw["5xx"], "locked": raw["locked"], "non_2xx": raw["non_2xx_3xx"],
            "socket_errors": raw["socket_errors"]}
