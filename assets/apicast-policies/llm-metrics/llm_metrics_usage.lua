--- Token usage extraction for OpenAI-compatible responses (module `llm_metrics_usage` of the llm_metrics policy).
-- Pure Lua (cjson only): no ngx and no APIcast modules, so it runs under plain lua5.1 and in OpenResty alike.
-- Parsers are incremental: they see each response chunk once and keep only small state, never the whole body.
-- Shapes understood (vLLM 0.11 serialisers): chat/completions `usage` {prompt_tokens, completion_tokens, total_tokens,
-- prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens}, the Responses API's
-- {input_tokens, output_tokens, total_tokens, input_tokens_details.cached_tokens,
-- output_tokens_details.reasoning_tokens} (top level when not streamed, `response.usage` of the
-- `response.completed` SSE event when streamed), embeddings/pooling/score/classify (completion_tokens 0) and rerank
-- ({"total_tokens": N} only).

local cjson = require('cjson.safe')

local type = type
local floor = math.floor
local concat = table.concat
local find = string.find
local sub = string.sub
local byte = string.byte
local gsub = string.gsub

local _M = {}

-- A single SSE event larger than this is dropped (vLLM events are a few hundred bytes).
_M.MAX_SSE_EVENT_BYTES = 1024 * 1024
-- The usage object and the model name are tiny; cap what the JSON scanner keeps of them.
local MAX_USAGE_OBJECT_BYTES = 64 * 1024
local MAX_MODEL_BYTES = 256
-- Larger integers lose precision in a double; such counts are treated as garbage.
local MAX_COUNT = 2 ^ 53

