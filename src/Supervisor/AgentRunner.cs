using System.Globalization;
using System.Net;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Processes;
using Microsoft.Extensions.Logging;

namespace Bulwark.Supervisor;

/// <summary>How <c>bulwark agent</c> ended; the CLI maps it to an exit code.</summary>
public enum AgentOutcome
{
    /// <summary>Bad or missing settings (server, token); nothing was changed.</summary>
    Usage,

    /// <summary>The cluster refused this node (wrong token, foreign CA, duplicate node name, rejected CSR); nothing or only the node password was written.</summary>
    Refused,

    /// <summary>The server could not be reached in time, or something local failed (disk, crypto self-tests).</summary>
    Unavailable,

    /// <summary>The join completed; the node runtime could not be launched (the kubelet binary is not available here).</summary>
    JoinedRuntimeUnavailable,
}

/// <summary>
/// <c>bulwark agent</c>: crypto self-tests → join (CA pinning, certificates, kubeconfigs) → hand over to the kubelet.
/// One line per stage on the output. Launching the kubelet needs its binary from the runtime bundle; without it the
/// agent stops at that boundary after a complete join, and says so.
/// </summary>
public sealed class AgentRunner(EffectiveConfig config, TextWriter output, ILoggerFactory loggers)
{
    public AgentJoinResult? Result { get; private set; }

    public async Task<AgentOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var server = config.Get(ConfigKeys.Server);
        if (server.Length == 0)
        {
            Stage("join", "an agent needs the server to join: --server https://SERVER:9345 (or 'server:' in the config file). Nothing was changed.");
            return AgentOutcome.Usage;
        }
        string token;
        try
        {
            token = ReadToken();
        }
        catch (IOException e)
        {
            Stage("join", e.Message);
            return AgentOutcome.Usage;
        }
        if (token.Length == 0)
        {
            Stage("join", "an agent needs the cluster token: --token T or --token-file FILE (the server's <data-dir>/server/token). Nothing was changed.");
            return AgentOutcome.Usage;
        }
        CryptoService crypto;
        try
        {
            crypto = CryptoStartup.Start(config).Service;
        }
        catch (FipsStartupException e)
        {
            Stage("crypto", "failed: " + e.Message);
            return AgentOutcome.Unavailable;
        }
        Stage("crypto", $"fips-mode {config.Get(ConfigKeys.FipsMode)}: self-tests passed");
        var node = NodeIdentity.Resolve(config);
        var options = new AgentJoinOptions(config.DataDir, new Uri(server), token, node.Name, node.Addresses) { WithNodeId = config.Get(ConfigKeys.WithNodeId) };
        try
        {
            Result = await new AgentJoin(crypto, loggers.CreateLogger<AgentJoin>()).RunAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (JoinException e)
        {
            Stage("join", "refused: " + e.Message);
            return AgentOutcome.Refused;
        }
        catch (SupervisorUnavailableException e)
        {
            Stage("join", $"gave up after {options.ReadyTimeout.TotalMinutes:0} min: {e.Message}");
            return AgentOutcome.Unavailable;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Stage("join", $"failed writing the agent files under {config.DataDir}: {e.Message}");
            return AgentOutcome.Unavailable;
        }
        Stage("join", $"node {Result.NodeName} joined {server}{(Result.CaPinned ? " (cluster CA pinned by the token)" : " (CA NOT pinned: bare-secret token)")}; " +
            $"{Result.FilesWritten.Count} files written under {new AgentPaths(config.DataDir).AgentDir}");
        var bundle = new EtcdPaths(config.DataDir).BundleBinDirs();
        var kubelet = ProgramLocator.Find("kubelet", bundle);
        Stage("kubelet", kubelet is null
            ? $"not started: the kubelet binary is not in {Path.Combine(config.DataDir, "data", "<version>", "bin")} or on PATH. The join is complete; install the runtime bundle and run bulwark agent again."
            : $"not started: found {kubelet}, but this build does not launch the kubelet yet. The join is complete.");
        return AgentOutcome.JoinedRuntimeUnavailable;
    }

    private string ReadToken()
    {
        if (config.Get(ConfigKeys.Token) is { Length: > 0 } token)
        {
            return token.Trim();
        }
        var file = config.Get(ConfigKeys.TokenFile);
        if (file.Length == 0)
        {
            return "";
        }
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"token-file {file}: cannot read it ({e.Message}); check the path and that it is readable by root. Nothing was changed.", e);
        }
    }

    private void Stage(string stage, string message)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{stage}] {message}"));
        output.Flush();
    }
}
