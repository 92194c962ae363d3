using System.Globalization;

namespace RespKv.Configuration;

/// <summary>
/// How one kind of setting's value is read from text and printed, with Redis 7.0's validation and error texts
/// (config.c's typed configs: bool, enum, numeric, string). A parse error is the reason CONFIG SET prints after
/// <c>-ERR CONFIG SET failed (possibly related to argument 'name') - </c>, and the start-up error's last line.
/// </summary>
/// <typeparam name="T">The value's type on <see cref="ServerOptions"/>.</typeparam>
public abstract class ConfigValueKind<T>
{
    /// <summary>Reads <paramref name="text"/>; returns null and the value, or the reason it is invalid.</summary>
    public abstract string? TryParse(string text, out T value);

    /// <summary>The value as CONFIG GET prints it.</summary>
    public abstract string Print(T value);

    /// <summary>How CONFIG REWRITE writes a value of this kind.</summary>
    public virtual ConfigFormat Format => ConfigFormat.Plain;

    /// <summary>True when the setting takes several arguments (Redis's <c>MULTI_ARG_CONFIG</c>), passed space-separated.</summary>
    public virtual bool MultiArg => false;
}

/// <summary>A yes/no setting (Redis's <c>createBoolConfig</c>): <c>yes</c> or <c>no</c> in any case, else <c>argument must be 'yes' or 'no'</c>.</summary>
public sealed class YesNoKind : ConfigValueKind<bool>
{
    /// <summary>The one instance.</summary>
    public static YesNoKind Instance { get; } = new();

    /// <inheritdoc />
    public override string? TryParse(string text, out bool value) =>
        ServerOptions.TryParseYesNo(text, out value) ? null : "argument must be 'yes' or 'no'";

    /// <inheritdoc />
    public override string Print(bool value) => value ? "yes" : "no";
}

/// <summary>
/// An enumerated setting (Redis's <c>createEnumConfig</c>): one of <see cref="Entries"/>' names in any case; else
/// <c>argument(s) must be one of the following: a, b, c</c> listing the names in table order. Several names may share a
/// value (<c>oom-score-adj</c>: <c>yes</c> and <c>relative</c>); CONFIG GET prints the first name with the value.
/// </summary>
/// <typeparam name="T">The value type (a string for a setting that is only stored, a C# enum for a typed one).</typeparam>
/// <param name="Entries">Names and values, in Redis's table order.</param>
public sealed class EnumKind<T>(params (string Name, T Value)[] Entries) : ConfigValueKind<T>
{
    /// <summary>Names and values, in Redis's table order.</summary>
    public (string Name, T Value)[] Entries { get; } = Entries;

    /// <inheritdoc />
    public override string? TryParse(string text, out T value)
    {
        foreach ((string name, T v) in Entries)
        {
            if (!name.Equals(text, StringComparison.OrdinalIgnoreCase)) continue;
            value = v;
            return null;
        }
        value = default!;
        return "argument(s) must be one of the following: " + string.Join(", ", Entries.Select(e => e.Name));
    }

    /// <inheritdoc />
    public override string Print(T value)
    {
        foreach ((string name, T v) in Entries)
            if (EqualityComparer<T>.Default.Equals(v, value)) return name;
        return "unknown";
    }
}

/// <summary>A string-valued enum whose names are its values (<c>loglevel</c>, <c>appendfsync</c>, …).</summary>
public static class EnumKind
{
    /// <summary>An <see cref="EnumKind{T}"/> of <paramref name="names"/>, each its own value.</summary>
    public static EnumKind<string> Of(params string[] names) => new(names.Select(n => (n, n)).ToArray());
}

/// <summary>
/// A multi-argument set of flags (Redis's <c>createEnumConfig</c> with <c>MULTI_ARG_CONFIG</c>: <c>shutdown-on-sigint</c>,
/// <c>shutdown-on-sigterm</c>): one or more space-separated names, each a bit; a name with value 0 (<c>default</c>) stands for
/// none. Printed as the name whose value matches exactly, else the names of the set bits in table order. An unknown name
/// gives <c>argument(s) must be one of the following: …</c>; <paramref name="Check"/> may refuse a combination.
/// </summary>
/// <param name="Entries">Names and bit values in Redis's table order.</param>
/// <param name="Check">Rejects a combination: null when valid, else the reason.</param>
public sealed class FlagsKind((string Name, int Bit)[] Entries, Func<int, string?>? Check = null) : ConfigValueKind<int>
{
    /// <inheritdoc />
    public override bool MultiArg => true;

