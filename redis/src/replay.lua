-- kycvs replay store: remembers token ids (jti) in one set per hour of keep-until time.
-- KEYS: three per hour of the call, in order: the hour before, the hour, the hour after.
-- ARGV[1]: n, the number of hours; ARGV[1 + h]: seconds from now to the end of hour h;
-- ARGV[2 + n]: each token's hour number h (1 to n) as two bytes, big-endian, in input
-- order; then one jti per token, in input order. Answers, per token, 1 (new, remembered
-- now) or 0 (remembered already in any of its three hours, or earlier in this call).
local n = tonumber(ARGV[1])
local first = n + 3
-- Per hour: a list of jtis and the range of it that belongs to the hour.
local groups = {}
if n == 1 then
  groups[1] = {ARGV, first, #ARGV}
else
  local index = ARGV[n + 2]
  local lists = {}
  for h = 1, n do lists[h] = {} end
  for i = first, #ARGV do
    local p = 2 * (i - first) + 1
    local hi, lo = string.byte(index, p, p + 1)
    local list = lists[hi * 256 + lo]
    list[#list + 1] = ARGV[i]
  end
  for h = 1, n do groups[h] = {lists[h], 1, #lists[h]} end
end
-- Every read before any write, a thousand members a command.
local known = {}
for h = 1, n do
  local list, from, to = groups[h][1], groups[h][2], groups[h][3]
  for k = 3 * h - 2, 3 * h do
    if redis.call('EXISTS', KEYS[k]) == 1 then
      for i = from, to, 1000 do
        local found = redis.call('SMISMEMBER', KEYS[k], unpack(list, i, math.min(i + 999, to)))
        for m = 1, #found do
          if found[m] == 1 then known[list[i + m - 1]] = true end
        end
      end
    end
  end
end
for h = 1, n do
  local list, from, to = groups[h][1], groups[h][2], groups[h][3]
  for i = from, to, 1000 do
    redis.call('SADD', KEYS[3 * h - 1], unpack(list, i, math.min(i + 999, to)))
  end
  redis.call('EXPIRE', KEYS[3 * h - 1], tonumber(ARGV[1 + h]))
end
local out = {}
for i = first, #ARGV do
  local jti = ARGV[i]
  if known[jti] then
    out[i - first + 1] = 0
  else
    known[jti] = true
    out[i - first + 1] = 1
  end
end
return out
