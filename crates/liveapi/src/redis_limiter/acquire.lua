-- One permit of a sliding-window rate limit shared by many processes, in one atomic step.
--
-- KEYS[1]  the sorted set of the sends inside the window, scored by Redis's own clock in
--          microseconds, so that processes whose clocks disagree still share one window.
-- ARGV[1]  the most sends in any window.
-- ARGV[2]  the window, in microseconds.
-- ARGV[3]  a member for this send, unique across every process.
-- ARGV[4…] pairs (age in microseconds, member) of sends made while Redis could not be asked;
--          they are recorded at their time, backdated by their age, before anything is decided.
--
-- Answers {1, 0} when the send is admitted (and recorded), or {0, wait}: the microseconds until
-- enough sends leave the window for one more to fit.

-- Redis 3.2 and 4 replicate a script by its effects only when asked; 5 and later always do.
if redis.replicate_commands then redis.replicate_commands() end

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

-- A send at exactly now - window has left: the window is (now - window, now].
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
for i = 4, #ARGV - 1, 2 do
  local at = now - tonumber(ARGV[i])
  if at > now - window then
    redis.call('ZADD', key, at, ARGV[i + 1])
  end
end

local count = redis.call('ZCARD', key)
local admitted, wait = 0, 0
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  admitted = 1
else
  -- Recorded sends can outnumber the limit; one fits once the (count - limit)-th oldest left.
  local frees = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  wait = tonumber(frees[2]) + window - now
end
-- The key outlives its newest send by one window, then goes by itself.
redis.call('PEXPIRE', key, math.ceil(window / 1000))
return {admitted, wait}