    /// <inheritdoc />
    public override string? TryParse(string text, out int value)
    {
        value = 0;
        string[] names = text.Split(' ');
        bool known = names.Length > 0;
        foreach (string name in names)
        {
            int match = Array.FindIndex(Entries, e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (match < 0) known = false;
            else value |= Entries[match].Bit;
        }
        if (!known) return "argument(s) must be one of the following: " + string.Join(", ", Entries.Select(e => e.Name));
        return Check?.Invoke(value);
    }

    /// <inheritdoc />
    public override string Print(int value)
    {
        var names = new List<string>();
        int unmatched = value;
        foreach ((string name, int bit) in Entries)
        {
            if (bit == value) return name;
            if (bit == 0 || (unmatched & bit) != bit) continue;
            names.Add(name);
            unmatched &= ~bit;
        }
        return names.Count == 0 || unmatched != 0 ? "unknown" : string.Join(' ', names);
    }
}

/// <summary>How a numeric setting is written (Redis's numeric config flags).</summary>
public enum NumberForm
{
    /// <summary>A plain integer (<c>INTEGER_CONFIG</c>), read like Redis's <c>string2ll</c>: no sign but <c>-</c>, no leading zeros or spaces.</summary>
    Integer,

    /// <summary>Bytes with optional units (<c>MEMORY_CONFIG</c>): <c>100</c>, <c>1k</c> (1000), <c>1kb</c> (1024), <c>mb</c>, <c>gb</c>…; no negative values.</summary>
    Memory,

    /// <summary>Bytes as <see cref="Memory"/>, or <c>N%</c> (<c>MEMORY_CONFIG | PERCENT_CONFIG</c>), stored as <c>-N</c>.</summary>
    MemoryOrPercent,

    /// <summary>An octal number (<c>OCTAL_CONFIG</c>, <c>unixsocketperm</c>), printed in octal.</summary>
    Octal,
}

/// <summary>
/// A numeric setting with bounds (Redis's <c>createIntConfig</c>, <c>createLongLongConfig</c>, <c>createSizeTConfig</c>, …): parse
/// errors <c>argument couldn't be parsed into an integer</c>, <c>argument must be a memory value</c>, <c>argument must be a memory
/// or percent value</c> or <c>argument couldn't be parsed as an octal number</c>; out of bounds <c>argument must be between MIN and
/// MAX inclusive</c> (in octal for octal settings), a percentage over the limit <c>percentage argument must be less or equal to N</c>.
/// </summary>
/// <param name="Min">Smallest value (for <see cref="NumberForm.MemoryOrPercent"/>, minus the largest percentage).</param>
/// <param name="Max">Largest value.</param>
/// <param name="Form">How the value is written.</param>
public sealed class NumberKind(long Min, long Max, NumberForm Form = NumberForm.Integer) : ConfigValueKind<long>
{
    /// <summary>Smallest value.</summary>
    public long Min { get; } = Min;

    /// <summary>Largest value.</summary>
    public long Max { get; } = Max;

    /// <inheritdoc />
    public override ConfigFormat Format => Form is NumberForm.Memory or NumberForm.MemoryOrPercent ? ConfigFormat.Memory : ConfigFormat.Plain;

    /// <inheritdoc />
    public override string? TryParse(string text, out long value)
    {
        string? error = ParseNumber(text, out value);
        if (error != null) return error;
        if (Form == NumberForm.MemoryOrPercent && value < 0)
            return value < Min ? $"percentage argument must be less or equal to {-Min}" : null;
        if (value >= Min && value <= Max) return null;
        return Form == NumberForm.Octal
            ? $"argument must be between {Convert.ToString(Min, 8)} and {Convert.ToString(Max, 8)} inclusive"
            : $"argument must be between {Min} and {Max} inclusive";
    }

