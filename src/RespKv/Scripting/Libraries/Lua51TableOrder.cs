using System.Buffers;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// The order in which Redis's Lua 5.1 would visit a table's keys (<c>next</c>), so that <c>cjson.encode</c> objects and
/// <c>cmsgpack.pack</c> maps come out as Redis writes them rather than in Lua 5.4's order (which has another layout and a
/// random string-hash seed per state). Lua 5.1 visits its array part (1..n) then its hash nodes in node order; a key's
/// node is its main position (<c>ltable.c</c> <c>mainposition</c>: 5.1's seedless <c>luaS_hash</c> of a string masked to
/// the node count, a number's two 32-bit halves summed modulo <c>(size - 1) | 1</c>, a boolean's value) unless a
/// collision moved it to the highest free node (<c>newkey</c>).
/// </summary>
/// <remarks>
/// The layout is that of a 5.1 table rehashed with the current keys: array part sized by <c>computesizes</c>, node
/// count the next power of 2, colliding keys inserted in a fixed order (strings by bytes, then numbers). A 5.1 table's
/// real layout also depends on its history (constructor sizes, insertion order among colliding keys, deleted keys), so
/// the order matches Redis's for tables without collisions (e.g. <c>{x=…, y=…}</c>: <c>y</c> then <c>x</c>, as Redis's
/// own cmsgpack test expects) and is deterministic otherwise. Keys other than strings, numbers and booleans (tables,
/// functions as keys) hash by address in 5.1 and come last, in 5.4's order.
/// </remarks>
internal static class Lua51TableOrder
{
    private struct Key : IComparable<Key>
    {
        public int Slot;      // position in the temporary key table (1-based)
        public int Kind;      // 0 string, 1 number, 2 boolean, 3 other
        public uint Hash;     // string: luaS_hash; number: sum of halves; boolean: 0/1
        public double Number;
        public bool InArray;

        /// <summary>The fixed insertion order of colliding keys: by kind, hash, number, then 5.4's order.</summary>
        public readonly int CompareTo(Key other)
        {
            int c = Kind.CompareTo(other.Kind);
            if (c == 0) c = Hash.CompareTo(other.Hash);
            if (c == 0) c = Number.CompareTo(other.Number);
            return c != 0 ? c : Slot.CompareTo(other.Slot);
        }
    }

    /// <summary>
    /// Pushes a new Lua table listing the keys of the table at <paramref name="table"/> (an absolute index) at 1..n, and
    /// fills <paramref name="order"/> (rented from <see cref="ArrayPool{T}.Shared"/>; the caller returns it) with their
    /// slots in Lua 5.1's visiting order.
    /// </summary>
    /// <returns>The number of keys.</returns>
    /// <exception cref="InsufficientExecutionStackException">The Lua stack cannot grow by the few slots needed.</exception>
    public static unsafe int Push(IntPtr L, int table, out int[] order)
    {
        // The key table, a key, its value and a copy; then the caller's key and value on top of the key table.
        if (LuaNative.CheckStack(L, 6) == 0) throw new InsufficientExecutionStackException("stack overflow");
        int count = 0;
        LuaNative.PushNil(L);
        while (LuaNative.Next(L, table) != 0)
        {
            LuaNative.Pop(L, 1);
            count++;
        }
        LuaNative.CreateTable(L, count, 0);
        int keysIndex = LuaNative.GetTop(L);
        Key[] keys = ArrayPool<Key>.Shared.Rent(Math.Max(count, 1));
        order = ArrayPool<int>.Shared.Rent(Math.Max(count, 1));
        try
        {
            int n = 0;
            LuaNative.PushNil(L);
            while (LuaNative.Next(L, table) != 0)
            {
                LuaNative.Pop(L, 1);
                keys[n] = Describe(L, n + 1);
                LuaNative.PushValue(L, -1);
                LuaNative.RawSetI(L, keysIndex, ++n);
            }
            Layout(keys.AsSpan(0, count), order);
            return count;
        }
        finally
        {
            ArrayPool<Key>.Shared.Return(keys);
        }
    }

    private static unsafe Key Describe(IntPtr L, int slot)
    {
        var key = new Key { Slot = slot, Kind = 3 };
        switch (LuaNative.Type(L, -1))
        {
            case LuaNative.TypeString:
                key.Kind = 0;
                key.Hash = StringHash(LuaNative.StringAt(L, -1));
                break;
            case LuaNative.TypeNumber:
                key.Kind = 1;
                key.Number = LuaNative.ToNumberX(L, -1, null);
                ulong bits = (ulong)BitConverter.DoubleToInt64Bits(key.Number);
                key.Hash = (uint)bits + (uint)(bits >> 32);
                break;
            case LuaNative.TypeBoolean:
                key.Kind = 2;
                key.Hash = (uint)LuaNative.ToBoolean(L, -1);
                break;
        }
        return key;
    }

