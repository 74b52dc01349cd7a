using Bulwark.Diagnostics;

namespace Bulwark.Cli;

/// <summary>Bulwark's exit codes. Documented in README.md; scripts depend on them, so never renumber.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>A check failed or Bulwark refused to act (host not hardened, audit failures, wrong token).</summary>
    public const int Failed = 1;

    /// <summary>Bad command line or configuration; nothing was changed.</summary>
    public const int Usage = 2;

    /// <summary>Something Bulwark depends on is unavailable or failed at run time (a program, etcd, the network, the disk).</summary>
    public const int Unavailable = 3;

    /// <summary>A bug in Bulwark: an unexpected exception. Please report it.</summary>
    public const int Internal = 70;

    /// <summary>Stopped by SIGINT/SIGTERM before it was ready (or before it finished).</summary>
    public const int Interrupted = 130;

    /// <summary>The one place an error kind becomes an exit code.</summary>
    public static int For(ErrorKind kind) => kind switch
    {
        ErrorKind.Usage => Usage,
        ErrorKind.Refused => Failed,
        ErrorKind.Unavailable => Unavailable,
        _ => Internal,
    };
}