    private string? ParseNumber(string text, out long value)
    {
        switch (Form)
        {
            case NumberForm.Memory:
                return TryParseMemory(text, out value) ? null : "argument must be a memory value";
            case NumberForm.MemoryOrPercent:
                if (TryParseMemory(text, out value)) return null;
                if (text.Length > 1 && text[^1] == '%' && TryParseInteger(text[..^1], out value) && value >= 0)
                {
                    value = -value;
                    return null;
                }
                return "argument must be a memory or percent value";
            case NumberForm.Octal:
                return TryParseOctal(text, out value) ? null : "argument couldn't be parsed as an octal number";
            default:
                return TryParseInteger(text, out value) ? null : "argument couldn't be parsed into an integer";
        }
    }

    /// <inheritdoc />
    public override string Print(long value) => Form switch
    {
        NumberForm.MemoryOrPercent when value < 0 => (-value).ToString(CultureInfo.InvariantCulture) + "%",
        NumberForm.Octal => Convert.ToString(value, 8),
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Redis's <c>string2ll</c>: <c>0</c>, or an optional <c>-</c> then a digit 1-9 and digits, within a 64-bit signed range.</summary>
    public static bool TryParseInteger(string text, out long value)
    {
        value = 0;
        if (text == "0") return true;
        int start = text.StartsWith('-') ? 1 : 0;
        if (text.Length <= start || text[start] is < '1' or > '9') return false;
        for (int i = start + 1; i < text.Length; i++)
            if (!char.IsAsciiDigit(text[i])) return false;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Redis's <c>memtoull</c>: digits with an optional unit <c>b</c>, <c>k</c>, <c>kb</c>, <c>m</c>, <c>mb</c>, <c>g</c>, <c>gb</c> (any case); no sign.</summary>
    private static bool TryParseMemory(string text, out long value)
    {
        value = 0;
        return text.Length > 0 && text[0] != '-' && text.Trim().Length == text.Length && ServerOptions.TryParseMemory(text, out value);
    }

    /// <summary>C's <c>strtoll(text, &amp;end, 8)</c> with nothing left over: an optional sign then octal digits.</summary>
    private static bool TryParseOctal(string text, out long value)
    {
        value = 0;
        string digits = text.TrimStart(' ', '\t');
        bool negative = digits.StartsWith('-');
        if (digits.StartsWith('-') || digits.StartsWith('+')) digits = digits[1..];
        if (digits.Length == 0) return text.Length == 0;
        foreach (char c in digits)
        {
            if (c is < '0' or > '7') return false;
            if (value > (long.MaxValue >> 3)) return false;
            value = value * 8 + (c - '0');
        }
        if (negative) value = -value;
        return true;
    }
}

/// <summary>
/// A string setting (Redis's <c>createStringConfig</c>/<c>createSDSConfig</c>): any text, checked by <paramref name="Check"/> when
/// given. With <paramref name="EmptyIsNull"/> (Redis's <c>EMPTY_STRING_IS_NULL</c>) an empty value means "not set", which CONFIG
/// REWRITE writes as no line at all; otherwise <c>name ""</c>.
/// </summary>
/// <param name="EmptyIsNull">True when an empty value is "not set" (no line in a rewritten file).</param>
/// <param name="Check">Rejects a value: null when valid, else the reason (<c>appendfilename can't be a path, just a filename</c>).</param>
public sealed class TextKind(bool EmptyIsNull = true, Func<string, string?>? Check = null) : ConfigValueKind<string>
{
    /// <summary>A string where empty means not set, with no other check.</summary>
    public static TextKind Optional { get; } = new();

    /// <summary>A string where empty is a value of its own (<c>ALLOW_EMPTY_STRING</c>), with no other check.</summary>
    public static TextKind AllowEmpty { get; } = new(EmptyIsNull: false);

    /// <inheritdoc />
    public override ConfigFormat Format => EmptyIsNull ? ConfigFormat.QuotedUnlessEmpty : ConfigFormat.Quoted;

    /// <inheritdoc />
    public override string? TryParse(string text, out string value)
    {
        value = text;
        return Check?.Invoke(text);
    }

    /// <inheritdoc />
    public override string Print(string value) => value;
}
