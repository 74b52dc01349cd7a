using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;
using Bulwark.Hardening;
using Bulwark.Processes;
using Bulwark.Resources;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server;

/// <summary>How a server run ended; the CLI maps it to an exit code.</summary>
public enum ServerOutcome
{
    /// <summary>Ran until SIGTERM/SIGINT and stopped cleanly, or finished a cluster reset.</summary>
    Stopped,
    /// <summary>Refused to run: preflight violations, a refused reset.</summary>
    Refused,
    /// <summary>Configuration that this build cannot run (e.g. disable-etcd); nothing was changed.</summary>
    Unsupported,
    /// <summary>Something it depends on failed: certificates missing, etcd would not start.</summary>
    Unavailable,
    /// <summary>Stopped by a signal before it was ready.</summary>
    Interrupted,
}

/// <summary>
/// <c>bulwark server</c>: preflight → crypto self-tests → PKI → etcd → ready → snapshot scheduler → wait for a signal →
/// stop etcd gracefully. One line per stage on the output; details go to the log.
/// </summary>
public sealed class ServerRunner(EffectiveConfig config, ServerStages stages, TextWriter output, ILoggerFactory loggers, string bulwarkVersion, HostRoot? hostRoot = null)
{
    private readonly ILogger _logger = loggers.CreateLogger<ServerRunner>();
    private RenderResult? _render;

    /// <summary>Set once etcd is ready (for tests and the lead's wiring of later stages).</summary>
    public EtcdMember? Etcd { get; private set; }

    public SnapshotScheduler? Scheduler { get; private set; }

