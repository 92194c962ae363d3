namespace RespKv.Scripting;

/// <summary>
/// The Lua source <see cref="LuaEngine"/> runs once per interpreter state, before any script, with the full standard
/// library still reachable (chunk name <c>=redis</c>, which error positions skip). It turns Lua 5.4's globals into the
/// set Redis 7.0's Lua 5.1 exposes (https://redis.io/docs/manual/programmability/lua-api/; <c>script_lua.c</c>'s allow
/// lists), builds the <c>redis</c> table over the engine's C functions, and seals the environment as Redis 7.0 does:
/// <list type="bullet">
/// <item>globals: reading an undefined name raises <c>Script attempted to access nonexistent global variable 'x'</c>,
/// assigning any global (new or existing) raises <c>Attempt to modify a readonly table</c>;</item>
/// <item>library tables (<c>redis</c>, <c>string</c>, <c>table</c>, <c>math</c>, <c>coroutine</c> and any library the
/// engine adds): read-only the same way. Lua 5.4 has no read-only tables, so each is an empty proxy whose
/// <c>__index</c> is the real table and whose <c>__newindex</c> raises; <c>rawset</c> and <c>setmetatable</c> refuse
/// the proxies, <c>pairs</c> and <c>#</c> see through them (<c>__pairs</c>, <c>__len</c>), <c>next</c> does not.</item>
/// </list>
/// Errors are raised here, in Lua, never from C#: a managed frame must not be crossed by Lua's <c>longjmp</c>. The chunk
/// receives the engine's C functions as arguments and returns the error-position helper the engine calls after a
/// failed run.
/// </summary>
internal static class LuaPrelude
{
    /// <summary>The chunk name of the prelude: error positions skip frames of this source.</summary>
    public const string ChunkName = "=redis";

