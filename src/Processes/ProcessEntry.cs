namespace Bulwark.Processes;

/// <summary>One process as /proc shows it: parent, state letter (Z = zombie), executable and argv.</summary>
public sealed record ProcessEntry(int Pid, int ParentPid, char State, string? Executable, IReadOnlyList<string> Arguments)
{
    public string Name => Arguments.Count > 0 ? Path.GetFileName(Arguments[0]) : Path.GetFileName(Executable ?? "?");

    /// <summary>The value after a flag in argv ("--config X" or "--config=X").</summary>
    public string? ArgumentValue(string flag)
    {
        for (var i = 0; i < Arguments.Count; i++)
        {
            if (Arguments[i] == flag && i + 1 < Arguments.Count)
            {
                return Arguments[i + 1];
            }
            if (Arguments[i].StartsWith(flag + "=", StringComparison.Ordinal))
            {
                return Arguments[i][(flag.Length + 1)..];
            }
        }
        return null;
    }
}
