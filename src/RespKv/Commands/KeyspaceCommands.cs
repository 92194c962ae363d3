using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RENAME, RENAMENX, RANDOMKEY, COPY, MOVE, SWAPDB,
/// TOUCH, with Redis 7.0's replies (https://redis.io/commands/?group=generic).
/// <para>
/// Multi-key writes (DEL, UNLINK, RENAME, COPY, MOVE, SWAPDB) run holding every shard they touch (the executor locks
/// them from the key specs before the handler runs), so they are all-or-nothing to other clients; EXISTS of several keys reads under the seqlock
/// (<see cref="Database.ReadSnapshot{TState}"/>) so it never sees half of a multi-key write. KEYS, SCAN and
/// RANDOMKEY read lock-free, bucket by bucket.
/// </para>
/// <para>
/// Expiry: keys whose <see cref="KeyEntry.ExpireAtMs"/> has passed are missing to every command; KEYS leaves them
/// out, SCAN and RANDOMKEY also remove them (as Redis 7.0); DBSIZE counts them until removed, as Redis does.
/// </para>
/// </summary>
public static class KeyspaceCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("del", -2, Write, 1, -1, 1, "generic", "Delete a key", Del),
        new("unlink", -2, Write | Fast, 1, -1, 1, "generic", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", Del),
        new("exists", -2, ReadOnly | Fast, 1, -1, 1, "generic", "Determine if a key exists", Exists),
        new("type", 2, ReadOnly | Fast, 1, 1, 1, "generic", "Determine the type stored at key", Type),
        new("keys", 2, ReadOnly, 0, 0, 0, "generic", "Find all keys matching the given pattern", Keys),
        new("scan", -2, ReadOnly, 0, 0, 0, "generic", "Incrementally iterate the keys space", Scan),
        new("rename", 3, Write, 1, 2, 1, "generic", "Rename a key", (CommandContext c, in CommandArgs a) => Rename(c, a, nx: false)),
        new("renamenx", 3, Write | Fast, 1, 2, 1, "generic", "Rename a key, only if the new key does not exist", (CommandContext c, in CommandArgs a) => Rename(c, a, nx: true)),
        new("randomkey", 1, ReadOnly, 0, 0, 0, "generic", "Return a random key from the keyspace", RandomKey),
        new("copy", -3, Write | DenyOom | OtherDatabases, 1, 2, 1, "generic", "Copy a key", Copy),
        new("move", 3, Write | Fast | OtherDatabases, 1, 1, 1, "generic", "Move a key to another database", Move),
        new("swapdb", 3, Write | Fast | AllDatabases, 0, 0, 0, "server", "Swaps two Redis databases", SwapDb),
        new("touch", -2, ReadOnly | Fast, 1, -1, 1, "generic", "Alters the last access time of a key(s). Returns the number of existing keys specified.", Touch),
    ];

    /// <summary>Random bucket probes RANDOMKEY makes before walking the shards in order (a sparse table).</summary>
    private const int RandomKeyProbes = 64;

    /// <summary>Expired keys RANDOMKEY removes before it gives up and answers as for an empty database (each try removes one).</summary>
    private const int RandomKeyExpiredTries = 10_000;

    /// <summary>
    /// <c>DEL key [key ...]</c> and <c>UNLINK key [key ...]</c>: <c>:n</c> keys deleted (a repeated key counts
    /// once). All keys' shards are locked together, so other clients see all or none of the deletions.
    /// UNLINK frees nothing in the background: dropping the reference is already O(1) here.
    /// </summary>
    private static void Del(CommandContext context, in CommandArgs args)
    {
        Database db = context.Database;
        long deleted = 0;
        for (int i = 1; i < args.Count; i++)
            if (db.Remove(args[i]) != null) deleted++;
        context.Writer.WriteInteger(deleted);
    }

    private ref struct ExistsState
    {
        public Database Database;
        public CommandArgs Args;
        public long Found;
    }

    /// <summary>
    /// <c>EXISTS key [key ...]</c>: <c>:n</c> arguments naming an existing key (repeats count again), read as
    /// one consistent snapshot. Each key counts as a keyspace hit or miss, as in Redis.
    /// </summary>
    private static void Exists(CommandContext context, in CommandArgs args)
    {
        var state = new ExistsState { Database = context.Database, Args = args };
        context.Database.ReadSnapshot(context.KeyShardMask(args), ref state, static (ref ExistsState s) =>
        {
            s.Found = 0;
            for (int i = 1; i < s.Args.Count; i++)
                if (s.Database.FindNoTouch(s.Args[i]) != null) s.Found++;
        });
        if (context.NotifiesKeyMiss)
        {
            // Each missing key is a keymiss event, in argument order (Redis looks each one up in turn): looked up again
            // only while class m is on, so the common path stays one snapshot.
            for (int i = 1; i < args.Count; i++) context.CountLookup(context.Database.FindNoTouch(args[i]) != null, args[i]);
        }
        else
        {
            for (long i = 0; i < args.Count - 1; i++) context.CountLookup(i < state.Found, default);
        }
        context.Writer.WriteInteger(state.Found);
    }

    /// <summary><c>TYPE key</c>: the value kind's name (<c>+string</c>, <c>+hash</c>, see <see cref="ValueKind.TypeName"/>), or <c>+none</c> when the key is missing.</summary>
    private static void Type(CommandContext context, in CommandArgs args)
    {
        KeyEntry? entry = context.Database.FindNoTouch(args[1]);
        context.CountLookup(entry != null, args[1]);
        context.Writer.WriteSimpleString(entry == null ? "none"u8 : entry.Kind.TypeNameBytes);
    }

    private ref struct KeysState
    {
        public ReadOnlySpan<byte> Pattern;
        public bool All;
        public long NowMs;
        public List<KeyEntry> Found;
    }

    /// <summary>
    /// <c>KEYS pattern</c>: every key of the selected database matching the glob pattern, in table order.
    /// Lock-free: a key written during the walk may or may not be listed (Redis blocks all writers instead).
    /// Keys whose expiry has passed are left out but not removed, as Redis's <c>keysCommand</c> does.
    /// </summary>
    private static void Keys(CommandContext context, in CommandArgs args)
    {
        var state = new KeysState
        {
            Pattern = args[1], All = GlobPattern.MatchesAll(args[1]), NowMs = context.Database.Lifetime.NowMs, Found = context.EntryScratch,
        };
        state.Found.Clear();
        foreach (KeyspaceShard shard in context.Database.Shards)
        {
            shard.ForEach(ref state, static (ref KeysState s, KeyEntry e) =>
            {
                if (e.ExpireAtMs != 0 && e.ExpireAtMs <= s.NowMs) return;
                if (s.All || GlobPattern.IsMatch(s.Pattern, e.Key)) s.Found.Add(e);
            });
        }
        WriteKeys(context.Writer, state.Found);
    }

    /// <summary>Writes an array of the keys of <paramref name="entries"/>, then clears the list.</summary>
    private static void WriteKeys(RespWriter writer, List<KeyEntry> entries)
    {
        writer.WriteArrayHeader(entries.Count);
        foreach (KeyEntry e in entries) writer.WriteBulkString(e.Key);
        entries.Clear();
    }

    /// <summary>
    /// <c>SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]</c>: replies <c>*2</c> of the next cursor (a
    /// bulk string, "0" when done) and an array of keys.
    /// <para>
    /// The cursor is a position: <c>(bucketCursor &lt;&lt; Database.ShardBits) | shardIndex</c>. Shards are
    /// scanned in index order, each with Redis's reverse-binary bucket cursor
    /// (<see cref="KeyspaceShard.ScanBucket"/>), so a key present for the whole scan is returned at least
    /// once even while tables grow. It stays below 2^63 (bucket cursors are below 2^31). Empty shards are
    /// skipped without counting as work. Work per call is bounded as in Redis: buckets are visited until at
    /// least COUNT keys were collected or COUNT*10 buckets were visited; MATCH and TYPE filter afterwards,
    /// so a call can return fewer keys than COUNT, even none, with a non-zero cursor.
    /// </para>
    /// <para>
    /// Errors: <c>-ERR invalid cursor</c>; COUNT not an integer: <c>-ERR value is not an integer or out of
    /// range</c>; COUNT below 1, a missing option value or an unknown option: <c>-ERR syntax error</c>. An
    /// unknown TYPE name matches no key (Redis 7.0). With TYPE, each key that passed MATCH counts as a
    /// keyspace hit, as Redis's type lookup does.
    /// </para>
    /// </summary>
    private static void Scan(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!RespInteger.TryParseScanCursor(args[1], out ulong cursor))
        {
            w.WriteError("ERR invalid cursor");
            return;
        }
        if (!ScanOptions.TryParse(w, args, 2, allowType: true, out ScanOptions options)) return;
        ReadOnlySpan<byte> pattern = options.Pattern, type = options.Type;
        bool usePattern = options.UsePattern, useType = options.UseType;
        long count = options.Count;

        List<KeyEntry> found = context.EntryScratch;
        found.Clear();
        ulong next = ScanKeys(context.Database, cursor, count, found);

        int kept = 0;
        for (int i = 0; i < found.Count; i++)
        {
            KeyEntry e = found[i];
            if (usePattern && !GlobPattern.IsMatch(pattern, e.Key)) continue;
            if (e.ExpireAtMs != 0 && context.Database.FindNoTouch(e.Key) == null)
            {
                // Expired: the lookup removed it; left out, as Redis's scanGenericCommand does (a TYPE lookup counts a miss).
                if (useType) context.CountLookup(false, e.Key);
                continue;
            }
            if (useType)
            {
                context.CountLookup(true, e.Key);
                if (!System.Text.Ascii.EqualsIgnoreCase(type, e.Kind.TypeNameBytes)) continue;
            }
            found[kept++] = e;
        }
        found.RemoveRange(kept, found.Count - kept);

        w.WriteArrayHeader(2);
        w.WriteBulkString((long)next);
        WriteKeys(w, found);
    }

    /// <summary>
    /// One SCAN step over <paramref name="db"/> from <paramref name="cursor"/>: adds the entries of the
    /// visited buckets to <paramref name="output"/> and returns the next cursor (0 after the last shard).
    /// </summary>
    private static ulong ScanKeys(Database db, ulong cursor, long count, List<KeyEntry> output)
    {
        ReadOnlySpan<KeyspaceShard> shards = db.Shards;
        int shard = (int)(cursor & (Database.ShardCount - 1));
        ulong bucket = cursor >> Database.ShardBits;
        long maxBuckets = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        long visited = 0;
        while (true)
        {
            KeyspaceShard s = shards[shard];
            // A shard with no keys holds no key that was present for the whole scan, so skipping it is safe.
            if (s.Count != 0)
            {
                bucket = s.ScanBucket(bucket, output);
                visited++;
            }
            else bucket = 0;
            if (bucket == 0 && ++shard == Database.ShardCount) return 0;
            if (output.Count >= count || visited >= maxBuckets) return (bucket << Database.ShardBits) | (uint)shard;
        }
    }

    /// <summary>
    /// <c>RENAME key newkey</c> (<c>+OK</c>) and <c>RENAMENX key newkey</c> (<c>:1</c>, or <c>:0</c> when newkey
    /// exists). A missing key: <c>-ERR no such key</c>; key equal to newkey: <c>+OK</c> / <c>:0</c> when it
    /// exists. Both shards are locked together, so the move is atomic; the value and its expiry move to
    /// newkey (an overwritten newkey's own expiry is dropped, as in Redis).
    /// </summary>
    private static void Rename(CommandContext context, in CommandArgs args, bool nx)
    {
        ReadOnlySpan<byte> key = args[1], newKey = args[2];
        Database db = context.Database;
        KeyEntry? entry = db.Find(key);
        if (entry == null)
        {
            context.Writer.WriteError(CommandErrors.NoSuchKey);
            return;
        }
        if (key.SequenceEqual(newKey) || (nx && db.Find(newKey) != null))
        {
            if (nx) context.Writer.WriteInteger(0);
            else context.Writer.WriteOk();
            return;
        }
        // Redis's renameGenericCommand: the destination replaced (dbDelete, silent) and added ("new"), the source deleted,
        // then "rename_from" and "rename_to".
        db.Set(newKey, entry.Value, entry.ExpireAtMs, KeyEvent.New);
        db.Remove(key, KeyEvent.RenameFrom);
        db.Announce(newKey, KeyEvent.RenameTo);
        if (nx) context.Writer.WriteInteger(1);
        else context.Writer.WriteOk();
    }

    /// <summary><c>RANDOMKEY</c>: a random key of the selected database as a bulk string, or a null bulk string when it is empty.</summary>
    private static void RandomKey(CommandContext context, in CommandArgs args)
    {
        Database db = context.Database;
        KeyEntry? entry = PickRandom(db, context.EntryScratch);
        // An expired key is removed by the lookup and another one picked, as Redis's dbRandomKey does.
        for (int tries = 0; entry != null && entry.ExpireAtMs != 0 && db.FindNoTouch(entry.Key) == null; tries++)
            entry = tries < RandomKeyExpiredTries ? PickRandom(db, context.EntryScratch) : null;
        if (entry == null) context.Writer.WriteNullBulkString();
        else context.Writer.WriteBulkString(entry.Key);
    }

    /// <summary>
    /// A random entry of <paramref name="db"/>, or null when it has none. Probes random buckets of random
    /// non-empty shards; if a sparse table defeats <see cref="RandomKeyProbes"/> probes, walks the shards
    /// from a random one and picks among the first non-empty bucket's entries, so it always ends quickly.
    /// </summary>
    private static KeyEntry? PickRandom(Database db, List<KeyEntry> scratch)
    {
        if (db.Count == 0) return null;
        Random random = Random.Shared;
        ReadOnlySpan<KeyspaceShard> shards = db.Shards;
        for (int probe = 0; probe < RandomKeyProbes; probe++)
        {
            KeyspaceShard shard = shards[random.Next(Database.ShardCount)];
            if (shard.Count == 0) continue;
            KeyEntry? chain = shard.RandomBucket(random);
            if (chain == null) continue;
            int length = 0;
            for (KeyEntry? e = chain; e != null; e = e.NextVolatile) length++;
            int pick = random.Next(length);
            for (KeyEntry? e = chain; e != null; e = e.NextVolatile)
                if (pick-- == 0) return e;
            return chain; // the chain changed under us; its head is still a key that existed
        }
        int start = random.Next(Database.ShardCount);
        for (int i = 0; i < Database.ShardCount; i++)
        {
            KeyspaceShard shard = shards[(start + i) & (Database.ShardCount - 1)];
            if (shard.Count == 0) continue;
            scratch.Clear();
            ulong cursor = 0;
            do cursor = shard.ScanBucket(cursor, scratch);
            while (cursor != 0 && scratch.Count == 0);
            if (scratch.Count == 0) continue;
            KeyEntry picked = scratch[random.Next(scratch.Count)];
            scratch.Clear();
            return picked;
        }
        return null;
    }

    /// <summary>
    /// <c>COPY source destination [DB destination-db] [REPLACE]</c>: <c>:1</c> when copied, <c>:0</c> when the
    /// source is missing or the destination exists without REPLACE. The value is duplicated by its kind's
    /// <see cref="ValueKind.Copy"/> (an immutable string or hash is shared) and keeps the source's expiry.
    /// <para>
    /// Errors, in Redis's order: options are parsed left to right — DB not an integer: <c>-ERR value is not an
    /// integer or out of range</c>; outside int: <c>-ERR value is out of range, value must between
    /// -2147483648 and 2147483647</c>; not an existing database: <c>-ERR DB index is out of range</c>; DB
    /// without a value or an unknown option: <c>-ERR syntax error</c>; then the same key in the same
    /// database: <c>-ERR source and destination objects are the same</c>.
    /// </para>
    /// <para>
    /// Locking (by the executor, from the row's <see cref="CommandFlags.OtherDatabases"/>): the keys' shards in every
    /// database, in (database index, shard index) order, as one atomic unit, which keeps multi-database writers deadlock-free.
    /// </para>
    /// </summary>
    private static void Copy(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        Database source = context.Database, destination = source;
        bool replace = false;
        for (int i = 3; i < args.Count; i++)
        {
            if (args.Is(i, "REPLACE"u8))
            {
                replace = true;
            }
            else if (args.Is(i, "DB"u8) && i + 1 < args.Count)
            {
                i++;
                if (!CommandErrors.TryParseDatabaseIndex(context.Keyspace, args[i], out int index, out string? error))
                {
                    w.WriteError(error!);
                    return;
                }
                destination = context.Keyspace[index];
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        ReadOnlySpan<byte> key = args[1], newKey = args[2];
        if (source == destination && key.SequenceEqual(newKey))
        {
            w.WriteError(SameObject);
            return;
        }
        KeyEntry? entry = source.Find(key);
        context.CountLookup(entry != null, key);
        bool copied = entry != null && (replace || destination.Find(newKey) == null);
        if (copied)
        {
            // Redis's copyCommand: the destination replaced (silent dbDelete) and added ("new"), then "copy_to".
            destination.Set(newKey, entry!.Kind.Copy(entry.Value), entry.ExpireAtMs, KeyEvent.New);
            destination.Announce(newKey, KeyEvent.CopyTo);
        }
        w.WriteInteger(copied ? 1 : 0);
    }

    /// <summary>
    /// <c>MOVE key db</c>: moves the key, its value and its expiry to database <c>db</c>: <c>:1</c>, or <c>:0</c> when
    /// the key is missing or already exists there (Redis 7.0's <c>moveCommand</c>). Errors, in Redis's order: db not an
    /// integer: <c>-ERR value is not an integer or out of range</c>; outside int: the int range error; not an existing
    /// database: <c>-ERR DB index is out of range</c>; db is the current database: <c>-ERR source and destination
    /// objects are the same</c>. Both shards are locked (lower database first), so the move is atomic to other
    /// writers (as COPY … DB, a reader in the other database is not held back); watchers of the key in both databases are
    /// touched. Logged as the request (replayed from the same database).
    /// </summary>
    private static void Move(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!CommandErrors.TryParseDatabaseIndex(context.Keyspace, args[2], out int index, out string? error))
        {
            w.WriteError(error!);
            return;
        }
        Database source = context.Database, destination = context.Keyspace[index];
        if (source == destination)
        {
            w.WriteError(SameObject);
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        bool moved = false;
        KeyEntry? entry = source.Find(key);
        if (entry != null && destination.Find(key) == null)
        {
            // Redis's moveCommand: added to the destination ("new"), deleted from the source, then "move_from", "move_to".
            destination.Set(key, entry.Value, entry.ExpireAtMs, KeyEvent.New);
            source.Remove(key, KeyEvent.MoveFrom);
            destination.Announce(key, KeyEvent.MoveTo);
            moved = true;
        }
        w.WriteInteger(moved ? 1 : 0);
    }

    /// <summary>Redis's <c>shared.sameobjecterr</c>.</summary>
    private const string SameObject = "ERR source and destination objects are the same";

    /// <summary>
    /// <c>SWAPDB index1 index2</c>: <c>+OK</c> after exchanging the two databases' keys (<see cref="Database.SwapWith"/>;
    /// the same index twice is a no-op that still answers <c>+OK</c> and is logged, as Redis counts it dirty). Errors
    /// (Redis 7.0's <c>swapdbCommand</c>): index1 not an int: <c>-ERR invalid first DB index</c>; index2:
    /// <c>-ERR invalid second DB index</c>; either outside 0..databases-1: <c>-ERR DB index is out of range</c>.
    /// Watchers of a key present in either database are touched, so their EXEC aborts. The command is flagged
    /// <see cref="CommandFlags.AllDatabases"/>, so inside EXEC or while the AOF logs it every database is locked as for FLUSHALL.
    /// </summary>
    private static void SwapDb(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        Keyspace keyspace = context.Keyspace;
        if (!TryParseInt(args[1], out int first))
        {
            w.WriteError("ERR invalid first DB index");
            return;
        }
        if (!TryParseInt(args[2], out int second))
        {
            w.WriteError("ERR invalid second DB index");
            return;
        }
        if (first < 0 || first >= keyspace.DatabaseCount || second < 0 || second >= keyspace.DatabaseCount)
        {
            w.WriteError(CommandErrors.DbIndexOutOfRange);
            return;
        }
        keyspace[first].SwapWith(keyspace[second]);
        w.WriteOk();
    }

    private static bool TryParseInt(ReadOnlySpan<byte> text, out int value)
    {
        bool ok = RespInteger.TryParse(text, out long n) && n is >= int.MinValue and <= int.MaxValue;
        value = ok ? (int)n : 0;
        return ok;
    }

    /// <summary>
    /// <c>TOUCH key [key ...]</c>: <c>:n</c> arguments naming an existing key (a repeat counts again); each lookup
    /// records an access (LRU/LFU) and counts a keyspace hit or miss, as Redis's <c>lookupKeyRead</c>.
    /// </summary>
    private static void Touch(CommandContext context, in CommandArgs args)
    {
        Database db = context.Database;
        long found = 0;
        for (int i = 1; i < args.Count; i++)
        {
            bool exists = db.Find(args[i]) != null;
            context.CountLookup(exists, args[i]);
            if (exists) found++;
        }
        context.Writer.WriteInteger(found);
    }
}
