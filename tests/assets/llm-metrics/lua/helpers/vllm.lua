--- Response bodies as vLLM 0.11.0 serialises them, byte for byte (ids, timestamps and counts made up).
-- They were produced by executing vLLM's own pydantic classes (vllm/entrypoints/openai/protocol.py of the 0.11.0
-- wheel: UsageInfo L147-151, PromptTokenUsageInfo L143-144, RerankUsage L1629-1630, ResponseUsage L1934-1948) with the
-- serialisers vLLM calls: `JSONResponse(content=model.model_dump())` for non-streamed bodies (api_server.py), chat
-- chunks `model_dump_json(exclude_unset=True)` (serving_chat.py L619, final usage chunk L1112-1113 with
-- exclude_none), completion chunks `exclude_unset=False` (serving_completion.py L460, every chunk has "usage":null),
-- Responses API events `event: <type>\ndata: <json>\n\n` without [DONE] (api_server.py L481-490).
local M = {}

M.chat = '{"id":"chatcmpl-8d1f0c1e","object":"chat.completion","created":1760000000,"model":"m1","choices":[{"index":0,'
  .. '"message":{"role":"assistant","content":"Hello there!","refusal":null,"annotations":null,"audio":null,'
  .. '"function_call":null,"tool_calls":[],"reasoning_content":null},"logprobs":null,"finish_reason":"stop",'
  .. '"stop_reason":null,"token_ids":null}],"service_tier":null,"system_fingerprint":null,"usage":{"prompt_tokens":11,'
  .. '"total_tokens":18,"completion_tokens":7,"prompt_tokens_details":null},"prompt_logprobs":null,'
  .. '"prompt_token_ids":null,"kv_transfer_params":null}'

-- --enable-prompt-tokens-details with 8 prefix-cached tokens
M.chat_cached = M.chat:gsub('"prompt_tokens_details":null', '"prompt_tokens_details":{"cached_tokens":8}')

M.chat_stream = table.concat({
  'data: {"id":"chatcmpl-8d1f0c1e","object":"chat.completion.chunk","created":1760000000,"model":"m1","choices":'
    .. '[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],'
    .. '"prompt_token_ids":null}\n\n',
  'data: {"id":"chatcmpl-8d1f0c1e","object":"chat.completion.chunk","created":1760000000,"model":"m1","choices":'
    .. '[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',
  'data: {"id":"chatcmpl-8d1f0c1e","object":"chat.completion.chunk","created":1760000000,"model":"m1","choices":'
    .. '[{"index":0,"delta":{"content":" there!"},"logprobs":null,"finish_reason":"stop","stop_reason":null,'
    .. '"token_ids":null}]}\n\n',
  'data: {"id":"chatcmpl-8d1f0c1e","object":"chat.completion.chunk","created":1760000000,"model":"m1","choices":[],'
    .. '"usage":{"prompt_tokens":11,"total_tokens":18,"completion_tokens":7}}\n\n',
  'data: [DONE]\n\n',
})

M.chat_stream_cached = M.chat_stream:gsub('"completion_tokens":7}}', '"completion_tokens":7,'
  .. '"prompt_tokens_details":{"cached_tokens":8}}}')

M.completion = '{"id":"cmpl-5b7e","object":"text_completion","created":1760000000,"model":"m1","choices":[{"index":0,'
  .. '"text":" world","logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null,'
  .. '"prompt_logprobs":null,"prompt_token_ids":null}],"service_tier":null,"system_fingerprint":null,'
  .. '"usage":{"prompt_tokens":5,"total_tokens":21,"completion_tokens":16,"prompt_tokens_details":null},'
  .. '"kv_transfer_params":null}'

M.completion_stream = table.concat({
  'data: {"id":"cmpl-5b7e","object":"text_completion","created":1760000000,"model":"m1","choices":[{"index":0,'
    .. '"text":" world","logprobs":null,"finish_reason":null,"stop_reason":null,"prompt_token_ids":null,'
    .. '"token_ids":null}],"usage":null}\n\n',
  'data: {"id":"cmpl-5b7e","object":"text_completion","created":1760000000,"model":"m1","choices":[{"index":0,'
    .. '"text":"!","logprobs":null,"finish_reason":"length","stop_reason":null,"prompt_token_ids":null,'
    .. '"token_ids":null}],"usage":null}\n\n',
  'data: {"id":"cmpl-5b7e","object":"text_completion","created":1760000000,"model":"m1","choices":[],'
    .. '"usage":{"prompt_tokens":5,"total_tokens":21,"completion_tokens":16}}\n\n',
  'data: [DONE]\n\n',
})

M.embeddings = '{"id":"embd-1","object":"list","created":1760000000,"model":"e5","data":[{"index":0,'
  .. '"object":"embedding","embedding":[0.01,-0.02]}],"usage":{"prompt_tokens":6,"total_tokens":6,'
  .. '"completion_tokens":0,"prompt_tokens_details":null}}'

