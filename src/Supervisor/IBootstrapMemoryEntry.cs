namespace Bulwark.Supervisor;

/// <summary>
/// A capability's shared state carried in the bootstrap data as a memory entry (the KMS keyring): the value this
/// server serves to joining servers, and how it follows the cluster's copy when a rotation on another server changes it.
/// </summary>
public interface IBootstrapMemoryEntry
{
    /// <summary>One of <see cref="BootstrapData.MemoryEntries"/>.</summary>
    string Name { get; }

    /// <summary>What this server puts under <see cref="Name"/> in the bootstrap data it serves.</summary>
    string Value { get; }

    /// <summary>Takes the cluster's value in; returns what changed on this server (for the log), empty when nothing did.</summary>
    Task<IReadOnlyList<string>> FollowAsync(string clusterValue, CancellationToken cancellationToken);
}
