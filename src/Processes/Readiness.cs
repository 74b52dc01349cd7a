namespace Bulwark.Processes;

/// <summary>When a started child counts as ready: <paramref name="What"/> describes the check for error messages.</summary>
public sealed record Readiness(string What, Func<CancellationToken, Task<bool>> IsReady, TimeSpan Timeout);
