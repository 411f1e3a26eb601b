local usage = require('llm_metrics_usage')
local streams = require('helpers.streams')

-- Deterministic RNG (LCG) so every run re-chunks the same way, independent of math.random's implementation.
local function seeded(seed)
  local state = seed
  return function(lo, hi)
    state = (state * 1103515245 + 12345) % 2147483648
    return lo + state % (hi - lo + 1)
  end
end

local function feed_all(parser, chunks)
  for _, chunk in ipairs(chunks) do
    parser:feed(chunk)
  end
  return parser
end

describe('normalize', function()
  it('keeps non-negative integer counts and drops garbage', function()
    assert.same({ prompt_tokens = 3, completion_tokens = 4, total_tokens = 7 },
      usage.normalize({ prompt_tokens = 3, completion_tokens = 4, total_tokens = 7 }))
    assert.is_nil(usage.normalize({ prompt_tokens_details = { cached_tokens = 3 } }))
    assert.same({ prompt_tokens = 3 }, usage.normalize({ prompt_tokens = 3, completion_tokens = -1, total_tokens = 'x' }))
    assert.same({ prompt_tokens = 2, completion_tokens = 5, total_tokens = 7 },
      usage.normalize({ prompt_tokens = 2, completion_tokens = 5 }))
    assert.same({ prompt_tokens = 9, total_tokens = 9 }, usage.normalize({ prompt_tokens = 9, total_tokens = 9 }))
    assert.is_nil(usage.normalize({ prompt_tokens = 1.5, completion_tokens = 2 ^ 60 }))
    assert.is_nil(usage.normalize('usage'))
    assert.is_nil(usage.normalize({}))
  end)
end)

