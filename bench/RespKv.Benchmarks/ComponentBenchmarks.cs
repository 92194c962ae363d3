using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Benchmarks;

/// <summary>Pipelined request batches shared by the component benchmarks (16 frames, as redis-benchmark -P 16 sends).</summary>
internal static class Batches
{
    /// <summary>Commands per batch.</summary>
    public const int Size = 16;

    /// <summary>The key of the i-th command in a batch (redis-benchmark's key:NNNNNNNNNNNN form).</summary>
    public static string Key(int i) => $"key:{i:D12}";

    /// <summary>The 100-byte value SET stores.</summary>
    public static readonly string Value = new('x', 100);

    /// <summary>A batch of RESP multibulk frames, one per <paramref name="command"/>(i).</summary>
    public static byte[] Frames(Func<int, string[]> command)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Size; i++)
        {
            string[] args = command(i);
            sb.Append('*').Append(args.Length).Append("\r\n");
            foreach (string a in args) sb.Append('$').Append(a.Length).Append("\r\n").Append(a).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }
}

/// <summary>
/// <see cref="RespParser"/> alone: a received batch of 16 pipelined GET or SET frames split into
/// commands (argument slices of the buffer, no copies). Allocated must be 0 B per batch.
/// </summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private readonly RespParser _parser = new();
    private ReadOnlySequence<byte> _get, _set;

    /// <summary>Builds the batches.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _get = new ReadOnlySequence<byte>(Batches.Frames(i => ["GET", Batches.Key(i)]));
        _set = new ReadOnlySequence<byte>(Batches.Frames(i => ["SET", Batches.Key(i), Batches.Value]));
    }

    /// <summary>16 GET frames; returns the number of arguments seen (32).</summary>
    [Benchmark(Baseline = true)]
    public int ParseGetBatch() => Parse(_get);

    /// <summary>16 SET frames with 100-byte values; returns the number of arguments seen (48).</summary>
    [Benchmark]
    public int ParseSetBatch() => Parse(_set);

    private int Parse(ReadOnlySequence<byte> buffer)
    {
        int arguments = 0;
        while (!buffer.IsEmpty)
        {
            if (_parser.TryParse(buffer, out long consumed, out CommandArgs args, out _) != ParseStatus.Command)
                throw new InvalidOperationException("the batch is made of whole, valid frames");
            arguments += args.Count;
            buffer = buffer.Slice(consumed);
        }
        return arguments;
    }
}

/// <summary>
/// <see cref="RespWriter"/> alone: the replies of a batch of 16 commands written into an
/// <see cref="ArrayBufferWriter{T}"/> and committed. Allocated must be 0 B per batch.
/// </summary>
[MemoryDiagnoser]
public class WriterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private RespWriter _writer = null!;
    private readonly byte[] _value = Encoding.ASCII.GetBytes(Batches.Value);

    /// <summary>Creates the writer.</summary>
    [GlobalSetup]
    public void Setup() => _writer = new RespWriter(_output);

    /// <summary>16 × +OK (SET's reply).</summary>
    [Benchmark(Baseline = true)]
    public void WriteOkBatch()
    {
        _output.ResetWrittenCount();
        for (int i = 0; i < Batches.Size; i++) _writer.WriteOk();
        _writer.Commit();
    }

    /// <summary>16 × a 100-byte bulk string (GET's reply on a hit).</summary>
    [Benchmark]
    public void WriteBulkBatch()
    {
        _output.ResetWrittenCount();
        for (int i = 0; i < Batches.Size; i++) _writer.WriteBulkString(_value);
        _writer.Commit();
    }

    /// <summary>16 × an integer reply (INCR's), values of 1 to 16 digits.</summary>
    [Benchmark]
    public void WriteIntegerBatch()
    {
        _output.ResetWrittenCount();
        long value = 7;
        for (int i = 0; i < Batches.Size; i++, value = value * 10 + 7) _writer.WriteInteger(value);
        _writer.Commit();
    }

    /// <summary>16 × (a 3-element array header, two bulk strings and a null): MGET's reply shape.</summary>
    [Benchmark]
    public void WriteArrayBatch()
    {
        _output.ResetWrittenCount();
        for (int i = 0; i < Batches.Size; i++)
        {
            _writer.WriteArrayHeader(3);
            _writer.WriteBulkString(_value);
            _writer.WriteBulkString(_value);
            _writer.WriteNullBulkString();
        }
        _writer.Commit();
    }
}

/// <summary>
/// The keyspace alone (<see cref="Database"/> API, as the GET and SET handlers use it): 16 lookups, and
/// 16 replacing writes under the key's shard lock. GET must allocate 0 B; SET allocates the replacing
/// keyspace node only (the value array is created once here, whereas the SET handler copies it from the
/// receive buffer).
/// </summary>
[MemoryDiagnoser]
public class DatabaseBenchmarks
{
    private readonly Database _db = new(0);
    private byte[][] _keys = null!;
    private byte[] _value = null!;

    /// <summary>Stores the 16 keys.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _keys = new byte[Batches.Size][];
        for (int i = 0; i < Batches.Size; i++) _keys[i] = Encoding.ASCII.GetBytes(Batches.Key(i));
        _value = Encoding.ASCII.GetBytes(Batches.Value);
        SetBatch();
    }

    /// <summary>16 × Find (GET's lock-free lookup, hit); returns the bytes found.</summary>
    [Benchmark(Baseline = true)]
    public long GetBatch()
    {
        long bytes = 0;
        foreach (byte[] key in _keys) bytes += _db.Find(key)!.StringValue!.Length;
        return bytes;
    }

    /// <summary>16 × LockKey + Find + Set (SET's write path, replacing an existing key).</summary>
    [Benchmark]
    public void SetBatch()
    {
        foreach (byte[] key in _keys)
        {
            using (_db.LockKey(key))
            {
                _db.Find(key);
                _db.Set(key, _value);
            }
        }
    }
}
