using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Commands;

/// <summary>
/// The options of the SCAN family (<c>[MATCH pattern] [COUNT count] [TYPE type]</c>), parsed as Redis 7.0's
/// <c>scanGenericCommand</c> does: left to right, later options overriding earlier ones.
/// </summary>
internal ref struct ScanOptions
{
    /// <summary>Default COUNT (10).</summary>
    public const long DefaultCount = 10;

    /// <summary>COUNT (≥ 1).</summary>
    public long Count;

    /// <summary>The MATCH pattern (only meaningful when <see cref="UsePattern"/>).</summary>
    public ReadOnlySpan<byte> Pattern;

    /// <summary>True when a MATCH pattern other than <c>*</c> was given.</summary>
    public bool UsePattern;

    /// <summary>The TYPE name (only meaningful when <see cref="UseType"/>).</summary>
    public ReadOnlySpan<byte> Type;

    /// <summary>True when TYPE was given (SCAN only).</summary>
    public bool UseType;

    /// <summary>
    /// Parses <c>args[first..]</c>. On an error replies it and returns false: COUNT not an integer
    /// <c>-ERR value is not an integer or out of range</c>; COUNT below 1, an option without a value, TYPE
    /// when <paramref name="allowType"/> is false (HSCAN), or an unknown option <c>-ERR syntax error</c>.
    /// </summary>
    public static bool TryParse(RespWriter w, in CommandArgs args, int first, bool allowType, out ScanOptions options)
    {
        options = new ScanOptions { Count = DefaultCount };
        for (int i = first; i < args.Count; i += 2)
        {
            bool hasValue = i + 1 < args.Count;
            if (hasValue && args.Is(i, "COUNT"u8))
            {
                if (!RespInteger.TryParse(args[i + 1], out options.Count))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return false;
                }
                if (options.Count < 1)
                {
                    w.WriteError(CommandErrors.Syntax);
                    return false;
                }
            }
            else if (hasValue && args.Is(i, "MATCH"u8))
            {
                options.Pattern = args[i + 1];
                options.UsePattern = !GlobPattern.MatchesAll(options.Pattern);
            }
            else if (hasValue && allowType && args.Is(i, "TYPE"u8))
            {
                options.Type = args[i + 1];
                options.UseType = true;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return false;
            }
        }
        return true;
    }
}
