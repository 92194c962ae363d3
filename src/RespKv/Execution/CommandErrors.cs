using System.Text;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Execution;

/// <summary>Redis's generic error replies, with its exact texts (server.c, networking.c, object.c).</summary>
public static class CommandErrors
{
    /// <summary><c>-ERR syntax error</c>.</summary>
    public const string Syntax = "ERR syntax error";

    /// <summary><c>-OOM command not allowed when used memory &gt; 'maxmemory'.</c> (Redis's <c>shared.oomerr</c>).</summary>
    public const string OutOfMemory = "OOM command not allowed when used memory > 'maxmemory'.";

    /// <summary><c>-WRONGTYPE …</c> for a command against a key of another type.</summary>
    public const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

    /// <summary><c>-ERR value is not an integer or out of range</c>.</summary>
    public const string NotInteger = "ERR value is not an integer or out of range";

    /// <summary><c>-ERR value is out of range, value must between …</c>: an integer argument beyond 32 bits (Redis's <c>getIntFromObjectOrReply</c>).</summary>
    public const string NotInt32Range = "ERR value is out of range, value must between -2147483648 and 2147483647";

    /// <summary><c>-ERR value is not a valid float</c>.</summary>
    public const string NotFloat = "ERR value is not a valid float";

    /// <summary><c>-ERR no such key</c>.</summary>
    public const string NoSuchKey = "ERR no such key";

    /// <summary><c>-ERR DB index is out of range</c>.</summary>
    public const string DbIndexOutOfRange = "ERR DB index is out of range";

    /// <summary><c>-ERR wrong number of arguments for 'get' command</c> (subcommands: <c>'config|get'</c>).</summary>
    public static string WrongArity(CommandInfo command) => $"ERR wrong number of arguments for '{command.FullName}' command";

    /// <summary>
    /// <c>-ERR unknown command 'foo', with args beginning with: 'a' 'b' </c>: the name up to 128 bytes, then
    /// each argument quoted while the list is under 128 bytes (each cut to what remains of 128), as Redis does.
    /// </summary>
    public static byte[] UnknownCommand(in CommandArgs args)
    {
        var text = new List<byte>(256);
        text.AddRange("ERR unknown command '"u8);
        AddCString(text, args[0], 128);
        text.AddRange("', with args beginning with: "u8);
        int start = text.Count;
        for (int i = 1; i < args.Count && text.Count - start < 128; i++)
        {
            text.Add((byte)'\'');
            AddCString(text, args[i], 128 - (text.Count - 1 - start));
            text.AddRange("' "u8);
        }
        return text.ToArray();
    }

    /// <summary><c>-ERR unknown subcommand 'foo'. Try CONFIG HELP.</c></summary>
    public static byte[] UnknownSubcommand(ReadOnlySpan<byte> subcommand, string container)
    {
        var text = new List<byte>(128);
        text.AddRange("ERR unknown subcommand '"u8);
        AddCString(text, subcommand, 128);
        text.AddRange(Encoding.ASCII.GetBytes($"'. Try {container.ToUpperInvariant()} HELP."));
        return text.ToArray();
    }

    /// <summary>
    /// A database index argument (SELECT, COPY … DB, MOVE, SWAPDB) of <paramref name="keyspace"/>, or false with Redis's
    /// error: <c>-ERR value is not an integer or out of range</c>, the int range error, or <c>-ERR DB index is out of range</c>.
    /// </summary>
    public static bool TryParseDatabaseIndex(Keyspace keyspace, ReadOnlySpan<byte> text, out int index, out string? error)
    {
        index = 0;
        error = null;
        if (!RespInteger.TryParse(text, out long value)) error = NotInteger;
        else if (value < int.MinValue || value > int.MaxValue) error = NotInt32Range;
        else if (value < 0 || value >= keyspace.DatabaseCount) error = DbIndexOutOfRange;
        else index = (int)value;
        return error == null;
    }

    /// <summary>Appends <paramref name="value"/> as C's <c>%.*s</c> would: at most <paramref name="max"/> bytes, stopping at a NUL.</summary>
    private static void AddCString(List<byte> text, ReadOnlySpan<byte> value, int max)
    {
        int nul = value.IndexOf((byte)0);
        if (nul >= 0) value = value[..nul];
        if (max < 0) max = 0;
        if (value.Length > max) value = value[..max];
        foreach (byte b in value) text.Add(b);
    }
}
