namespace Bulwark.Etcd;

/// <summary>A verified snapshot stream: its length and the SHA-256 of all its bytes (trailer included), i.e. of the file etcdctl would write.</summary>
public sealed record SnapshotStreamResult(long Length, string Sha256);
