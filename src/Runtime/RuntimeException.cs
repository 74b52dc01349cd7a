namespace Bulwark.Runtime;

/// <summary>What kind of failure: the CLI maps it to an exit code.</summary>
public enum RuntimeFailure
{
    /// <summary>Bad configuration (registries.yaml, keys): exit 2, nothing written.</summary>
    Config,

    /// <summary>The check ran and something did not work: exit 1.</summary>
    CheckFailed,

    /// <summary>containerd, a program or the disk is unavailable: exit 3.</summary>
    Unavailable,
}

/// <summary>The node runtime's one error type: the message says what, where and how to fix it.</summary>
public sealed class RuntimeException(RuntimeFailure kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public RuntimeFailure Kind { get; } = kind;
}
