using Bulwark.Diagnostics;

namespace Bulwark.Processes;

/// <summary>
/// A program to run: an argument array (never a shell string), environment additions, working folder,
/// an optional user to run as (through setpriv), and a timeout for run-to-completion calls.
/// </summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();
    public string? WorkingDirectory { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
    public RunAsUser? RunAs { get; init; }
    public ReadOnlyMemory<byte>? StandardInput { get; init; }

    /// <summary>How the command is shown in logs: program and arguments, each quoted if needed. For display only.</summary>
    public string Display => string.Join(' ', new[] { FileName }.Concat(Arguments).Select(Quote));

    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./=:,@+".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}

/// <summary>Run a child as another account (CIS 1.1.12: etcd runs as etcd). Applied with util-linux setpriv.</summary>
public sealed record RunAsUser(string User, string Group);

public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>A program Bulwark needs is not installed or not executable.</summary>
public sealed class ProgramNotFoundException(string program, string hint)
    : BulwarkException(ErrorKind.Unavailable, $"{program}: not found. {hint}")
{
    public string Program { get; } = program;
}

public sealed class ProcessTimeoutException(string display, TimeSpan timeout)
    : BulwarkException(ErrorKind.Unavailable, $"{display}: did not finish within {timeout.TotalSeconds:0.#} s and was killed");

/// <summary>A program exited with a non-zero code where success was required.</summary>
public sealed class ProcessFailedException(string display, ProcessResult result)
    : BulwarkException(ErrorKind.Unavailable, $"{display}: exited with code {result.ExitCode}: {Tail(result.StandardError.Length > 0 ? result.StandardError : result.StandardOutput)}")
{
    public ProcessResult Result { get; } = result;

    private static string Tail(string text)
    {
        var trimmed = text.Trim();
        return trimmed.Length <= 600 ? trimmed : "…" + trimmed[^600..];
    }
}
