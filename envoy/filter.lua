-- Shapes REST responses after the gRPC-JSON transcoder (this filter is listed before the
-- transcoder, so on the way out it sees transcoded JSON). Native gRPC passes untouched.
--
-- The server says what REST should show in metadata (server/coordinator/api/rest.py):
--   x-http-status   HTTP status to answer with (201 Created, 422 validation error, ...)
--   x-error-body    the documented error body, already JSON: {"detail", "error": {...}}
--   retry-after     seconds to wait before retrying (an error with google.rpc.RetryInfo)
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

-- The field an Envoy refusal names, and what is wrong with it: a body field colliding with a path
-- binding, or a query parameter that is not of its field's type.
local NAMED_FIELD = {
  { "of the field ([%w_.]+) is conflicting", "the path names this field; the body may not set it to another value" },
  { "^([%w_.]+): invalid value", "is not a value of this field's type" },
}

local function named_field(message)
  for _, rule in ipairs(NAMED_FIELD) do
    local field = message:match(rule[1])
    if field then return { field, rule[2] } end
  end
end

-- `violation`, {field, description}, is reported like the server's own field violations.
local function error_body(code, message, violation)
  local text = json_string(message)
  local details = "{}"
  if violation then
    local field = json_string(violation[1])
    details = '{"field":' .. field .. ',"field_violations":[{"field":' .. field .. ',"description":'
      .. json_string(violation[2]) .. '}]}'
  end
  return '{"detail":' .. text .. ',"error":{"code":"' .. code .. '","message":' .. text .. ',"details":' .. details .. '}}'
end

-- Protobuf wire encoding, just enough for a google.rpc.Status with RetryInfo and ErrorInfo.
local function varint(n)
  local out = {}
  repeat
    local byte = n % 128
    n = (n - byte) / 128
    if n > 0 then byte = byte + 128 end
    out[#out + 1] = string.char(byte)
  until n == 0
  return table.concat(out)
end

local function field(number, bytes)
  return string.char(number * 8 + 2) .. varint(#bytes) .. bytes
end

local function packed(type_name, bytes)
  return field(1, "type.googleapis.com/" .. type_name) .. field(2, bytes)
end

-- A call Envoy's local rate limit refused (it marks the reply with x-computepool-rate-limited and
-- adds the x-ratelimit-* headers): how long to wait and what to say.
local function rate_limit_facts(headers)
  local seconds = tonumber(headers:get("x-ratelimit-reset") or "") or 60
  if seconds < 1 then seconds = 1 end
  local limit = (headers:get("x-ratelimit-limit") or ""):match("^(%d+)") or "?"
  return seconds, "rate limit exceeded: at most " .. limit .. " requests per minute from one address for this "
    .. "kind of call; retry after " .. seconds .. " s"
end

local function rate_limited_status(seconds, message)
  local retry_info = field(1, string.char(8) .. varint(seconds)) -- RetryInfo{retry_delay: Duration{seconds}}
  local error_info = field(1, "RATE_LIMITED") .. field(2, "computepool.v1")
  return string.char(8) .. varint(8) .. field(2, message) -- code RESOURCE_EXHAUSTED, message
    .. field(3, packed("google.rpc.RetryInfo", retry_info)) .. field(3, packed("google.rpc.ErrorInfo", error_info))
end

-- One path, one shape: "/api/v1/participants/" is "/api/v1/participants" (the transcoder
-- would match both, and only one would be reshaped).
local function without_trailing_slash(path)
  local route, query = path:match("^([^?]*)(.*)$")
  local trimmed = route:gsub("/+$", "")
  if trimmed == "" or trimmed == route then return route, path end
  return trimmed, trimmed .. query
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local metadata = handle:streamInfo():dynamicMetadata()
  local route, path = without_trailing_slash(headers:get(":path") or "")
  if path ~= headers:get(":path") then headers:replace(":path", path) end
  metadata:set("computepool", "path", route)
  metadata:set("computepool", "method", headers:get(":method") or "")
end

function envoy_on_response(handle)
  local headers = handle:headers()
  local limited = headers:get("x-computepool-rate-limited") ~= nil
  headers:remove("x-computepool-rate-limited")
  if (headers:get("content-type") or ""):find("application/grpc", 1, true) == 1 then
    if limited then
      local seconds, message = rate_limit_facts(headers)
      headers:replace("grpc-message", message)
      headers:replace("grpc-status-details-bin", handle:base64Escape(rate_limited_status(seconds, message)))
    end
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
    local retry_after = take("retry-after") -- the server's RetryInfo (503: the database is unavailable)
    if retry_after then headers:replace("retry-after", retry_after) end
    if limited then
      local seconds, message = rate_limit_facts(headers)
      headers:replace("retry-after", tostring(seconds))
      server_body = error_body("RATE_LIMITED", message)
    end
    if not server_body then
      local message = text:match('"message":"(.-)"') or text:gsub("%s+$", "")
      server_body = error_body(CODES[tonumber(http_status) or status] or "ERROR", message, named_field(message))
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
  if request.path == "/health" and status == 200 then
    -- A load balancer reads the status code: only SERVING is 200.
    local body = handle:body(true)
    if not body:getBytes(0, body:length()):find('"status":"SERVING"', 1, true) then
      handle:headers():replace(":status", "503")
    end
    return
  end
  local list_field = request.method == "GET" and BARE_LISTS[request.path]
  if list_field and status == 200 then
    local body = handle:body(true)
    local array = body:getBytes(0, body:length()):match('^{"' .. list_field .. '":(%b[])')
    if array then body:setBytes(array) end
  end
end
