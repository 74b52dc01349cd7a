using System.Net;
using System.Text.Json;
using Bulwark.Processes;
using Microsoft.Extensions.Logging;

namespace Bulwark.Etcd;

/// <summary>
/// etcd under the one process supervisor: a member left running by a killed Bulwark stopped first, a start gated on
/// /health, restart with backoff when it dies (but not once it was removed from the cluster), SIGTERM then SIGKILL on stop.
/// </summary>
public sealed class EtcdMember : IAsyncDisposable
{
    private readonly EtcdMemberSpec _spec;
    private readonly ILogger _logger;
    private readonly SupervisedProcess _process;
    private readonly HttpClient _health = new() { Timeout = TimeSpan.FromSeconds(3) };

    public EtcdMember(EtcdMemberSpec spec, ILogger logger)
    {
        _spec = spec;
        _logger = logger;
        _process = new SupervisedProcess("etcd", new ProcessSpec(spec.Binary, spec.Config.ToArgs()) { RunAs = spec.RunAs }, spec.LogFile, new SupervisionOptions
        {
            StopGrace = spec.StopTimeout,
            MaxRestartDelay = spec.MaxRestartDelay,
            PidFile = spec.PidFile,
            FinalExitReason = line => line.Contains("permanently removed from the cluster", StringComparison.Ordinal)
                ? $"member {spec.Config.Name} was removed from the cluster; wipe {spec.Config.DataDir} before it joins again"
                : null,
        }, logger);
    }

    public int? Pid => _process.ProcessId;

    public int Restarts => _process.Restarts;

    /// <summary>etcd shut itself down because it was removed from the cluster; it is not restarted (its data must be wiped).</summary>
    public bool Removed => _process.FinalExit is not null;

    public EtcdMemberSpec Spec => _spec;

    /// <summary>Starts etcd and returns once /health reports healthy; throws <see cref="EtcdStartException"/> if it exits or stays unhealthy.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Pid is not null)
        {
            throw new InvalidOperationException("etcd member already started");
        }
        await StaleMember.StopAsync(_spec.PidFile, _spec.Config.DataDir, _logger, cancellationToken).ConfigureAwait(false);
        await _process.StartAsync(new Readiness($"healthy at {_spec.Config.HealthUrl}", IsHealthyAsync, _spec.StartTimeout),
            message => new EtcdStartException(message), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops etcd: SIGTERM, then SIGKILL after the stop timeout. Safe to call more than once.</summary>
    public Task StopAsync() => _process.StopAsync();

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _health.GetAsync(_spec.Config.HealthUrl, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize(body, EtcdHealthJsonContext.Default.HealthResponse)?.Health == "true";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync().ConfigureAwait(false);
        _health.Dispose();
    }
}