    public async Task<ServerOutcome> RunAsync(CancellationToken stop)
    {
        if (!Preflight())
        {
            return ServerOutcome.Refused;
        }
        if (config.Get(ConfigKeys.DisableEtcd))
        {
            Stage("roles", "disable-etcd (a control-plane-only node) is not yet supported: it needs to join an etcd-bearing server, " +
                "which a later release adds. Remove disable-etcd; nothing was changed.");
            return ServerOutcome.Unsupported;
        }
        var joining = config.Get(ConfigKeys.Server).Length > 0;
        if (joining && config.Get(ConfigKeys.Token).Length == 0 && config.Get(ConfigKeys.TokenFile).Length == 0)
        {
            Stage("join", $"joining {config.Get(ConfigKeys.Server)} needs the cluster token: --token T or --token-file FILE (the first server's <data-dir>/server/token). Nothing was changed.");
            return ServerOutcome.Unsupported;
        }
        if (joining && config.Get(ConfigKeys.ClusterReset))
        {
            Stage("reset", "--cluster-reset resets this server's own etcd; remove 'server' (the join target) for the reset. Nothing was changed.");
            return ServerOutcome.Unsupported;
        }
        if (config.Get(ConfigKeys.ClusterResetRestorePath).Length > 0 && !config.Get(ConfigKeys.ClusterReset))
        {
            Stage("reset", "--cluster-reset-restore-path needs --cluster-reset as well (the restore resets membership). Nothing was changed.");
            return ServerOutcome.Unsupported;
        }

        if (!await RunStageAsync("crypto", stages.CryptoSelfTests, stop).ConfigureAwait(false))
        {
            return ServerOutcome.Unavailable;
        }
        if (joining)
        {
            // The shared CAs come from the cluster: the join writes them and issues this node's leaves (ServerJoin).
            Stage("pki", $"the shared PKI is received from {config.Get(ConfigKeys.Server)} while joining");
        }
        else if (!await RunStageAsync("pki", stages.Pki, stop).ConfigureAwait(false))
        {
            return ServerOutcome.Unavailable;
        }
        else if (!await RenderControlPlaneAsync(stop).ConfigureAwait(false))
        {
            return ServerOutcome.Unsupported;
        }

        var node = EtcdNode.FromConfig(config);
        var snapshots = SnapshotSettings.FromConfig(config, node);
        try
        {
            if (config.Get(ConfigKeys.ClusterReset))
            {
                return await ResetAsync(node, snapshots, stop).ConfigureAwait(false);
            }
            return await ServeAsync(node, snapshots, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Stage("stop", "interrupted before ready; etcd was stopped gracefully and its member data is intact");
            return ServerOutcome.Interrupted;
        }
        catch (Exception e) when (e is EtcdStartException or EtcdException or ProgramNotFoundException or FileNotFoundException or IOException or UnauthorizedAccessException or ProcessFailedException)
        {
            Stage("etcd", $"failed: {e.Message}");
            return ServerOutcome.Unavailable;
        }
        catch (JoinException e)
        {
            Stage("join", $"refused: {e.Message}");
            return ServerOutcome.Refused;
        }
        catch (Exception e) when (e is SupervisorUnavailableException or PkiException or SealedDataException)
        {
            Stage("join", $"failed: {e.Message}");
            return ServerOutcome.Unavailable;
        }
        catch (ResetRefusedException e)
        {
            Stage("reset", $"refused: {e.Message}");
            return ServerOutcome.Refused;
        }
    }

    private bool Preflight()
    {
        if (config.Profile == HardeningProfile.None)
        {
            Stage("preflight", "no hardening profile set (profile: cis-1.23 enables the CIS checks); skipped");
            return true;
        }
        var profile = config.Get(ConfigKeys.Profile);
        var report = new HostPreflight(hostRoot ?? new HostRoot("/"), SysctlProfile.Load(EmbeddedData.BuiltIn)).Run(profile, ConfigRole.Server, Cni.CniSelection.From(config));
        if (report.Passed)
        {
            Stage("preflight", $"profile {profile}: all {report.Findings.Count} host checks passed");
            return true;
        }
        Stage("preflight", $"profile {profile}: {report.Violations.Count()} host checks failed; nothing was written");
        Cli.PreflightRenderer.Write(report, output, color: false);
        return false;
    }

    private async Task<bool> RunStageAsync(string name, Func<EffectiveConfig, CancellationToken, Task<StageResult>> stage, CancellationToken stop)
    {
        var result = await stage(config, stop).ConfigureAwait(false);
        Stage(name, result.Ok ? result.Summary : "failed: " + result.Summary);
        return result.Ok;
    }

    private async Task<ServerOutcome> ResetAsync(EtcdNode node, SnapshotSettings snapshots, CancellationToken stop)
    {
        var restore = config.Get(ConfigKeys.ClusterResetRestorePath);
        Stage("reset", restore.Length > 0 ? $"restoring snapshot {restore} and resetting etcd to a single member" : "resetting etcd to a single member, keeping its data");
        var outcome = await new ClusterReset(node, loggers.CreateLogger<ClusterReset>()).RunAsync(restore, snapshots.Directory, snapshots.TokenHash, stop).ConfigureAwait(false);
        if (outcome.OldDataMovedTo is { } old)
        {
            Stage("reset", $"previous member data kept in {old}");
        }
        foreach (var line in outcome.Guidance)
        {
            Stage("reset", line);
        }
        return ServerOutcome.Stopped;
    }

    private async Task<ServerOutcome> ServeAsync(EtcdNode node, SnapshotSettings snapshots, CancellationToken stop)
    {
        if (File.Exists(node.Paths.ResetFlag))
        {
            // A normal start after a reset clears the flag (as RKE2), so a later reset is allowed again.
            File.Delete(node.Paths.ResetFlag);
        }
        var crypto = CryptoService.For(FipsModes.From(config));
        var joinTarget = config.Get(ConfigKeys.Server);
        EtcdMember member;
        if (joinTarget.Length > 0)
        {
            var joined = await new ServerJoin(crypto, loggers).RunAsync(
                new ServerJoinOptions(new Uri(joinTarget), ServerPkiOptions.From(config).Token ?? "", ServerPkiOptions.From(config), node), stop).ConfigureAwait(false);
            member = joined.Member;
            Stage("join", joined.Restarted
                ? $"restarted member {joined.MemberName} from its data in {node.Paths.MemberDir}; it rejoins the cluster by itself"
                : $"joined the cluster through {joinTarget} as etcd member {joined.MemberName} (added as learner, caught up, promoted)");
            if (!await RenderControlPlaneAsync(stop).ConfigureAwait(false))
            {
                await member.DisposeAsync().ConfigureAwait(false);
                return ServerOutcome.Unsupported;
            }
        }
        else
        {
            var memberConfig = ServerJoin.ListenOnAdvertised(node, node.SingleMemberConfig());
            member = new EtcdMember(node.Prepare(memberConfig), loggers.CreateLogger<EtcdMember>());
            Stage("etcd", $"starting member {memberConfig.Name} ({member.Spec.Binary}{(node.RunAs is { } u ? $", as user {u.User}" : "")})");
        }
        await using (member.ConfigureAwait(false))
        {
            if (joinTarget.Length == 0)
            {
                await member.StartAsync(stop).ConfigureAwait(false);
            }
            Etcd = member;
            Stage("etcd", $"healthy at {node.LocalClientUrl.ToString().TrimEnd('/')} (pid {member.Pid}); log {node.Paths.LogFile}");
            await UpdateOwnPeerUrlAsync(node, member.Spec.Config.Name, stop).ConfigureAwait(false);
            await PublishSecretsEncryptionStateAsync(node, stop).ConfigureAwait(false);
            using var supervisorEtcd = new EtcdClient(node.ClientOptions());
            var supervisor = await StartSupervisorAsync(crypto, supervisorEtcd, stop).ConfigureAwait(false);
            var controlPlane = await LaunchControlPlaneAsync(stop).ConfigureAwait(false);

            using var background = CancellationTokenSource.CreateLinkedTokenSource(stop);
            Task scheduler = Task.CompletedTask;
            if (snapshots.ScheduleDisabled)
            {
                Stage("snapshots", "scheduled snapshots disabled (etcd-disable-snapshots)");
            }
            else
            {
                var store = new SnapshotStore(snapshots.Directory);
                Scheduler = new SnapshotScheduler(CronSchedule.Parse(snapshots.Cron), snapshots.Retention, store,
                    () => new EtcdClient(node.ClientOptions()),
                    () => snapshots.Request(snapshots.ScheduledName, SnapshotMetadata.ScheduledKind, node.NodeName, bulwarkVersion),
                    loggers.CreateLogger<SnapshotScheduler>());
                scheduler = Scheduler.RunAsync(background.Token);
                Stage("snapshots", $"scheduled \"{snapshots.Cron}\" into {snapshots.Directory}, keeping {snapshots.Retention}{(snapshots.Compress ? ", compressed" : "")}");
            }

            var tokenFile = File.Exists(node.Paths.TokenFile) ? node.Paths.TokenFile : $"{node.Paths.TokenFile} (not present; written by the PKI stage)";
            Stage("ready", $"data dir {config.DataDir}; etcd endpoint {node.LocalClientUrl.ToString().TrimEnd('/')} " +
                $"(client certs in {node.Paths.TlsDir}); token file {tokenFile}");

            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM/SIGINT: the normal way to stop.
            }
            Stage("stop", "signal received; stopping etcd");
            await background.CancelAsync().ConfigureAwait(false);
            try
            {
                await scheduler.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // A scheduled snapshot was interrupted by the stop; it left no file behind.
            }
            if (controlPlane is not null)
            {
                await controlPlane.DisposeAsync().ConfigureAwait(false);
                Stage("stop", "control-plane components stopped");
            }
            if (supervisor is not null)
            {
                await supervisor.DisposeAsync().ConfigureAwait(false);
            }
            await member.StopAsync().ConfigureAwait(false);
            Stage("stop", "etcd stopped; bye");
        }
        return ServerOutcome.Stopped;
    }