    /// <summary>Lua 5.1's <c>luaS_hash</c> (lstring.c): seeded with the length, at most 32 bytes sampled from the end.</summary>
    private static uint StringHash(ReadOnlySpan<byte> s)
    {
        uint h = (uint)s.Length;
        int step = (s.Length >> 5) + 1;
        for (int l1 = s.Length; l1 >= step; l1 -= step)
            h ^= (h << 5) + (h >> 2) + s[l1 - 1];
        return h;
    }

    private static bool IsArrayCandidate(in Key k) =>
        k.Kind == 1 && k.Number >= 1 && k.Number <= (1 << 26) && k.Number == Math.Floor(k.Number);

    private static void Layout(Span<Key> keys, int[] order)
    {
        // computesizes: the largest power of 2, n, with more than n/2 of the integer keys 1..n present.
        Span<int> nums = stackalloc int[28];
        int integers = 0;
        foreach (ref readonly Key k in keys)
        {
            if (!IsArrayCandidate(k)) continue;
            int log = k.Number <= 1 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)k.Number - 1);
            nums[log]++;
            integers++;
        }
        int arraySize = 0, a = 0;
        for (int i = 0, twoToI = 1; twoToI / 2 < integers && i < nums.Length; i++, twoToI *= 2)
        {
            if (nums[i] > 0)
            {
                a += nums[i];
                if (a > twoToI / 2) arraySize = twoToI;
            }
            if (a == integers) break;
        }

        int hashed = 0;
        foreach (ref Key k in keys)
        {
            k.InArray = IsArrayCandidate(k) && k.Number <= arraySize;
            if (!k.InArray && k.Kind != 3) hashed++;
        }
        int size = hashed == 0 ? 0 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)hashed);

        keys.Sort();
        int[] nodeKey = ArrayPool<int>.Shared.Rent(Math.Max(size, 1));
        int[] nodeNext = ArrayPool<int>.Shared.Rent(Math.Max(size, 1));
        int[] arrayPart = ArrayPool<int>.Shared.Rent(Math.Max(arraySize, 1));
        try
        {
            Array.Fill(nodeKey, -1, 0, size);
            Array.Fill(nodeNext, -1, 0, size);
            Array.Fill(arrayPart, 0, 0, arraySize);
            int lastFree = size;
            for (int key = 0; key < keys.Length; key++)
            {
                if (keys[key].InArray)
                {
                    arrayPart[(int)keys[key].Number - 1] = keys[key].Slot;
                    continue;
                }
                if (keys[key].Kind == 3) continue;
                int mp = MainPosition(keys[key], size);
                if (nodeKey[mp] >= 0)
                {
                    // newkey: the highest free node; the colliding key moves there unless it is in its own main position.
                    while (--lastFree >= 0 && nodeKey[lastFree] >= 0) { }
                    int free = lastFree;
                    int other = MainPosition(keys[nodeKey[mp]], size);
                    if (other != mp)
                    {
                        while (nodeNext[other] != mp) other = nodeNext[other];
                        nodeNext[other] = free;
                        nodeKey[free] = nodeKey[mp];
                        nodeNext[free] = nodeNext[mp];
                        nodeNext[mp] = -1;
                    }
                    else
                    {
                        nodeNext[free] = nodeNext[mp];
                        nodeNext[mp] = free;
                        mp = free;
                    }
                }
                nodeKey[mp] = key;
            }

            // Array part in index order, then nodes in node order, then the keys 5.1 would hash by address.
            int o = 0;
            for (int i = 0; i < arraySize; i++)
                if (arrayPart[i] != 0) order[o++] = arrayPart[i];
            for (int node = 0; node < size; node++)
                if (nodeKey[node] >= 0) order[o++] = keys[nodeKey[node]].Slot;
            foreach (ref readonly Key k in keys)
                if (k.Kind == 3) order[o++] = k.Slot;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(nodeKey);
            ArrayPool<int>.Shared.Return(nodeNext);
            ArrayPool<int>.Shared.Return(arrayPart);
        }
    }

    /// <summary>5.1's <c>mainposition</c> in a node array of <paramref name="size"/> (a power of 2).</summary>
    private static int MainPosition(in Key k, int size) => k.Kind switch
    {
        1 when k.Number == 0 => 0,
        1 => (int)(k.Hash % (uint)((size - 1) | 1)),
        _ => (int)(k.Hash & (uint)(size - 1)),
    };
}
