--- Token usage reports to the 3scale backend, per request or batched (module `llm_metrics_reports`).
-- Batched: counts are summed per (service, application, metric) and a timer of each nginx worker sends them every
-- `interval` seconds, one backend report call per service with up to MAX_TRANSACTIONS applications. Counts live in a
-- lua_shared_dict when one is named (shared by the workers, kept when a worker crashes), else in a table of the
-- worker. Counts whose report fails are kept for the next flush; the last flush runs when the worker exits.
-- An optional `on_sent(service_id, credential, metric, value)` is called for every count the backend accepted (the
-- policy's in-flight ledger moves those tokens from pending to sent).

local backend_client = require('apicast.backend_client')
local ReportsBatch = require('apicast.policy.3scale_batcher.reports_batch')
local http_ng_resty = require('resty.http_ng.backend.resty')

local pairs = pairs
local ipairs = ipairs
local pcall = pcall
local tostring = tostring
local match = string.match

local _M = {
  -- Applications (transactions) per backend report call.
  MAX_TRANSACTIONS = 1000,
  -- (service, application, metric) counts a worker table holds; beyond it new counts are dropped with a warning.
  MAX_WORKER_KEYS = 100000,
}

local LOG_PREFIX = '[llm_metrics] '
-- The credential that identifies the application in a report, in the order APIcast's batcher looks for it.
local CREDENTIAL_TYPES = { 'user_key', 'app_id', 'access_token' }
-- Dictionaries APIcast itself fills with keys of its own format; sharing one would corrupt both.
local APICAST_DICTS = { batched_reports = true, cached_auths = true, api_keys = true, configuration = true }

local function warn(...)
  ngx.log(ngx.WARN, LOG_PREFIX, ...)
end

--- The type and value of the credential that identifies the application, or nil.
function _M.credential_of(credentials)
  if not credentials then
    return nil
  end
  for _, credential_type in ipairs(CREDENTIAL_TYPES) do
    local value = credentials[credential_type]
    if value ~= nil and value ~= '' then
      return credential_type, tostring(value)
    end
  end
  return nil
end

-- Service ids, credential types and metric names (pattern \w[\w-/]*) hold no tab; the credential goes last so that
-- any byte in it is fine.
local function key_of(service_id, credential_type, metric, credential)
  return service_id .. '\t' .. credential_type .. '\t' .. metric .. '\t' .. credential
end

local function parse_key(key)
  return match(key, '^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$')
end

--- Sends one backend report call. `entries`: list of { credential =, metric =, value = }.
-- Returns true, or false and what went wrong.
local function send(service, credential_type, entries)
  local reports = {}
  for i, entry in ipairs(entries) do
    reports[i] = { [credential_type] = entry.credential, metric = entry.metric, value = entry.value }
  end
  local created, client, err = pcall(backend_client.new, backend_client, service, http_ng_resty)
  if not (created and client) then
    return false, 'no 3scale backend client: ' .. tostring(created and err or client)
  end
  local ok, res = pcall(client.report, client, ReportsBatch.new(service.id, reports))
  if not ok then
    return false, tostring(res)
  end
  if not res or not res.status or res.status < 200 or res.status > 299 then
    return false, 'status ' .. tostring(res and res.status) .. ' ' .. tostring(res and (res.body or res.error))
  end
  return true
end

local function acknowledge(on_sent, service, entries)
  if not on_sent then
    return
  end
  for _, entry in ipairs(entries) do
    local ok, err = pcall(on_sent, service.id, entry.credential, entry.metric, entry.value)
    if not ok then
      warn('could not count the reported tokens: ', tostring(err))
    end
  end
end

-- Runs even when premature (the worker is exiting): zero-delay timers may still use cosockets then.
local function report_now(_, service, credential_type, credential, deltas, on_sent)
  local entries = {}
  for i = 1, #deltas, 2 do
    entries[#entries + 1] = { credential = credential, metric = deltas[i], value = deltas[i + 1] }
  end
  local ok, err = send(service, credential_type, entries)
  if not ok then
    warn('3scale backend rejected the token report of service ', tostring(service.id), ': ', err)
    return
  end
  acknowledge(on_sent, service, entries)
end

--- Reports one request's counts (`deltas`: metric, tokens, metric, tokens, ...) right away, from a zero-delay timer: cosockets are not
-- allowed in every late phase, and the timer never delays the client.
function _M.report(service, credential_type, credential, deltas, on_sent)
  local scheduled, err = ngx.timer.at(0, report_now, service, credential_type, credential, deltas, on_sent)
  if not scheduled then
    warn('could not schedule the token report: ', tostring(err))
  end
end

---------------------------------------------------------------------------------------------------------------------
-- Stores of pending counts: add / take / keys, and a flush lock so that one worker flushes a service per interval
---------------------------------------------------------------------------------------------------------------------

local function worker_store()
  local counts, size = {}, 0
  return {
    add = function(key, value)
      local current = counts[key]
      if current then
        counts[key] = current + value
        return true
      end
      if size >= _M.MAX_WORKER_KEYS then
        return false, 'more than ' .. _M.MAX_WORKER_KEYS .. ' pending counts'
      end
      counts[key], size = value, size + 1
      return true
    end,
    take = function(key)
      local value = counts[key]
      if value then
        counts[key], size = nil, size - 1
      end
      return value
    end,
    keys = function()
      local keys = {}
      for key in pairs(counts) do
        keys[#keys + 1] = key
      end
      return keys
    end,
    lock = function()
      return true -- one worker, one timer: nobody to share the flush with
    end,
  }
end

-- Requests only ever add (incr is atomic). A flush takes a count by subtracting what it read; when another flush
-- subtracted first the result is negative and the subtraction is undone, so a count is never sent twice. Keys are
-- not deleted (a delete could drop an increment made between read and delete); keys at zero are skipped, and the
-- dictionary's LRU evicts the ones nobody increments any more.
local function dict_store(dict)
  return {
    add = function(key, value)
      local total, err, forcible = dict:incr(key, value, 0)
      if not total then
        return false, err
      end
      if forcible then
        warn('the shared dict is full: older pending token counts were evicted (make the lua_shared_dict larger)')
      end
      return true
    end,
    take = function(key)
      local value = dict:get(key)
      if type(value) ~= 'number' or value <= 0 then
        return nil
      end
      local left = dict:incr(key, -value)
      if not left then
        return nil
      end
      if left < 0 then
        dict:incr(key, value)
        return nil
      end
      return value
    end,
    keys = function()
      return dict:get_keys(0)
    end,
    lock = function(service_id, ttl)
      return (dict:add('llm_metrics flush lock ' .. service_id, true, ttl))
    end,
  }
end

local function store_named(name)
  if name == nil or name == '' then
    return worker_store()
  end
  local dict = ngx.shared[name]
  if APICAST_DICTS[name] then
    warn('lua_shared_dict ', name, ' belongs to APIcast; batching token counts in worker memory instead')
  elseif not dict then
    warn('lua_shared_dict ', name, ' is not defined; batching token counts in worker memory instead')
  else
    return dict_store(dict)
  end
  return worker_store()
end

---------------------------------------------------------------------------------------------------------------------
-- Batcher: one per worker and (dict, interval)
---------------------------------------------------------------------------------------------------------------------

local Batcher = {}
Batcher.__index = Batcher

local batchers = {}

--- The worker's batcher for this dict name ('' = worker memory), interval (seconds > 0) and acknowledgement
-- (`on_sent_id` names the `on_sent` function; nil for none).
function _M.batcher(dict_name, interval, on_sent_id, on_sent)
  local id = tostring(dict_name) .. '|' .. tostring(interval) .. '|' .. tostring(on_sent_id)
  local batcher = batchers[id]
  if not batcher then
    batcher = setmetatable({
      on_sent = on_sent,
      interval = interval,
      store = store_named(dict_name),
      services = {}, -- service id → latest service configuration seen by this worker
      timer = false,
      flushing = false,
    }, Batcher)
    batchers[id] = batcher
  end
  return batcher
end

local function tick(premature, batcher)
  if batcher.flushing then
    batcher.flush_again = true -- the running flush waits for the backend; it goes round once more when done
    return
  end
  batcher.flushing = true
  repeat
    batcher.flush_again = false
    local ok, err = pcall(batcher.flush, batcher, premature or ngx.worker.exiting())
    if not ok then
      warn('token report flush failed: ', tostring(err))
    end
  until not batcher.flush_again
  batcher.flushing = false
end

--- Adds one request's counts (`deltas`: metric, tokens, metric, tokens, ...) to the batch.
function Batcher:add(service, credential_type, credential, deltas)
  local service_id = tostring(service.id)
  self.services[service_id] = service
  for i = 1, #deltas, 2 do
    local metric, value = deltas[i], deltas[i + 1]
    local ok, err = self.store.add(key_of(service_id, credential_type, metric, credential), value)
    if not ok then
      warn('could not keep ', value, ' ', metric, ' tokens of service ', service_id, ' for the next report (',
        tostring(err), '); they are not reported')
    end
  end
  if ngx.worker.exiting() then
    -- Requests still finishing while the worker shuts down may come after its last periodic flush.
    local scheduled, err = ngx.timer.at(0, tick, self)
    if not scheduled then
      warn('could not schedule the token report of an exiting worker: ', tostring(err))
    end
  elseif not self.timer then
    local started, err = ngx.timer.every(self.interval, tick, self)
    if started then
      self.timer = true
    else
      warn('could not start the token report timer (retried on the next request): ', tostring(err))
    end
  end
end

-- Takes the pending counts of `keys`, sends them, and puts them back when the report fails.
local function send_taken(self, service, credential_type, keys)
  local entries = {}
  for _, key in ipairs(keys) do
    local value = self.store.take(key.key)
    if value then
      entries[#entries + 1] = { key = key.key, credential = key.credential, metric = key.metric, value = value }
    end
  end
  if #entries == 0 then
    return
  end
  local ok, err = send(service, credential_type, entries)
  if ok then
    acknowledge(self.on_sent, service, entries)
    return
  end
  local kept = 0
  for _, entry in ipairs(entries) do
    local restored, why = self.store.add(entry.key, entry.value)
    if restored then
      kept = kept + 1
    else
      warn('lost ', entry.value, ' ', entry.metric, ' tokens of service ', tostring(service.id), ': ', tostring(why))
    end
  end
  warn('3scale backend report of service ', tostring(service.id), ' failed (', err, '); ', kept,
    ' token counts kept for the next report')
end

-- Pending keys of the services this worker knows, as service id → credential type → credential → list of keys.
local function pending_by_service(self)
  local pending = {}
  for _, key in ipairs(self.store.keys()) do
    local service_id, credential_type, metric, credential = parse_key(key)
    if service_id and self.services[service_id] then
      local by_type = pending[service_id] or {}
      pending[service_id] = by_type
      local by_credential = by_type[credential_type] or {}
      by_type[credential_type] = by_credential
      local keys = by_credential[credential] or {}
      by_credential[credential] = keys
      keys[#keys + 1] = { key = key, credential = credential, metric = metric }
    end
  end
  return pending
end

--- Sends every pending count of the services this worker has seen. `final`: the worker is exiting, flush even when
-- another worker flushed the service a moment ago.
function Batcher:flush(final)
  local lock_ttl = self.interval * 0.9
  for service_id, by_type in pairs(pending_by_service(self)) do
    if final or self.store.lock(service_id, lock_ttl) then
      local service = self.services[service_id]
      for credential_type, by_credential in pairs(by_type) do
        local batch, applications = {}, 0
        for _, keys in pairs(by_credential) do
          if applications == _M.MAX_TRANSACTIONS then
            send_taken(self, service, credential_type, batch)
            batch, applications = {}, 0
          end
          for _, key in ipairs(keys) do
            batch[#batch + 1] = key
          end
          applications = applications + 1
        end
        send_taken(self, service, credential_type, batch)
      end
    end
  end
end

return _M
