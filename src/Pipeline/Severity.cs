namespace Bulwark.Pipeline;

/// <summary>Trivy's severities, in order.</summary>
public enum Severity
{
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

public static class Severities
{
    public static Severity Parse(string? text) => text?.ToUpperInvariant() switch
    {
        "LOW" => Severity.Low,
        "MEDIUM" => Severity.Medium,
        "HIGH" => Severity.High,
        "CRITICAL" => Severity.Critical,
        _ => Severity.Unknown,
    };

    public static bool TryParseStrict(string text, out Severity severity)
    {
        severity = Parse(text);
        return severity != Severity.Unknown || text.Equals("UNKNOWN", StringComparison.OrdinalIgnoreCase);
    }

    public static string Name(this Severity severity) => severity.ToString().ToUpperInvariant();
}