describe('SSE parser', function()
  local variants = {}
  for _, kind in ipairs({ 'chat', 'completions' }) do
    for _, continuous in ipairs({ false, true }) do
      for _, eol in ipairs({ '\n', '\r\n', '\r' }) do
        variants[#variants + 1] = { kind = kind, continuous = continuous, eol = eol, comments = true,
          multiline = eol ~= '\r', junk_after_done = true, pieces = 20, prompt = 31 }
      end
    end
  end

  it('gives the same usage for 1200 random re-chunkings of realistic streams', function()
    local random = seeded(20240611)
    local runs = 0
    for round = 1, 100 do
      for _, opts in ipairs(variants) do
        local body, expected = streams.sse(opts)
        local max_size = (round % 4 == 0) and 3 or (round % 4 == 1 and 40 or 700)
        local parser = feed_all(usage.new_sse_parser(), streams.rechunk(body, random, max_size))
        assert.same(expected, parser:usage())
        assert.equal('granite-33-2b-instruct', parser:model())
        runs = runs + 1
      end
    end
    assert.equal(1200, runs)
  end)

  it('reads a whole stream fed as one chunk and byte by byte', function()
    local body, expected = streams.sse({ kind = 'chat', continuous = true, eol = '\r\n', comments = true })
    assert.same(expected, feed_all(usage.new_sse_parser(), { body }):usage())
    local bytes = {}
    for i = 1, #body do
      bytes[i] = body:sub(i, i)
    end
    assert.same(expected, feed_all(usage.new_sse_parser(), bytes):usage())
  end)

  it('keeps the last usage seen', function()
    local parser = usage.new_sse_parser()
    parser:feed('data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n')
    parser:feed('data: {"usage":{"prompt_tokens":1,"completion_tokens":5,"total_tokens":6}}\n\n')
    assert.same({ prompt_tokens = 1, completion_tokens = 5, total_tokens = 6 }, parser:usage())
  end)

  it('ignores events after [DONE]', function()
    local parser = usage.new_sse_parser()
    parser:feed('data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\ndata: [DONE]\n\n')
    parser:feed('data: {"usage":{"prompt_tokens":100,"completion_tokens":100,"total_tokens":200}}\n\n')
    assert.same({ prompt_tokens = 1, completion_tokens = 1, total_tokens = 2 }, parser:usage())
  end)

  it('dispatches an event only at its blank line', function()
    local parser = usage.new_sse_parser()
    parser:feed('data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n')
    assert.is_nil(parser:usage())
    parser:feed('\n')
    assert.same({ prompt_tokens = 1, completion_tokens = 1, total_tokens = 2 }, parser:usage())
  end)

  it('returns nil without usage, for usage null, comments only, and non-JSON data', function()
    local body = streams.sse({ kind = 'chat', pieces = 3 })
    local without = body:gsub(',?"usage":{[^}]*}', '')
    assert.is_nil(feed_all(usage.new_sse_parser(), { without }):usage())
    assert.is_nil(feed_all(usage.new_sse_parser(), { 'data: {"usage":null}\n\n: c\n\n' }):usage())
    assert.is_nil(feed_all(usage.new_sse_parser(), { 'data: {"usage": {oops}\n\ndata: ]]\n\n' }):usage())
    assert.is_nil(feed_all(usage.new_sse_parser(), { '' }):usage())
  end)

  it('reports only what is present and valid', function()
    local parser = usage.new_sse_parser()
    parser:feed('data: {"usage":{"prompt_tokens":4,"completion_tokens":-2,"total_tokens":"9"}}\n\n')
    assert.same({ prompt_tokens = 4 }, parser:usage())
  end)

  it('drops an oversize event, keeps memory bounded, and recovers for the next event', function()
    local parser = usage.new_sse_parser(1024)
    local huge = string.rep('x', 4096)
    parser:feed('data: {"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18},"pad":"')
    for _ = 1, 64 do
      parser:feed(huge)
      assert.is_true(parser.pending_bytes <= 1024)
    end
    parser:feed('"}\n\n')
    assert.is_nil(parser:usage())
    parser:feed('data: {"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n')
    assert.same({ prompt_tokens = 1, completion_tokens = 2, total_tokens = 3 }, parser:usage())
    -- many data lines that together exceed the cap
    for _ = 1, 10 do
      parser:feed('data: ' .. string.rep('y', 200) .. '\n')
    end
    parser:feed('data: {"usage":{"prompt_tokens":50,"completion_tokens":50,"total_tokens":100}}\n\n')
    assert.same({ prompt_tokens = 1, completion_tokens = 2, total_tokens = 3 }, parser:usage())
  end)
end)

