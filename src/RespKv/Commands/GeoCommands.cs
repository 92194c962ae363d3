using System.Buffers;
using System.Globalization;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;
using Position = RespKv.Storage.SortedSetValue.Position;

namespace RespKv.Commands;

/// <summary>
/// Geo commands with Redis 7.0.15's replies and errors (https://redis.io/commands/?group=geo, Redis's <c>geo.c</c>):
/// GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE and the legacy GEORADIUS GEORADIUSBYMEMBER (with STORE and
/// STOREDIST) and their read-only <c>_RO</c> forms, on sorted sets whose scores are 52-bit geohashes (<see cref="GeoHash"/>).
/// <para>
/// GEOADD is ZADD on the encoded scores, logged (and announced, <c>zadd</c>) as that ZADD, as Redis's
/// <c>replaceClientCommandVector</c> does. A search visits the nine cells of <see cref="GeoHash.Areas"/> in Redis's order,
/// each as one score range of the set (<see cref="SortedSetValue.TryGetRankRange(in ScoreRange, out long, out long)"/>), so
/// an unsorted reply lists members in Redis's order. Distances are replied as Redis's <c>addReplyDoubleDistance</c> (four
/// decimals, a bulk string in RESP2 and RESP3), coordinates as <c>addReplyHumanLongDouble</c> (<c>%.17Lf</c> without
/// trailing zeros; a RESP3 double), hashes as integers. Sorting by distance is stable (ties keep search order); Redis's
/// <c>qsort</c>/<c>pqsort</c> may order equal distances otherwise.
/// </para>
/// </summary>
public static class GeoCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("geoadd", -5, Write | DenyOom | RepliesBeforeNotifying, 1, 1, 1, "geo", "Add one or more geospatial items in the geospatial index represented using a sorted set", GeoAdd),
        new("geodist", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "geo", "Returns the distance between two members of a geospatial index", GeoDist),
        new("geohash", -2, ReadOnly | ReadsUnderLock, 1, 1, 1, "geo", "Returns members of a geospatial index as standard geohash strings", GeoHashCommand),
        new("geopos", -2, ReadOnly | ReadsUnderLock, 1, 1, 1, "geo", "Returns longitude and latitude of members of a geospatial index", GeoPos),
        new("georadius", -6, Write | DenyOom | MovableKeys, 1, 1, 1, "geo", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", (CommandContext c, in CommandArgs a) => Search(c, a, 1, SearchKind.Coordinates)),
        new("georadius_ro", -6, ReadOnly | ReadsUnderLock, 1, 1, 1, "geo", "A read-only variant for GEORADIUS", (CommandContext c, in CommandArgs a) => Search(c, a, 1, SearchKind.Coordinates | SearchKind.NoStore)),
        new("georadiusbymember", -5, Write | DenyOom | MovableKeys, 1, 1, 1, "geo", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", (CommandContext c, in CommandArgs a) => Search(c, a, 1, SearchKind.Member)),
        new("georadiusbymember_ro", -5, ReadOnly | ReadsUnderLock, 1, 1, 1, "geo", "A read-only variant for GEORADIUSBYMEMBER", (CommandContext c, in CommandArgs a) => Search(c, a, 1, SearchKind.Member | SearchKind.NoStore)),
        new("geosearch", -7, ReadOnly | ReadsUnderLock, 1, 1, 1, "geo", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", (CommandContext c, in CommandArgs a) => Search(c, a, 1, SearchKind.GeoSearch)),
        new("geosearchstore", -8, Write | DenyOom, 1, 2, 1, "geo", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", (CommandContext c, in CommandArgs a) => Search(c, a, 2, SearchKind.GeoSearch | SearchKind.GeoSearchStore)),
    ];

    /// <summary><c>georadiusstore</c> (class <c>z</c>): the destination of GEORADIUS/GEORADIUSBYMEMBER … STORE|STOREDIST.</summary>
    public static readonly KeyEvent Georadiusstore = new("georadiusstore", 'z');

    /// <summary><c>geosearchstore</c> (class <c>z</c>): the destination of GEOSEARCHSTORE.</summary>
    public static readonly KeyEvent Geosearchstore = new("geosearchstore", 'z');

    private const string CouldNotDecode = "ERR could not decode requested zset member";

    /// <summary>Redis's <c>georadiusGeneric</c> flags.</summary>
    [Flags]
    private enum SearchKind
    {
        Coordinates = 1,
        Member = 2,
        NoStore = 4,
        GeoSearch = 8,
        GeoSearchStore = 16,
    }

    private enum Sort { None, Ascending, Descending }

    /// <summary>A member found by a search: its place in the source set, its score, position and distance (meters, then the request's unit).</summary>
    private struct Found
    {
        public Position Node;
        public double Score, Longitude, Latitude, Distance;
        public int Order;
    }

    /// <summary>This thread's search results (reused; cleared after each search so no set is kept alive).</summary>
    [ThreadStatic] private static Found[]? t_found;

    // ------------------------------------------------------------------------------------------------ argument parsing

    /// <summary>
    /// Redis's <c>extractLongLatOrReply</c>: two floats (<c>-ERR value is not a valid float</c>) within the indexable range,
    /// else <c>-ERR invalid longitude,latitude pair %f,%f</c>.
    /// </summary>
    private static bool TryParseLonLat(RespWriter w, ReadOnlySpan<byte> lonText, ReadOnlySpan<byte> latText, out double longitude, out double latitude)
    {
        latitude = 0;
        if (!DoubleText.TryParse(lonText, out longitude) || !DoubleText.TryParse(latText, out latitude))
        {
            w.WriteError(CommandErrors.NotFloat);
            return false;
        }
        if (GeoHash.IsValid(longitude, latitude)) return true;
        w.WriteError($"ERR invalid longitude,latitude pair {CFixed(longitude)},{CFixed(latitude)}");
        return false;
    }

    /// <summary>C's <c>%f</c> (six decimals; <c>inf</c>, <c>-inf</c>).</summary>
    private static string CFixed(double value) =>
        double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : value.ToString("F6", CultureInfo.InvariantCulture);

    /// <summary>Redis's <c>extractUnitOrReply</c>: meters per unit of <c>m</c>, <c>km</c>, <c>ft</c>, <c>mi</c> (any case), else <c>-ERR unsupported unit provided. please use M, KM, FT, MI</c>.</summary>
    private static bool TryParseUnit(RespWriter w, ReadOnlySpan<byte> unit, out double toMeters)
    {
        if (Ascii.EqualsIgnoreCase(unit, "m"u8)) toMeters = 1;
        else if (Ascii.EqualsIgnoreCase(unit, "km"u8)) toMeters = 1000;
        else if (Ascii.EqualsIgnoreCase(unit, "ft"u8)) toMeters = 0.3048;
        else if (Ascii.EqualsIgnoreCase(unit, "mi"u8)) toMeters = 1609.34;
        else
        {
            toMeters = 0;
            w.WriteError("ERR unsupported unit provided. please use M, KM, FT, MI");
            return false;
        }
        return true;
    }

    /// <summary>A non-negative length (<c>-ERR need numeric …</c>, then <c>-ERR … cannot be negative</c> as Redis checks them).</summary>
    private static bool TryParseLength(RespWriter w, ReadOnlySpan<byte> text, string notNumeric, out double value)
    {
        if (DoubleText.TryParse(text, out value)) return true;
        w.WriteError(notNumeric);
        return false;
    }

    /// <summary>Redis's <c>extractDistanceOrReply</c>: <c>radius unit</c> into <paramref name="shape"/>.</summary>
    private static bool TryParseRadius(RespWriter w, in CommandArgs args, int at, ref GeoHash.Shape shape)
    {
        if (!TryParseLength(w, args[at], "ERR need numeric radius", out double radius)) return false;
        if (radius < 0)
        {
            w.WriteError("ERR radius cannot be negative");
            return false;
        }
        if (!TryParseUnit(w, args[at + 1], out double conversion)) return false;
        shape.IsBox = false;
        shape.Radius = radius;
        shape.Conversion = conversion;
        return true;
    }

    /// <summary>Redis's <c>extractBoxOrReply</c>: <c>width height unit</c> into <paramref name="shape"/>.</summary>
    private static bool TryParseBox(RespWriter w, in CommandArgs args, int at, ref GeoHash.Shape shape)
    {
        if (!TryParseLength(w, args[at], "ERR need numeric width", out double width)
            || !TryParseLength(w, args[at + 1], "ERR need numeric height", out double height)) return false;
        if (height < 0 || width < 0)
        {
            w.WriteError("ERR height or width cannot be negative");
            return false;
        }
        if (!TryParseUnit(w, args[at + 2], out double conversion)) return false;
        shape.IsBox = true;
        shape.Width = width;
        shape.Height = height;
        shape.Conversion = conversion;
        return true;
    }

    /// <summary>The position of <paramref name="member"/> in <paramref name="set"/> (Redis's <c>longLatFromMember</c>), else <c>-ERR could not decode requested zset member</c>.</summary>
    private static bool TryMemberPosition(RespWriter w, SortedSetValue set, ReadOnlySpan<byte> member, ref GeoHash.Shape shape)
    {
        if (set.TryGetScore(member, out double score))
        {
            GeoHash.Decode(score, out shape.Longitude, out shape.Latitude);
            return true;
        }
        w.WriteError(CouldNotDecode);
        return false;
    }

    // ------------------------------------------------------------------------------------------------ reply formats

    /// <summary>Redis's <c>addReplyDoubleDistance</c>: <c>llrint(d × 10⁴)</c> printed with four decimals, always a bulk string.</summary>
    private static void WriteDistance(RespWriter w, double distance)
    {
        Span<byte> text = stackalloc byte[32];
        long scaled = (long)Math.Round(distance * 10000.0, MidpointRounding.ToEven);
        int n = 0;
        if (scaled < 0)
        {
            text[n++] = (byte)'-';
            scaled = -scaled;
        }
        long whole = scaled / 10000, fraction = scaled % 10000;
        whole.TryFormat(text[n..], out int digits, default, CultureInfo.InvariantCulture);
        n += digits;
        text[n++] = (byte)'.';
        fraction.TryFormat(text[n..], out digits, "D4", CultureInfo.InvariantCulture);
        n += digits;
        w.WriteBulkString(text[..n]);
    }

    /// <summary>
    /// Redis's <c>addReplyHumanLongDouble</c> of a coordinate: <c>%.17Lf</c> (the double's exact value to 17 decimals) with
    /// trailing zeros and point removed, <c>-0</c> as <c>0</c>; a RESP2 bulk string or a RESP3 double.
    /// </summary>
    private static void WriteCoordinate(RespWriter w, double value)
    {
        Span<byte> text = stackalloc byte[64];
        value.TryFormat(text, out int n, "F17", CultureInfo.InvariantCulture);
        while (text[n - 1] == (byte)'0') n--;
        if (text[n - 1] == (byte)'.') n--;
        if (n == 2 && text[0] == (byte)'-' && text[1] == (byte)'0')
        {
            text[0] = (byte)'0';
            n = 1;
        }
        w.WriteDoubleText(text[..n]);
    }

    // ------------------------------------------------------------------------------------------------ GEOADD

    /// <summary>
    /// <c>GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member …]</c> (Redis's <c>geoaddCommand</c>):
    /// the arguments after the options not a multiple of three, or NX with XX, <c>-ERR syntax error</c>; an invalid pair
    /// <c>-ERR invalid longitude,latitude pair %f,%f</c> (nothing added); then <c>ZADD key [options] score member …</c> with the
    /// 52-bit scores, replying, announcing and logged as that ZADD.
    /// </summary>
    private static void GeoAdd(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        bool nx = false, xx = false;
        int first = 2;
        for (; first < args.Count; first++)
        {
            if (args.Is(first, "NX"u8)) nx = true;
            else if (args.Is(first, "XX"u8)) xx = true;
            else if (!args.Is(first, "CH"u8)) break;
        }
        if ((args.Count - first) % 3 != 0 || (xx && nx))
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        int elements = (args.Count - first) / 3;
        for (int i = 0; i < elements; i++)
            if (!TryParseLonLat(w, args[first + i * 3], args[first + i * 3 + 1], out _, out _)) return;

        // The ZADD request: "zadd", the key and options as given, then score (decimal digits) and member pairs.
        int argc = first + elements * 2;
        int bytes = 4 + elements * 20;
        for (int i = 1; i < first; i++) bytes += args[i].Length;
        for (int i = 0; i < elements; i++) bytes += args[first + i * 3 + 2].Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(bytes);
        ArgSlice[] slices = ArrayPool<ArgSlice>.Shared.Rent(argc);
        try
        {
            int used = 0;
            used = Append(buffer, used, slices, 0, "zadd"u8);
            for (int i = 1; i < first; i++) used = Append(buffer, used, slices, i, args[i]);
            for (int i = 0; i < elements; i++)
            {
                int at = first + i * 3;
                DoubleText.TryParse(args[at], out double longitude);
                DoubleText.TryParse(args[at + 1], out double latitude);
                GeoHash.Score(longitude, latitude).TryFormat(buffer.AsSpan(used), out int digits, default, CultureInfo.InvariantCulture);
                slices[first + i * 2] = new ArgSlice(used, digits);
                used += digits;
                used = Append(buffer, used, slices, first + i * 2 + 1, args[at + 2]);
            }
            var zadd = new CommandArgs(buffer.AsSpan(0, used), slices.AsSpan(0, argc));
            Database db = context.Database;
            ulong shard = Database.ShardMaskOf(args[1]);
            long before = db.ChangesIn(shard);
            SortedSetCommands.ZAdd(context, zadd, incrby: false);
            if (db.ChangesIn(shard) != before) context.ReplacePropagation()?.Add(db.Index, zadd);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<ArgSlice>.Shared.Return(slices);
        }
    }

    private static int Append(byte[] buffer, int used, ArgSlice[] slices, int index, ReadOnlySpan<byte> value)
    {
        value.CopyTo(buffer.AsSpan(used));
        slices[index] = new ArgSlice(used, value.Length);
        return used + value.Length;
    }

    // ------------------------------------------------------------------------------------------------ GEODIST, GEOHASH, GEOPOS

    /// <summary>
    /// <c>GEODIST key member1 member2 [m|km|ft|mi]</c>: the distance in the unit (four decimals, a bulk string), null when the
    /// key or a member is missing. More than one unit argument <c>-ERR syntax error</c>; a bad unit is refused before the key is read.
    /// </summary>
    private static void GeoDist(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        double toMeters = 1;
        if (args.Count == 5 && !TryParseUnit(w, args[4], out toMeters)) return;
        if (args.Count > 5)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        if (!TypedValue.TryRead(context, args[1], out SortedSetValue? set)) return;
        if (set == null || !set.TryGetScore(args[2], out double score1) || !set.TryGetScore(args[3], out double score2))
        {
            w.WriteNullBulkString();
            return;
        }
        GeoHash.Decode(score1, out double lon1, out double lat1);
        GeoHash.Decode(score2, out double lon2, out double lat2);
        WriteDistance(w, GeoHash.Distance(lon1, lat1, lon2, lat2) / toMeters);
    }

    /// <summary><c>GEOHASH key [member …]</c>: an 11-character standard geohash per member, null for a missing one (or key).</summary>
    private static void GeoHashCommand(CommandContext context, in CommandArgs args)
    {
        if (!TypedValue.TryRead(context, args[1], out SortedSetValue? set)) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(args.Count - 2);
        Span<byte> text = stackalloc byte[11];
        for (int j = 2; j < args.Count; j++)
        {
            if (set == null || !set.TryGetScore(args[j], out double score))
            {
                w.WriteNullBulkString();
                continue;
            }
            GeoHash.Text(score, text);
            w.WriteBulkString(text);
        }
    }

    /// <summary><c>GEOPOS key [member …]</c>: a [longitude, latitude] pair per member (cell centres), a null array for a missing one.</summary>
    private static void GeoPos(CommandContext context, in CommandArgs args)
    {
        if (!TypedValue.TryRead(context, args[1], out SortedSetValue? set)) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(args.Count - 2);
        for (int j = 2; j < args.Count; j++)
        {
            if (set == null || !set.TryGetScore(args[j], out double score))
            {
                w.WriteNullArray();
                continue;
            }
            GeoHash.Decode(score, out double longitude, out double latitude);
            w.WriteArrayHeader(2);
            WriteCoordinate(w, longitude);
            WriteCoordinate(w, latitude);
        }
    }

    // ------------------------------------------------------------------------------------------------ searches

    /// <summary>
    /// GEORADIUS, GEORADIUSBYMEMBER (and <c>_RO</c>), GEOSEARCH and GEOSEARCHSTORE (Redis's <c>georadiusGeneric</c>; the
    /// source key is argument <paramref name="sourceIndex"/>). Errors in Redis's order: WRONGTYPE of the source; GEORADIUS's
    /// position and radius; then the options left to right (<c>-ERR syntax error</c> for an unknown, misplaced or
    /// incomplete one; <c>-ERR value is not an integer or out of range</c>, <c>-ERR COUNT must be &gt; 0</c>; FROMMEMBER of a
    /// missing member <c>-ERR could not decode requested zset member</c>); STORE with WITHDIST/WITHHASH/WITHCOORD
    /// <c>-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options</c> (GEOSEARCHSTORE
    /// likewise); <c>-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for &lt;command&gt;</c>; <c>-ERR exactly
    /// one of BYRADIUS and BYBOX can be specified for &lt;command&gt;</c>; <c>-ERR the ANY argument requires COUNT argument</c>.
    /// A missing source replies an empty array (a store deletes its destination and replies <c>:0</c>). COUNT without ANY
    /// sorts ascending when no order is given. A store keeps the members with their geohash (or with STOREDIST their
    /// distance in the unit) and announces <c>georadiusstore</c>/<c>geosearchstore</c>; an empty result deletes the destination.
    /// </summary>
    private static void Search(CommandContext context, in CommandArgs args, int sourceIndex, SearchKind kind)
    {
        RespWriter w = context.Writer;
        if (!TypedValue.TryRead(context, args[sourceIndex], out SortedSetValue? set)) return;
        var shape = new GeoHash.Shape();
        int baseArgs;
        int storeKey = -1;
        bool storeDist = false;
        if ((kind & SearchKind.Coordinates) != 0)
        {
            baseArgs = 6;
            if (!TryParseLonLat(w, args[2], args[3], out shape.Longitude, out shape.Latitude)) return;
            if (!TryParseRadius(w, args, 4, ref shape)) return;
        }
        else if ((kind & SearchKind.Member) != 0)
        {
            baseArgs = 5;
            if (set != null)
            {
                if (!TryMemberPosition(w, set, args[2], ref shape)) return;
                if (!TryParseRadius(w, args, 3, ref shape)) return;
            }
        }
        else
        {
            baseArgs = 2;
            if ((kind & SearchKind.GeoSearchStore) != 0)
            {
                baseArgs = 3;
                storeKey = 1;
            }
        }

        bool withDist = false, withHash = false, withCoord = false, any = false;
        bool fromMember = false, fromLonLat = false, byRadius = false, byBox = false;
        bool geoSearch = (kind & SearchKind.GeoSearch) != 0, storeAllowed = (kind & (SearchKind.NoStore | SearchKind.GeoSearch)) == 0;
        Sort sort = Sort.None;
        long count = 0;
        int remaining = args.Count - baseArgs;
        for (int i = 0; i < remaining; i++)
        {
            int at = baseArgs + i;
            if (args.Is(at, "WITHDIST"u8)) withDist = true;
            else if (args.Is(at, "WITHHASH"u8)) withHash = true;
            else if (args.Is(at, "WITHCOORD"u8)) withCoord = true;
            else if (args.Is(at, "ANY"u8)) any = true;
            else if (args.Is(at, "ASC"u8)) sort = Sort.Ascending;
            else if (args.Is(at, "DESC"u8)) sort = Sort.Descending;
            else if (args.Is(at, "COUNT"u8) && i + 1 < remaining)
            {
                if (!RespInteger.TryParse(args[at + 1], out count))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (count <= 0)
                {
                    w.WriteError("ERR COUNT must be > 0");
                    return;
                }
                i++;
            }
            else if ((args.Is(at, "STORE"u8) || args.Is(at, "STOREDIST"u8)) && i + 1 < remaining && storeAllowed)
            {
                storeKey = at + 1;
                storeDist = args[at].Length == "STOREDIST".Length;
                i++;
            }
            else if (args.Is(at, "STOREDIST"u8) && (kind & SearchKind.GeoSearchStore) != 0) storeDist = true;
            else if (args.Is(at, "FROMMEMBER"u8) && i + 1 < remaining && geoSearch && !fromLonLat)
            {
                if (set != null && !TryMemberPosition(w, set, args[at + 1], ref shape)) return;
                fromMember = true;
                i++;
            }
            else if (args.Is(at, "FROMLONLAT"u8) && i + 2 < remaining && geoSearch && !fromMember)
            {
                if (!TryParseLonLat(w, args[at + 1], args[at + 2], out shape.Longitude, out shape.Latitude)) return;
                fromLonLat = true;
                i += 2;
            }
            else if (args.Is(at, "BYRADIUS"u8) && i + 2 < remaining && geoSearch && !byBox)
            {
                if (!TryParseRadius(w, args, at + 1, ref shape)) return;
                byRadius = true;
                i += 2;
            }
            else if (args.Is(at, "BYBOX"u8) && i + 3 < remaining && geoSearch && !byRadius)
            {
                if (!TryParseBox(w, args, at + 1, ref shape)) return;
                byBox = true;
                i += 3;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (storeKey >= 0 && (withDist || withHash || withCoord))
        {
            w.WriteError((kind & SearchKind.GeoSearchStore) != 0
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
            return;
        }
        if (geoSearch && !(fromMember || fromLonLat))
        {
            w.WriteError($"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {Encoding.UTF8.GetString(args[0])}");
            return;
        }
        if (geoSearch && !(byRadius || byBox))
        {
            w.WriteError($"ERR exactly one of BYRADIUS and BYBOX can be specified for {Encoding.UTF8.GetString(args[0])}");
            return;
        }
        if (any && count == 0)
        {
            w.WriteError("ERR the ANY argument requires COUNT argument");
            return;
        }
        KeyEvent storeEvent = geoSearch ? Geosearchstore : Georadiusstore;
        if (set == null)
        {
            if (storeKey >= 0) SortedSetCommands.StoreResult(context, args[storeKey], SortedSetCommands.NewSet(context), storeEvent);
            else w.WriteArrayHeader(0);
            return;
        }
        if (count != 0 && sort == Sort.None && !any) sort = Sort.Ascending;

        Found[] found = t_found ??= new Found[16];
        int used = Collect(set, shape, any ? count : 0, ref found);
        t_found = found;
        try
        {
            Span<Found> results = found.AsSpan(0, used);
            int returned = count == 0 || used < count ? used : (int)count;
            if (sort == Sort.Ascending) SortFirst(results, returned, new ByDistance(descending: false));
            else if (sort == Sort.Descending) SortFirst(results, returned, new ByDistance(descending: true));
            results = results[..returned];
            if (storeKey < 0)
            {
                WriteResults(w, results, shape.Conversion, withDist, withHash, withCoord);
                return;
            }
            SortedSetValue result = SortedSetCommands.NewSet(context);
            foreach (ref Found f in results)
                SortedSetCommands.Add(context, result, f.Node.Member, storeDist ? f.Distance / shape.Conversion : f.Score);
            SortedSetCommands.StoreResult(context, args[storeKey], result, storeEvent);
        }
        finally
        {
            Array.Clear(found, 0, used);
        }
    }

    /// <summary>
    /// Redis's <c>membersOfAllNeighbors</c>: the members of each search cell's score range [min, max) that lie in the shape, in
    /// cell order then score order; a cell equal to the last one searched is skipped, and with a <paramref name="limit"/>
    /// (COUNT … ANY) the walk stops once that many were found. Returns how many are in <paramref name="found"/>.
    /// </summary>
    private static int Collect(SortedSetValue set, in GeoHash.Shape shape, long limit, ref Found[] found)
    {
        GeoHash.SearchAreas areas = GeoHash.Areas(shape);
        GeoHash.Probe probe = new(shape);
        int used = 0, lastProcessed = 0;
        for (int i = 0; i < 9; i++)
        {
            GeoHash.Cell cell = areas[i];
            if (cell.IsZero) continue;
            if (lastProcessed != 0 && cell == areas[lastProcessed]) continue;
            if (used > 0 && limit > 0 && used >= limit) break;
            double min = GeoHash.Align52(cell), max = GeoHash.Align52(cell with { Bits = cell.Bits + 1 });
            if (set.TryGetRankRange(new ScoreRange(min, max, false, true), out long firstRank, out long lastRank))
            {
                Position node = set.ByRank(firstRank);
                for (long r = firstRank; r <= lastRank; r++, node = node.Next)
                {
                    double score = node.Score;
                    if (probe.Within(score, out double longitude, out double latitude, out double distance))
                    {
                        if (used == found.Length) Array.Resize(ref found, used * 2);
                        found[used] = new Found { Node = node, Score = score, Longitude = longitude, Latitude = latitude, Distance = distance, Order = used };
                        used++;
                    }
                    if (used > 0 && limit > 0 && used >= limit) break;
                }
            }
            lastProcessed = i;
        }
        return used;
    }

    /// <summary>
    /// Search order by distance (ascending or descending), ties in search order (<see cref="Found.Order"/>): a total order,
    /// so a partial sort's first <c>k</c> are exactly a full sort's.
    /// </summary>
    private readonly struct ByDistance(bool descending) : IComparer<Found>
    {
        public int Compare(Found a, Found b)
        {
            if (a.Distance != b.Distance) return descending ? b.Distance.CompareTo(a.Distance) : a.Distance.CompareTo(b.Distance);
            return a.Order.CompareTo(b.Order);
        }
    }

    /// <summary>
    /// Puts the first <paramref name="k"/> of <paramref name="items"/> in <paramref name="order"/> (the rest in no particular
    /// order), as Redis's <c>pqsort</c> for a COUNT: a quickselect (median-of-three pivots) narrows to the range holding
    /// the k-th, then only the first k are sorted. Linear on average rather than n log n for a COUNT well below the matches.
    /// </summary>
    private static void SortFirst<TOrder>(Span<Found> items, int k, TOrder order) where TOrder : IComparer<Found>
    {
        int lo = 0, hi = items.Length - 1, sorted = -1;
        while (k < items.Length && hi - lo > 16)
        {
            // Median of three to items[hi], then a Lomuto partition of [lo, hi) around it.
            int mid = lo + (hi - lo) / 2;
            if (order.Compare(items[mid], items[lo]) < 0) (items[mid], items[lo]) = (items[lo], items[mid]);
            if (order.Compare(items[hi], items[lo]) < 0) (items[hi], items[lo]) = (items[lo], items[hi]);
            if (order.Compare(items[mid], items[hi]) < 0) (items[mid], items[hi]) = (items[hi], items[mid]);
            Found pivot = items[hi];
            int store = lo;
            for (int i = lo; i < hi; i++)
            {
                if (order.Compare(items[i], pivot) < 0)
                {
                    (items[i], items[store]) = (items[store], items[i]);
                    store++;
                }
            }
            (items[store], items[hi]) = (items[hi], items[store]);
            // items[lo..store) < pivot = items[store] < items(store..hi]; keep the side holding position k - 1.
            if (store == k - 1 || store == k)
            {
                sorted = k; // the first k are the k first in order
                break;
            }
            if (store > k) hi = store - 1;
            else lo = store + 1;
        }
        // Otherwise everything after hi comes after everything up to hi, and hi ≥ k - 1: the k first are in [0, hi].
        items[..(sorted >= 0 ? sorted : hi + 1)].Sort(order);
    }

    /// <summary>The search reply: members, or per member [member, distance?, hash?, [longitude, latitude]?].</summary>
    private static void WriteResults(RespWriter w, ReadOnlySpan<Found> results, double conversion, bool withDist, bool withHash, bool withCoord)
    {
        int options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0);
        w.WriteArrayHeader(results.Length);
        foreach (ref readonly Found f in results)
        {
            if (options > 0) w.WriteArrayHeader(options + 1);
            w.WriteBulkString(f.Node.Member);
            if (withDist) WriteDistance(w, f.Distance / conversion);
            if (withHash) w.WriteInteger((long)f.Score);
            if (withCoord)
            {
                w.WriteArrayHeader(2);
                WriteCoordinate(w, f.Longitude);
                WriteCoordinate(w, f.Latitude);
            }
        }
    }
}
