using RespKv.Persistence.Rdb;

namespace RespKv.Scripting.Functions;

/// <summary>
/// The <c>FUNCTION DUMP</c> / <c>FUNCTION RESTORE</c> payload, in Redis 7.0's format (<c>functions.c</c>
/// <c>functionDumpCommand</c>/<c>functionRestoreCommand</c>, <c>rdb.c</c> <c>rdbSaveFunctions</c>/<c>rdbFunctionLoad</c>,
/// <c>cluster.c</c> <c>verifyDumpPayload</c>): for each library the opcode <c>RDB_OPCODE_FUNCTION2</c> (245) and the
/// library's whole code (shebang included) as an RDB string; then the RDB version as 2 bytes little-endian
/// (<see cref="RdbVersion"/>, 10) and the <see cref="Crc64Jones"/> checksum of everything before it, 8 bytes little-endian.
/// <para>
/// RDB strings, lengths and the footer are the shared <see cref="Rdb"/> / <see cref="RdbReader"/> pieces (as DUMP/RESTORE's),
/// written as redis-server writes them, so a FUNCTION DUMP has the same bytes on both servers, and read in every form.
/// The pre-release 7.0 opcode <c>RDB_OPCODE_FUNCTION</c> (246: name, engine, description flag [and description], code)
/// is read too, as <c>#!engine name=name\n</c> plus the code, as Redis does.
/// </para>
/// </summary>
public static class FunctionPayload
{
    /// <summary>Redis 7.0's <c>RDB_VERSION</c>: a payload of a later version is refused.</summary>
    public const int RdbVersion = Rdb.Version;

    /// <summary><c>RDB_OPCODE_FUNCTION2</c>: a library, as its code.</summary>
    public const byte OpcodeFunction2 = 245;

    /// <summary><c>RDB_OPCODE_FUNCTION</c>: a library in the 7.0-rc1/rc2 layout.</summary>
    public const byte OpcodeFunction = 246;

    /// <summary>Bytes of the footer: RDB version (2) and CRC64 (8).</summary>
    public const int FooterLength = Rdb.FooterLength;

    /// <summary>The error of a payload whose footer is wrong (as Redis: <c>-ERR DUMP payload version or checksum are wrong</c>).</summary>
    public const string VersionOrChecksumWrong = Rdb.VersionOrChecksumWrong;

    /// <summary>Builds the payload of <paramref name="libraryCodes"/> (each library's whole code, in the order given).</summary>
    public static byte[] Write(IEnumerable<byte[]> libraryCodes)
    {
        var output = new MemoryStream();
        foreach (byte[] code in libraryCodes)
        {
            output.WriteByte(OpcodeFunction2);
            Rdb.WriteString(output, code);
        }
        Rdb.AppendFooter(output);
        return output.ToArray();
    }

    /// <summary>True when <paramref name="payload"/> has a footer Redis accepts (<see cref="Rdb.Verify"/>).</summary>
    public static bool Verify(ReadOnlySpan<byte> payload, bool skipChecksum = false) => Rdb.Verify(payload, skipChecksum);

    /// <summary>
    /// Reads the libraries of a payload that passed <see cref="Verify"/> into <paramref name="codes"/> (each library's
    /// whole code). Returns null, or Redis's error text (without <c>ERR </c>): <c>given type is not a function</c>,
    /// <c>can not read data type</c>, <c>Failed loading library payload</c> (and the old layout's <c>Failed loading library
    /// name</c>, <c>… engine name</c>, <c>… library description indicator</c>, <c>… library description</c>, <c>… library blob</c>).
    /// As Redis, records are read while more than the footer's 10 bytes remain, from the whole buffer.
    /// </summary>
    public static string? Read(ReadOnlySpan<byte> payload, List<byte[]> codes)
    {
        var reader = new RdbReader(payload);
        // Redis's loop condition is on size_t: once past the start of the footer it wraps and goes on reading.
        while ((ulong)(payload.Length - reader.Position) > FooterLength)
        {
            if (!reader.TryReadByte(out byte type)) return "can not read data type";
            if (type != OpcodeFunction && type != OpcodeFunction2) return "given type is not a function";
            if (type == OpcodeFunction2)
            {
                byte[]? code = reader.ReadString();
                if (code == null) return "Failed loading library payload";
                codes.Add(code);
                continue;
            }
            byte[]? name = reader.ReadString();
            if (name == null) return "Failed loading library name";
            byte[]? engine = reader.ReadString();
            if (engine == null) return "Failed loading engine name";
            if (!reader.TryReadLength(out ulong hasDescription, out _)) return "Failed loading library description indicator";
            if (hasDescription != 0 && reader.ReadString() == null) return "Failed loading library description";
            byte[]? blob = reader.ReadString();
            if (blob == null) return "Failed loading library blob";
            codes.Add([.. "#!"u8, .. engine, .. " name="u8, .. name, (byte)'\n', .. blob]);
        }
        return null;
    }
}
