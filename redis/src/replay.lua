-- kycvs replay store: records token ids (jti) in one hash per hour of keep-until time.
-- KEYS: three per bucket of the call, in order: the hour before, the bucket, the hour after.
-- ARGV[1]: n, the number of buckets; ARGV[1 + b]: seconds from now to the end of bucket b;
-- then one (b, jti) pair per token, in input order. Answers 1 (new, now remembered) or 0
-- (remembered already, in any of the three hours: verifiers' leeways differ by at most an
-- hour; or earlier in this call) for each token.
local n = tonumber(ARGV[1])
local first = n + 2
local count = (#ARGV - n - 1) / 2
local function each_slice(list, f)
  for i = 1, #list, 1000 do
    f(unpack(list, i, math.min(i + 999, #list)))
  end
end
local wanted = {}
for b = 1, n do wanted[b] = {} end
for i = 1, count do
  local b = tonumber(ARGV[first + 2 * i - 2])
  table.insert(wanted[b], ARGV[first + 2 * i - 1])
end
local known = {}
for b = 1, n do
  for k = 3 * b - 2, 3 * b do
    each_slice(wanted[b], function(...)
      local fields = {...}
      local values = redis.call('HMGET', KEYS[k], ...)
      for i = 1, #fields do
        if values[i] then known[fields[i]] = true end
      end
    end)
  end
end
local out, added = {}, {}
for b = 1, n do added[b] = {} end
for i = 1, count do
  local b = tonumber(ARGV[first + 2 * i - 2])
  local jti = ARGV[first + 2 * i - 1]
  if known[jti] then
    out[i] = 0
  else
    known[jti] = true
    out[i] = 1
    table.insert(added[b], jti)
    table.insert(added[b], '1')
  end
end
for b = 1, n do
  if #added[b] > 0 then
    each_slice(added[b], function(...) redis.call('HSET', KEYS[3 * b - 1], ...) end)
    redis.call('EXPIRE', KEYS[3 * b - 1], tonumber(ARGV[1 + b]))
  end
end
return out