    /// <summary>The supervisor API (join, certificates), once the server PKI and token exist; null (and said why) when they do not.</summary>
    private async Task<SupervisorServer?> StartSupervisorAsync(CryptoService crypto, EtcdClient etcd, CancellationToken stop)
    {
        var paths = new ServerPkiPaths(config.DataDir);
        var missing = new[] { paths.Token, paths.ServerCa.Key, paths.ClientCa.Key }.Where(f => !File.Exists(f)).ToList();
        if (missing.Count > 0)
        {
            Stage("supervisor", $"not started: the server PKI is incomplete ({string.Join(", ", missing)} missing); the PKI stage writes it");
            return null;
        }
        var options = SupervisorOptions.FromConfig(config, Pki.NodeIdentity.Resolve(config));
        var supervisor = await SupervisorStartup.StartAsync(options, crypto, etcd, loggers, stop).ConfigureAwait(false);
        Stage("supervisor", $"listening on https://{options.BindAddress}:{supervisor.Port} (join with --server {options.AgentConfig.SupervisorEndpoints.FirstOrDefault()} --token-file {paths.Token})");
        return supervisor;
    }

    /// <summary>
    /// A member restarted with a new node IP or peer port still carries its old peer URL in the membership (as k3s does,
    /// fix it with a member update), or peers could never reach it.
    /// </summary>
    private async Task UpdateOwnPeerUrlAsync(EtcdNode node, string name, CancellationToken stop)
    {
        using var client = new EtcdClient(node.ClientOptions());
        var self = (await client.MemberListAsync(stop).ConfigureAwait(false)).Members.FirstOrDefault(m => m.Name == name);
        if (self is not null && !self.PeerUrls.SequenceEqual([node.PeerUrl]))
        {
            await client.MemberUpdateAsync(self.Id, [node.PeerUrl], stop).ConfigureAwait(false);
            Stage("etcd", $"peer URL updated from {string.Join(",", self.PeerUrls)} to {node.PeerUrl}");
        }
    }

