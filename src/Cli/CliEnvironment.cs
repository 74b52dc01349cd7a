namespace Bulwark.Cli;

/// <summary>What a CLI run reads and writes besides its arguments; tests pass their own.</summary>
public sealed record CliEnvironment(IReadOnlyDictionary<string, string> Variables, TextWriter Out, TextWriter Error)
{
    public static CliEnvironment FromProcess()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            variables[(string)e.Key] = (string?)e.Value ?? "";
        }
        return new CliEnvironment(variables, Console.Out, Console.Error);
    }

    /// <summary>True when stdout is a terminal (colour, tables); false when piped or captured.</summary>
    public bool IsTerminal => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected && !Variables.ContainsKey("NO_COLOR");
}
