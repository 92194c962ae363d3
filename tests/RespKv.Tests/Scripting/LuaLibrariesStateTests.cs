using KeraLua;
using RespKv.Scripting.Libraries;

namespace RespKv.Tests.Scripting;

/// <summary>How the bundled libraries sit in a Lua state: the globals <see cref="LuaLibraries.Open"/> creates, errors
/// that leave the state as it was, and independent <c>cjson.new()</c> settings.</summary>
public sealed class LuaLibrariesStateTests : IDisposable
{
    private readonly Lua _lua;

    public LuaLibrariesStateTests()
    {
        _lua = new Lua();
        _lua.OpenLibs();
        LuaLibraries.Open(_lua);
    }

    public void Dispose() => _lua.Dispose();

    private string Eval(string chunk)
    {
        Assert.Equal(LuaStatus.OK, _lua.LoadString(chunk, "@user_script"));
        var status = _lua.PCall(0, 1, 0);
        string text = _lua.ToString(-1);
        _lua.SetTop(0);
        return (status == LuaStatus.OK ? "" : "ERR ") + text;
    }

    [Fact]
    public void OpenCreatesTheFourGlobalTablesAndNothingElse()
    {
        Assert.Equal("table table table table", Eval("return type(cjson)..' '..type(cmsgpack)..' '..type(bit)..' '..type(struct)"));
        Assert.Equal("0", Eval("return tostring(#{})"));
        Assert.Equal(0, _lua.GetTop());
    }

    [Fact]
    public void ManyErrorsLeaveTheStackBalancedAndTheLibrariesWorking()
    {
        string result = Eval("""
            local failures = 0
            for i = 1, 20000 do
              if not pcall(cjson.decode, '[1,') then failures = failures + 1 end
              if not pcall(cmsgpack.unpack, '\193') then failures = failures + 1 end
              if not pcall(struct.pack, 'q') then failures = failures + 1 end
              if not pcall(bit.band, {}) then failures = failures + 1 end
            end
            return failures .. ' ' .. cjson.encode({1, 2}) .. ' ' .. bit.tohex(255, 2)
            """);
        Assert.Equal("80000 [1,2] ff", result);
        Assert.Equal(0, _lua.GetTop());
    }

    [Fact]
    public void AnErrorNamesTheCallingLineAsLuaErrorDoes()
    {
        Assert.Equal("ERR user_script:3: Expected value but found invalid token at character 1",
            Eval("local a = 1\nlocal b = 2\nlocal c = cjson.decode('x')\nreturn c"));
        // A tail call replaces the caller's frame in Lua 5.4: no position (README, Known differences).
        Assert.Equal("ERR Expected value but found invalid token at character 1", Eval("return cjson.decode('x')"));
    }

    [Fact]
    public void EachCjsonTableHasItsOwnSettings()
    {
        Assert.Equal("0.33 0.33333333333333 0.3", Eval("""
            local a = cjson.new()
            a.encode_number_precision(2)
            local b = a.new()
            b.encode_number_precision(1)
            return a.encode(1/3) .. ' ' .. cjson.encode(1/3) .. ' ' .. b.encode(1/3)
            """));
    }

    [Fact]
    public void DeepInputsFailWithTheLibrariesErrorsInsteadOfOverflowingTheStack()
    {
        Assert.Equal("Found too many nested data structures (1001) at character 1001",
            Eval("return select(2, pcall(cjson.decode, string.rep('[', 100000)))"));
        Assert.Equal("stack overflow (in function mp_decode_to_lua_array)", // as redis-server 7.0.15 answers
            Eval("return select(2, pcall(cmsgpack.unpack, string.rep('\\145', 100000)))"));
        Assert.Equal("Cannot serialise, excessive nesting (1001)",
            Eval("local t = {} local c = t for i = 1, 2000 do c[1] = {} c = c[1] end return select(2, pcall(cjson.encode, t))"));
    }

    /// <summary>A coroutine starts with a small stack (about 45 slots): each nesting level of an object or map pushes a
    /// few values, so a library that did not call <c>lua_checkstack</c> would write past it and corrupt Lua's heap
    /// (the server crashed this way on Redis's own circular-reference cmsgpack test before the checks).</summary>
    [Fact]
    public void DeepMapsInAFreshCoroutineStayWithinTheStack()
    {
        for (int round = 0; round < 50; round++)
        {
            Lua co = _lua.NewThread();
            Assert.Equal(LuaStatus.OK, co.LoadString("""
                local a = {x = nil, y = 5} local b = {x = a} a.x = b
                local packed = cmsgpack.pack(a)
                local t = {} local c = t for i = 1, 200 do c.k = {v = i} c = c.k end
                local json = cjson.encode(t)
                collectgarbage('collect')
                local back = cjson.decode(json)
                return #packed .. ' ' .. #json .. ' ' .. back.k.k.v
                """, "@user_script"));
            Assert.Equal(LuaStatus.OK, co.Resume(null, 0, out _));
            Assert.Equal("73 2693 2", co.ToString(-1)); // 73: redis-server 7.0.15's length for this cmsgpack.pack
            _lua.SetTop(0);
        }
    }

    /// <summary>The libraries allocate no managed memory per call once their scratch buffers have grown: 5,000 rounds of
    /// every library in one script allocate (managed) less than a single round's worth of small objects would.</summary>
    [Fact]
    public void CallsAllocateNothingManagedOnceWarm()
    {
        const string chunk = """
            local n = ...
            local r = 0
            for i = 1, n do
              local j = cjson.encode({id = i, name = 'x', tags = {1, 2, 3}})
              local t = cjson.decode(j)
              local p = cmsgpack.pack(t, i, 'abc')
              local a, b, c = cmsgpack.unpack(p)
              local s = struct.pack('>I2s', i, 'abc')
              local u = struct.unpack('>I', s)
              r = r + bit.band(i, 255) + bit.bxor(u, 1) + #bit.tohex(i) + b
            end
            return r
            """;
        Assert.Equal(LuaStatus.OK, _lua.LoadString(chunk, "@user_script"));
        _lua.PushCopy(-1);
        _lua.PushInteger(100);
        Assert.Equal(LuaStatus.OK, _lua.PCall(1, 1, 0)); // warm-up: JIT, scratch buffers, pools
        _lua.Pop(1);
        // Up to 3 measurements: a shared pool (ArrayPool) that tests on other threads emptied meanwhile may hand out one
        // new buffer once; an allocation per call shows in every measurement (5,000 rounds: far above the bound).
        long allocated = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            _lua.PushCopy(-1);
            long before = GC.GetAllocatedBytesForCurrentThread();
            _lua.PushInteger(5000);
            Assert.Equal(LuaStatus.OK, _lua.PCall(1, 1, 0));
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            _lua.Pop(1);
            if (allocated < 1024) break;
        }
        _lua.SetTop(0);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for 5,000 rounds");
    }
}