    /// <summary>The prelude's source (arguments: the C functions redis.call, redis.pcall, sha1hex, log, the setresp/set_repl setter, rand48, srand48, frexp, the command-name check, and the Redis version).</summary>
    public const string Source = """
local command, pcommand, sha1hex, log, setoption, rand48, srand48, frexp, known, version = ...
local G = _G
local error, type, tostring, tonumber, select, rawget, rawset, setmetatable, getmetatable, next, pairs, load, pcall =
      error, type, tostring, tonumber, select, rawget, rawset, setmetatable, getmetatable, next, pairs, load, pcall
local floor, ceil, mtype, sformat, getinfo, pack, unpack = math.floor, math.ceil, math.type, string.format, debug.getinfo, table.pack, table.unpack

local function fail(message) error({err = 'ERR ' .. message}, 0) end

-- The Redis 7.0 global set: drop what Lua 5.1 (as Redis builds it) does not have.
for _, name in ipairs({'io', 'os', 'package', 'utf8', 'debug', 'require', 'dofile', 'loadfile', 'print', 'warn', 'rawlen'}) do rawset(G, name, nil) end
G._VERSION = 'Lua 5.1'
G.unpack = unpack
G.loadstring = function(source, chunkname) return load(source, chunkname, 't') end
G.load = function(chunk, chunkname) return load(chunk, chunkname, 't') end
G.gcinfo = function() return floor(collectgarbage('count')) end
-- tostring prints a float as Lua 5.1 did (%.14g: 3.0 is '3', not Lua 5.4's '3.0').
G.tostring = function(...)
  local v = ...
  if mtype(v) == 'float' then return sformat('%.14g', v) end
  return tostring(...)
end
local tostring51 = G.tostring
-- Lua 5.1's error adds the position to a number message too (it is a string to lua_isstring).
G.error = function(message, level)
  level = level == nil and 1 or level
  if type(message) == 'number' and level > 0 then error(tostring51(message), level + 1) end
  error(message, level > 0 and level + 1 or level)
end
-- Redis's pcall returns the message of an error table ({err=...}) rather than the table.
G.pcall = function(f, ...)
  local r = pack(pcall(f, ...))
  if not r[1] and type(r[2]) == 'table' and type(rawget(r[2], 'err')) == 'string' then r[2] = rawget(r[2], 'err') end
  return unpack(r, 1, r.n)
end

local t = G.table
t.pack, t.unpack, t.move = nil, nil, nil
t.getn = function(list) return #list end
t.setn = function() error("'setn' is obsolete", 2) end
t.maxn = function(list)
  local max = 0
  for k in pairs(list) do if type(k) == 'number' and k > max then max = k end end
  return max
end
t.foreach = function(list, f)
  for k, v in pairs(list) do local r = f(k, v) if r ~= nil then return r end end
end
t.foreachi = function(list, f)
  for i = 1, #list do local r = f(i, list[i]) if r ~= nil then return r end end
end

local s = G.string
s.pack, s.packsize, s.unpack = nil, nil, nil
s.gfind = s.gmatch
-- Lua 5.1's string.format converts a float for %d, %i, %c, %o, %u, %x, %X by truncation; Lua 5.4 refuses a float
-- without an integer value ('number has no integer representation').
local rawformat = s.format
s.format = function(format, ...)
  if type(format) ~= 'string' or not format:find('%', 1, true) then return rawformat(format, ...) end
  local args, n = pack(...), 0
  for spec in format:gmatch('%%[-+ #0]*%d*%.?%d*(.)') do
    if spec ~= '%' then
      n = n + 1
      local v = args[n]
      if (spec == 'd' or spec == 'i' or spec == 'c' or spec == 'o' or spec == 'u' or spec == 'x' or spec == 'X')
          and mtype(v) == 'float' and v == v and v ~= 1/0 and v ~= -1/0 then
        args[n] = v >= 0 and floor(v) or ceil(v)
      end
    end
  end
  return rawformat(format, unpack(args, 1, args.n))
end

local m = G.math
local exp, log_, atan = m.exp, m.log, m.atan
m.tointeger, m.type, m.ult, m.maxinteger, m.mininteger = nil, nil, nil, nil, nil
m.atan2 = function(y, x) return atan(y, x) end
m.cosh = function(x) return (exp(x) + exp(-x)) / 2 end
m.sinh = function(x) return (exp(x) - exp(-x)) / 2 end
m.tanh = function(x) local a, b = exp(x), exp(-x) return (a - b) / (a + b) end
m.log10 = function(x) return log_(x, 10) end
m.pow = function(x, y) return x ^ y end
m.mod = m.fmod
m.ldexp = function(x, e) return x * 2.0 ^ e end
m.frexp = function(x) return frexp(x) end
local function checkint(v, n)
  local x = tonumber(v)
  if x == nil then error("bad argument #" .. n .. " to 'random' (number expected, got " .. (v == nil and 'no value' or type(v)) .. ")", 3) end
  return x >= 0 and floor(x) or ceil(x)
end
-- Redis's math.random: rand48, the same sequence on every platform.
m.random = function(...)
  local r = (rand48() % 2147483647) / 2147483647
  local n = select('#', ...)
  if n == 0 then return r end
  if n == 1 then
    local u = checkint((...), 1)
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  end
  if n == 2 then
    local a, b = ...
    local l, u = checkint(a, 1), checkint(b, 2)
    if l > u then error("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  error('wrong number of arguments', 2)
end
m.randomseed = function(seed) srand48(checkint(seed, 1)) end

local c = G.coroutine
c.isyieldable, c.close = nil, nil

-- The redis table (Redis 7.0's luaRegisterRedisAPI and scriptingInit).
local function error_table(text)
  local code, message
  if text:sub(1, 1) == '-' then
    local space = text:find(' ', 1, true)
    if space then code, message = text:sub(2, space - 1), text:sub(space + 1) else code, message = 'ERR', text:sub(2) end
  else
    code, message = 'ERR', text
  end
  message = message:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return {err = code .. ' ' .. message}
end
local redis = {}
redis.call = function(...)
  local reply, raise = command(...)
  if raise then error(reply, 0) end
  return reply
end
redis.pcall = pcommand
redis.sha1hex = function(...)
  if select('#', ...) ~= 1 then fail('wrong number of arguments') end
  return sha1hex((...))
end
redis.error_reply = function(...)
  local text = ...
  if select('#', ...) ~= 1 or type(text) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
  if text:sub(1, 1) ~= '-' then text = '-' .. text end
  return error_table(text)
end
redis.status_reply = function(...)
  local text = ...
  if select('#', ...) ~= 1 or type(text) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
  return {ok = text}
end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.log = function(...)
  local n = select('#', ...)
  if n < 2 then fail('redis.log() requires two arguments or more.') end
  local level = tonumber((...))
  if level == nil then fail('First argument must be a number (log level).') end
  level = level >= 0 and floor(level) or ceil(level)
  if level < 0 or level > 3 then fail('Invalid debug level.') end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    local kind = type(v)
    if kind == 'string' or kind == 'number' then parts[#parts + 1] = (i == 2 and '' or ' ') .. tostring51(v) end
  end
  log(level, table.concat(parts))
end
redis.setresp = function(...)
  if select('#', ...) ~= 1 then fail('redis.setresp() requires one argument.') end
  local resp = tonumber((...))
  if resp ~= 2 and resp ~= 3 then fail('RESP version must be 2 or 3.') end
  setoption(0, resp)
end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then fail('redis.set_repl() requires two arguments.') end
  local flags = tonumber((...)) or 0
  flags = flags >= 0 and floor(flags) or ceil(flags)
  if flags ~= 0 and flags ~= 1 and flags ~= 2 and flags ~= 3 then
    fail('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
  setoption(1, flags)
end
redis.replicate_commands = function() return true end
local major, minor, patch = version:match('^(%d+)%.(%d+)%.(%d+)')
redis.REDIS_VERSION = version
redis.REDIS_VERSION_NUM = tonumber(major) * 65536 + tonumber(minor) * 256 + tonumber(patch)
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = function(...)
  local ok, message = known(...)
  if message then fail(message) end
  return ok
end
G.redis = redis

-- Redis's own message handler, kept as the global scripts can see (the engine formats errors without it).
G.__redis__err__handler = function(err)
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring51(err)} end
  return err
end

-- Sealing: library tables become read-only proxies, the globals a read-only proxy over the real table.
local protected = setmetatable({}, {__mode = 'k'})
local function readonly() error('Attempt to modify a readonly table', 2) end
local function proxy(real)
  for k, v in next, real do
    if type(v) == 'table' and k ~= '_G' and not protected[v] then rawset(real, k, proxy(v)) end
  end
  local p = setmetatable({}, {
    __index = real, __newindex = readonly, __metatable = false,
    __pairs = function() return next, real, nil end,
    __len = function() return #real end,
  })
  protected[p] = true
  return p
end
G.rawset = function(tbl, k, v)
  if protected[tbl] then error('Attempt to modify a readonly table', 0) end
  return rawset(tbl, k, v)
end
G.setmetatable = function(tbl, mt)
  if protected[tbl] then error('Attempt to modify a readonly table', 0) end
  return setmetatable(tbl, mt)
end
for name, v in pairs(G) do
  if type(v) == 'table' and name ~= '_G' then rawset(G, name, proxy(v)) end
end
local stringmeta = getmetatable('')
stringmeta.__index = G.string
stringmeta.__metatable = proxy(stringmeta)
local globalsmeta = {
  __index = G, __newindex = readonly,
  __pairs = function() return next, G, nil end,
}
local globals = setmetatable({}, globalsmeta)
protected[globals] = true
-- getmetatable(_G) gives a read-only view of its metatable, as Redis 7.0's read-only _G metatable.
local metaview = setmetatable({}, {__index = globalsmeta, __newindex = readonly, __metatable = false})
protected[metaview] = true
globalsmeta.__metatable = metaview
rawset(G, '_G', globals)
setmetatable(G, {__index = function(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end, __metatable = false})

-- The error-position helper: the failed thread's error object and the script's name in, Redis's reply text out
-- (luaCallFunction: '<err> script: <name>, on <source>:<line>.'), the position being the first Lua frame that is
-- not this prelude's, as Redis's __redis__err__handler finds it.
-- Lua 5.4 words a runtime error "attempt to index a nil value (local 't')" where Redis's Lua 5.1 said "attempt to
-- index local 't' (a nil value)"; 5.1 had no 'constant' variable kind and named no constant.
local sgsub = string.gsub
local function lua51(op, t, kind, varname)
  if kind == 'constant' then return 'attempt to ' .. op .. ' a ' .. t .. ' value' end
  return 'attempt to ' .. op .. ' ' .. kind .. " '" .. varname .. "' (a " .. t .. ' value)'
end
local function where(co, err, name)
  if type(err) == 'string' then err = sgsub(err, "attempt to ([%a ]-) a (%a+) value %((%a+) '([^']*)'%)", lua51, 1) end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring51(err)} end
  local message = rawget(err, 'err')
  if type(message) ~= 'string' then message = 'ERR unknown error' end
  local level = 0
  local i = getinfo(co, level, 'Sl')
  if i and i.what == 'C' then level = level + 1 i = getinfo(co, level, 'Sl') end
  while i and (i.what == 'C' or i.source == '=redis') do level = level + 1 i = getinfo(co, level, 'Sl') end
  if i then return message .. ' script: ' .. name .. ', on ' .. i.source .. ':' .. i.currentline .. '.' end
  return message
end
return globals, G, where
""";
}
