using System.Globalization;
using System.Text;

namespace RespKv.Ecosystem.Tests.Support;

/// <summary>One parsed RESP2/RESP3 frame: its type character, its text (simple, bulk, number…) and its children (aggregates).</summary>
public sealed record RespFrame(char Type, string Text, IReadOnlyList<RespFrame> Children)
{
    /// <summary>Parses every whole frame of <paramref name="bytes"/> (a recorded stream; a torn last frame is left out).</summary>
    public static List<RespFrame> ParseAll(byte[] bytes)
    {
        var frames = new List<RespFrame>();
        int p = 0;
        while (p < bytes.Length)
        {
            int start = p;
            RespFrame? frame = Parse(bytes, ref p);
            if (frame == null)
            {
                p = start;
                break;
            }
            frames.Add(frame);
        }
        return frames;
    }

    private static RespFrame? Parse(byte[] b, ref int p)
    {
        int eol = IndexOfCrLf(b, p);
        if (eol < 0) return null;
        char type = (char)b[p];
        string line = Encoding.Latin1.GetString(b, p + 1, eol - p - 1);
        p = eol + 2;
        switch (type)
        {
            case '$' or '=' or '!':
                int length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0) return new RespFrame('_', "", []);
                if (p + length + 2 > b.Length) return null;
                string text = Encoding.Latin1.GetString(b, p, length);
                p += length + 2;
                return new RespFrame(type, text, []);
            case '*' or '%' or '~' or '>' or '|':
                int count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0) return new RespFrame('_', "", []);
                if (type is '%' or '|') count *= 2;
                var children = new List<RespFrame>(count);
                for (int i = 0; i < count; i++)
                {
                    RespFrame? child = Parse(b, ref p);
                    if (child == null) return null;
                    children.Add(child);
                }
                return new RespFrame(type, "", children);
            default:
                return new RespFrame(type, line, []);
        }
    }

    private static int IndexOfCrLf(byte[] b, int from)
    {
        for (int i = from; i + 1 < b.Length; i++)
            if (b[i] == '\r' && b[i + 1] == '\n') return i;
        return -1;
    }

    /// <summary>The frame as one line: type, text and children in brackets.</summary>
    public override string ToString() =>
        Children.Count == 0 ? $"{Type}{Text}" : $"{Type}[{string.Join(", ", Children)}]";
}
