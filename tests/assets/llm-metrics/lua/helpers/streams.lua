--- Builders of realistic vLLM (OpenAI-compatible) responses for the specs, plus a seeded re-chunker.
local cjson = require('cjson')

local M = {}

-- Content with multi-byte UTF-8 (split mid-character by re-chunking) and decoys that look like usage.
M.PIECES = {
  'Hello', ' wörld', ' — ', '世界', ' 🚀', ' "usage": {"prompt_tokens": 999}', ' data: [DONE]', '\\n',
  ' {"total_tokens":1}', ' ok',
}

local function chunk_event(kind, model, i, piece, usage)
  local event = { id = 'cmpl-' .. kind, created = 1700000000, model = model }
  if kind == 'chat' then
    event.object = 'chat.completion.chunk'
    event.choices = { { index = 0, delta = { content = piece }, finish_reason = cjson.null } }
  else
    event.object = 'text_completion'
    event.choices = { { index = 0, text = piece, finish_reason = cjson.null } }
  end
  if usage then
    event.usage = usage
  end
  return cjson.encode(event)
end

--- A streamed response.
-- opts: kind ('chat'|'completions'), prompt (tokens), pieces (count), continuous (usage in every chunk),
-- eol ('\n'|'\r\n'|'\r'), comments (bool), multiline (split the final event over several data: lines),
-- junk_after_done (bool), model (string). Returns the body and the usage it must yield.
function M.sse(opts)
  local eol = opts.eol or '\n'
  local prompt, n, model = opts.prompt or 17, opts.pieces or 12, opts.model or 'granite-33-2b-instruct'
  local out = {}
  local function event(data)
    out[#out + 1] = 'data: ' .. data .. eol .. eol
  end
  if opts.comments then
    out[#out + 1] = ': keep-alive' .. eol .. eol
  end
  for i = 1, n do
    local usage = opts.continuous
        and { prompt_tokens = prompt, completion_tokens = i, total_tokens = prompt + i }
      or nil
    event(chunk_event(opts.kind or 'chat', model, i, M.PIECES[(i - 1) % #M.PIECES + 1], usage))
    if opts.comments and i % 3 == 0 then
      out[#out + 1] = ':' .. eol
    end
  end
  local final_usage = { prompt_tokens = prompt, completion_tokens = n, total_tokens = prompt + n }
  local final = cjson.encode({ id = 'cmpl-final', object = 'chat.completion.chunk', model = model, choices = {},
    usage = final_usage })
  if opts.multiline then
    local cut = final:find(',"usage"', 1, true)
    out[#out + 1] = 'event: message' .. eol .. 'data: ' .. final:sub(1, cut) .. eol .. 'data:' .. final:sub(cut + 1)
      .. eol .. eol
  else
    event(final)
  end
  event('[DONE]')
  if opts.junk_after_done then
    event('{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}')
    out[#out + 1] = 'not even sse \0 \255' .. eol
  end
  return table.concat(out), final_usage
end

--- A non-streamed chat completion with its usage first or last and decoys inside choices.
function M.json(opts)
  local usage = { prompt_tokens = opts.prompt or 11, completion_tokens = opts.completion or 22,
    total_tokens = (opts.prompt or 11) + (opts.completion or 22) }
  local decoy = '{"choices":[{"index":0,"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10},'
    .. '"message":{"role":"assistant","content":"say \\"usage\\": {\\"total_tokens\\": 7} \\\\\\" 世界 🚀"}}]'
  local usage_json = cjson.encode(usage)
  local body
  if opts.usage_first then
    body = '{"usage": ' .. usage_json .. ', "id":"chatcmpl-1","model":"granite",' .. decoy:sub(2) .. '}'
  else
    body = '{"id":"chatcmpl-1","object":"chat.completion","model":"granite",' .. decoy:sub(2)
      .. ',\n  "usage" : ' .. usage_json .. '}\n'
  end
  return body, usage
end

--- Splits `body` at random boundaries (1 byte up to max_size) using the given random function.
function M.rechunk(body, random, max_size)
  local chunks, pos = {}, 1
  while pos <= #body do
    local size = random(1, max_size)
    chunks[#chunks + 1] = body:sub(pos, pos + size - 1)
    pos = pos + size
  end
  return chunks
end

return M