    /// <summary>
    /// Writes the hardened control plane (manifests, kubelet config, kubeconfigs, PSA, audit policy, encryption config,
    /// NetworkPolicies) after the PKI and before anything is launched. A user argument that breaks a control under the
    /// profile is refused here, before any file is written.
    /// </summary>
    private async Task<bool> RenderControlPlaneAsync(CancellationToken stop)
    {
        try
        {
            _render = await new ControlPlaneRenderer().RenderAsync(config, ControlPlaneRenderer.EtcDirectory(config), stop).ConfigureAwait(false);
        }
        catch (ControlPlaneConfigException e)
        {
            Stage("control-plane", "refused; nothing was written:");
            foreach (var problem in e.Problems)
            {
                output.WriteLine($"  {problem}");
            }
            return false;
        }
        foreach (var warning in _render.Warnings)
        {
            _logger.LogWarning("{Warning}", warning);
        }
        var written = _render.Written.Count();
        Stage("control-plane", $"rendered {_render.Files.Count} files ({written} written, {_render.Files.Count - written} unchanged): static pods in " +
            $"{Path.Combine(config.DataDir, "agent", "pod-manifests")}, PSA and audit policy in {ControlPlaneRenderer.EtcDirectory(config)}");
        return true;
    }

    /// <summary>Records the secrets-encryption stage in etcd (or takes the cluster's), so every server sees the same state.</summary>
    private async Task PublishSecretsEncryptionStateAsync(EtcdNode node, CancellationToken stop)
    {
        if (!config.Get(ConfigKeys.SecretsEncryption))
        {
            return;
        }
        var paths = new ControlPlanePaths(config.DataDir, ControlPlaneRenderer.EtcDirectory(config));
        using var client = new EtcdClient(node.ClientOptions());
        var state = await new ClusterSecretsEncryptionStateStore(client, new FileSecretsEncryptionStateStore(paths.EncryptionState))
            .SynchronizeAsync(stop).ConfigureAwait(false);
        if (state is not null)
        {
            Stage("secrets", $"encryption stage {state.Stage} recorded in etcd ({ClusterSecretsEncryptionStateStore.Key})");
        }
    }

    /// <summary>Starts the rendered components from the runtime bundle, or says plainly which are missing and the ways forward.</summary>
    private async Task<RunningControlPlane?> LaunchControlPlaneAsync(CancellationToken stop)
    {
        var enabled = ControlPlaneRenderer.EnabledComponents(config).Where(c => c != "etcd").ToList();
        if (_render is null || enabled.Count == 0)
        {
            Stage("control-plane", "etcd-only node (disable-apiserver, disable-controller-manager, disable-scheduler): no components to launch");
            return null;
        }
        var bin = RuntimeBundle.Find(config.DataDir) ?? RuntimeBundle.BinDirectory(config.DataDir, RuntimeBundleVersion);
        var launcher = new ComponentLauncher(_render, bin, loggers);
        var missing = launcher.MissingBinaries();
        if (missing.Count > 0)
        {
            Stage("control-plane", $"not launched: {new ComponentBinariesMissingException(missing, bin).Message} etcd keeps running.");
            return null;
        }
        try
        {
            var running = await launcher.StartAsync(stop).ConfigureAwait(false);
            Stage("control-plane", $"running: {string.Join(", ", launcher.Components.Select(c => c.Spec.Name))} (logs in {Path.Combine(config.DataDir, "agent", "logs")})");
            return running;
        }
        catch (ComponentStartException e)
        {
            Stage("control-plane", $"failed to start: {e.Message}; etcd keeps running");
            return null;
        }
    }

    /// <summary>The bundle folder this build expects when none is installed yet: data/v&lt;version&gt;/bin.</summary>
    private string RuntimeBundleVersion => "v" + bulwarkVersion;

    private void Stage(string stage, string message)
    {
        output.WriteLine($"[{stage}] {message}");
        output.Flush();
    }
}
