namespace RespKv.Tests.Support;

/// <summary>Reading raw RESP replies in tests.</summary>
internal static class Replies
{
    /// <summary>The bulk strings of a (possibly nested) array reply, in order — RESP3 doubles (<c>,</c>) too; null bulk strings are skipped.</summary>
    public static List<string> Bulks(string reply)
    {
        var items = new List<string>();
        int p = 0;
        while (p < reply.Length)
        {
            int eol = reply.IndexOf("\r\n", p, StringComparison.Ordinal);
            string line = reply[p..eol];
            p = eol + 2;
            if (line[0] == '$' && line != "$-1")
            {
                int n = int.Parse(line[1..], System.Globalization.CultureInfo.InvariantCulture);
                items.Add(reply.Substring(p, n));
                p += n + 2;
            }
            else if (line[0] == ',') items.Add(line[1..]);
        }
        return items;
    }
}
