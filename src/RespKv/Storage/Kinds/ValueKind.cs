using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Storage.Kinds;

/// <summary>
/// Everything the server needs to know about one kind of value (a Redis data type) outside the kind's own
/// commands: its <c>TYPE</c> name, its <c>OBJECT ENCODING</c> name, its memory figures, how the AOF rewrite
/// recreates it, how COPY duplicates it, and whether it is replaced on write or mutated in place. One subclass
/// per kind (<see cref="StringKind"/>, <see cref="HashKind"/>), registered once in <see cref="ValueKinds"/>;
/// TYPE, SCAN … TYPE, COPY, MOVE, OBJECT, MEMORY USAGE, DEBUG OBJECT, INFO's memory figures and the AOF rewrite
/// all ask the descriptor, so a new kind is one folder/file plus one registration.
/// <para>
/// Values are stored as <see cref="KeyEntry.Value"/> (an <see cref="object"/>); the descriptor is found from the
/// value's CLR type (<see cref="ValueKinds.Of"/>). A value of an unregistered CLR type makes every such question
/// throw <see cref="InvalidOperationException"/> instead of being skipped.
/// </para>
/// </summary>
public abstract class ValueKind
{
    private readonly byte[] _typeNameBytes;

    /// <summary>A kind whose values are instances of exactly <paramref name="valueType"/>, named <paramref name="typeName"/> by TYPE.</summary>
    /// <param name="typeName">Lower-case TYPE name (<c>string</c>, <c>hash</c>).</param>
    /// <param name="valueType">The CLR type of the stored values (not a base type: lookup is by exact type).</param>
    /// <param name="redisTypeCode">See <see cref="RedisTypeCode"/>.</param>
    /// <param name="mutatedInPlace">See <see cref="MutatedInPlace"/>.</param>
    protected ValueKind(string typeName, Type valueType, int redisTypeCode, bool mutatedInPlace)
    {
        TypeName = typeName;
        RedisTypeCode = redisTypeCode;
        ValueType = valueType;
        MutatedInPlace = mutatedInPlace;
        _typeNameBytes = System.Text.Encoding.ASCII.GetBytes(typeName);
    }

    /// <summary>The name TYPE replies and SCAN … TYPE matches (<c>string</c>, <c>hash</c>).</summary>
    public string TypeName { get; }

    /// <summary><see cref="TypeName"/> as ASCII bytes (allocation-free replies).</summary>
    public ReadOnlySpan<byte> TypeNameBytes => _typeNameBytes;

    /// <summary>
    /// Redis's object type number (server.h <c>OBJ_STRING</c> 0, <c>OBJ_LIST</c> 1, <c>OBJ_SET</c> 2, <c>OBJ_ZSET</c> 3,
    /// <c>OBJ_HASH</c> 4, <c>OBJ_STREAM</c> 6), which <c>DEBUG DIGEST</c> mixes in (<see cref="RedisDigest.AddValue"/>).
    /// </summary>
    public int RedisTypeCode { get; }

    /// <summary>The CLR type of this kind's values.</summary>
    public Type ValueType { get; }

    /// <summary>
    /// False (strings): a value is immutable once published and a write replaces the key's entry, so
    /// lock-free readers always see a whole value and COPY may share it. True: the kind's commands change the value
    /// in place under its shard lock (and announce each change with <see cref="Database.Mutated"/>); its readers must
    /// then read under that lock, and COPY and the AOF rewrite's snapshot (taken under every lock, written out after) use
    /// <see cref="Copy"/> (a deep copy; a hash's copy shares a frozen tree that neither side changes again).
    /// </summary>
    public bool MutatedInPlace { get; }

    /// <summary>
    /// Redis 7.0's <c>OBJECT ENCODING</c> name for <paramref name="value"/> (<c>int</c>, <c>embstr</c>, <c>raw</c>,
    /// <c>listpack</c>, <c>hashtable</c>…), judged with <paramref name="options"/>' thresholds (hash-max-listpack-*).
    /// </summary>
    public abstract string Encoding(object value, ServerOptions options);

    /// <summary>Bytes of payload in <paramref name="value"/> (INFO's <c>value_bytes</c>): a string's length; a hash's fields' and values' lengths.</summary>
    public abstract long ValueBytes(object value);