M.pooling = '{"id":"pool-1","object":"list","created":1760000000,"model":"m","data":[{"index":0,"object":"pooling",'
  .. '"data":[0.1,0.2]}],"usage":{"prompt_tokens":6,"total_tokens":6,"completion_tokens":0,'
  .. '"prompt_tokens_details":null}}'

M.score = '{"id":"score-1","object":"list","created":1760000000,"model":"rr","data":[{"index":0,"object":"score",'
  .. '"score":0.93}],"usage":{"prompt_tokens":24,"total_tokens":24,"completion_tokens":0,"prompt_tokens_details":null}}'

M.classify = '{"id":"classify-1","object":"list","created":1760000000,"model":"c","data":[{"index":0,'
  .. '"label":"positive","probs":[0.1,0.9],"num_classes":2}],"usage":{"prompt_tokens":7,"total_tokens":7,'
  .. '"completion_tokens":0,"prompt_tokens_details":null}}'

M.rerank = '{"id":"rerank-1","model":"rr","usage":{"total_tokens":30},"results":[{"index":1,"document":{"text":"b",'
  .. '"multi_modal":null},"relevance_score":0.97},{"index":0,"document":{"text":"a","multi_modal":null},'
  .. '"relevance_score":0.12}]}'

M.tokenize = '{"count":3,"max_model_len":4096,"tokens":[9906,1917,0],"token_strs":null}'
M.detokenize = '{"prompt":"Hello world!"}'
M.error = '{"error":{"message":"...","type":"BadRequestError","param":null,"code":400}}'

local RESPONSE_USAGE = '{"input_tokens":11,"input_tokens_details":{"cached_tokens":0},"output_tokens":7,'
  .. '"output_tokens_details":{"reasoning_tokens":0,"tool_output_tokens":0},"total_tokens":18}'
M.response_usage = RESPONSE_USAGE

M.responses = '{"id":"resp_9f2c","created_at":1760000000,"incomplete_details":null,"instructions":null,'
  .. '"metadata":null,"model":"m1","object":"response","output":[{"id":"msg_1","content":[{"annotations":[],'
  .. '"text":"Hello there!","type":"output_text","logprobs":null}],"role":"assistant","status":"completed",'
  .. '"type":"message"}],"input_messages":null,"output_messages":null,"parallel_tool_calls":true,'
  .. '"temperature":0.7,"tool_choice":"auto","tools":[],"top_p":1.0,"background":false,"max_output_tokens":4085,'
  .. '"max_tool_calls":null,"previous_response_id":null,"prompt":null,"reasoning":null,"service_tier":"auto",'
  .. '"status":"completed","text":null,"top_logprobs":null,"truncation":"disabled","usage":' .. RESPONSE_USAGE
  .. ',"user":null}'

local function response_object(status, output, usage_json)
  return '{"id":"resp_9f2c","created_at":1760000000.0,"error":null,"incomplete_details":null,"instructions":null,'
    .. '"metadata":null,"model":"m1","object":"response","output":' .. output .. ',"parallel_tool_calls":true,'
    .. '"temperature":0.7,"tool_choice":"auto","tools":[],"top_p":1.0,"background":false,"conversation":null,'
    .. '"max_output_tokens":4085,"max_tool_calls":null,"previous_response_id":null,"prompt":null,'
    .. '"prompt_cache_key":null,"reasoning":null,"safety_identifier":null,"service_tier":"auto","status":"'
    .. status .. '","text":null,"top_logprobs":null,"truncation":"disabled","usage":' .. usage_json
    .. ',"user":null,"input_messages":null,"output_messages":null}'
end

--- A streamed Responses API answer: response.created, one delta, response.completed carrying `usage_json`.
function M.responses_stream(usage_json)
  return table.concat({
    'event: response.created\ndata: {"response":' .. response_object('in_progress', '[]', 'null')
      .. ',"sequence_number":0,"type":"response.created"}\n\n',
    'event: response.output_text.delta\ndata: {"content_index":0,"delta":"Hello","item_id":"msg_1","logprobs":[],'
      .. '"output_index":0,"sequence_number":4,"type":"response.output_text.delta"}\n\n',
    'event: response.completed\ndata: {"response":' .. response_object('completed', '[{"id":"msg_1","content":'
      .. '[{"annotations":[],"text":"Hello there!","type":"output_text","logprobs":null}],"role":"assistant",'
      .. '"status":"completed","type":"message"}]', usage_json or RESPONSE_USAGE)
      .. ',"sequence_number":9,"type":"response.completed"}\n\n',
  })
end

--- ResponseUsage of a reasoning model (gpt-oss through the harmony path counts reasoning tokens).
M.response_usage_reasoning = '{"input_tokens":40,"input_tokens_details":{"cached_tokens":32},"output_tokens":25,'
  .. '"output_tokens_details":{"reasoning_tokens":19,"tool_output_tokens":0},"total_tokens":65}'

return M
