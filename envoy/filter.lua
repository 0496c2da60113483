-- Shapes REST responses after the gRPC-JSON transcoder (this filter is listed before the
-- transcoder, so on the way out it sees transcoded JSON). Native gRPC passes untouched.
--
-- The server says what REST should show in metadata (server/coordinator/api/rest.py):
--   x-http-status   HTTP status to answer with (201 Created, 422 validation error, ...)
--   x-error-body    the documented error body, already JSON: {"detail", "error": {...}}
-- Envoy's own plain-text replies (malformed JSON, unknown path, upstream down) are wrapped
-- into the same error shape. GET of a pool list answers the bare JSON array the pool document
-- shows; its next page token stays in the X-Next-Page-Token header.

local CODES = { [400] = "INVALID_ARGUMENT", [401] = "UNAUTHENTICATED", [403] = "PERMISSION_DENIED",
  [404] = "NOT_FOUND", [405] = "METHOD_NOT_ALLOWED", [409] = "ALREADY_EXISTS", [413] = "PAYLOAD_TOO_LARGE",
  [422] = "VALIDATION_ERROR", [429] = "RATE_LIMITED", [500] = "INTERNAL", [501] = "NOT_IMPLEMENTED",
  [503] = "UNAVAILABLE", [504] = "DEADLINE_EXCEEDED" }

-- GET path -> the repeated field holding the list
local BARE_LISTS = { ["/api/v1/workers"] = "workers", ["/api/v1/participants"] = "participants",
  ["/api/v1/payouts"] = "payouts" }

local ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESCAPES[c] or string.format('\\u%04x', c:byte()) end) .. '"'
end

local function error_body(code, message)
  local text = json_string(message)
  return '{"detail":' .. text .. ',"error":{"code":"' .. code .. '","message":' .. text .. ',"details":{}}}'
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local metadata = handle:streamInfo():dynamicMetadata()
  metadata:set("computepool", "path", (headers:get(":path") or ""):match("^[^?]*"))
  metadata:set("computepool", "method", headers:get(":method") or "")
end

function envoy_on_response(handle)
  local headers = handle:headers()
  if (headers:get("content-type") or ""):find("application/grpc", 1, true) == 1 then
    return
  end
  -- The transcoder copies the OK trailers of unary calls into the headers; REST has no use for them.
  for _, name in ipairs({ "grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-accept-encoding" }) do
    headers:remove(name)
  end
  local status = tonumber(headers:get(":status")) or 0

  if status >= 400 then
    local body = handle:body(true)
    local text = body:getBytes(0, body:length())
    headers = handle:headers() -- a handle taken before body() is dead afterwards
    local trailers = handle:trailers()
    local function take(name)
      local value = headers:get(name) or (trailers and trailers:get(name))
      headers:remove(name)
      if trailers then trailers:remove(name) end
      return value
    end
    local http_status, server_body = take("x-http-status"), take("x-error-body")
    if http_status then headers:replace(":status", http_status) end
    if not server_body then
      local message = text:match('"message":"(.-)"') or text:gsub("%s+$", "")
      server_body = error_body(CODES[tonumber(http_status) or status] or "ERROR", message)
    end
    body:setBytes(server_body)
    headers:replace("content-type", "application/json")
    return
  end

  local http_status = headers:get("x-http-status")
  if http_status then
    headers:remove("x-http-status")
    headers:replace(":status", http_status)
  end
  local request = handle:streamInfo():dynamicMetadata():get("computepool") or {}
  local list_field = request.method == "GET" and BARE_LISTS[request.path]
  if list_field and status == 200 then
    local body = handle:body(true)
    local array = body:getBytes(0, body:length()):match('^{"' .. list_field .. '":(%b[])')
    if array then body:setBytes(array) end
  end
end
