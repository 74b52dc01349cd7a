namespace Bulwark.Pipeline;

/// <summary>Exactly what is handed to Trivy: program, argument array, the whole environment, and where its report lands.</summary>
public sealed record TrivyInvocation(string Program, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment,
    string ReportPath, string CacheDirectory);
