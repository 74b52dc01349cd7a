namespace Bulwark.Diagnostics;

/// <summary>What kind of failure a <see cref="BulwarkException"/> is; the CLI maps each kind to one exit code.</summary>
public enum ErrorKind
{
    /// <summary>Bad command line or configuration; nothing was changed (exit 2).</summary>
    Usage,

    /// <summary>Bulwark refused to act: a failed check, a wrong token, a foreign CA, a data dir in use (exit 1).</summary>
    Refused,

    /// <summary>Something Bulwark depends on failed or is missing: a program, etcd, the network, the disk (exit 3).</summary>
    Unavailable,

    /// <summary>A bug in Bulwark (exit 70).</summary>
    Bug,
}
