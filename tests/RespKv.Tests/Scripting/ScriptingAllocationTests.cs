using System.Buffers;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;

namespace RespKv.Tests.Scripting;

/// <summary>
/// EVALSHA's path allocates nothing managed of its own per call once warm: the script is found by its SHA without a
/// string, KEYS and ARGV are pushed from the argument spans, redis.call's arguments and reply go through reused buffers.
/// A read-only script allocates nothing; an INCR script only what INCR stores.
/// </summary>
public sealed class ScriptingAllocationTests
{
    [Fact]
    public void EvalShaAllocatesOnlyWhatItsCommandsStore()
    {
        var server = new RespServer(new ServerOptions());
        var output = new ArrayBufferWriter<byte>(1 << 20);
        var session = new ClientSession(server, output);
        string get = Allocations.Sha(session, output, "return redis.call('get', KEYS[1])");
        string incr = Allocations.Sha(session, output, "return redis.call('incr', KEYS[1])");
        Allocations.PerCommand(session, output, 10, "SET", "k", "v");

        double read = Allocations.PerCommand(session, output, 2000, "EVALSHA", get, "1", "k");
        Assert.True(read < 4, $"EVALSHA of a GET script allocated {read} bytes per call");
        double write = Allocations.PerCommand(session, output, 2000, "EVALSHA", incr, "1", "n");
        Assert.True(write <= KeyEntry.NodeBytes + KeyEntry.ArrayBytes(4) + 4, $"EVALSHA of an INCR script allocated {write} bytes per call");
    }
}
