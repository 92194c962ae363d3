using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server.Commands;
using RespKv.Server;

namespace RespKv.Tests;

/// <summary>A defect inside a command closes that one connection (logged) instead of hanging it.</summary>
public sealed class SessionFailureTests
{
    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    [Fact]
    public async Task ThrowingCommandClosesOnlyItsConnection()
    {
        var boom = new CommandInfo("boom", 1, CommandFlags.None, 0, 0, 0, "server", "Always fails",
            (CommandContext _, in CommandArgs _) => throw new InvalidOperationException("defect"));
        var server = new RespServer(new ServerOptions(), commands: new CommandTable(ConnectionCommands.Table.Append(boom)));

        var toServer = new Pipe();
        var fromServer = new Pipe();
        var session = new ClientSession(server, fromServer.Writer);
        Task run = session.RunAsync(new DuplexPipe(toServer.Reader, fromServer.Writer));

        await toServer.Writer.WriteAsync(Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n"));
        ReadResult pong = await fromServer.Reader.ReadAsync();
        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(pong.Buffer.ToArray()));
        fromServer.Reader.AdvanceTo(pong.Buffer.End);

        await toServer.Writer.WriteAsync(Encoding.ASCII.GetBytes("*1\r\n$4\r\nBOOM\r\n"));
        Task finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(run, finished); // the session ended instead of hanging...
        Assert.True(run.IsCompletedSuccessfully, "the defect must be contained (logged) by the session, not escape it");
        ReadResult rest = await fromServer.Reader.ReadAsync();
        Assert.True(rest.IsCompleted);

        // A second session of the same server is unaffected.
        var other = new ClientSession(server, new System.Buffers.ArrayBufferWriter<byte>());
        other.ProcessReceived(new System.Buffers.ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("PING\r\n")));
        Assert.Equal(1, other.CommandsProcessed);
    }
}
