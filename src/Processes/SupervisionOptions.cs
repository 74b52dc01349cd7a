namespace Bulwark.Processes;

/// <summary>How a supervised process is restarted and stopped.</summary>
public sealed record SupervisionOptions
{
    /// <summary>
    /// Restart after an unexpected exit, with backoff doubling from <see cref="RestartDelay"/> to <see cref="MaxRestartDelay"/>;
    /// a run that outlived <see cref="MaxRestartDelay"/> starts the backoff afresh.
    /// </summary>
    public bool Restart { get; init; } = true;
    public TimeSpan RestartDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a stop waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Written (0600) with the child's pid at each start and removed when it ends for good, so the next Bulwark can find
    /// a child left running by one that was killed.
    /// </summary>
    public string? PidFile { get; init; }

    /// <summary>
    /// Reads each output line; a non-null answer is why an exit after that line must not be restarted
    /// (etcd removed from the cluster shuts itself down and must not come back on its old data).
    /// </summary>
    public Func<string, string?>? FinalExitReason { get; init; }
}
