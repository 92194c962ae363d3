using System.Text;
using RespKv.Commands;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// <c>MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password] [AUTH2 username password]
/// [KEYS key [key ...]]</c> as Redis 7.0.15's <c>migrateCommand</c> (<c>cluster.c</c>): the keys' DUMP payloads are sent to
/// the target as one pipelined batch of <c>RESTORE key ttl payload [REPLACE]</c> (RespKv is never in cluster mode, so never
/// <c>RESTORE-ASKING</c>), after <c>AUTH</c> when asked and <c>SELECT destination-db</c> when the connection last selected
/// another database, over a connection cached per target (<see cref="MigrateSockets"/>).
/// </summary>
public static class MigrateCommand
{
    /// <summary>This family's row of the command table: Redis 7.0's arity, flags and key positions; run off the socket thread (<see cref="WaitsOnNetwork"/>).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("migrate", -6, Write | MovableKeys | WaitsOnNetwork, 3, 3, 1, "generic",
            "Atomically transfer a key from a Redis instance to another one.", Migrate) { KeysProcedure = FindKeys },
    ];

    /// <summary>Redis's <c>-IOERR error or timeout connecting to the client</c>: the target's name does not resolve, or its port is negative.</summary>
    public const string ConnectError = "IOERR error or timeout connecting to the client";

    /// <summary>
    /// Redis's <c>migrateGetKeys</c>: argument 3 alone, or with a <c>KEYS</c> option (looked for from argument 6 on, past
    /// <c>AUTH</c>'s one and <c>AUTH2</c>'s two values) every argument after it — none when argument 3 is not empty then (the
    /// command's syntax error). Each key is <c>RW access delete</c>.
    /// </summary>
    private static int FindKeys(in CommandArgs args, Span<KeyRef> into)
    {
        int first = 3, count = 1;
        for (int i = 6; i < args.Count; i++)
        {
            if (args.Is(i, "KEYS"u8))
            {
                if (args[3].Length > 0) count = 0;
                else
                {
                    first = i + 1;
                    count = args.Count - first;
                }
                break;
            }
            if (args.Is(i, "AUTH"u8)) i += 1;
            else if (args.Is(i, "AUTH2"u8)) i += 2;
        }
        for (int k = 0; k < count && k < into.Length; k++)
            into[k] = new KeyRef(first + k, KeySpecFlags.RW | KeySpecFlags.Access | KeySpecFlags.Delete);
        return count;
    }

    /// <summary>
    /// The argument positions Redis's <c>migrateCommand</c> redacts (<c>redactClientCommandArgument</c>) as it parses the
    /// options: AUTH's password, AUTH2's username and password — what MONITOR and the slow log show as <c>(redacted)</c>.
    /// Parsing stops where Redis's does (KEYS, an unknown option, a missing value).
    /// </summary>
    internal static void MarkRedacted(in CommandArgs args, Span<bool> redacted)
    {
        for (int j = 6; j < args.Count; j++)
        {
            int more = args.Count - 1 - j;
            if (args.Is(j, "COPY"u8) || args.Is(j, "REPLACE"u8)) continue;
            if (args.Is(j, "AUTH"u8) && more >= 1) redacted[++j] = true;
            else if (args.Is(j, "AUTH2"u8) && more >= 2)
            {
                redacted[++j] = true;
                redacted[++j] = true;
            }
            else return;
        }
    }

    /// <summary>
    /// Runs MIGRATE as Redis 7.0.15 does, in its order:
    /// <list type="number">
    /// <item>Options (from argument 6): <c>COPY</c>, <c>REPLACE</c>, <c>AUTH password</c>, <c>AUTH2 username password</c>, and
    /// <c>KEYS</c>, after which every argument is a key. An unknown option or a missing value: <c>-ERR syntax error</c>; KEYS
    /// with a non-empty key argument: <c>-ERR When using MIGRATE KEYS option, the key argument must be set to the empty
    /// string</c>. Then timeout, then destination-db, each <c>-ERR value is not an integer or out of range</c> when not an
    /// integer; a timeout of 0 or less means 1000 ms.</item>
    /// <item>The keys are looked up as reads (hits, misses); none exists: <c>+NOKEY</c>.</item>
    /// <item>The connection (cached, else new within the timeout: <c>-IOERR error or timeout connecting to the client</c> when
    /// the host does not resolve). One write of AUTH (<c>AUTH password</c> or <c>AUTH username password</c>), SELECT when the
    /// connection's database differs, and one <c>RESTORE key ttl payload [REPLACE]</c> per key still alive (ttl: the ms left, at
    /// least 1; 0 for none); then a reply line for each, each read within the timeout.</item>
    /// <item>A reply starting with <c>-</c> (AUTH's, SELECT's, or a RESTORE's): the first is answered as <c>-ERR Target
    /// instance replied with error: </c> and the target's line after its <c>-</c> (e.g. <c>-ERR Target instance replied with
    /// error: BUSYKEY Target key name already exists.</c>), and the connection will SELECT again. Each key whose RESTORE
    /// succeeded (AUTH and SELECT succeeding too) is deleted here unless COPY (<c>del</c> event), and the deletions are
    /// propagated as one <c>DEL key …</c>; otherwise nothing is propagated. No error: <c>+OK</c>.</item>
    /// <item>A write or read that fails (the target closed, refused, or the timeout ran out): the connection is closed; when
    /// nothing was acknowledged and it was not a timeout, the whole exchange is retried once on a new connection (a cached
    /// connection the target closed meanwhile); else <c>-IOERR error or timeout writing to target instance</c> or
    /// <c>… reading to target instance</c>.</item>
    /// </list>
    /// </summary>
    private static void Migrate(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        bool copy = false, replace = false;
        int username = -1, password = -1;
        int firstKey = 3, keyCount = 1;
        for (int j = 6; j < args.Count; j++)
        {
            int more = args.Count - 1 - j;
            if (args.Is(j, "COPY"u8)) copy = true;
            else if (args.Is(j, "REPLACE"u8)) replace = true;
            else if (args.Is(j, "AUTH"u8))
            {
                if (more < 1)
                {
                    w.WriteError(CommandErrors.Syntax);
                    return;
                }
                password = ++j;
            }
            else if (args.Is(j, "AUTH2"u8))
            {
                if (more < 2)
                {
                    w.WriteError(CommandErrors.Syntax);
                    return;
                }
                username = ++j;
                password = ++j;
            }
            else if (args.Is(j, "KEYS"u8))
            {
                if (args[3].Length != 0)
                {
                    w.WriteError("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                    return;
                }
                firstKey = j + 1;
                keyCount = args.Count - j - 1;
                break;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (!RespInteger.TryParse(args[5], out long timeout) || !RespInteger.TryParse(args[4], out long dbid))
        {
            w.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (timeout <= 0) timeout = 1000;

        // The keys that exist (Redis's lookupKeyRead: hits and misses counted).
        Database db = client.Database;
        var keys = new List<int>(keyCount);
        for (int k = 0; k < keyCount; k++)
        {
            ReadOnlySpan<byte> key = args[firstKey + k];
            bool found = db.Find(key) != null;
            client.CountLookup(found, key);
            if (found) keys.Add(firstKey + k);
        }
        if (keys.Count == 0)
        {
            w.WriteSimpleString("NOKEY"u8);
            return;
        }
        // Whatever happens, MIGRATE itself is never logged: only the DEL of what it moved (a lazy expiry is logged on its own).
        Protocol.PropagationBuffer? propagation = client.ReplacePropagation();
        MigrateSockets sockets = client.Server.MigrateSockets;
        bool mayRetry = true;
        while (true)
        {
            MigrateConnection? cs = sockets.Get(args[1], args[2], timeout);
            if (cs == null)
            {
                w.WriteError(ConnectError);
                return;
            }
            Outcome outcome;
            try
            {
                outcome = Exchange(client, args, cs, keys, copy, replace, username, password, dbid, timeout, ref mayRetry, propagation);
            }
            catch
            {
                sockets.Close(cs); // never leave a cached connection lent out
                throw;
            }
            if (outcome == Outcome.Done)
            {
                sockets.Return(cs);
                return;
            }
            // Redis's socket_err: close the connection; retry once unless the time ran out.
            bool timedOut = cs.TimedOut;
            sockets.Close(cs);
            if (outcome == Outcome.Replied) return;
            if (!timedOut && mayRetry)
            {
                mayRetry = false;
                continue;
            }
            w.WriteError(outcome == Outcome.WriteFailed
                ? "IOERR error or timeout writing to target instance"
                : "IOERR error or timeout reading to target instance");
            return;
        }
    }

    /// <summary>How one attempt of <see cref="Exchange"/> ended.</summary>
    private enum Outcome
    {
        /// <summary>Replied (+OK or the target's error); the connection stays usable.</summary>
        Done,
        /// <summary>The request could not be written: the connection is closed, then retried or <c>…writing…</c>.</summary>
        WriteFailed,
        /// <summary>A reply could not be read: the connection is closed, then retried or <c>…reading…</c>.</summary>
        ReadFailed,
        /// <summary>A reply could not be read after the target's error was already answered: the connection is closed, nothing more.</summary>
        Replied,
    }

    /// <summary>
    /// One attempt over <paramref name="cs"/> (Redis's code from <c>try_again</c> to the end): sends the batch, reads the
    /// replies, deletes what the target acknowledged (unless COPY) and answers — or reports the socket failure for the caller
    /// to retry or answer (clearing <paramref name="mayRetry"/> once keys may have moved).
    /// </summary>
    private static Outcome Exchange(ClientSession client, in CommandArgs args, MigrateConnection cs, List<int> keys, bool copy,
        bool replace, int username, int password, long dbid, long timeout, ref bool mayRetry, Protocol.PropagationBuffer? propagation)
    {
        Database db = client.Database;
        var request = new Protocol.PropagationBuffer();
        if (password >= 0)
        {
            request.Begin(0, username >= 0 ? 3 : 2).Arg("AUTH"u8);
            if (username >= 0) request.Arg(args[username]);
            request.Arg(args[password]);
        }
        bool select = cs.LastDatabase != dbid;
        if (select) request.Begin(0, 2).Arg("SELECT"u8).Arg(dbid);
        // RESTORE of each key still alive: its time to live from now (at least 1 ms), its DUMP payload.
        var alive = new List<int>(keys.Count);
        long now = db.Lifetime.NowMs;
        foreach (int index in keys)
        {
            ReadOnlySpan<byte> key = args[index];
            KeyEntry? entry = db.FindNoTouch(key);
            if (entry == null) continue;
            long ttl = 0;
            if (entry.ExpireAtMs != 0)
            {
                ttl = entry.ExpireAtMs - now;
                if (ttl < 0) continue;
                if (ttl < 1) ttl = 1;
            }
            alive.Add(index);
            request.Begin(0, replace ? 5 : 4).Arg("RESTORE"u8).Arg(key).Arg(ttl).Arg(DumpCommands.Payload(entry.Value, client.Options));
            if (replace) request.Arg("REPLACE"u8);
        }
        if (!cs.Write(request.AllRecords, timeout)) return Outcome.WriteFailed;

        Span<byte> authReply = stackalloc byte[MigrateConnection.MaxLineBytes];
        Span<byte> selectReply = stackalloc byte[MigrateConnection.MaxLineBytes];
        Span<byte> restoreReply = stackalloc byte[MigrateConnection.MaxLineBytes];
        int authLength = 0, selectLength = 0;
        if (password >= 0 && cs.ReadLine(authReply, timeout, out authLength) <= 0) return Outcome.ReadFailed;
        if (select && cs.ReadLine(selectReply, timeout, out selectLength) <= 0) return Outcome.ReadFailed;
        bool authFailed = password >= 0 && authLength > 0 && authReply[0] == (byte)'-';
        bool selectFailed = select && selectLength > 0 && selectReply[0] == (byte)'-';

        bool errorFromTarget = false, socketError = false;
        var deleted = new List<int>(copy ? 0 : alive.Count);
        int j;
        for (j = 0; j < alive.Count; j++)
        {
            if (cs.ReadLine(restoreReply, timeout, out int length) <= 0)
            {
                socketError = true;
                break;
            }
            if (authFailed || selectFailed || (length > 0 && restoreReply[0] == (byte)'-'))
            {
                if (errorFromTarget) continue;
                cs.LastDatabase = -1;
                errorFromTarget = true;
                ReadOnlySpan<byte> error = authFailed ? authReply[..authLength] : selectFailed ? selectReply[..selectLength] : restoreReply[..length];
                WriteTargetError(client.Writer, error[1..]);
            }
            else if (!copy)
            {
                // Acknowledged: the key leaves this server ("del" event, even for a key named twice, as Redis notifies
                // after each dbDelete), propagated below as part of one DEL.
                if (db.Remove(args[alive[j]]) == null) db.Announce(args[alive[j]], KeyEvent.Del);
                deleted.Add(alive[j]);
            }
        }
        // Nothing acknowledged and the first reply could not be read: retry as a whole (before anything is propagated).
        if (!errorFromTarget && socketError && j == 0 && mayRetry && !cs.TimedOut) return Outcome.ReadFailed;
        if (deleted.Count > 0 && propagation != null)
        {
            propagation.Begin(db.Index, deleted.Count + 1).Arg("DEL"u8);
            foreach (int index in deleted) propagation.Arg(args[index]);
        }
        if (socketError)
        {
            // Some keys may have moved: no retry; the error, unless the target's was already answered.
            mayRetry = false;
            return errorFromTarget ? Outcome.Replied : Outcome.ReadFailed;
        }
        if (!errorFromTarget)
        {
            cs.LastDatabase = dbid;
            client.Writer.WriteOk();
        }
        return Outcome.Done;
    }

    /// <summary>
    /// Redis's <c>addReplyErrorFormat(c, "Target instance replied with error: %s", line + 1)</c>: the target's line, its trailing
    /// CR and LF trimmed, any other CR or LF turned into a space (by <see cref="RespWriter.WriteError(ReadOnlySpan{byte})"/>).
    /// </summary>
    private static void WriteTargetError(RespWriter w, ReadOnlySpan<byte> error)
    {
        while (!error.IsEmpty && error[^1] is (byte)'\r' or (byte)'\n') error = error[..^1];
        ReadOnlySpan<byte> prefix = "ERR Target instance replied with error: "u8;
        var message = new byte[prefix.Length + error.Length];
        prefix.CopyTo(message);
        error.CopyTo(message.AsSpan(prefix.Length));
        w.WriteError(message);
    }
}
