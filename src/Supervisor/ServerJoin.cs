using System.Globalization;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.FileSystem;
using Bulwark.Pki;
using ClusterToken = Bulwark.Pki.ClusterToken;
using Microsoft.Extensions.Logging;

namespace Bulwark.Supervisor;

/// <summary>
/// What a joining server needs: the first server's supervisor, the token, this node's PKI and etcd settings, and its
/// <c>cni</c> as <see cref="Cni.CniSelection.Display"/> spells it (servers of one cluster must agree on it).
/// </summary>
public sealed record ServerJoinOptions(Uri Server, string Token, ServerPkiOptions Pki, EtcdNode Etcd, string Cni)
{
    /// <summary>How long to keep retrying while the first server is not reachable or not ready.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a learner may take to catch up before promotion gives up.</summary>
    public TimeSpan PromoteTimeout { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>The running local etcd member after a join, and how it got there.</summary>
public sealed record ServerJoinResult(EtcdMember Member, bool Restarted, string MemberName)
{
    /// <summary>The bootstrap's in-memory entries (the KMS keyring export) when this run fetched it.</summary>
    public IReadOnlyDictionary<string, string> MemoryEntries { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Joins a server to an existing cluster: pins the CA, fetches and unseals the bootstrap data (the shared CAs and keys),
/// writes the shared PKI and issues this node's own leaves from it, asks to join etcd as a learner, starts the local
/// etcd with initial-cluster-state=existing, and promotes it once it has caught up. A server restarting with member
/// data skips all of that and starts its etcd, which rejoins from its own data.
/// </summary>
public sealed class ServerJoin(CryptoService crypto, ILoggerFactory loggers)
{
    private readonly ILogger _log = loggers.CreateLogger<ServerJoin>();

    public async Task<ServerJoinResult> RunAsync(ServerJoinOptions options, CancellationToken cancellationToken)
    {
        var node = options.Etcd;
        if (File.Exists(node.Paths.JoiningMarker))
        {
            // Killed between starting its learner and its promotion: a learner holds nothing the cluster lacks, and the
            // cluster may have removed it as stale meanwhile. Discard its data and resume the join from the start.
            _log.LogWarning("this server's previous join stopped before its etcd learner was promoted; discarding the learner's data in {Dir} and joining again",
                node.Paths.MemberDataDir);
            DiscardLearnerData(node);
        }
        if (node.Paths.HasMemberData)
        {
            var name = node.MemberName();
            _log.LogInformation("this server already has etcd member data in {Dir}; starting it to rejoin the cluster", node.Paths.MemberDir);
            var member = await StartMemberAsync(node, node.MemberConfig(name, $"{name}={node.PeerUrl}", "existing"), cancellationToken).ConfigureAwait(false);
            return new ServerJoinResult(member, true, name);
        }
        return await JoinAsync(options, node, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ServerJoinResult> JoinAsync(ServerJoinOptions options, EtcdNode node, CancellationToken cancellationToken)
    {
        var (client, bundle) = await ReceiveSharedPkiAsync(options, cancellationToken).ConfigureAwait(false);
        using var _ = client;
        var name = node.MemberName();
        var join = await JoinRetry.RunAsync(ct => client.JoinEtcdAsync(name, node.PeerUrl, ct), options.ReadyTimeout, _log, "joining etcd", cancellationToken).ConfigureAwait(false);
        _log.LogInformation("etcd accepted {Name} as a learner (initial cluster {Cluster}); starting the local member", name, join.InitialCluster);
        AtomicFile.WriteAllText(node.Paths.JoiningMarker, join.MemberId + "\n", AtomicFile.Private);
        var started = await StartMemberAsync(node, node.MemberConfig(name, join.InitialCluster, "existing"), cancellationToken).ConfigureAwait(false);
        try
        {
            var id = ulong.Parse(join.MemberId, NumberStyles.None, CultureInfo.InvariantCulture);
            var endpoints = join.ClientUrls.Select(u => new Uri(u)).ToList();
            using var etcd = new EtcdClient(new EtcdClientOptions(endpoints.Count > 0 ? endpoints : [node.LocalClientUrl], node.Paths.ClientTls));
            await PromoteAsync(etcd, id, name, node, options, started, cancellationToken).ConfigureAwait(false);
            File.Delete(node.Paths.JoiningMarker);
            _log.LogInformation("etcd member {Name} caught up and was promoted to a voting member", name);
        }
        catch
        {
            await started.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new ServerJoinResult(started, false, name)
        {
            MemoryEntries = bundle.Files.Where(f => BootstrapData.MemoryEntries.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// The first half of every server join: pins the cluster CA with the token, checks the cni, fetches and unseals the
    /// bootstrap data, writes the shared PKI and issues this node's own leaves from it (its etcd client certificate
    /// among them). Nothing is written before the token opened the bootstrap data. The caller owns the client.
    /// </summary>
    private async Task<(SupervisorClient Client, BootstrapBundle Bundle)> ReceiveSharedPkiAsync(ServerJoinOptions options, CancellationToken cancellationToken)
    {
        var token = AgentJoin.ParseToken(options.Token);
        var client = await JoinRetry.RunAsync(ct => SupervisorClient.ConnectAsync(options.Server, token, ClusterToken.ServerUser, crypto, _log, ct),
            options.ReadyTimeout, _log, "fetching the cluster CA", cancellationToken).ConfigureAwait(false);
        try
        {
            var cluster = await JoinRetry.RunAsync(client.GetConfigAsync, options.ReadyTimeout, _log, "fetching the cluster settings", cancellationToken).ConfigureAwait(false);
            if (!string.Equals(cluster.Cni, options.Cni, StringComparison.Ordinal))
            {
                // RKE2: every server deploys the CNI add-ons, so two choices would fight over the cluster's network.
                throw new JoinException($"this server's cni is \"{options.Cni}\" but the cluster at {options.Server} runs cni \"{cluster.Cni}\"; " +
                    $"servers of one cluster must agree. Set cni: {cluster.Cni} in this server's config (or --cni {cluster.Cni}). Nothing was written.");
            }
            var sealedData = await JoinRetry.RunAsync(client.GetBootstrapAsync, options.ReadyTimeout, _log, "fetching the bootstrap data", cancellationToken).ConfigureAwait(false);
            BootstrapBundle bundle;
            try
            {
                bundle = BootstrapData.Unseal(sealedData, new TokenSealer(crypto), token.Secret);
            }
            catch (SealedDataException e)
            {
                throw new JoinException($"the token cannot open the cluster's bootstrap data ({e.Message}); use the token of the cluster at {options.Server}. Nothing was written.", e);
            }
            // Nothing was written before this point: a wrong token or a foreign CA leaves the data dir as it was.
            var written = BootstrapData.WriteTo(bundle, options.Pki.DataDir);
            _log.LogInformation("wrote {Count} shared PKI files from the cluster's bootstrap data", written);
            // This node's own leaves (etcd serving/peer with its addresses, kube-apiserver...) from the shared CAs; the token file pins the CA.
            new ServerPki(crypto, TimeProvider.System, loggers.CreateLogger<ServerPki>()).Ensure(options.Pki with { Token = token.IsFull ? token.Reveal() : token.Secret });
            return (client, bundle);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Joins a control-plane-only server (disable-etcd, as RKE2 allows): the shared PKI as for any server (its own etcd
    /// client certificate issued from the etcd CA), then the cluster's voting members' client URLs as its datastore
    /// endpoints instead of a local member. A restart that already has them refreshes them from the members it knows
    /// (any one answering), else from the supervisor at <see cref="ServerJoinOptions.Server"/>. The endpoints are proven
    /// with this node's own etcd client certificate (a member list over mutual TLS) before they are written.
    /// </summary>
    public async Task<RemoteDatastoreJoinResult> JoinWithoutEtcdAsync(ServerJoinOptions options, CancellationToken cancellationToken)
    {
        var node = options.Etcd;
        var file = node.Paths.RemoteEndpointsFile;
        var known = ClusterEndpoints.Read(file);
        IReadOnlyDictionary<string, string> memoryEntries = new Dictionary<string, string>();
        IReadOnlyList<Uri> endpoints;
        if (known.Count > 0 && await MembersFromAsync(known, node, cancellationToken).ConfigureAwait(false) is { Count: > 0 } refreshed)
        {
            _log.LogInformation("this control-plane-only server already joined; the cluster's etcd members answer at {Endpoints}", string.Join(",", refreshed));
            endpoints = refreshed;
        }
        else if (known.Count > 0)
        {
            // None of the members it knew answers (all replaced?): ask the supervisor, with the token this server keeps.
            var token = TokenSource.ParseFile(new ServerPkiPaths(options.Pki.DataDir).Token, "the server token file");
            using var client = await JoinRetry.RunAsync(ct => SupervisorClient.ConnectAsync(options.Server, token, ClusterToken.ServerUser, crypto, _log, ct),
                options.ReadyTimeout, _log, "fetching the cluster CA", cancellationToken).ConfigureAwait(false);
            endpoints = await ProvenMembersAsync(client, node, options, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var (client, bundle) = await ReceiveSharedPkiAsync(options, cancellationToken).ConfigureAwait(false);
            using var _ = client;
            endpoints = await ProvenMembersAsync(client, node, options, cancellationToken).ConfigureAwait(false);
            memoryEntries = bundle.Files.Where(f => BootstrapData.MemoryEntries.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        }
        ClusterEndpoints.Write(file, endpoints);
        return new RemoteDatastoreJoinResult(endpoints, known.Count > 0) { MemoryEntries = memoryEntries };
    }

    /// <summary>The voting members the supervisor names, confirmed by asking etcd itself over them with this node's client certificate.</summary>
    private async Task<IReadOnlyList<Uri>> ProvenMembersAsync(SupervisorClient client, EtcdNode node, ServerJoinOptions options, CancellationToken cancellationToken)
    {
        var view = await JoinRetry.RunAsync(client.GetEtcdMembersAsync, options.ReadyTimeout, _log, "fetching the etcd member list", cancellationToken).ConfigureAwait(false);
        var named = ClusterEndpoints.Parse(view.Members.Where(m => !m.Learner).SelectMany(m => m.ClientUrls), $"the etcd member list from {options.Server}");
        if (named.Count == 0)
        {
            throw new JoinException($"the cluster at {options.Server} has no voting etcd member with a client URL; a control-plane-only server needs an etcd server to join. Nothing was changed.");
        }
        return await MembersFromAsync(named, node, cancellationToken).ConfigureAwait(false) is { Count: > 0 } proven
            ? proven
            : throw new SupervisorUnavailableException($"none of the cluster's etcd members ({string.Join(", ", named.Select(ClusterEndpoints.Text))}) answered this server " +
                $"with its etcd client certificate ({node.Paths.ClientCert}); check that this host reaches their client port. Start bulwark server again once they do.");
    }

    /// <summary>The voting members' client URLs as etcd lists them, asked over <paramref name="endpoints"/>; empty when none answers.</summary>
    private async Task<IReadOnlyList<Uri>> MembersFromAsync(IReadOnlyList<Uri> endpoints, EtcdNode node, CancellationToken cancellationToken)
    {
        using var etcd = new EtcdClient(new EtcdClientOptions(endpoints, node.Paths.ClientTls));
        try
        {
            return await ClusterEndpoints.FetchAsync(etcd, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            _log.LogWarning("no etcd member answered at {Endpoints}: {Error}", string.Join(",", endpoints.Select(ClusterEndpoints.Text)), e.Message);
            return [];
        }
    }

    /// <summary>
    /// Promotes the learner once it has caught up. One that does not within the deadline is removed again, and its data
    /// discarded, so it blocks no other join (etcd allows one learner at a time) and a retry starts clean.
    /// </summary>
    private async Task PromoteAsync(EtcdClient etcd, ulong id, string name, EtcdNode node, ServerJoinOptions options, EtcdMember started, CancellationToken cancellationToken)
    {
        try
        {
            await etcd.PromoteWhenReadyAsync(id, options.PromoteTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException e) when (e.EtcdMessage.Contains("can only promote a learner member", StringComparison.Ordinal) && !e.IsLearnerNotReady)
        {
            // Already a voting member (a retried join after a promotion that succeeded).
        }
        catch (EtcdException e) when (e.IsLearnerNotReady || e.Code == GrpcCodes.Unavailable)
        {
            await started.DisposeAsync().ConfigureAwait(false);
            var removed = "it was removed from the cluster again, so other servers can join";
            try
            {
                await etcd.MemberRemoveAsync(id, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException remove) when (!remove.IsNotFound)
            {
                removed = $"removing it again failed ({remove.EtcdMessage}); the cluster removes it by itself once it is stale";
            }
            DiscardLearnerData(node);
            _log.LogWarning("etcd learner {Name} did not catch up within {Timeout}; {Removed}", name, options.PromoteTimeout, removed);
            throw new JoinException(
                $"etcd member {name} joined as a learner but did not catch up with the cluster within {options.PromoteTimeout} ({e.EtcdMessage}); {removed}, and its data was discarded. " +
                $"Check that the other servers reach {node.PeerUrl} (etcd peer port) and that this node's disk keeps up, then start bulwark server again.", e);
        }
    }

    private static void DiscardLearnerData(EtcdNode node)
    {
        if (Directory.Exists(node.Paths.MemberDataDir))
        {
            Directory.Delete(node.Paths.MemberDataDir, recursive: true);
        }
        File.Delete(node.Paths.JoiningMarker);
    }

    private async Task<EtcdMember> StartMemberAsync(EtcdNode node, EtcdMemberConfig config, CancellationToken cancellationToken)
    {
        var member = new EtcdMember(node.Prepare(config), loggers.CreateLogger<EtcdMember>());
        try
        {
            await member.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await member.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return member;
    }
}
