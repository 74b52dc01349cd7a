namespace Bulwark.Config;

public enum ConfigSourceKind
{
    Default,
    File,
    Environment,
    Flag,
    Profile,
}

/// <summary>Where a value came from, as shown by <c>bulwark config print</c> and in errors.</summary>
public sealed record ConfigSource(ConfigSourceKind Kind, string Where)
{
    public static readonly ConfigSource Default = new(ConfigSourceKind.Default, "default");

    public static ConfigSource File(string path, int line) => new(ConfigSourceKind.File, $"{path}:{line}");
    public static ConfigSource Environment(string variable) => new(ConfigSourceKind.Environment, $"env {variable}");
    public static ConfigSource Flag(string flag) => new(ConfigSourceKind.Flag, $"flag {flag}");
    public static ConfigSource ForcedByProfile(string profile) => new(ConfigSourceKind.Profile, $"profile {profile}");

    public override string ToString() => Where;
}

public enum ProblemSeverity
{
    Error,
    Warning,
}

/// <summary>One thing wrong with the configuration: where, which key, what, and (in the message) how to fix it.</summary>
public sealed record ConfigProblem(ProblemSeverity Severity, string? Where, string? Key, string Message)
{
    public static ConfigProblem Error(string? where, string? key, string message) => new(ProblemSeverity.Error, where, key, message);
    public static ConfigProblem Warning(string? where, string? key, string message) => new(ProblemSeverity.Warning, where, key, message);

    public override string ToString()
    {
        var parts = new List<string>(3);
        if (Where is not null)
        {
            parts.Add(Where);
        }
        // "flag --profile: profile: ..." says the name twice; the flag already names the key.
        if (Key is not null && Where?.EndsWith("--" + Key, StringComparison.Ordinal) != true)
        {
            parts.Add(Key);
        }
        parts.Add(Message);
        return string.Join(": ", parts);
    }
}

/// <summary>A value as read from one source, before it is converted through the key table.</summary>
public sealed record RawSetting(string Name, bool Append, IReadOnlyList<string> Values, bool IsSequence, ConfigSource Source);