--- The counters a usage yields. cached_prompt_tokens is a part of prompt_tokens and reasoning_tokens a part of
-- completion_tokens: they are reported beside the totals, never added to them.
_M.FIELDS = { 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cached_prompt_tokens', 'reasoning_tokens' }

local function count(value)
  if type(value) == 'number' and value >= 0 and value < MAX_COUNT and floor(value) == value then
    return value
  end
  return nil
end

-- `details[name]` when `details` is an object, else nil.
local function detail(details, name)
  if type(details) == 'table' then
    return count(details[name])
  end
  return nil
end

--- Keeps the well-formed counts of a decoded `usage` object, chat/completions or Responses API shaped.
-- prompt_tokens comes from `prompt_tokens` (else `input_tokens`), completion_tokens from `completion_tokens` (else
-- `output_tokens`); cached_prompt_tokens from `prompt_tokens_details.cached_tokens` (else
-- `input_tokens_details.cached_tokens`), reasoning_tokens from `completion_tokens_details.reasoning_tokens` (else
-- `output_tokens_details.reasoning_tokens`). A field that is absent or not a non-negative integer is left out; a
-- detail larger than the count it is part of is dropped. `total_tokens` is computed as prompt + completion only when
-- it is absent and both others are present. Returns nil when none of prompt, completion and total is left.
function _M.normalize(raw)
  if type(raw) ~= 'table' then
    return nil
  end
  local prompt = count(raw.prompt_tokens)
  if prompt == nil then
    prompt = count(raw.input_tokens)
  end
  local completion = count(raw.completion_tokens)
  if completion == nil then
    completion = count(raw.output_tokens)
  end
  local total = count(raw.total_tokens)
  if prompt == nil and completion == nil and total == nil then
    return nil
  end
  if total == nil and prompt and completion then
    total = prompt + completion
  end
  local cached = detail(raw.prompt_tokens_details, 'cached_tokens')
  if cached == nil then
    cached = detail(raw.input_tokens_details, 'cached_tokens')
  end
  local reasoning = detail(raw.completion_tokens_details, 'reasoning_tokens')
  if reasoning == nil then
    reasoning = detail(raw.output_tokens_details, 'reasoning_tokens')
  end
  if cached and prompt and cached > prompt then
    cached = nil
  end
  if reasoning and completion and reasoning > completion then
    reasoning = nil
  end
  return { prompt_tokens = prompt, completion_tokens = completion, total_tokens = total,
    cached_prompt_tokens = cached, reasoning_tokens = reasoning }
end

local function model_name(value)
  if type(value) == 'string' and #value > 0 and #value <= MAX_MODEL_BYTES then
    return value
  end
  return nil
end

---------------------------------------------------------------------------------------------------------------------
-- Server-sent events
---------------------------------------------------------------------------------------------------------------------

local SseParser = {}
SseParser.__index = SseParser

-- Events are split at blank lines ("\n\n" once line ends are normalized). An event is only looked at closely when
-- it mentions "usage" or [DONE]; the others are skipped with two plain searches and no copy, which keeps the parser
-- cheap on long streams. Only an event that spans chunks is kept (in `pending`), up to max_event_bytes.
function _M.new_sse_parser(max_event_bytes)
  return setmetatable({
    max_event_bytes = max_event_bytes or _M.MAX_SSE_EVENT_BYTES,
    pending = {}, -- pieces of the event that started in an earlier chunk
    pending_bytes = 0,
    pending_last_lf = false, -- the text so far ends with a line end: a leading "\n" in the next chunk ends the event
    oversize = false, -- the current event grew beyond max_event_bytes: skip it up to its end
    skip_lf = false, -- the previous chunk ended with CR: a leading LF belongs to that line end
    done = false, -- [DONE] seen: later events are ignored
    data = {}, -- data lines of the event being read
    data_bytes = 0,
    last_usage = nil,
    last_model = nil,
  }, SseParser)
end

-- Only events that carry a usage object are decoded: cheap pre-check, then cjson.
local function sse_data(self, data)
  if data == '[DONE]' then
    self.done = true
    return
  end
  if not find(data, '"usage"%s*:%s*{') then
    return
  end
  local event = cjson.decode(data)
  if type(event) ~= 'table' then
    return
  end
  local raw, model = event.usage, event.model
  local response = event.response
  if raw == nil and type(response) == 'table' then
    -- Responses API: usage only in `response.usage` of response.completed (also .incomplete/.failed)
    raw, model = response.usage, response.model
  end
  local found = _M.normalize(raw)
  if found then
    self.last_usage = found
    self.last_model = model_name(model) or self.last_model
  end
end

local function dispatch(self)
  if #self.data > 0 then
    sse_data(self, concat(self.data, '\n'))
  end
  self.data, self.data_bytes = {}, 0
end

local function sse_line(self, line)
  if line == '' then
    return dispatch(self)
  end
  if byte(line, 1) == 58 then -- ':' starts a comment
    return
  end
  local field, value = line, ''
  local colon = find(line, ':', 1, true)
  if colon then
    field = sub(line, 1, colon - 1)
    value = sub(line, colon + (byte(line, colon + 1) == 32 and 2 or 1))
  end
  if field == 'data' then -- event, id and retry do not matter for usage
    self.data[#self.data + 1] = value
  end
end

-- `text`: the lines of one event (possibly preceded by empty lines), without the blank line that ends it.
local function sse_event(self, text)
  local pos = 1
  while not self.done do
    local eol = find(text, '\n', pos, true)
    sse_line(self, sub(text, pos, (eol or 0) - 1))
    if not eol then
      break
    end
    pos = eol + 1
  end
  dispatch(self)
end

local function keep_pending(self, piece)
  self.pending_last_lf = byte(piece, -1) == 10
  if self.oversize then
    return
  end
  if self.pending_bytes + #piece > self.max_event_bytes then
    self.oversize, self.pending, self.pending_bytes = true, {}, 0
    return
  end
  self.pending[#self.pending + 1] = piece
  self.pending_bytes = self.pending_bytes + #piece
end

local function take_pending(self, tail)
  local oversize = self.oversize
  local text = not oversize and concat(self.pending) .. tail
  self.pending, self.pending_bytes, self.pending_last_lf, self.oversize = {}, 0, false, false
  if text and #text <= self.max_event_bytes then
    sse_event(self, text)
  end
end

-- SSE allows CRLF, LF and CR line ends; turn them all into LF (a CRLF may be split between chunks).
local function normalize_line_ends(self, chunk)
  if self.skip_lf then
    self.skip_lf = false
    if byte(chunk, 1) == 10 then
      chunk = sub(chunk, 2)
    end
  end
  if not find(chunk, '\r', 1, true) then
    return chunk
  end
  self.skip_lf = byte(chunk, -1) == 13
  return (gsub(gsub(chunk, '\r\n', '\n'), '\r', '\n'))
end

--- Feeds any slice of the stream (any byte boundaries; LF, CRLF or CR line ends).
function SseParser:feed(chunk)
  if self.done or type(chunk) ~= 'string' or chunk == '' then
    return
  end
  chunk = normalize_line_ends(self, chunk)
  local len = #chunk
  if len == 0 then
    return
  end
  local pos = 1
  if self.pending_bytes > 0 or self.oversize then
    if self.pending_last_lf and byte(chunk, 1) == 10 then
      take_pending(self, '')
      pos = 2
    else
      local blank = find(chunk, '\n\n', 1, true)
      if not blank then
        return keep_pending(self, chunk)
      end
      take_pending(self, sub(chunk, 1, blank - 1))
      pos = blank + 2
    end
  end
  local next_usage, next_done = 0, 0
  while pos <= len and not self.done do
    local blank = find(chunk, '\n\n', pos, true)
    if not blank then
      return keep_pending(self, sub(chunk, pos))
    end
    if next_usage and next_usage < pos then
      next_usage = find(chunk, '"usage"', pos, true)
    end
    if next_done and next_done < pos then
      next_done = find(chunk, '[DONE]', pos, true)
    end
    local relevant = (next_usage and next_usage < blank) or (next_done and next_done < blank)
    if relevant and blank - pos <= self.max_event_bytes then
      sse_event(self, sub(chunk, pos, blank - 1))
    end
    pos = blank + 2
  end
end

--- The last usage seen in the stream, or nil.
function SseParser:usage()
  return self.last_usage
end

--- The model named by the event that carried the last usage, or nil.
function SseParser:model()
  return self.last_model
end

---------------------------------------------------------------------------------------------------------------------
-- Incremental JSON scanner: finds the top-level "usage" and "model" members without holding the body
---------------------------------------------------------------------------------------------------------------------

local JsonScanner = {}
JsonScanner.__index = JsonScanner

-- What the string being read is kept for: a top-level member name, or the value of the top-level "model".
local SINK_KEY, SINK_MODEL = 1, 2

function _M.new_json_scanner(max_bytes)
  return setmetatable({
    max_bytes = max_bytes or 1024 * 1024,
    seen = 0,
    failed = false, -- not a JSON object, too large, or garbage after it
    started = false,
    finished = false,
    depth = 0,
    in_string = false,
    escaped = false, -- the previous chunk ended inside a string with the backslash of an escape
    expect_key = false, -- depth 1: the next string is a member name
    last_key = nil, -- the latest top-level member name
    value_of = nil, -- member name whose value starts next ("usage" or "model" matter)
    sink = nil, -- SINK_KEY or SINK_MODEL while such a string is read
    sink_parts = nil, -- earlier chunks' pieces of that string (only when it spans chunks)
    capturing = false, -- the top-level "usage" object is being read
    capture = nil, -- its pieces from earlier chunks (only when it spans chunks)
    capture_bytes = 0,
    usage_raw = nil,
    usage_key_seen = false, -- a top-level "usage" member name was read
    model_raw = nil,
  }, JsonScanner)
end

-- Index of the first byte from `pos` that is not JSON whitespace, or nil. A byte loop: LuaJIT compiles it, not '%S'.
local function non_space(text, pos, len)
  for i = pos, len do
    local c = byte(text, i)
    if c ~= 32 and c ~= 10 and c ~= 13 and c ~= 9 then
      return i
    end
  end
  return nil
end

-- True when an odd number of backslashes precede index `at` (not looking before `from`): the character at `at`
-- is escaped.
local function odd_backslashes_before(text, at, from)
  local i = at - 1
  while i >= from and byte(text, i) == 92 do
    i = i - 1
  end
  return (at - 1 - i) % 2 == 1
end

-- Index of the quote that closes a string whose content continues at `pos`, or nil when it is not in `text`.
-- Plain searches for '"' skip string content in bulk; escapes are told apart by counting the backslashes before a
-- quote.
local function string_end_at(text, pos)
  local quote = find(text, '"', pos, true)
  while quote and odd_backslashes_before(text, quote, pos) do
    quote = find(text, '"', quote + 1, true)
  end
  return quote
end

-- The whole text of the string that ends at `stop` (exclusive) in `chunk` and started at `from` or earlier.
local function sink_text(self, chunk, from, stop)
  local text = sub(chunk, from, stop - 1)
  local parts = self.sink_parts
  if parts then
    parts[#parts + 1] = text
    text = concat(parts)
    self.sink_parts = nil
  end
  return text
end

-- One pass over a chunk with the hot state in locals. Strings are skipped with plain searches; outside strings a
-- byte loop looks at structure only, which in JSON comes in short runs. Only top-level member names, the top-level
-- "model" value and the top-level "usage" object are copied.
local function scan(self, chunk)
  local len = #chunk
  local pos = 1
  if not self.started then
    pos = non_space(chunk, 1, len)
    if not pos then
      return
    end
    if byte(chunk, pos) ~= 123 then
      self.failed = true
      return
    end
    self.started = true
  end
  if self.finished then
    if non_space(chunk, 1, len) then
      self.failed = true
    end
    return
  end
  local depth, in_string, expect_key, value_of = self.depth, self.in_string, self.expect_key, self.value_of
  local sink, sink_from = self.sink, 1
  local capturing, capture_from = self.capturing, 1 -- where the usage object starts in this chunk
  while pos <= len do
    if in_string then
      local search = pos
      if self.escaped then
        self.escaped, search = false, pos + 1
      end
      local stop = string_end_at(chunk, search)
      if not stop then
        self.escaped = odd_backslashes_before(chunk, len + 1, search)
        break
      end
      in_string = false
      if sink == SINK_KEY then
        -- Only "usage" and "model" matter, both 5 bytes long: other names are not copied.
        if self.sink_parts or stop - sink_from == 5 then
          self.last_key = sink_text(self, chunk, sink_from, stop)
          if self.last_key == 'usage' then
            self.usage_key_seen = true -- even when its value turns out not to be an object
          end
        else
          self.last_key = nil
        end
      elseif sink == SINK_MODEL then
        local raw = sink_text(self, chunk, sink_from, stop)
        if #raw <= MAX_MODEL_BYTES * 6 then
          self.model_raw = raw
        end
      end
      sink = nil
      pos = stop + 1
    else
      local c = byte(chunk, pos)
      if c == 34 then -- '"'
        in_string = true
        if depth == 1 then
          if expect_key then
            sink, sink_from, expect_key = SINK_KEY, pos + 1, false
          elseif value_of == 'model' then
            sink, sink_from = SINK_MODEL, pos + 1
          end
        end
        value_of = nil
      elseif c == 123 or c == 91 then -- '{' or '['
        if depth == 1 and c == 123 and value_of == 'usage' then
          capturing, capture_from, self.capture, self.capture_bytes = true, pos, nil, 0
        end
        value_of = nil
        depth = depth + 1
        expect_key = depth == 1
      elseif c == 125 or c == 93 then -- '}' or ']'
        depth = depth - 1
        value_of = nil
        if depth == 1 and capturing then
          capturing = false
          local raw = sub(chunk, capture_from, pos)
          local parts = self.capture
          if parts then
            parts[#parts + 1] = raw
            raw, self.capture = concat(parts), nil
          end
          if #raw <= MAX_USAGE_OBJECT_BYTES then
            self.usage_raw = raw
          end
        elseif depth == 0 then
          self.finished = true
          if non_space(chunk, pos + 1, len) then
            self.failed = true
          end
          return
        end
      elseif depth == 1 then
        if c == 44 then -- ','
          expect_key, value_of = true, nil
        elseif c == 58 then -- ':'
          value_of = self.last_key
        end
      end
      pos = pos + 1
    end
  end
  -- The chunk ends inside a string or the usage object: keep what later chunks complete.
  if in_string and sink then
    local parts = self.sink_parts or {}
    parts[#parts + 1] = sub(chunk, sink_from)
    self.sink_parts = parts
  end
  if capturing then
    local bytes = self.capture_bytes + len - capture_from + 1
    if bytes > MAX_USAGE_OBJECT_BYTES then
      capturing, self.capture = false, nil -- not a usage object anyone sends; ignore it
    else
      local parts = self.capture or {}
      parts[#parts + 1] = sub(chunk, capture_from)
      self.capture, self.capture_bytes = parts, bytes
    end
  end
  self.capturing = capturing
  self.depth, self.in_string, self.expect_key, self.value_of, self.sink = depth, in_string, expect_key, value_of, sink
end

--- Feeds the next slice of the response body.
function JsonScanner:feed(chunk)
  if self.failed or type(chunk) ~= 'string' or chunk == '' then
    return
  end
  self.seen = self.seen + #chunk
  if self.seen > self.max_bytes then
    self.failed = true -- give up: release what was kept
    self.capture, self.sink_parts, self.usage_raw = nil, nil, nil
    return
  end
  scan(self, chunk)
end

--- The top-level usage of a complete JSON object body, or nil (incomplete, garbage, too large, or none).
function JsonScanner:usage()
  if self.failed or not self.finished or not self.usage_raw then
    return nil
  end
  return _M.normalize(cjson.decode(self.usage_raw))
end

--- The top-level "model" of a complete JSON object body, or nil.
function JsonScanner:model()
  local raw = self.model_raw
  if self.failed or not self.finished or not raw then
    return nil
  end
  if not find(raw, '\\', 1, true) then
    return model_name(raw) -- no escapes: the bytes are the name
  end
  return model_name(cjson.decode('"' .. raw .. '"'))
end

---------------------------------------------------------------------------------------------------------------------
-- Request rewriting
---------------------------------------------------------------------------------------------------------------------

-- Returns the first index after the JSON value that starts at `pos` of a document already validated by cjson.
local function skip_value(text, pos)
  local c = byte(text, pos)
  if c == 34 then
    local i = pos + 1
    while true do
      local stop = find(text, '["\\]', i)
      if byte(text, stop) == 92 then
        i = stop + 2
      else
        return stop + 1
      end
    end
  elseif c == 123 or c == 91 then
    local depth, i = 0, pos
    while true do
      local stop = find(text, '[{}%[%]"]', i)
      local s = byte(text, stop)
      if s == 34 then
        i = skip_value(text, stop)
      else
        depth = depth + ((s == 123 or s == 91) and 1 or -1)
        i = stop + 1
        if depth == 0 then
          return i
        end
      end
    end
  end
  return (find(text, '[%s,}%]]', pos)) or #text + 1
end

-- Start and end index of the value of the last top-level member `name` of a JSON object document.
local function member_span(text, name)
  local found_start, found_stop
  local pos = find(text, '{', 1, true) + 1
  while true do
    local key_start = find(text, '["}]', pos)
    if byte(text, key_start) == 125 then
      return found_start, found_stop
    end
    local key_stop = skip_value(text, key_start)
    local value_start = find(text, '%S', find(text, ':', key_stop, true) + 1)
    local value_stop = skip_value(text, value_start)
    if cjson.decode(sub(text, key_start, key_stop - 1)) == name then
      found_start, found_stop = value_start, value_stop - 1
    end
    pos = find(text, '[,}]', value_stop)
    if byte(text, pos) == 125 then
      return found_start, found_stop
    end
    pos = pos + 1
  end
end

local function decode_object(body)
  if type(body) ~= 'string' or not find(body, '^%s*{') then
    return nil
  end
  local decoded = cjson.decode(body)
  if type(decoded) ~= 'table' then
    return nil
  end
  return decoded
end

--- The request body decoded when it is a JSON object, else nil (arrays, scalars, garbage).
_M.decode_request = decode_object

--- The "model" of a JSON object request body when it is a usable name, else nil.
function _M.request_model(body)
  local request = decode_object(body)
  return request and model_name(request.model)
end

--- A usable model name (a non-empty string of at most 256 bytes), else nil.
_M.model_name = model_name

--- For a streamed request (`"stream": true`) makes sure `stream_options.include_usage` is true.
-- Returns the new body, or nil when the body needs no change or is not a JSON object (leave it untouched).
-- Only the `stream_options` member changes; every other byte of the body stays as the client sent it.
-- Second result: the request's "model" when it is a usable name. `request`: the body already decoded by
-- decode_request (optional; saves a second decode).
function _M.rewrite_request(body, request)
  if request == nil then
    request = decode_object(body)
  end
  if type(request) ~= 'table' or type(body) ~= 'string' then
    return nil, nil
  end
  local model = model_name(request.model)
  if request.stream ~= true then
    return nil, model
  end
  local options = request.stream_options
  if type(options) == 'table' and options.include_usage == true then
    return nil, model
  end
  if options ~= nil and options ~= cjson.null and (type(options) ~= 'table' or options[1] ~= nil) then
    return nil, model -- not an object: the model server rejects it anyway, do not guess
  end
  local replacement = { include_usage = true }
  if type(options) == 'table' then
    for k, v in pairs(options) do
      replacement[k] = v
    end
    replacement.include_usage = true
  end
  local encoded = cjson.encode(replacement)
  if options == nil then
    local open = find(body, '{', 1, true)
    return sub(body, 1, open) .. '"stream_options":' .. encoded .. ',' .. sub(body, open + 1), model
  end
  local start, stop = member_span(body, 'stream_options')
  return sub(body, 1, start - 1) .. encoded .. sub(body, stop + 1), model
end

return _M