    /// <summary>
    /// Estimated managed-heap bytes <paramref name="value"/> holds (its share of <see cref="KeyEntry.MemoryBytes"/>:
    /// INFO <c>used_memory</c>, maxmemory, <c>MEMORY USAGE</c>). Must be the same for the same value every time it
    /// is asked while the value is unchanged (the shard keeps running totals of it).
    /// </summary>
    public abstract long MemoryBytes(object value);

    /// <summary>
    /// Emits the commands that recreate <paramref name="value"/> under <paramref name="key"/> (the AOF rewrite, Redis's
    /// <c>rewriteAppendOnlyFileRio</c>): each command is <see cref="IAofRewriteOutput.Begin"/>, its arguments, then
    /// <see cref="IAofRewriteOutput.EndRecord"/>. The commands must be in the server's command table (the AOF is
    /// replayed through it) and must not set the expiry (the rewriter appends <c>PEXPIREAT</c>). Emit collections in
    /// batches of at most <see cref="ItemsPerCommand"/> items, as Redis's <c>AOF_REWRITE_ITEMS_PER_CMD</c>.
    /// </summary>
    public abstract void Rewrite(byte[] key, object value, IAofRewriteOutput output);

    /// <summary>Items per command of a rewritten collection (Redis's <c>AOF_REWRITE_ITEMS_PER_CMD</c>, 64).</summary>
    public const int ItemsPerCommand = 64;

    /// <summary>
    /// A value equal to <paramref name="value"/> that shares no mutable state with it (COPY, Redis's <c>dup*Object</c>).
    /// An immutable kind (<see cref="MutatedInPlace"/> false) returns <paramref name="value"/> itself; a hash returns a copy
    /// sharing its tree, frozen for both (<see cref="SortedHash.Snapshot"/>).
    /// </summary>
    public abstract object Copy(object value);

    /// <summary>
    /// Bytes the value would take in an RDB file (DEBUG OBJECT's <c>serializedlength</c>, Redis's <c>rdbSavedObjectLen</c>),
    /// computed without LZF compression (RespKv writes no RDB; Redis compresses strings over 20 bytes).
    /// </summary>
    public abstract long SerializedLength(object value, ServerOptions options);

    /// <summary>
    /// Writes <paramref name="value"/> as Redis 7.0's RDB object (<c>rdb.c</c> <c>rdbSaveObjectType</c> then
    /// <c>rdbSaveObject</c>, RDB version 10): its type byte (<see cref="Persistence.Rdb.Rdb"/>'s <c>Type…</c> constants), then
    /// its body, in the encoding redis-server 7.0 would hold it in under <paramref name="options"/>' thresholds, so DUMP (and
    /// a future RDB file) carries the same bytes as Redis's for the same value where the layout is the same. A kind with no
    /// RDB form throws <see cref="NotSupportedException"/>.
    /// </summary>
    public virtual void WriteRdb(Stream output, object value, ServerOptions options) =>
        throw new NotSupportedException($"Values of type '{TypeName}' have no RDB form");

    /// <summary>True when <see cref="WriteRdb"/> writes the kind's values (every built-in kind); false for a kind with no RDB form.</summary>
    public virtual bool HasRdbForm => false;

    /// <summary>
    /// Mixes <paramref name="value"/> into <paramref name="digest"/> (20 bytes) as Redis 7.0's <c>xorObjectDigest</c> does for
    /// its type (after the type code; see <see cref="RedisDigest"/>): a string is mixed in whole (<see cref="RedisDigest.Mix"/>);
    /// a hash <see cref="RedisDigest.Xor"/>s in, per field, the field then the value mixed into 20 zero bytes.
    /// </summary>
    public abstract void Digest(object value, Span<byte> digest);

    /// <summary>
    /// <c>OBJECT REFCOUNT</c> of <paramref name="value"/>: 1, unless Redis 7.0 would hold it as a shared object
    /// (<see cref="SharedRefCount"/>: the integers 0..9999 when shared integers are in use).
    /// </summary>
    public virtual int RefCount(object value, ServerOptions options) => 1;

    /// <summary>Redis's <c>OBJ_SHARED_REFCOUNT</c> (INT_MAX): the reference count OBJECT REFCOUNT reports for a shared object.</summary>
    public const int SharedRefCount = int.MaxValue;