describe('JSON scanner', function()
  local expected_usage = { prompt_tokens = 11, completion_tokens = 22, total_tokens = 33 }

  it('finds the top-level usage first or last, not decoys in choices or strings', function()
    for _, first in ipairs({ true, false }) do
      local body, expected = streams.json({ usage_first = first })
      local scanner = feed_all(usage.new_json_scanner(1024 * 1024), { body })
      assert.same(expected, scanner:usage())
      assert.equal('granite', scanner:model())
    end
  end)

  it('gives the same result for 300 random re-chunkings', function()
    local random = seeded(7)
    for round = 1, 300 do
      local body = streams.json({ usage_first = round % 2 == 0 })
      local scanner = feed_all(usage.new_json_scanner(4096), streams.rechunk(body, random, round % 3 == 0 and 2 or 50))
      assert.same(expected_usage, scanner:usage())
      assert.equal('granite', scanner:model())
    end
  end)

  it('handles escaped quotes and backslashes around member names', function()
    local body = '{"a":"\\\\","b":"\\"usage\\":{\\"total_tokens\\":1}","usage":{"prompt_tokens":1,"total_tokens":1}}'
    assert.same({ prompt_tokens = 1, total_tokens = 1 }, feed_all(usage.new_json_scanner(4096), { body }):usage())
    local escaped_model = '{"model":"gr\\"an\\u00efte","usage":{"completion_tokens":2}}'
    local scanner = feed_all(usage.new_json_scanner(4096), { escaped_model })
    assert.same({ completion_tokens = 2 }, scanner:usage())
    assert.equal('gr"anïte', scanner:model())
  end)

  it('ignores a usage nested deeper than the top level', function()
    local body = '{"data":{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}},"x":[{"usage":{}}]}'
    assert.is_nil(feed_all(usage.new_json_scanner(4096), { body }):usage())
  end)

  it('uses the last top-level usage like a JSON decoder does', function()
    local body = '{"usage":{"total_tokens":1},"usage":{"total_tokens":2}}'
    assert.same({ total_tokens = 2 }, feed_all(usage.new_json_scanner(4096), { body }):usage())
  end)

  it('ignores a usage object larger than 64 KiB, whole or spread over chunks, and keeps nothing of it', function()
    local padding = string.rep('x', 70 * 1024)
    local body = '{"model":"m","usage":{"pad":"' .. padding .. '","prompt_tokens":1},"id":"a"}'
    local whole = feed_all(usage.new_json_scanner(), { body })
    assert.is_nil(whole:usage())
    local pieces = {}
    for i = 1, #body, 1000 do
      pieces[#pieces + 1] = body:sub(i, i + 999)
    end
    local chunked = feed_all(usage.new_json_scanner(), pieces)
    assert.is_nil(chunked:usage())
    assert.is_nil(chunked.capture)
    assert.equal('m', chunked:model())
  end)

  it('gives up beyond max_bytes without error', function()
    local body = streams.json({})
    local scanner = usage.new_json_scanner(#body - 1)
    assert.has_no.errors(function()
      feed_all(scanner, streams.rechunk(body, seeded(3), 30))
    end)
    assert.is_nil(scanner:usage())
    assert.same(expected_usage, feed_all(usage.new_json_scanner(#body), { body }):usage())
  end)

  it('returns nil for garbage, empty, truncated, arrays and trailing garbage', function()
    local body = streams.json({})
    local cases = { '', '   ', 'not json', '<html>500</html>', '[{"usage":{"total_tokens":1}}]', body:sub(1, -4),
      body .. 'x', body .. '{}', '"usage"', '{"usage":5}', '{"usage":null}', '{"usage":{"total_tokens":1}' }
    for _, case in ipairs(cases) do
      assert.is_nil(feed_all(usage.new_json_scanner(4096), { case }):usage(), case)
    end
    assert.same(expected_usage, feed_all(usage.new_json_scanner(4096), { ' \n' .. body .. ' \r\n\t' }):usage())
  end)
end)

describe('rewrite_request', function()
  local cjson = require('cjson')

  it('returns nil (body untouched) when no change is needed', function()
    local cases = {
      '{"model":"m","stream":false,"messages":[]}',
      '{"model":"m","messages":[]}',
      '{"model":"m","stream":true,"stream_options":{"include_usage":true}}',
      '{"stream":"true"}',
      'not json',
      '',
      '[1,2]',
      '"text"',
      '{"stream":true,"stream_options":"bad"}',
      '{"stream":true,"stream_options":[1]}',
    }
    for _, body in ipairs(cases) do
      assert.is_nil((usage.rewrite_request(body)), body)
    end
    assert.is_nil((usage.rewrite_request(nil)))
  end)

  it('adds stream_options when absent, keeping every other byte', function()
    local body = ' {"model":"m","temperature":0.12345678901234567,"stop":[],"stream":true,"x":"a/b"}'
    local rewritten, model = usage.rewrite_request(body)
    assert.equal(' {"stream_options":{"include_usage":true},"model":"m","temperature":0.12345678901234567,'
      .. '"stop":[],"stream":true,"x":"a/b"}', rewritten)
    assert.equal('m', model)
  end)

  it('turns include_usage false into true and keeps continuous_usage_stats', function()
    local body = '{"stream":true,"stream_options":{"include_usage":false,"continuous_usage_stats":true},"n":[]}'
    local rewritten = usage.rewrite_request(body)
    local decoded = cjson.decode(rewritten)
    assert.same({ include_usage = true, continuous_usage_stats = true }, decoded.stream_options)
    assert.truthy(rewritten:find('"n":[]', 1, true))
    assert.equal('{"stream":true,"stream_options":', rewritten:sub(1, 32))
  end)

  it('replaces stream_options null and the last duplicate member', function()
    local rewritten = usage.rewrite_request('{"stream":true,"stream_options":null,"m":"x"}')
    assert.equal('{"stream":true,"stream_options":{"include_usage":true},"m":"x"}', rewritten)
    local dup = usage.rewrite_request('{"stream_options":{"a":1},"s":"}","stream":true,"stream_options":{}}')
    assert.equal('{"stream_options":{"a":1},"s":"}","stream":true,"stream_options":{"include_usage":true}}', dup)
  end)

  it('returns the request model even when nothing changes', function()
    local rewritten, model = usage.rewrite_request('{"model":"granite","stream":false}')
    assert.is_nil(rewritten)
    assert.equal('granite', model)
  end)
end)

describe('SSE parser edge cases', function()
  it('treats extra blank lines, a usage event split over chunks and CR-only line ends alike', function()
    local u = '{"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}'
    for _, chunks in ipairs({
      { 'data: {"a":1}\n\n\n\n', 'data: ' .. u .. '\n\n' },
      { 'data: {"a":1}\n\n\n', '\ndata: ' .. u:sub(1, 9), u:sub(10) .. '\n', '\n' },
      { 'data: ' .. u .. '\r', '\r' },
      { 'data: ' .. u .. '\r', '\n\r', '\n' },
    }) do
      assert.same({ prompt_tokens = 2, completion_tokens = 3, total_tokens = 5 },
        feed_all(usage.new_sse_parser(), chunks):usage())
    end
  end)
end)

describe('vLLM endpoints (bodies as vLLM 0.11.0 serialises them)', function()
  local vllm = require('helpers.vllm')
  local random = seeded(99)

  -- Each body fed whole, then re-chunked at random boundaries 50 times.
  local function each_chunking(body, check)
    check({ body })
    for _ = 1, 50 do
      check(streams.rechunk(body, random, 23))
    end
  end

  local function json(body)
    local result
    each_chunking(body, function(chunks)
      local scanner = feed_all(usage.new_json_scanner(1024 * 1024), chunks)
      result = result or { usage = scanner:usage(), model = scanner:model() }
      assert.same(result, { usage = scanner:usage(), model = scanner:model() })
    end)
    return result.usage, result.model
  end

  local function sse(body)
    local result
    each_chunking(body, function(chunks)
      local parser = feed_all(usage.new_sse_parser(), chunks)
      result = result or { usage = parser:usage(), model = parser:model() }
      assert.same(result, { usage = parser:usage(), model = parser:model() })
    end)
    return result.usage, result.model
  end

  it('POST /v1/chat/completions, JSON and streamed, with and without prefix-cached tokens', function()
    assert.same({ { prompt_tokens = 11, completion_tokens = 7, total_tokens = 18 }, 'm1' }, { json(vllm.chat) })
    assert.same({ prompt_tokens = 11, completion_tokens = 7, total_tokens = 18, cached_prompt_tokens = 8 },
      (json(vllm.chat_cached)))
    assert.same({ { prompt_tokens = 11, completion_tokens = 7, total_tokens = 18 }, 'm1' }, { sse(vllm.chat_stream) })
    assert.same({ prompt_tokens = 11, completion_tokens = 7, total_tokens = 18, cached_prompt_tokens = 8 },
      (sse(vllm.chat_stream_cached)))
  end)

  it('POST /v1/completions, JSON and streamed ("usage":null on every chunk)', function()
    assert.same({ prompt_tokens = 5, completion_tokens = 16, total_tokens = 21 }, (json(vllm.completion)))
    assert.same({ prompt_tokens = 5, completion_tokens = 16, total_tokens = 21 }, (sse(vllm.completion_stream)))
  end)

  it('POST /v1/embeddings, /pooling, /score, /classify: prompt tokens, completion 0', function()
    assert.same({ prompt_tokens = 6, completion_tokens = 0, total_tokens = 6 }, (json(vllm.embeddings)))
    assert.same({ prompt_tokens = 6, completion_tokens = 0, total_tokens = 6 }, (json(vllm.pooling)))
    assert.same({ prompt_tokens = 24, completion_tokens = 0, total_tokens = 24 }, (json(vllm.score)))
    assert.same({ prompt_tokens = 7, completion_tokens = 0, total_tokens = 7 }, (json(vllm.classify)))
  end)

  it('POST /rerank: {"total_tokens":N} only', function()
    assert.same({ total_tokens = 30 }, (json(vllm.rerank)))
  end)

  it('POST /tokenize, /detokenize and errors: no usage, a complete JSON object', function()
    for _, body in ipairs({ vllm.tokenize, vllm.detokenize, vllm.error }) do
      local scanner = feed_all(usage.new_json_scanner(4096), { body })
      assert.is_nil(scanner:usage())
      assert.is_true(scanner.finished)
      assert.is_false(scanner.failed)
      assert.is_false(scanner.usage_key_seen)
    end
  end)

  it('POST /v1/responses: input/output tokens with cached and reasoning details', function()
    local expected = { prompt_tokens = 11, completion_tokens = 7, total_tokens = 18, cached_prompt_tokens = 0,
      reasoning_tokens = 0 }
    assert.same({ expected, 'm1' }, { json(vllm.responses) })
    -- streamed: usage only in response.completed -> response.usage, never at the top level; no [DONE]
    assert.same({ expected, 'm1' }, { sse(vllm.responses_stream()) })
    assert.same({ prompt_tokens = 40, completion_tokens = 25, total_tokens = 65, cached_prompt_tokens = 32,
      reasoning_tokens = 19 }, (sse(vllm.responses_stream(vllm.response_usage_reasoning))))
  end)

  it('ignores response.created and deltas of a Responses stream (usage null)', function()
    local body = vllm.responses_stream()
    local without_completed = body:sub(1, body:find('event: response.completed', 1, true) - 1)
    assert.is_nil(feed_all(usage.new_sse_parser(), { without_completed }):usage())
  end)
end)

describe('normalize details', function()
  it('keeps details only when they are part of the count they belong to', function()
    assert.same({ prompt_tokens = 5, completion_tokens = 3, total_tokens = 8, cached_prompt_tokens = 5,
      reasoning_tokens = 3 }, usage.normalize({ prompt_tokens = 5, completion_tokens = 3,
      prompt_tokens_details = { cached_tokens = 5 }, completion_tokens_details = { reasoning_tokens = 3 } }))
    assert.same({ prompt_tokens = 5, completion_tokens = 3, total_tokens = 8 }, usage.normalize({ prompt_tokens = 5,
      completion_tokens = 3, prompt_tokens_details = { cached_tokens = 6 },
      completion_tokens_details = { reasoning_tokens = -1 } }))
    assert.same({ prompt_tokens = 9, total_tokens = 9, cached_prompt_tokens = 4 },
      usage.normalize({ input_tokens = 9, total_tokens = 9, input_tokens_details = { cached_tokens = 4 } }))
    -- chat/completions names win over Responses API names when both are present
    assert.same({ prompt_tokens = 1, completion_tokens = 2, total_tokens = 3 },
      usage.normalize({ prompt_tokens = 1, input_tokens = 100, completion_tokens = 2, output_tokens = 200 }))
  end)
end)

describe('decode_request and rewrite_request with a decoded body', function()
  it('rewrites from the decoded table without decoding again', function()
    local body = '{"model":"m","stream":true}'
    local decoded = usage.decode_request(body)
    assert.same({ model = 'm', stream = true }, decoded)
    local rewritten, model = usage.rewrite_request(body, decoded)
    assert.equal('{"stream_options":{"include_usage":true},"model":"m","stream":true}', rewritten)
    assert.equal('m', model)
    assert.is_nil(usage.decode_request('[1]'))
    assert.is_nil(usage.decode_request('nope'))
  end)
end)
