namespace RespKv.Storage;

/// <summary>
/// What happened to a key, as Redis's keyspace notifications name it (https://redis.io/docs/manual/keyspace-notifications/):
/// the event name (<c>set</c>, <c>del</c>, <c>hset</c>, <c>expired</c>…) and its class character (<c>$</c> string,
/// <c>g</c> generic, <c>h</c> hash, <c>l</c> list, <c>s</c> set, <c>z</c> sorted set, <c>t</c> stream, <c>x</c> expired,
/// <c>e</c> evicted, <c>n</c> new key). Every change announced through <see cref="KeyspaceShard.Mutated"/> carries one;
/// a value kind declares its own events as static instances next to its commands.
/// </summary>
/// <param name="Name">The event name, as the notification's message carries it.</param>
/// <param name="Class">The notification class character that enables it in <c>notify-keyspace-events</c>.</param>
public sealed record KeyEvent(string Name, char Class)
{
    /// <summary><c>set</c> (class <c>$</c>): a string value set (SET, MSET, INCR's result…); the default of <see cref="Database.Set(ReadOnlySpan{byte}, object, long, KeyEvent?)"/>.</summary>
    public static readonly KeyEvent Set = new("set", '$');

    /// <summary><c>new</c> (class <c>n</c>, not part of <c>A</c>): a key was created (announced before the command's own event).</summary>
    public static readonly KeyEvent New = new("new", 'n');

    /// <summary>
    /// <c>keymiss</c> (class <c>m</c>, not part of <c>A</c>): a read command looked up a missing key (Redis 7.0's
    /// <c>lookupKeyReadWithFlags</c>: once per lookup that counts a <c>keyspace_misses</c>); announced through
    /// <see cref="KeyLifetime.KeyMissed"/>, not as a change.
    /// </summary>
    public static readonly KeyEvent KeyMiss = new("keymiss", 'm');

    /// <summary>
    /// A change Redis makes without a keyspace notification (BITFIELD creating or growing a string before its writes,
    /// PFCOUNT storing the cached cardinality, PFDEBUG converting to dense): its class is none of <c>notify-keyspace-events</c>,
    /// so nothing is published, while WATCH, blocked clients, client-side caching and the AOF still see the change.
    /// </summary>
    public static readonly KeyEvent Unannounced = new("", '\0');

    /// <summary><c>del</c> (class <c>g</c>): a key deleted by a command; the default of <see cref="Database.Remove"/>.</summary>
    public static readonly KeyEvent Del = new("del", 'g');

    /// <summary><c>expired</c> (class <c>x</c>): expiry removed the key (lazily or in the active cycle).</summary>
    public static readonly KeyEvent Expired = new("expired", 'x');

    /// <summary><c>evicted</c> (class <c>e</c>): eviction removed the key under maxmemory.</summary>
    public static readonly KeyEvent Evicted = new("evicted", 'e');

    /// <summary><c>expire</c> (class <c>g</c>): a key's expiry set or changed (EXPIRE family, SET … EX with KEEPTTL…).</summary>
    public static readonly KeyEvent Expire = new("expire", 'g');

    /// <summary><c>persist</c> (class <c>g</c>): a key's expiry removed (PERSIST, GETEX PERSIST).</summary>
    public static readonly KeyEvent Persist = new("persist", 'g');

    /// <summary><c>rename_from</c> (class <c>g</c>): the source key of RENAME/RENAMENX.</summary>
    public static readonly KeyEvent RenameFrom = new("rename_from", 'g');

    /// <summary><c>rename_to</c> (class <c>g</c>): the destination key of RENAME/RENAMENX.</summary>
    public static readonly KeyEvent RenameTo = new("rename_to", 'g');

    /// <summary><c>restore</c> (class <c>g</c>): a key RESTORE created (Redis's <c>restoreCommand</c>).</summary>
    public static readonly KeyEvent Restore = new("restore", 'g');

    /// <summary><c>copy_to</c> (class <c>g</c>): the destination key of COPY.</summary>
    public static readonly KeyEvent CopyTo = new("copy_to", 'g');

    /// <summary><c>move_from</c> (class <c>g</c>): the key MOVE took from the source database.</summary>
    public static readonly KeyEvent MoveFrom = new("move_from", 'g');

    /// <summary><c>move_to</c> (class <c>g</c>): the key MOVE put into the destination database.</summary>
    public static readonly KeyEvent MoveTo = new("move_to", 'g');

    /// <summary><c>hset</c> (class <c>h</c>): hash fields set (HSET, HMSET, HSETNX).</summary>
    public static readonly KeyEvent Hset = new("hset", 'h');

    /// <summary><c>hdel</c> (class <c>h</c>): hash fields deleted.</summary>
    public static readonly KeyEvent Hdel = new("hdel", 'h');

    /// <summary><c>hexpire</c> (class <c>h</c>): hash-field expiries set (HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HGETEX with a time; Redis 7.4).</summary>
    public static readonly KeyEvent Hexpire = new("hexpire", 'h');

    /// <summary><c>hpersist</c> (class <c>h</c>): hash-field expiries removed (HPERSIST, HGETEX PERSIST).</summary>
    public static readonly KeyEvent Hpersist = new("hpersist", 'h');

    /// <summary><c>hexpired</c> (class <c>h</c>): hash fields removed because their expiry passed (Redis 7.4's active and lazy field expiry).</summary>
    public static readonly KeyEvent Hexpired = new("hexpired", 'h');

    /// <summary><c>hincrby</c> (class <c>h</c>).</summary>
    public static readonly KeyEvent Hincrby = new("hincrby", 'h');

    /// <summary><c>hincrbyfloat</c> (class <c>h</c>).</summary>
    public static readonly KeyEvent Hincrbyfloat = new("hincrbyfloat", 'h');

    /// <summary><c>incrby</c> (class <c>$</c>): INCR, INCRBY, DECR, DECRBY.</summary>
    public static readonly KeyEvent Incrby = new("incrby", '$');

    /// <summary><c>incrbyfloat</c> (class <c>$</c>).</summary>
    public static readonly KeyEvent Incrbyfloat = new("incrbyfloat", '$');

    /// <summary><c>append</c> (class <c>$</c>).</summary>
    public static readonly KeyEvent Append = new("append", '$');

    /// <summary><c>setrange</c> (class <c>$</c>).</summary>
    public static readonly KeyEvent Setrange = new("setrange", '$');
}