    /// <summary>The length prefix an RDB file gives a length of <paramref name="length"/> (Redis's <c>rdbSaveLen</c>): 1, 2, 5 or 9 bytes.</summary>
    public static int RdbLengthBytes(long length) => length < 1 << 6 ? 1 : length < 1 << 14 ? 2 : length <= uint.MaxValue ? 5 : 9;

    /// <inheritdoc />
    public override string ToString() => TypeName;
}

/// <summary>A <see cref="ValueKind"/> whose values are <typeparamref name="T"/>: the typed overrides, cast once here.</summary>
/// <typeparam name="T">The CLR type of the stored values.</typeparam>
public abstract class ValueKind<T> : ValueKind where T : class
{
    /// <summary>A kind named <paramref name="typeName"/>; see <see cref="ValueKind(string, Type, int, bool)"/>.</summary>
    protected ValueKind(string typeName, int redisTypeCode, bool mutatedInPlace) : base(typeName, typeof(T), redisTypeCode, mutatedInPlace)
    {
    }

    /// <inheritdoc cref="ValueKind.Encoding"/>
    protected abstract string Encoding(T value, ServerOptions options);

    /// <inheritdoc cref="ValueKind.ValueBytes"/>
    protected abstract long ValueBytes(T value);

    /// <inheritdoc cref="ValueKind.MemoryBytes"/>
    protected abstract long MemoryBytes(T value);

    /// <inheritdoc cref="ValueKind.Rewrite"/>
    protected abstract void Rewrite(byte[] key, T value, IAofRewriteOutput output);

    /// <inheritdoc cref="ValueKind.Copy"/>
    protected abstract T Copy(T value);

    /// <inheritdoc cref="ValueKind.SerializedLength"/>
    protected abstract long SerializedLength(T value, ServerOptions options);

    /// <inheritdoc cref="ValueKind.RefCount"/>
    protected virtual int RefCount(T value, ServerOptions options) => 1;

    /// <inheritdoc cref="ValueKind.Digest"/>
    protected abstract void Digest(T value, Span<byte> digest);

    /// <inheritdoc cref="ValueKind.WriteRdb"/>
    protected virtual void WriteRdb(Stream output, T value, ServerOptions options) =>
        throw new NotSupportedException($"Values of type '{TypeName}' have no RDB form");

    /// <inheritdoc />
    public sealed override void WriteRdb(Stream output, object value, ServerOptions options) => WriteRdb(output, (T)value, options);

    /// <inheritdoc />
    public sealed override string Encoding(object value, ServerOptions options) => Encoding((T)value, options);

    /// <inheritdoc />
    public sealed override long ValueBytes(object value) => ValueBytes((T)value);

    /// <inheritdoc />
    public sealed override long MemoryBytes(object value) => MemoryBytes((T)value);

    /// <inheritdoc />
    public sealed override void Rewrite(byte[] key, object value, IAofRewriteOutput output) => Rewrite(key, (T)value, output);

    /// <inheritdoc />
    public sealed override object Copy(object value) => Copy((T)value);

    /// <inheritdoc />
    public sealed override long SerializedLength(object value, ServerOptions options) => SerializedLength((T)value, options);

    /// <inheritdoc />
    public sealed override int RefCount(object value, ServerOptions options) => RefCount((T)value, options);

    /// <inheritdoc />
    public sealed override void Digest(object value, Span<byte> digest) => Digest((T)value, digest);
}

/// <summary>
/// A value's items written as commands of at most <see cref="ValueKind.ItemsPerCommand"/> items each (Redis's
/// <c>AOF_REWRITE_ITEMS_PER_CMD</c>): <c>RPUSH key e…</c>, <c>SADD key m…</c>, <c>HSET key f v…</c>, <c>ZADD key s m…</c>. Every
/// kind's <see cref="ValueKind.Rewrite"/> uses it; <paramref name="items"/> must be the number of <c>Add</c> calls to come.
/// </summary>
/// <param name="output">Where the commands go.</param>
/// <param name="command">The command's name (e.g. <c>"RPUSH"u8.ToArray()</c>, kept in a static field).</param>
/// <param name="key">The key, the command's first argument.</param>
/// <param name="items">How many items the value has.</param>
/// <param name="argumentsPerItem">Arguments each item takes (1, or 2 for a field and value or a score and member).</param>
public struct RewriteBatches(IAofRewriteOutput output, byte[] command, byte[] key, long items, int argumentsPerItem)
{
    private long _left = items;
    private int _inBatch;
    private PropagationBuffer? _record;

