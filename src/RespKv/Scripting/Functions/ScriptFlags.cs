namespace RespKv.Scripting.Functions;

/// <summary>TEMPORARY until the scripting core's flags are merged.</summary>
[Flags]
public enum ScriptFlags
{
    None = 0,
    NoWrites = 1,
    AllowOom = 2,
    AllowStale = 4,
    NoCluster = 8,
    AllowCrossSlotKeys = 16,
}
