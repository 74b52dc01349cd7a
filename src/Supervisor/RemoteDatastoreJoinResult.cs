namespace Bulwark.Supervisor;

/// <summary>A control-plane-only server's join: the cluster's etcd client URLs it uses, and whether it had joined before.</summary>
public sealed record RemoteDatastoreJoinResult(IReadOnlyList<Uri> Endpoints, bool Rejoined)
{
    /// <summary>The bootstrap's in-memory entries (the KMS keyring export) when this run fetched it.</summary>
    public IReadOnlyDictionary<string, string> MemoryEntries { get; init; } = new Dictionary<string, string>();
}