    /// <summary>Adds an item of one argument.</summary>
    public void Add(ReadOnlySpan<byte> argument)
    {
        Next().Arg(argument);
        Done();
    }

    /// <summary>Adds an item of two arguments.</summary>
    public void Add(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        Next().Arg(first).Arg(second);
        Done();
    }

    private PropagationBuffer Next()
    {
        if (_inBatch == 0)
        {
            _inBatch = (int)Math.Min(_left, ValueKind.ItemsPerCommand);
            _record = output.Begin(2 + _inBatch * argumentsPerItem).Arg(command).Arg(key);
        }
        _left--;
        return _record!;
    }

    private void Done()
    {
        if (--_inBatch == 0) output.EndRecord();
    }
}

/// <summary>Where <see cref="ValueKind.Rewrite"/> writes the commands that recreate a value (the AOF rewrite's record writer).</summary>
public interface IAofRewriteOutput
{
    /// <summary>Starts a command of <paramref name="argumentCount"/> arguments (its name first); add each with <c>Arg</c>, then call <see cref="EndRecord"/>.</summary>
    PropagationBuffer Begin(int argumentCount);

    /// <summary>After a command's last argument (the output may write buffered commands out).</summary>
    void EndRecord();
}

/// <summary>
/// The registry of value kinds: by CLR value type (<see cref="Of"/>) and by TYPE name (<see cref="ByName"/>).
/// <see cref="StringKind"/> and <see cref="HashKind"/> are built in (storage alone handles them, without a server); the
/// server registers every type it serves from its type list (<c>Server.CommandFamilies.Types</c>: a new type's one line),
/// and a test may <see cref="Register"/> a kind of its own.
/// </summary>
public static class ValueKinds
{
    /// <summary>Copy-on-write array of the registered kinds (few: a linear scan by type reference beats a dictionary).</summary>
    private static ValueKind[] s_kinds = [StringKind.Instance, HashKind.Instance];

    private static readonly Lock s_registerLock = new();

    /// <summary>Every registered kind, built-in ones first.</summary>
    public static IReadOnlyList<ValueKind> All => Volatile.Read(ref s_kinds);

    /// <summary>
    /// Registers <paramref name="kind"/> (idempotent for the same instance). Throws <see cref="InvalidOperationException"/>
    /// when another kind already claims its CLR type or TYPE name.
    /// </summary>
    public static void Register(ValueKind kind)
    {
        lock (s_registerLock)
        {
            foreach (ValueKind k in s_kinds)
            {
                if (ReferenceEquals(k, kind)) return;
                if (k.ValueType == kind.ValueType || k.TypeName == kind.TypeName)
                    throw new InvalidOperationException($"Value kind '{kind.TypeName}' ({kind.ValueType}) clashes with registered kind '{k.TypeName}' ({k.ValueType})");
            }
            Volatile.Write(ref s_kinds, [.. s_kinds, kind]);
        }
    }

    /// <summary>The kind of <paramref name="value"/> (a stored value); throws <see cref="InvalidOperationException"/> for an unregistered CLR type.</summary>
    public static ValueKind Of(object value)
    {
        if (value is byte[]) return StringKind.Instance;
        Type type = value.GetType();
        foreach (ValueKind k in Volatile.Read(ref s_kinds))
            if (k.ValueType == type) return k;
        throw new InvalidOperationException($"No value kind is registered for values of type {type}");
    }

    /// <summary>The kind TYPE names <paramref name="typeName"/> (ASCII, case-insensitive), or null.</summary>
    public static ValueKind? ByName(ReadOnlySpan<byte> typeName)
    {
        foreach (ValueKind k in Volatile.Read(ref s_kinds))
            if (System.Text.Ascii.EqualsIgnoreCase(typeName, k.TypeNameBytes)) return k;
        return null;
    }
}
