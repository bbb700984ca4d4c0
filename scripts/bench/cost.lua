-- wrk's script for scripts/bench/cost.sh: one kind of request only, as fast as answered.
--
--   wrk -t T -c C -d S -s cost.lua URL -- OPERATION THREADS NONCE [IDS_FILE [DONE_PREFIX]]
--
-- OPERATION: create-customer (unique emails), update-customer (PATCH with If-Match, one
-- field changed; the ids in IDS_FILE in turn, each at version 1, then 2 on the next pass...),
-- create-order (for the customers in IDS_FILE in turn), cancel-order and delete-customer
-- (each id in IDS_FILE once; when its share is answered, a thread writes the file DONE_PREFIX<i>,
-- for cost.py to stop wrk, which otherwise runs for its duration). THREADS is wrk's -t.
-- No Idempotency-Key is sent. A response other than 2xx is counted by wrk ("Non-2xx").

local thread_count = 0

function setup(thread)
    thread:set("index", thread_count)
    thread_count = thread_count + 1
end

function init(args)
    operation, threads, nonce = args[1], tonumber(args[2]), args[3]
    ids = {}
    if args[4] then
        local n = 0
        for line in io.lines(args[4]) do
            -- this thread's share: every THREADS-th line
            if n % threads == index then ids[#ids + 1] = line end
            n = n + 1
        end
    end
    done_prefix = args[5]
    sent, answered, done = 0, 0, false
end

local json = { ["Content-Type"] = "application/json" }

-- The next id of this thread's share, and how often the share was gone through before.
local function next_id()
    local i = sent % #ids
    local round = (sent - i) / #ids
    sent = sent + 1
    return ids[i + 1], round
end

function request()
    if operation == "create-customer" then
        sent = sent + 1
        local tag = string.format("%s-%d-%d", nonce, index, sent)
        return wrk.format("POST", "/customers", json,
            string.format('{"name":"cost %s","email":"cost-%s@load.example","creditLimit":100}', tag, tag))
    elseif operation == "update-customer" then
        local id, round = next_id()
        return wrk.format("PATCH", "/customers/" .. id,
            { ["Content-Type"] = "application/merge-patch+json", ["If-Match"] = string.format('"%d"', round + 1) },
            string.format('{"creditLimit":%d}', 1000 + round))
    elseif operation == "create-order" then
        local id = next_id()
        return wrk.format("POST", "/orders", json, string.format('{"customerId":"%s","amount":%d}', id, 100 + sent))
    end
    -- each id once: cancel-order, delete-customer
    if sent >= #ids then
        return wrk.format("GET", "/health/live") -- a connection's request after the share is used up: not counted
    end
    local id = next_id()
    if operation == "cancel-order" then
        return wrk.format("POST", "/orders/" .. id .. "/cancel")
    end
    return wrk.format("DELETE", "/customers/" .. id)
end

function response(status, headers, body)
    answered = answered + 1
    if done_prefix and not done and answered >= #ids then
        done = true
        io.open(done_prefix .. index, "w"):close()
    end
end
