namespace Bulwark.Processes;

/// <summary>Finds programs: first in the runtime bundle folders given, then on PATH.</summary>
public static class ProgramLocator
{
    public static string? Find(string program, IEnumerable<string>? preferredDirectories = null)
    {
        if (program.Contains('/'))
        {
            return IsExecutable(program) ? program : null;
        }
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        var candidates = (preferredDirectories ?? []).Concat(path.Split(':', StringSplitOptions.RemoveEmptyEntries));
        return candidates.Select(dir => Path.Combine(dir, program)).FirstOrDefault(IsExecutable);
    }

    public static string Require(string program, string hint, IEnumerable<string>? preferredDirectories = null) =>
        Find(program, preferredDirectories) ?? throw new ProgramNotFoundException(program, hint);

    private static bool IsExecutable(string path) =>
        File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
